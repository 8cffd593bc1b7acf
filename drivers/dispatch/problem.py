"""The planning problem in plain numbers, and the one definition of a feasible route.

Everything here is free of the database so the solver, the greedy fallback, the benchmark and
the tests share one timing model:

- a route leaves the mall when the last of its orders is ready (release time);
- it drives to each door in sequence (road distance and time from the matrices) and spends the
  service time there; it does not come back (drivers end wherever they are), so legs back to
  the mall cost nothing;
- its duration runs from leaving the mall to finishing the last drop-off.

Times are whole seconds from the start of the cycle, distances whole metres (PyVRP wants ints).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True)
class Job:
    """One order to deliver: where, how many bags, ready when, promised by when."""

    key: int  # the order's primary key (or an index in generated instances)
    lat: float
    lng: float
    bags: int
    ready_s: int  # seconds from now until the order is ready at the mall (0 = ready)
    deadline_s: int  # seconds from now until the promised latest delivery


@dataclass
class Problem:
    mall_lat: float
    mall_lng: float
    jobs: list[Job]
    capacity_bags: int = 12
    max_stops: int = 8
    max_route_s: int = 2 * 3600
    service_s: int = 180
    road_factor: float = 1.3
    speed_kmh: float = 25.0

    @cached_property
    def _matrices(self) -> tuple[np.ndarray, np.ndarray]:
        lat = np.radians(np.array([self.mall_lat, *(j.lat for j in self.jobs)], dtype=float))
        lng = np.radians(np.array([self.mall_lng, *(j.lng for j in self.jobs)], dtype=float))
        dlat = lat[:, None] - lat[None, :]
        dlng = lng[:, None] - lng[None, :]
        a = (
            np.sin(dlat / 2) ** 2
            + np.cos(lat)[:, None] * np.cos(lat)[None, :] * np.sin(dlng / 2) ** 2
        )
        km = 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(a))) * self.road_factor
        metres = np.rint(km * 1000).astype(np.int64)
        seconds = np.rint(km / self.speed_kmh * 3600).astype(np.int64)
        # Open routes: the way back to the mall is free.
        metres[:, 0] = 0
        seconds[:, 0] = 0
        return metres, seconds

    @property
    def dist(self) -> np.ndarray:
        """Metres between locations; index 0 is the mall, job i is index i + 1."""
        return self._matrices[0]

    @property
    def dur(self) -> np.ndarray:
        return self._matrices[1]

    @cached_property
    def effective_deadlines(self) -> list[int]:
        """Deadlines no plan can beat are moved to the earliest possible arrival (straight
        from the mall once ready), so the instance stays feasible; those orders are at risk."""
        return [
            max(j.deadline_s, j.ready_s + int(self.dur[0, i + 1])) for i, j in enumerate(self.jobs)
        ]

    @cached_property
    def hopeless(self) -> list[int]:
        """Job indices that will be late whatever the plan."""
        return [i for i, j in enumerate(self.jobs) if j.deadline_s < self.effective_deadlines[i]]


@dataclass
class RouteCheck:
    start_s: int
    arrivals_s: list[int]
    end_s: int
    metres: int
    bags: int
    late: list[int]  # job indices delivered after their (original) deadline
    problems: list[str] = field(default_factory=list)

    @property
    def duration_s(self) -> int:
        return self.end_s - self.start_s

    @property
    def ok(self) -> bool:
        return not self.problems


def check_route(problem: Problem, seq: Sequence[int], *, deadlines: Sequence[int] | None = None):
    """Schedule one route (job indices in visiting order) and list what it breaks.

    Hard rules: capacity, stop limit, maximum duration, and arrival by the deadline
    (`deadlines`, default the effective ones). `late` counts against the promised deadline.
    """
    jobs = problem.jobs
    dur, dist = problem.dur, problem.dist
    limits = problem.effective_deadlines if deadlines is None else deadlines
    start = max(jobs[j].ready_s for j in seq)
    t, prev, metres = start, 0, 0
    arrivals: list[int] = []
    late: list[int] = []
    problems: list[str] = []
    for j in seq:
        t += int(dur[prev, j + 1])
        metres += int(dist[prev, j + 1])
        arrivals.append(t)
        if t > jobs[j].deadline_s:
            late.append(j)
        if t > limits[j]:
            problems.append(f"job {jobs[j].key} arrives {t - limits[j]} s after its deadline")
        t += problem.service_s
        prev = j + 1
    bags = sum(jobs[j].bags for j in seq)
    if bags > problem.capacity_bags:
        problems.append(f"{bags} bags > capacity {problem.capacity_bags}")
    if len(seq) > problem.max_stops:
        problems.append(f"{len(seq)} drop-offs > limit {problem.max_stops}")
    if t - start > problem.max_route_s:
        problems.append(f"{t - start} s > max route duration {problem.max_route_s} s")
    return RouteCheck(start, arrivals, t, metres, bags, late, problems)


@dataclass
class Plan:
    """Routes as lists of job indices, and how they were found."""

    routes: list[list[int]]
    policy: str  # what was asked for
    method: str  # what produced the routes: single, greedy, pyvrp
    solve_s: float = 0.0
    fallback_reason: str = ""

    def checks(self, problem: Problem) -> list[RouteCheck]:
        return [check_route(problem, seq) for seq in self.routes]


@dataclass
class PlanSummary:
    routes: int
    km: float
    late: int
    infeasible_routes: int
    max_stops: int
    max_bags: int

    @classmethod
    def of(cls, problem: Problem, plan: Plan) -> PlanSummary:
        checks = plan.checks(problem)
        return cls(
            routes=len(checks),
            km=round(sum(c.metres for c in checks) / 1000, 2),
            late=sum(len(c.late) for c in checks),
            infeasible_routes=sum(1 for c in checks if not c.ok),
            max_stops=max((len(s) for s in plan.routes), default=0),
            max_bags=max((c.bags for c in checks), default=0),
        )


def covers_every_job_once(problem: Problem, plan: Plan) -> bool:
    seen = [j for seq in plan.routes for j in seq]
    return sorted(seen) == list(range(len(problem.jobs)))
