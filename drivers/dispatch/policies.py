"""Dispatch policies, pluggable by name: `single`, `greedy` and `solver` (PyVRP).

`plan(problem, policy=...)` always returns a plan that covers every job and passes
`check_route`: the solver's answer is re-checked, and when the solver is missing, fails,
overruns its wall-clock budget or finds nothing feasible, the greedy plan is used instead and
the reason is kept on the plan (the dispatch log shows it).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from drivers.dispatch.problem import Plan, Problem, check_route

log = logging.getLogger(__name__)


def plan_single(problem: Problem, **_) -> Plan:
    """One order per route, earliest deadline first (the baseline)."""
    order = sorted(range(len(problem.jobs)), key=lambda j: problem.effective_deadlines[j])
    return Plan(routes=[[j] for j in order], policy="single", method="single")


def plan_greedy(problem: Problem, **_) -> Plan:
    """Deadline-ordered cheapest insertion: take orders by deadline and put each where it adds
    the fewest metres to a route that stays feasible, or open a new route."""
    started = time.perf_counter()
    jobs = problem.jobs
    dist = problem.dist
    routes: list[list[int]] = []
    bags: list[int] = []
    full: list[bool] = []
    for j in sorted(range(len(jobs)), key=lambda j: problem.effective_deadlines[j]):
        best: tuple[int, int, int] | None = None  # (added metres, route, position)
        node = j + 1
        for r, seq in enumerate(routes):
            if full[r] or bags[r] + jobs[j].bags > problem.capacity_bags:
                continue
            nodes = [0, *(s + 1 for s in seq)]
            for pos in range(len(seq) + 1):
                a = nodes[pos]
                b = nodes[pos + 1] if pos + 1 < len(nodes) else None
                added = int(dist[a, node]) + (
                    int(dist[node, b]) - int(dist[a, b]) if b is not None else 0
                )
                if best is not None and added >= best[0]:
                    continue  # checking feasibility is the dear part: only for a better spot
                candidate = [*seq[:pos], j, *seq[pos:]]
                if check_route(problem, candidate).ok:
                    best = (added, r, pos)
        if best is None:
            routes.append([j])
            bags.append(jobs[j].bags)
            full.append(problem.max_stops <= 1)
        else:
            _, r, pos = best
            routes[r].insert(pos, j)
            bags[r] += jobs[j].bags
            full[r] = len(routes[r]) >= problem.max_stops or bags[r] >= problem.capacity_bags
    return Plan(
        routes=routes, policy="greedy", method="greedy", solve_s=time.perf_counter() - started
    )


class SolverUnavailable(Exception):
    pass


def _pyvrp_solve(problem: Problem, *, time_limit: float, seed: int) -> list[list[int]]:
    """Build PyVRP's ProblemData straight from the numpy matrices (no per-edge calls) and
    solve under MaxRuntime. Raises SolverUnavailable when PyVRP is missing or finds nothing
    feasible."""
    try:
        import pyvrp
        from pyvrp.IteratedLocalSearch import IteratedLocalSearchParams
        from pyvrp.search import NeighbourhoodParams
        from pyvrp.stop import MaxRuntime
    except ImportError as exc:  # pragma: no cover - exercised by monkeypatching in tests
        raise SolverUnavailable(f"PyVRP is not installed ({exc})") from exc

    started = time.perf_counter()
    n = len(problem.jobs)
    deadlines = problem.effective_deadlines
    locations = [pyvrp.Location(x=problem.mall_lng, y=problem.mall_lat)]
    locations += [pyvrp.Location(x=j.lng, y=j.lat) for j in problem.jobs]
    clients = [
        pyvrp.Client(
            location=i + 1,
            # Two load dimensions: bags, and one drop-off each (the stop limit).
            delivery=[job.bags, 1],
            service_duration=problem.service_s,
            tw_early=0,
            tw_late=deadlines[i],
            release_time=job.ready_s,
        )
        for i, job in enumerate(problem.jobs)
    ]
    vehicle = pyvrp.VehicleType(
        num_available=n,
        capacity=[problem.capacity_bags, problem.max_stops],
        start_depot=0,
        end_depot=0,
        shift_duration=problem.max_route_s,
        # Each route also costs a driver's base pay: a fixed cost in metres makes the solver
        # batch when batching is nearly free.
        fixed_cost=problem_route_cost_m(),
    )
    data = pyvrp.ProblemData(
        locations=locations,
        clients=clients,
        depots=[pyvrp.Depot(location=0)],
        vehicle_types=[vehicle],
        distance_matrices=[problem.dist],
        duration_matrices=[problem.dur],
    )
    remaining = max(0.05, time_limit - (time.perf_counter() - started))
    # Tuned on the benchmark's instances (docs/bench/dispatch.md): a smaller neighbourhood
    # and a shorter late-acceptance history do more, cheaper iterations in 1-2 s; at 300
    # orders the 2 s gap to a 60 s run fell from ~3.5 % (defaults 50 / 300) to under 1 %.
    params = pyvrp.SolveParams(
        neighbourhood=NeighbourhoodParams(num_neighbours=30),
        ils=IteratedLocalSearchParams(history_length=100),
    )
    result = pyvrp.solve(
        data,
        stop=MaxRuntime(remaining),
        seed=seed,
        collect_stats=False,
        display=False,
        params=params,
    )
    best = result.best
    if not best.is_feasible() or not best.is_complete():
        raise SolverUnavailable("PyVRP found no feasible solution in time")
    routes: list[list[int]] = []
    for route in best.routes():
        seq = [activity.idx for activity in route if activity.is_client()]  # client index
        if seq:
            routes.append(seq)
    return routes


def problem_route_cost_m() -> int:
    from django.conf import settings

    return int(getattr(settings, "MALLRUN_DISPATCH_ROUTE_COST_METERS", 3000))


# The solver entry point; tests monkeypatch it to simulate failures and overruns.
SOLVER: Callable[..., list[list[int]]] = _pyvrp_solve


def plan_solver(problem: Problem, *, time_limit: float = 1.0, seed: int = 1) -> Plan:
    """PyVRP under `time_limit` seconds, enforced from outside as well: the solver runs in a
    worker thread and a late, failing or infeasible answer is replaced by the greedy plan."""
    if not problem.jobs:
        return Plan(routes=[], policy="solver", method="pyvrp")
    started = time.perf_counter()
    box: dict = {}

    def run() -> None:
        try:
            box["routes"] = SOLVER(problem, time_limit=time_limit, seed=seed)
        except Exception as exc:  # reported on the plan, then greedy takes over
            box["error"] = exc

    worker = threading.Thread(target=run, name="dispatch-solver", daemon=True)
    worker.start()
    # Grace for building the model and handing back the answer; past it the answer is
    # ignored (the thread stops by itself at its own MaxRuntime).
    worker.join(timeout=time_limit * 1.5 + 0.5)
    elapsed = time.perf_counter() - started
    reason = ""
    if worker.is_alive():
        reason = f"solver overran its {time_limit:g} s budget"
    elif "error" in box:
        reason = f"solver failed: {box['error']}"
    else:
        routes = box["routes"]
        covered = sorted(j for seq in routes for j in seq)
        bad = [seq for seq in routes if not check_route(problem, seq).ok]
        if covered != list(range(len(problem.jobs))):
            reason = "solver answer does not cover every order exactly once"
        elif bad:
            reason = f"solver answer breaks a constraint on {len(bad)} routes"
        else:
            return Plan(routes=routes, policy="solver", method="pyvrp", solve_s=elapsed)
    log.warning("dispatch: %s; using the greedy plan", reason)
    fallback = plan_greedy(problem)
    return Plan(
        routes=fallback.routes,
        policy="solver",
        method="greedy",
        solve_s=time.perf_counter() - started,
        fallback_reason=reason,
    )


POLICIES: dict[str, Callable[..., Plan]] = {
    "single": plan_single,
    "greedy": plan_greedy,
    "solver": plan_solver,
}


def plan(problem: Problem, *, policy: str, time_limit: float = 1.0, seed: int = 1) -> Plan:
    try:
        planner = POLICIES[policy]
    except KeyError:
        raise ValueError(f"Unknown dispatch policy {policy!r}; one of {sorted(POLICIES)}") from None
    started = time.perf_counter()
    result = planner(problem, time_limit=time_limit, seed=seed)
    result.solve_s = time.perf_counter() - started
    return result
