"""Generated instances shaped like a mall's afternoon, for tests and the benchmark.

Drop-offs lie within `radius_km` of the mall (uniform over the disc), orders carry 1-3 bags,
some are ready now and others within the next 30 minutes, and each is promised 60-150
minutes after it is ready. A fixed seed gives the same instance every time.
"""

from __future__ import annotations

import math

import numpy as np

from drivers.dispatch.problem import Job, Problem

FASHION_SHOW = (36.1272, -115.1711)  # Fashion Show, Las Vegas: a demo mall


def generate(
    n: int,
    *,
    seed: int = 1,
    mall: tuple[float, float] = FASHION_SHOW,
    radius_km: float = 15.0,
    **problem_options,
) -> Problem:
    rng = np.random.default_rng(seed)
    lat0, lng0 = mall
    r = radius_km * np.sqrt(rng.random(n))
    theta = rng.random(n) * 2 * math.pi
    lats = lat0 + (r * np.cos(theta)) / 111.32
    lngs = lng0 + (r * np.sin(theta)) / (111.32 * math.cos(math.radians(lat0)))
    bags = rng.integers(1, 4, n)
    ready = np.where(rng.random(n) < 0.5, 0, rng.integers(0, 30 * 60, n))
    promise = rng.integers(60 * 60, 150 * 60, n)
    jobs = [
        Job(
            key=i,
            lat=float(lats[i]),
            lng=float(lngs[i]),
            bags=int(bags[i]),
            ready_s=int(ready[i]),
            deadline_s=int(ready[i] + promise[i]),
        )
        for i in range(n)
    ]
    return Problem(mall_lat=lat0, mall_lng=lng0, jobs=jobs, **problem_options)
