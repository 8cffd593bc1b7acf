import datetime as dt
import threading
from dataclasses import dataclass

from rest_framework.throttling import SimpleRateThrottle

from orders.counters import bump_counter

# A process takes this share of a window's budget at a time (at most LEASE_MAX requests).
LEASE_SHARE = 50
LEASE_MAX = 50


def lease_size(remaining: int) -> int:
    """How many requests a process reserves per write, given what it last saw left of the
    window's budget: a fiftieth of it, at most LEASE_MAX; one at a time (exact counting) for
    small budgets and as the budget runs out, so few reserved requests are left unused
    in other processes when a key reaches its limit."""
    return max(1, min(LEASE_MAX, remaining // LEASE_SHARE))


@dataclass
class _Lease:
    window: int
    left: int = 0
    seen: int = 0  # the window's count after this process's last reservation
    exhausted: bool = False
    last: bool = False  # the budget ends with what is left


# Per process: the caller's counter key -> what this process holds of its current window.
_leases: dict[str, _Lease] = {}
_lock = threading.Lock()
LEASES_MAX = 10_000  # callers remembered per process before past windows are dropped


def forget_leases() -> None:
    with _lock:
        _leases.clear()


class ApiKeyRateThrottle(SimpleRateThrottle):
    """Requests per API key (or per signed-in driver, or per address when anonymous), counted
    in fixed windows of the rate's period in one `SharedCounter` row per caller and window,
    shared by every process through the database (DRF's own throttle keeps, and rewrites, a
    list of every request's time in the cache). A key may spend its budget at the end of one
    window and again at the start of the next. DRF's handler adds `Retry-After` to the 429.

    A process doesn't write the counter on every request: it reserves `lease_size` requests
    of the window's budget with one upsert and answers that many from memory, then reserves
    again (for 600/min, 12 at a time while most of the budget is left, fewer as it runs
    out). Once the counter is past the budget, this process refuses the caller until the
    window ends without writing. So a busy key costs one write per dozen requests instead of
    one per request. The price: a request may be refused by one process while another still
    holds reserved ones for the key (at most P × (lease − 1) with P processes; leases shrink
    to one as the budget runs out, so near the limit few are held); never more than the
    budget is let through."""

    scope = "api_key"

    def get_cache_key(self, request, view):
        from orders.models import ApiKey

        if isinstance(request.auth, ApiKey):
            ident = f"key{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user{request.user.pk}"
        else:
            ident = self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        now = self.timer()
        window = int(now // self.duration)
        self._wait = (window + 1) * self.duration - now
        with _lock:
            lease = _leases.get(self.key)
            if lease is None or lease.window != window:
                if len(_leases) >= LEASES_MAX:  # callers (addresses) seen in past windows
                    for key in [k for k, held in _leases.items() if held.window != window]:
                        del _leases[key]
                lease = _leases[self.key] = _Lease(window)
            if lease.left == 0 and lease.last:
                lease.exhausted = True
            if lease.left == 0 and not lease.exhausted:
                size = lease_size(self.num_requests - lease.seen)
                count = bump_counter(
                    f"{self.key}:{window}",
                    by=size,
                    expires_at=dt.datetime.fromtimestamp((window + 1) * self.duration, dt.UTC),
                )
                # This write reserved the requests numbered count-size+1 … count.
                lease.seen = count
                lease.left = max(0, min(size, self.num_requests - (count - size)))
                lease.exhausted = lease.left == 0
                lease.last = lease.left < size
            if lease.exhausted:
                return False
            lease.left -= 1
            return True

    def wait(self):
        return max(self._wait, 1)
