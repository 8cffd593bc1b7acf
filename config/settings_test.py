"""Test settings: sync tasks, fast hashing, local-memory cache, in-memory mail."""

import os

os.environ.setdefault("MALLRUN_TESTING", "1")
os.environ.setdefault("Q_SYNC", "1")

from config.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "local": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "local"},
}
# Every test sees its own data: no cached listings between tests.
MALLRUN_LISTING_CACHE_SECONDS = 0
MALLRUN_FACETS_CACHE_SECONDS = 0
MALLRUN_BOARD_CACHE_SECONDS = 0
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
MALLRUN_SMS_BACKEND = "orders.notifications.LocmemSmsBackend"
MEDIA_ROOT = BASE_DIR / ".test-media"  # noqa: F405
PRIVATE_MEDIA_ROOT = BASE_DIR / ".test-media-private"  # noqa: F405
# Nothing is collected in tests: whitenoise serves from the finders instead of STATIC_ROOT.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Threads in tests (live server, concurrency races) must not keep connections open past the
# test, or the test database can't be dropped.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
