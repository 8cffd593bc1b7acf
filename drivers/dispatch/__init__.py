"""Dispatch: which orders ride together, and which driver takes them.

- `problem`   the planning problem in numbers and the one feasibility check (no database);
- `policies`  `single`, `greedy` and `solver` (PyVRP with an outside deadline and a greedy
              fallback), chosen by name;
- `cycle`     one mall's cycle: sweep expired offers, re-plan, plan, offer, log;
- `lock`      the per-mall lock (a conditional UPDATE with a lease);
- `triggers`  starting a cycle from events, after commit, through the task queue;
- `instances` generated instances for tests and `manage.py bench_dispatch`.

Tasks live in `drivers/tasks.py`; the periodic schedule is created by migration
drivers/0003_dispatch_schedule.
"""
