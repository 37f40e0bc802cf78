"""Settings: one module, driven by the environment (12-factor).

Every variable is listed with a one-line comment in `.env.example`. `.env` is read only when it
exists; real deployments set the environment instead.
"""

from __future__ import annotations

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(BASE_DIR / ".env")

# True only in provider_auth/settings_test.py, the test suite's explicit settings module:
# nothing here may change because of what happens to be imported (pytest, a test runner).
TESTING = False

# --- Core ----------------------------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if DEBUG:
        # Development only: a fixed, obviously unsafe key so the demo runs without set-up.
        SECRET_KEY = "insecure-development-key-never-use-in-production-0123456789"  # noqa: S105
    else:
        raise ImproperlyConfigured(
            "SECRET_KEY is required when DEBUG is off. Generate one with: python -c "
            "'import secrets; print(secrets.token_urlsafe(50))' and set it in the environment."
        )

# Rotation: put the old key here while the new one becomes SECRET_KEY; remove it once every
# session signed with it has expired (docs/operations.md).
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
# Absolute base for every URL we hand to FlatPeak (auth_data endpoints, metadata).
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # Django's admin, whose login sends staff through the hardened account login (code included).
    "provider_auth.security.admin_apps.HardenedAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "axes",
    "accounts",
    "provider_auth",
    "provider_auth.audit",
    "provider_auth.security",
    "provider_auth.oauth",
    "provider_auth.connect",
    "provider_auth.oidc",
]

MIDDLEWARE = [
    "provider_auth.ops.middleware.RequestIdMiddleware",
    # Health, readiness and metrics answered here: before host checks, redirects and sessions.
    "provider_auth.ops.middleware.ProbeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "provider_auth.security.middleware.SecurityHeadersMiddleware",
    # NUL bytes in input answered 400 before any view or query sees them (PostgreSQL: 500).
    "provider_auth.security.middleware.RejectNullBytesMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # provider_auth.tariff_api.middleware.*: Django's (or ours) unchanged, except that they
    # stand aside on the bearer-token API (/api/):
    # no cookies, sessions, users, messages or locale there. CSRF and axes run everywhere.
    "provider_auth.tariff_api.middleware.SessionMiddleware",
    "provider_auth.tariff_api.middleware.LocaleMiddleware",
    # Django's, except that a 304 gets no made-up "Content-Length: 0" (RFC 9110 §8.6).
    "provider_auth.tariff_api.middleware.CommonMiddleware",
    # Django's CSRF check, also accepting our own no-referrer pages' "Origin: null" when the
    # browser's Sec-Fetch-Site says same-origin (see provider_auth/security/csrf.py).
    "provider_auth.security.csrf.FetchMetadataCsrfViewMiddleware",
    "provider_auth.tariff_api.middleware.AuthenticationMiddleware",
    # Idle / absolute session timeouts and "log out everywhere" (needs request.user).
    "provider_auth.tariff_api.middleware.SessionTimeoutMiddleware",
    "provider_auth.tariff_api.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # axes last: it inspects the result of authentication.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "provider_auth.urls"
WSGI_APPLICATION = "provider_auth.wsgi.application"

# A provider overrides any template by putting a file of the same name in BRAND_TEMPLATES_DIR.
BRAND_TEMPLATES_DIR = env.str("BRAND_TEMPLATES_DIR", default="")
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [d for d in (BRAND_TEMPLATES_DIR, str(BASE_DIR / "templates")) if d],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "provider_auth.context_processors.brand",
                "provider_auth.oidc.context_processors.oidc_login",
            ],
        },
    }
]

# --- Database and cache --------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
# The tariff poll's query as a server-side prepared statement on PostgreSQL (planned once per
# connection); off behind a transaction-pooling PgBouncer older than 1.21 or without
# max_prepared_statements (provider_auth/tariff_api/prepared.py, docs/operations.md).
DB_PREPARE_POLL_QUERY = env.bool("DB_PREPARE_POLL_QUERY", default=True)
for _database in DATABASES.values():
    if _database["ENGINE"] == "django.db.backends.sqlite3":
        # SQLite for concurrent use (several gunicorn workers and threads): WAL lets readers
        # run beside the one writer; IMMEDIATE takes the write lock when a transaction begins,
        # so a read-then-write transaction waits its turn (busy timeout, seconds) instead of
        # failing with "database is locked" when it tries to upgrade; NORMAL sync is safe
        # under WAL. A local connection is cheap and a persistent one can hold a lock: none.
        _database["CONN_MAX_AGE"] = 0
        _database.setdefault("OPTIONS", {}).update(
            {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            }
        )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="fpauth"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Sessions live in the database so any instance behind the load balancer can serve any request.
SESSION_ENGINE = "django.contrib.sessions.backends.db"

# --- Authentication ------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
if env.bool("FAST_PASSWORD_HASHER", default=False):
    # The hashing-free benchmark and throw-away test servers only (the test suite's own settings
    # module sets it too): Argon2 would dominate their run time. Never in production.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"

# django-axes: lockout per (account, IP) after AXES_FAILURE_LIMIT failures; counters in the DB.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("LOGIN_LOCKOUT_MINUTES", default=15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = False
AXES_USERNAME_FORM_FIELD = "username"
AXES_LOCKOUT_CALLABLE = "provider_auth.security.lockout.lockout_response"
AXES_IPWARE_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
# ipware is not installed: without this axes would count every client behind a proxy as one.
AXES_CLIENT_IP_CALLABLE = "provider_auth.security.network.client_ip"
AXES_VERBOSE = False
# Our own extra ceilings, counted in the shared cache (see provider_auth/security/lockout.py).
LOGIN_IP_FAILURE_LIMIT = env.int("LOGIN_IP_FAILURE_LIMIT", default=50)  # per IP per hour
LOGIN_ACCOUNT_FAILURE_LIMIT = env.int("LOGIN_ACCOUNT_FAILURE_LIMIT", default=100)  # per hour

# --- Internationalisation ------------------------------------------------------------------
LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="en")
LANGUAGES = [("en", "English"), ("de", "Deutsch")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# British date/time formats for English (Django's "en" is American); German uses Django's own.
FORMAT_MODULE_PATH = ["provider_auth.formats"]
TIME_ZONE = env.str("TIME_ZONE", default="Europe/London")
USE_I18N = True
USE_TZ = True

# --- Static files --------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- Security ------------------------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_TLS_PROXY", default=not DEBUG) else None
)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
# Preload binds the provider's apex domain and every subdomain for months: the apex owner's
# decision, not this service's (it runs on a subdomain). Opt in with SECURE_HSTS_PRELOAD=true.
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
# Django's W003 looks for its CSRF middleware by exact path; ours subclasses it (see
# provider_auth/security/csrf.py) and provider_auth.W008 checks that one of the two is installed.
SILENCED_SYSTEM_CHECKS.append("security.W003")
SECURE_CONTENT_TYPE_NOSNIFF = True
# The connect token is in our URLs: no site, not even ours, gets them as Referer. Browsers then
# send "Origin: null" on our form POSTs; FetchMetadataCsrfViewMiddleware accepts that only with
# Sec-Fetch-Site: same-origin (plain Django would refuse every form: found by the browser tests).
SECURE_REFERRER_POLICY = "no-referrer"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
# __Host- needs Secure and no Domain; only in production where cookies are Secure.
SESSION_COOKIE_NAME = "__Host-session" if SESSION_COOKIE_SECURE else "sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken" if CSRF_COOKIE_SECURE else "csrftoken"
LANGUAGE_COOKIE_NAME = "__Host-lang" if SESSION_COOKIE_SECURE else "django_language"
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
# Lax, not Strict: the first request of a flow arrives from FlatPeak's (another) site.
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env.int("SESSION_ABSOLUTE_SECONDS", default=12 * 3600)  # absolute
SESSION_IDLE_SECONDS = env.int("SESSION_IDLE_SECONDS", default=30 * 60)
SESSION_SAVE_EVERY_REQUEST = False
CSRF_FAILURE_VIEW = "provider_auth.views.csrf_failure"
DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024
# Symmetric key for plaintext tokens held (encrypted) until FlatPeak acknowledges; derived from
# SECRET_KEY when unset so the demo needs nothing.
FIELD_ENCRYPTION_KEY = env.str("FIELD_ENCRYPTION_KEY", default="")

# --- FlatPeak (see docs/flatpeak-contract.md) -----------------------------------------
FLATPEAK_API_URL = env.str("FLATPEAK_API_URL", default="https://api.flatpeak.com").rstrip("/")
FLATPEAK_ACCOUNT_ID = env.str("FLATPEAK_ACCOUNT_ID", default="")
FLATPEAK_API_KEY = env.str("FLATPEAK_API_KEY", default="")
FLATPEAK_SESSION_PATH = env.str("FLATPEAK_SESSION_PATH", default="/connect/session/{connect_token}")
FLATPEAK_SUBMIT_PATH = env.str("FLATPEAK_SUBMIT_PATH", default="/connect/session/{connect_token}")
FLATPEAK_SUBMIT_METHOD = env.str("FLATPEAK_SUBMIT_METHOD", default="POST")
FLATPEAK_REDIRECT_HOSTS = env.list("FLATPEAK_REDIRECT_HOSTS", default=["connect.flatpeak.com"])
FLATPEAK_CONNECT_TIMEOUT = env.float("FLATPEAK_CONNECT_TIMEOUT", default=3.05)
FLATPEAK_READ_TIMEOUT = env.float("FLATPEAK_READ_TIMEOUT", default=10.0)
FLATPEAK_RETRY_DEADLINE = env.float("FLATPEAK_RETRY_DEADLINE", default=8.0)  # seconds, all tries
# Tries per call within that deadline; 0 = as many as the deadline allows.
FLATPEAK_MAX_ATTEMPTS = env.int("FLATPEAK_MAX_ATTEMPTS", default=0)
FLATPEAK_OAUTH_CLIENT_ID = env.str("FLATPEAK_OAUTH_CLIENT_ID", default="flatpeak")
CONNECT_SESSION_IDLE_MINUTES = env.int("CONNECT_SESSION_IDLE_MINUTES", default=30)
PENDING_GRANT_TTL_MINUTES = env.int("PENDING_GRANT_TTL_MINUTES", default=60)

# --- OAuth server --------------------------------------------------------------------------
OAUTH_ACCESS_TOKEN_SECONDS = env.int("OAUTH_ACCESS_TOKEN_SECONDS", default=3600)
OAUTH_REFRESH_IDLE_DAYS = env.int("OAUTH_REFRESH_IDLE_DAYS", default=90)
OAUTH_REFRESH_ABSOLUTE_DAYS = env.int("OAUTH_REFRESH_ABSOLUTE_DAYS", default=400)
OAUTH_CODE_SECONDS = env.int("OAUTH_CODE_SECONDS", default=600)
# Seconds after a rotation during which the just-rotated refresh token is a retry (another new
# pair of the same grant), not reuse (which revokes the grant): parallel FlatPeak workers, or one
# resending after a timeout. 0 switches the window off.
OAUTH_REFRESH_GRACE_SECONDS = env.int("OAUTH_REFRESH_GRACE_SECONDS", default=30)
OAUTH_PKCE_REQUIRED = env.bool("OAUTH_PKCE_REQUIRED", default=True)
TARIFF_POLL_LIMIT_PER_HOUR = env.int("TARIFF_POLL_LIMIT_PER_HOUR", default=60)
TARIFF_MIN_POLL_INTERVAL_SECONDS = env.int("TARIFF_MIN_POLL_INTERVAL_SECONDS", default=900)
# Published and market-indexed prices: when the next day's prices usually appear (local time of
# the tariff; a tariff may set its own), how soon to poll again when they are late, and the
# bounds and sizes beyond which an imported price file is refused as absurd.
PRICES_PUBLISH_TIME = env.str("PRICES_PUBLISH_TIME", default="16:00")
PRICES_LATE_RETRY_MINUTES = env.int("PRICES_LATE_RETRY_MINUTES", default=15)
PRICES_MIN_PER_KWH = env.str("PRICES_MIN_PER_KWH", default="-2")
PRICES_MAX_PER_KWH = env.str("PRICES_MAX_PER_KWH", default="10")
WHOLESALE_MIN_PER_MWH = env.str("WHOLESALE_MIN_PER_MWH", default="-1000")
WHOLESALE_MAX_PER_MWH = env.str("WHOLESALE_MAX_PER_MWH", default="10000")
PRICES_IMPORT_MAX_BYTES = env.int("PRICES_IMPORT_MAX_BYTES", default=5_000_000)
PRICES_IMPORT_MAX_ROWS = env.int("PRICES_IMPORT_MAX_ROWS", default=50_000)
RATE_LIMIT_ENABLED = env.bool("RATE_LIMIT_ENABLED", default=True)
RATE_LIMIT_TOKEN_PER_MINUTE = env.int("RATE_LIMIT_TOKEN_PER_MINUTE", default=120)
RATE_LIMIT_AUTH_URI_PER_MINUTE = env.int("RATE_LIMIT_AUTH_URI_PER_MINUTE", default=60)

# --- Tariff source (where supply points, contracts and tariffs come from) -----------------
# A class implementing accounts.sources.base.TariffSource: our own database by default, or
# accounts.sources.kraken.KrakenTariffSource to read the provider's Kraken deployment.
TARIFF_SOURCE = env.str("TARIFF_SOURCE", default="accounts.sources.local.LocalTariffSource")
# How long past its freshness a remembered answer may be served while the platform is down
# (flagged stale); after that the tariff API answers 503 with Retry-After.
TARIFF_SOURCE_MAX_STALENESS = env.int("TARIFF_SOURCE_MAX_STALENESS", default=6 * 3600)
TARIFF_SOURCE_RETRY_AFTER = env.int("TARIFF_SOURCE_RETRY_AFTER", default=300)  # seconds
KRAKEN_GRAPHQL_URL = env.str("KRAKEN_GRAPHQL_URL", default="https://api.octopus.energy/v1/graphql/")
KRAKEN_REST_URL = env.str("KRAKEN_REST_URL", default="https://api.octopus.energy/v1").rstrip("/")
# The organisation's credential, exchanged for short-lived tokens (obtainKrakenToken); one of:
KRAKEN_ORGANIZATION_SECRET_KEY = env.str("KRAKEN_ORGANIZATION_SECRET_KEY", default="")
KRAKEN_API_KEY = env.str("KRAKEN_API_KEY", default="")
KRAKEN_CONNECT_TIMEOUT = env.float("KRAKEN_CONNECT_TIMEOUT", default=3.05)
KRAKEN_READ_TIMEOUT = env.float("KRAKEN_READ_TIMEOUT", default=10.0)
KRAKEN_RETRY_DEADLINE = env.float("KRAKEN_RETRY_DEADLINE", default=8.0)  # seconds, all tries
KRAKEN_AGREEMENTS_TTL = env.int("KRAKEN_AGREEMENTS_TTL", default=300)  # seconds
KRAKEN_AGREEMENTS_LOOKBACK_DAYS = env.int("KRAKEN_AGREEMENTS_LOOKBACK_DAYS", default=31)
KRAKEN_PRICES_INCLUDE_VAT = env.bool("KRAKEN_PRICES_INCLUDE_VAT", default=True)
KRAKEN_CURRENCY = env.str("KRAKEN_CURRENCY", default="GBP")
KRAKEN_TIMEZONE = env.str("KRAKEN_TIMEZONE", default="Europe/London")
KRAKEN_COUNTRY_CODE = env.str("KRAKEN_COUNTRY_CODE", default="GB")
KRAKEN_PAGE_SIZE = env.int("KRAKEN_PAGE_SIZE", default=1500)
# After a failed read, remembered answers are served at once (no call) for this long.
KRAKEN_DOWN_SECONDS = env.int("KRAKEN_DOWN_SECONDS", default=30)
# A worker keeps shared-cache entries in memory this long (never past their freshness).
KRAKEN_MEMO_SECONDS = env.float("KRAKEN_MEMO_SECONDS", default=5.0)

# --- Sandbox (a built-in FlatPeak for demos and onboarding checks) -------------------------
SANDBOX_ENABLED = env.bool("SANDBOX_ENABLED", default=False)
if SANDBOX_ENABLED:
    # A demo and onboarding tool, not part of the product: installed (tables, URLs, the
    # sandbox_setup command) only where it is switched on.
    INSTALLED_APPS.append("sandbox")
SANDBOX_ALLOW_IN_PRODUCTION = env.bool("SANDBOX_ALLOW_IN_PRODUCTION", default=False)
# Where the sandbox's device-maker app sends the browser: our authentication URI, absolute, so
# the sandbox and our endpoint can be served under different host names.
SANDBOX_AUTH_URI = env.str("SANDBOX_AUTH_URI", default="") or f"{PUBLIC_BASE_URL}/flatpeak/auth"
# The secret of the FlatPeak OAuth client (FLATPEAK_OAUTH_CLIENT_ID), which the sandbox uses when
# it refreshes tokens as FlatPeak would; `manage.py sandbox_setup` creates the client with it.
SANDBOX_OAUTH_CLIENT_SECRET = env.str("SANDBOX_OAUTH_CLIENT_SECRET", default="")
SANDBOX_TOKEN_MINUTES = env.int("SANDBOX_TOKEN_MINUTES", default=30)  # connect token lifetime
# With DEBUG off, the sandbox's sessions list and sessions/<token>.json (live connect tokens and
# outcomes) are for staff only, or for a caller sending this key as X-Sandbox-Key
# (flatpeak_check sends it when set). Empty: staff only.
SANDBOX_ACCESS_KEY = env.str("SANDBOX_ACCESS_KEY", default="")
if SANDBOX_ENABLED and not DEBUG and not SANDBOX_ALLOW_IN_PRODUCTION:
    raise ImproperlyConfigured(
        "SANDBOX_ENABLED=true with DEBUG off: the sandbox plays FlatPeak and must not run in "
        "production. Set SANDBOX_ALLOW_IN_PRODUCTION=true only on a staging server."
    )

# --- Branding ------------------------------------------------------------------------------
BRAND_NAME = env.str("BRAND_NAME", default="Lunar Energy")
BRAND_LOGO = env.str("BRAND_LOGO", default="brand/lunar-logo.svg")  # static path or https URL
BRAND_PRIMARY_COLOUR = env.str("BRAND_PRIMARY_COLOUR", default="#1d4ed8")
BRAND_SUPPORT_URL = env.str("BRAND_SUPPORT_URL", default="https://lunar-energy.example/support")
BRAND_PRIVACY_URL = env.str("BRAND_PRIVACY_URL", default="https://lunar-energy.example/privacy")
BRAND_CUSTOM_CSS = env.str("BRAND_CUSTOM_CSS", default="")  # static path of an extra CSS file

# --- OpenID Connect: customers log in at the provider's identity provider -------------------
# Empty OIDC_ISSUER: no federated login. The issuer must be exactly what the provider's
# discovery document says (Auth0's ends with "/"), so it is not normalised.
OIDC_ISSUER = env.str("OIDC_ISSUER", default="")
OIDC_CLIENT_ID = env.str("OIDC_CLIENT_ID", default="")
OIDC_CLIENT_SECRET = env.str("OIDC_CLIENT_SECRET", default="")  # client_secret_basic
OIDC_PRIVATE_KEY_FILE = env.str("OIDC_PRIVATE_KEY_FILE", default="")  # private_key_jwt (PEM)
OIDC_PRIVATE_KEY_ID = env.str("OIDC_PRIVATE_KEY_ID", default="")  # its kid, if registered
OIDC_SCOPES = env.str("OIDC_SCOPES", default="openid email")
# Which claim finds the customer: "account_number" (accounts.User.account_number) or "email"
# (only when email_verified is true).
OIDC_CUSTOMER_CLAIM = env.str("OIDC_CUSTOMER_CLAIM", default="email")
OIDC_DISPLAY_NAME = env.str("OIDC_DISPLAY_NAME", default="") or BRAND_NAME
# Seconds; asks for a recent login (an empty value in .env means unset).
OIDC_MAX_AGE = int(env.str("OIDC_MAX_AGE", default="") or 0) or None
OIDC_ACR_VALUES = env.str("OIDC_ACR_VALUES", default="")
OIDC_SUPPORT_URL = env.str("OIDC_SUPPORT_URL", default="") or BRAND_SUPPORT_URL
# Bounded wait on the identity provider (discovery, JWKS, token endpoint): (connect, read).
OIDC_HTTP_TIMEOUT = (
    env.float("OIDC_CONNECT_TIMEOUT", default=3.0),
    env.float("OIDC_READ_TIMEOUT", default=5.0),
)
OIDC_METADATA_CACHE_SECONDS = env.int("OIDC_METADATA_CACHE_SECONDS", default=3600)
OIDC_JWKS_REFRESH_INTERVAL_SECONDS = env.int("OIDC_JWKS_REFRESH_INTERVAL_SECONDS", default=60)
OIDC_CLOCK_SKEW_SECONDS = env.int("OIDC_CLOCK_SKEW_SECONDS", default=60)
# false: no page shows a password field; customers log in at the identity provider only.
LOCAL_LOGIN_ENABLED = env.bool("LOCAL_LOGIN_ENABLED", default=True)

# --- Email (one-time codes) ----------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="no-reply@lunar-energy.example")

# --- Operations ----------------------------------------------------------------------------
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=["127.0.0.1", "::1"])
AUDIT_RETENTION_DAYS = env.int("AUDIT_RETENTION_DAYS", default=400)
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_FORMAT = env.str("LOG_FORMAT", default="console" if DEBUG else "json")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact": {"()": "provider_auth.security.redaction.RedactingFilter"},
        "request_id": {"()": "provider_auth.ops.logging.RequestIdFilter"},
    },
    "formatters": {
        "json": {"()": "provider_auth.ops.logging.JsonFormatter"},
        "console": {"()": "provider_auth.ops.logging.ConsoleFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id", "redact"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.server": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}
