"""Mallrun settings: everything comes from the environment, with safe local defaults.

Local demo (`make run`) sets DJANGO_DEBUG=1; production leaves it off and must provide
DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS, DATABASE_URL and a real mailer.
"""

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from config.db_router import replica_databases
from config.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DJANGO_DEBUG", False)
TESTING = env_bool("MALLRUN_TESTING", False)

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not (DEBUG or TESTING):
        raise ImproperlyConfigured("Set DJANGO_SECRET_KEY (or DJANGO_DEBUG=1 for local work).")
    # Local only: web and worker must share the key or queued tasks are dropped silently.
    SECRET_KEY = "mallrun-local-development-key-not-for-production-use-0123456789"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_q",
    "retailers",
    "orders",
    "drivers",
]

MIDDLEWARE = [
    "config.observability.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "config.sessions.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "orders.context_processors.cart",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
# Default: an SQLite file in the project folder, in WAL mode with IMMEDIATE transactions so
# the task worker and the web server can write side by side without "database is locked".
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 600),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool(
    "DATABASE_PREPARED_STATEMENTS", True
):
    # Server-side binding lets psycopg prepare a statement once it has run a few times, so
    # PostgreSQL stops planning the same query on every request (planning took longer than
    # running on the API's order list, 0.7 ms against 0.3 ms). Turn it off behind a pooler
    # in transaction mode that can't keep prepared statements (PgBouncer before 1.21).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"server_side_binding": True, "prepare_threshold": 3}
    )
# Read replicas (optional): only views marked @reads_from_replica use them (config/db_router.py).
DATABASES.update(
    replica_databases(
        env_list("DATABASE_REPLICA_URLS", []),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 600),
    )
)
DATABASE_ROUTERS = ["config.db_router.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    "default": {
        "BACKEND": env_str("DJANGO_CACHE_BACKEND", "django.core.cache.backends.db.DatabaseCache"),
        "LOCATION": env_str("DJANGO_CACHE_LOCATION", "mallrun_cache"),
    },
    # Per-process, for rendered fragments that may be a little stale (storefront listings).
    "local": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "local"},
}
if CACHES["default"]["BACKEND"].endswith("db.DatabaseCache"):
    # Login-throttle counters live here: Django's default of 300 entries would let a flood
    # of other keys push them out.
    CACHES["default"]["OPTIONS"] = {"MAX_ENTRIES": env_int("DJANGO_CACHE_MAX_ENTRIES", 50_000)}

# --- Auth -----------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = ["config.login_throttle.ThrottledModelBackend"]
MALLRUN_LOGIN_FAILURES_PER_USER = env_int("MALLRUN_LOGIN_FAILURES_PER_USER", 5)
MALLRUN_LOGIN_FAILURES_PER_IP = env_int("MALLRUN_LOGIN_FAILURES_PER_IP", 30)
MALLRUN_LOGIN_LOCKOUT_MINUTES = env_int("MALLRUN_LOGIN_LOCKOUT_MINUTES", 15)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- Time and language: stored in UTC, shown in each mall's own zone ---------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("DJANGO_STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("DJANGO_MEDIA_ROOT", str(BASE_DIR / "media")))
# Licences and delivery photos: never under MEDIA_ROOT, served to ops only (config/storage.py).
PRIVATE_MEDIA_ROOT = Path(env_str("DJANGO_PRIVATE_MEDIA_ROOT", str(BASE_DIR / "private-media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": {"BACKEND": "config.storage.PrivateStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Mail: console locally; production sets DJANGO_MAILER_BACKEND to SMTP or its own ------
_MAILER_BACKEND = env_str(
    "DJANGO_MAILER_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG or TESTING
    else "django.core.mail.backends.smtp.EmailBackend",
)
MAILERS = {
    "default": {
        "BACKEND": _MAILER_BACKEND,
        "OPTIONS": (
            {
                "host": env_str("DJANGO_SMTP_HOST", "localhost"),
                "port": env_int("DJANGO_SMTP_PORT", 587),
                "username": env_str("DJANGO_SMTP_USER"),
                "password": env_str("DJANGO_SMTP_PASSWORD"),
                "use_tls": env_bool("DJANGO_SMTP_TLS", True),
            }
            if _MAILER_BACKEND.endswith("smtp.EmailBackend")
            else {}
        ),
    }
}
DEFAULT_FROM_EMAIL = env_str("DJANGO_DEFAULT_FROM_EMAIL", "Mallrun <orders@mallrun.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# SMS goes through a provider interface; the console provider prints what would be sent.
MALLRUN_SMS_BACKEND = env_str("MALLRUN_SMS_BACKEND", "orders.notifications.ConsoleSmsBackend")

# --- Security -------------------------------------------------------------------------
# Sessions in the database; with a shared cache such as Redis, "cached_db" reads them from
# the cache and writes through to the database (docs/deploy.md).
SESSION_ENGINE = env_str("DJANGO_SESSION_ENGINE", "config.sessions")
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG and not TESTING)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG and not TESTING)
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 0 if DEBUG or TESTING else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", SECURE_HSTS_SECONDS > 0)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("DJANGO_BEHIND_PROXY", False) else None
)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:", "blob:"],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
}

# --- Background tasks (django-q2) -----------------------------------------------------
# Q_CLUSTER is read once at import, so test runs switch on sync mode through Q_SYNC=1.
Q_CLUSTER = {
    "name": "mallrun",
    "workers": env_int("Q_WORKERS", 2),
    "timeout": env_int("Q_TIMEOUT", 60),
    "retry": env_int("Q_RETRY", 90),
    "max_attempts": env_int("Q_MAX_ATTEMPTS", 3),
    "save_limit": env_int("Q_SAVE_LIMIT", 500),
    "catch_up": False,
    "sync": env_bool("Q_SYNC", False),
    "poll": 1,
    # Named queues (Q_CLUSTER_NAME=dispatch-0 …) share these settings; see docs/deploy.md.
    "ALT_CLUSTERS": {},
}
# /health/ reports an error when the oldest queued task has waited longer than this.
MALLRUN_HEALTH_MAX_QUEUE_SECONDS = env_int("MALLRUN_HEALTH_MAX_QUEUE_SECONDS", 300)
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

# --- API ------------------------------------------------------------------------------
# API v1 (orders/api): API keys (Bearer) for partners and retailers, the session for drivers.
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "orders.api.pagination.NewestFirst",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "orders.api.errors.problem_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["orders.api.throttling.ApiKeyRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api_key": env_str("MALLRUN_API_RATE", "600/min")},
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # Anonymous callers are throttled by address: behind our balancer, the one it appended.
    "NUM_PROXIES": 1 if SECURE_PROXY_SSL_HEADER else 0,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Mallrun API",
    "DESCRIPTION": (
        "Same-day delivery from mall stores. Authenticate with `Authorization: Bearer <key>` "
        "(driver endpoints: the signed-in session or a driver token from POST driver/tokens/). "
        "Errors are RFC 9457 problem details. "
        "See docs/api.md for webhooks (Standard Webhooks signatures)."
    ),
    "VERSION": "1.0.0",
    # Swagger UI and Redoc from drf-spectacular-sidecar's static files: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
}
# Webhooks: request timeout, and how long a delivery is retried before it is given up.
MALLRUN_WEBHOOK_TIMEOUT_SECONDS = float(env_str("MALLRUN_WEBHOOK_TIMEOUT_SECONDS", "5"))
MALLRUN_WEBHOOK_RETRY_HOURS = env_int("MALLRUN_WEBHOOK_RETRY_HOURS", 24)

# --- Logging --------------------------------------------------------------------------
# One JSON object per line in production (MALLRUN_LOG_FORMAT=json), readable lines locally;
# every line carries the request id (config/observability.py). The access line per request
# (logger mallrun.request) is on in production and off under runserver, which prints its own.
LOG_FORMAT = env_str("MALLRUN_LOG_FORMAT", "plain" if DEBUG or TESTING else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "config.observability.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "config.observability.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "mallrun.request": {
            "level": "INFO"
            if env_bool("MALLRUN_ACCESS_LOG", not DEBUG and not TESTING)
            else "WARNING"
        },
    },
}

# --- Mallrun business settings --------------------------------------------------------
# Orders: how long a shopper's delivery PIN is, and how long a store has to accept.
MALLRUN_DEFAULT_FEE_CENTS = env_int("MALLRUN_DEFAULT_FEE_CENTS", 599)
MALLRUN_OFFER_SECONDS = env_int("MALLRUN_OFFER_SECONDS", 45)
# Travel: great-circle distance x road factor at this speed (works offline).
MALLRUN_ROAD_FACTOR = float(env_str("MALLRUN_ROAD_FACTOR", "1.3"))
MALLRUN_SPEED_KMH = float(env_str("MALLRUN_SPEED_KMH", "25"))
# Minutes added to every promise for hand-over at the mall and finding the door.
MALLRUN_PROMISE_BUFFER_MINUTES = env_int("MALLRUN_PROMISE_BUFFER_MINUTES", 15)
# Minutes a driver spends at each door (parking, hand-over).
MALLRUN_STOP_MINUTES = env_int("MALLRUN_STOP_MINUTES", 3)
# Geocoding provider (offline default: ZIP centroids shipped with the `zipcodes` package).
MALLRUN_GEOCODING_PROVIDER = env_str(
    "MALLRUN_GEOCODING_PROVIDER", "retailers.geocoding.ZipCentroidProvider"
)
# Travel-time provider: the offline estimate by default, or an OSRM server.
MALLRUN_TRAVEL_PROVIDER = env_str("MALLRUN_TRAVEL_PROVIDER", "retailers.geo.StraightLineProvider")
MALLRUN_OSRM_URL = env_str("MALLRUN_OSRM_URL", "http://127.0.0.1:5000")
MALLRUN_OSRM_TIMEOUT_SECONDS = float(env_str("MALLRUN_OSRM_TIMEOUT_SECONDS", "2"))
# The promise: minutes each unready order ahead adds at a store, a driver's walk to the
# counter, and a typical route's length (to estimate waiting for a driver when all are busy).
MALLRUN_QUEUE_MINUTES_PER_ORDER = env_int("MALLRUN_QUEUE_MINUTES_PER_ORDER", 3)
MALLRUN_DRIVER_TO_COUNTER_MINUTES = env_int("MALLRUN_DRIVER_TO_COUNTER_MINUTES", 5)
MALLRUN_AVERAGE_ROUTE_MINUTES = env_int("MALLRUN_AVERAGE_ROUTE_MINUTES", 40)
# Card payments: the local test provider accepts test card numbers only.
MALLRUN_PAYMENT_PROVIDER = env_str(
    "MALLRUN_PAYMENT_PROVIDER", "orders.payments.LocalTestPaymentProvider"
)

# --- Dispatch (drivers/dispatch) ------------------------------------------------------
# Policy by name: "solver" (PyVRP, greedy fallback), "greedy" or "single".
MALLRUN_DISPATCH_POLICY = env_str("MALLRUN_DISPATCH_POLICY", "solver")
MALLRUN_DISPATCH_TIME_LIMIT_MS = env_int("MALLRUN_DISPATCH_TIME_LIMIT_MS", 1000)
MALLRUN_DISPATCH_SEED = env_int("MALLRUN_DISPATCH_SEED", 1)
# The planned vehicle: bags it carries, drop-offs per route, longest route in minutes.
MALLRUN_DISPATCH_VEHICLE_BAGS = env_int("MALLRUN_DISPATCH_VEHICLE_BAGS", 12)
MALLRUN_DISPATCH_MAX_STOPS = env_int("MALLRUN_DISPATCH_MAX_STOPS", 8)
MALLRUN_DISPATCH_MAX_ROUTE_MINUTES = env_int("MALLRUN_DISPATCH_MAX_ROUTE_MINUTES", 120)
# Accepted orders join a plan once they are due to be ready within this many minutes.
MALLRUN_DISPATCH_READY_HORIZON_MINUTES = env_int("MALLRUN_DISPATCH_READY_HORIZON_MINUTES", 20)
# A route's fixed cost in the solver's objective (metres): batch when it is nearly free.
MALLRUN_DISPATCH_ROUTE_COST_METERS = env_int("MALLRUN_DISPATCH_ROUTE_COST_METERS", 3000)
# The per-mall lock's lease: a crashed worker blocks its mall at most this long.
MALLRUN_DISPATCH_LOCK_SECONDS = env_int("MALLRUN_DISPATCH_LOCK_SECONDS", 120)
# Dispatch queues: 0 runs cycles on the default queue; N > 0 spreads malls over the queues
# dispatch-0 … dispatch-(N-1), each served by its own cluster (docs/deploy.md).
MALLRUN_DISPATCH_PARTITIONS = env_int("MALLRUN_DISPATCH_PARTITIONS", 0)
# Offer cascade: after this many declined/expired offers the pay rises by one boost step.
MALLRUN_DISPATCH_BOOST_AFTER_MISSES = env_int("MALLRUN_DISPATCH_BOOST_AFTER_MISSES", 2)
MALLRUN_DISPATCH_BOOST_CENTS = env_int("MALLRUN_DISPATCH_BOOST_CENTS", 200)
MALLRUN_DISPATCH_MAX_BOOSTS = env_int("MALLRUN_DISPATCH_MAX_BOOSTS", 3)
# Order events and driver answers start a cycle (off in the test suite unless a test asks).
MALLRUN_DISPATCH_ON_EVENTS = env_bool("MALLRUN_DISPATCH_ON_EVENTS", not TESTING)
# Storefront listings may lag stock by this much (the cart and checkout never do).
MALLRUN_LISTING_CACHE_SECONDS = env_int("MALLRUN_LISTING_CACHE_SECONDS", 30)
MALLRUN_FACETS_CACHE_SECONDS = env_int("MALLRUN_FACETS_CACHE_SECONDS", 300)
# The store and ops boards (polled by every open screen) share one render for this long; an
# order change drops it at once (orders/board_cache.py). 0 renders every request.
MALLRUN_BOARD_CACHE_SECONDS = env_int("MALLRUN_BOARD_CACHE_SECONDS", 5)
# Absolute links in messages (tracking pages).
MALLRUN_SITE_URL = env_str("MALLRUN_SITE_URL", "http://127.0.0.1:8000")
# Drivers: missed offers in a row before being set offline; how long before a block starts it
# can still be given back.
MALLRUN_MISSED_OFFERS_BEFORE_OFFLINE = env_int("MALLRUN_MISSED_OFFERS_BEFORE_OFFLINE", 3)
MALLRUN_BLOCK_FORFEIT_CUTOFF_MINUTES = env_int("MALLRUN_BLOCK_FORFEIT_CUTOFF_MINUTES", 120)
