import datetime as dt

from rest_framework.throttling import SimpleRateThrottle

from orders.counters import bump_counter


class ApiKeyRateThrottle(SimpleRateThrottle):
    """Requests per API key (or per signed-in driver, or per address when anonymous), counted
    in fixed windows of the rate's period: one counter row per key and window, bumped by one
    statement, so a busy key costs the same per request as a quiet one (DRF's own throttle
    keeps, and rewrites, a list of every request's time in the cache). A key may spend its
    budget at the end of one window and again at the start of the next. DRF's handler adds
    `Retry-After` to the 429."""

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
        count = bump_counter(
            f"{self.key}:{window}",
            expires_at=dt.datetime.fromtimestamp((window + 1) * self.duration, dt.UTC),
        )
        self._wait = (window + 1) * self.duration - now
        return count <= self.num_requests

    def wait(self):
        return max(self._wait, 1)
