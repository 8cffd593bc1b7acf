from rest_framework.throttling import SimpleRateThrottle


class ApiKeyRateThrottle(SimpleRateThrottle):
    """Requests per API key (or per signed-in driver, or per address when anonymous).
    DRF's handler adds `Retry-After` to the 429."""

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
