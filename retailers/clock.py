"""The one place that time-dependent code reads the clock.

Production reads the real time; the simulator and tests move it with `frozen_at` or by
installing their own source, so nothing waits on the wall clock.
"""

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator

from django.utils import timezone

_source: Callable[[], dt.datetime] = timezone.now


def now() -> dt.datetime:
    return _source()


def set_source(source: Callable[[], dt.datetime] | None) -> None:
    global _source
    _source = source or timezone.now


@contextlib.contextmanager
def frozen_at(moment: dt.datetime) -> Iterator[None]:
    """Make `now()` answer `moment` inside the block (aware datetimes only)."""
    if timezone.is_naive(moment):
        raise ValueError("frozen_at needs an aware datetime")
    previous = _source
    set_source(lambda: moment)
    try:
        yield
    finally:
        set_source(previous)
