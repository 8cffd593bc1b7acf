"""Dispatch planning without the database: every policy's routes respect capacity, the stop
limit, ready times, deadlines and the route duration on generated instances, and the solver
falls back to the greedy plan when it fails, overruns or answers wrongly."""

import time

import pytest

from drivers.dispatch import policies
from drivers.dispatch.instances import generate
from drivers.dispatch.policies import plan
from drivers.dispatch.problem import Job, PlanSummary, Problem, check_route, covers_every_job_once

FAST = 0.2  # seconds: the solver's budget in tests


def assert_feasible(problem: Problem, result) -> None:
    assert covers_every_job_once(problem, result)
    for seq in result.routes:
        check = check_route(problem, seq)
        assert check.ok, check.problems
        assert check.bags <= problem.capacity_bags
        assert len(seq) <= problem.max_stops
        assert check.duration_s <= problem.max_route_s
        # The route leaves the mall only when every order on it is ready.
        assert check.start_s >= max(problem.jobs[j].ready_s for j in seq)
        for j, arrival in zip(seq, check.arrivals_s, strict=True):
            assert arrival <= problem.effective_deadlines[j]


@pytest.mark.parametrize("policy", ["single", "greedy", "solver"])
@pytest.mark.parametrize("seed", [1, 2])
def test_every_policy_respects_the_constraints_on_generated_instances(policy, seed):
    problem = generate(60, seed=seed, capacity_bags=8, max_stops=4, max_route_s=75 * 60)

    result = plan(problem, policy=policy, time_limit=FAST, seed=seed)

    assert_feasible(problem, result)
    assert result.fallback_reason == ""
    assert PlanSummary.of(problem, result).late == 0


def test_the_solver_batches_better_than_greedy_and_single():
    problem = generate(80, seed=3)

    km = {
        p: PlanSummary.of(problem, plan(problem, policy=p, time_limit=FAST)).km
        for p in ("single", "greedy", "solver")
    }

    assert km["solver"] < km["greedy"] < km["single"]


def test_an_order_ready_later_holds_its_route_at_the_mall():
    mall = (36.1272, -115.1711)
    jobs = [
        Job(key=1, lat=36.14, lng=-115.15, bags=1, ready_s=0, deadline_s=3600),
        Job(key=2, lat=36.141, lng=-115.151, bags=1, ready_s=1200, deadline_s=7200),
    ]
    problem = Problem(mall_lat=mall[0], mall_lng=mall[1], jobs=jobs)

    result = plan(problem, policy="solver", time_limit=FAST)

    assert_feasible(problem, result)
    for seq in result.routes:
        if 1 in seq:
            assert check_route(problem, seq).start_s >= 1200


def test_a_deadline_no_plan_can_meet_is_reported_and_still_planned():
    jobs = [Job(key=7, lat=36.25, lng=-115.30, bags=1, ready_s=0, deadline_s=60)]
    problem = Problem(mall_lat=36.1272, mall_lng=-115.1711, jobs=jobs)

    result = plan(problem, policy="solver", time_limit=FAST)

    assert problem.hopeless == [0]
    assert result.routes == [[0]]
    assert PlanSummary.of(problem, result).late == 1


def test_the_stop_limit_is_a_second_load_dimension():
    # 20 one-bag orders at the same door: bags would allow 12, the stop limit says 3.
    jobs = [
        Job(key=i, lat=36.14, lng=-115.15, bags=1, ready_s=0, deadline_s=4 * 3600)
        for i in range(20)
    ]
    problem = Problem(mall_lat=36.1272, mall_lng=-115.1711, jobs=jobs, max_stops=3)

    result = plan(problem, policy="solver", time_limit=FAST)

    assert_feasible(problem, result)
    assert max(len(r) for r in result.routes) == 3
    assert len(result.routes) == 7


def test_unknown_policy_is_refused():
    with pytest.raises(ValueError, match="Unknown dispatch policy"):
        plan(generate(3), policy="magic")


# --- Fallback -----------------------------------------------------------------------------


def test_a_failing_solver_falls_back_to_greedy(monkeypatch):
    def broken(problem, *, time_limit, seed):
        raise RuntimeError("segfault imminent")

    monkeypatch.setattr(policies, "SOLVER", broken)
    problem = generate(30, seed=4)

    result = plan(problem, policy="solver", time_limit=FAST)

    assert (result.policy, result.method) == ("solver", "greedy")
    assert "segfault imminent" in result.fallback_reason
    assert result.routes == plan(problem, policy="greedy").routes
    assert_feasible(problem, result)


def test_a_missing_solver_falls_back_to_greedy(monkeypatch):
    def missing(problem, *, time_limit, seed):
        raise policies.SolverUnavailable("PyVRP is not installed")

    monkeypatch.setattr(policies, "SOLVER", missing)

    result = plan(generate(10), policy="solver", time_limit=FAST)

    assert result.method == "greedy"
    assert "not installed" in result.fallback_reason


def test_a_solver_that_overruns_its_budget_is_cut_off(monkeypatch):
    def slow(problem, *, time_limit, seed):
        time.sleep(time_limit * 30)
        return [[j] for j in range(len(problem.jobs))]

    monkeypatch.setattr(policies, "SOLVER", slow)
    started = time.perf_counter()

    result = plan(generate(10), policy="solver", time_limit=0.1)

    assert time.perf_counter() - started < 1.5  # budget x 1.5 + 0.5 s grace, not 3 s
    assert result.method == "greedy"
    assert "overran" in result.fallback_reason


def test_a_solver_answer_that_breaks_a_constraint_is_not_used(monkeypatch):
    monkeypatch.setattr(policies, "SOLVER", lambda problem, **_: [list(range(len(problem.jobs)))])
    problem = generate(30, seed=5)

    result = plan(problem, policy="solver", time_limit=FAST)

    assert result.method == "greedy"
    assert "breaks a constraint" in result.fallback_reason
    assert_feasible(problem, result)


def test_a_solver_answer_that_loses_an_order_is_not_used(monkeypatch):
    monkeypatch.setattr(policies, "SOLVER", lambda problem, **_: [[0]])

    result = plan(generate(5), policy="solver", time_limit=FAST)

    assert result.method == "greedy"
    assert "every order" in result.fallback_reason
