"""Settings for Koers, read from environment variables with safe defaults.

DATABASE_URL   default: SQLite in var/koers.sqlite3; postgres://… for PostgreSQL
REDIS_URL      when set: Redis for the background queue and the cache
SECRET_KEY     default: generated once and kept in var/secret_key
ALLOWED_HOSTS  comma-separated; default 127.0.0.1,localhost
KOERS_LANGUAGE nl (default) or en: the language for users who have not chosen one
KOERS_DEBUG    1 for development (tracebacks, static files served from source)
KOERS_HTTPS    1 when served over HTTPS: secure cookies and HSTS
KOERS_PROXY_COUNT  how many reverse proxies stand in front of Koers (for client addresses)
KOERS_VAR_DIR  where local data lives (default: var/ in the checkout)
KOERS_EMAIL_HOST  SMTP server for mail Koers sends (meeting invitations); without it, mail
               is written to the worker's log. KOERS_EMAIL_PORT (587), KOERS_EMAIL_USER,
               KOERS_EMAIL_PASSWORD, KOERS_FROM_EMAIL
KOERS_WEBHOOK_ALLOW_PRIVATE_ADDRESSES  1 to let webhooks go to addresses on a private
               network (default: public addresses only); KOERS_WEBHOOK_MAX_ATTEMPTS (8) and
               KOERS_WEBHOOK_RETRY_BASE_SECONDS (30) shape the retries
KOERS_TRACKING_RATE_VISITOR (120), KOERS_TRACKING_RATE_ADDRESS (1200)  tracking requests
               per minute per visitor and per address; KOERS_TRACKING_DRAIN_DELAY (1)
               seconds before accepted events are stored in bulk
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("KOERS_VAR_DIR") or BASE_DIR.parent.parent / "var").resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def local_secret_key() -> str:
    """Return the secret key kept under var/, creating it on first use."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


DEBUG = env_flag("KOERS_DEBUG")
SECRET_KEY = os.environ.get("SECRET_KEY") or local_secret_key()
ALLOWED_HOSTS = [
    host.strip()
    for host in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",")
    if host.strip()
]
REDIS_URL = os.environ.get("REDIS_URL", "")

INSTALLED_APPS = [
    "koers.core",
    "koers.crm",
    "koers.pipeline",
    "koers.activities",
    "koers.tracking",
    "koers.scoring",
    "koers.outreach",
    "koers.dataio",
    "koers.api",
    "koers.core.apps.BackOfficeConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_countries",
    "axes",
    "huey.contrib.djhuey",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "koers.tracking.middleware.IngestFirst",
    "koers.api.middleware.ApiFirst",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "koers.core.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "koers.urls"
WSGI_APPLICATION = "koers.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "koers.core.context_processors.notifications",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'koers.sqlite3'}",
        conn_max_age=600,
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets the web server read while the worker writes; IMMEDIATE takes the
        # write lock at BEGIN so concurrent writers wait instead of failing.
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
            "PRAGMA temp_store=MEMORY; PRAGMA mmap_size=268435456; PRAGMA cache_size=-65536;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's PostgreSQL, with a health check that costs no round trip (koers.core.db).
    DATABASES["default"]["ENGINE"] = "koers.core.db"
    if env_flag("KOERS_DB_PREPARED", default=True):
        # Lets the API send its busiest queries as prepared statements (koers.api.pages);
        # Django's own queries never are, as its cursors bind parameters on the client.
        # Behind PgBouncer in transaction mode that needs max_prepared_statements (1.22+).
        DATABASES["default"].setdefault("OPTIONS", {}).setdefault("prepare_threshold", 5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if REDIS_URL:
    CACHES = {"default": {"BACKEND": "koers.core.cache.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

EMAIL_HOST = os.environ.get("KOERS_EMAIL_HOST", "")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = int(os.environ.get("KOERS_EMAIL_PORT", "587"))
EMAIL_HOST_USER = os.environ.get("KOERS_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("KOERS_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = EMAIL_PORT != 25
DEFAULT_FROM_EMAIL = os.environ.get("KOERS_FROM_EMAIL", "koers@localhost")

HUEY = {
    "name": "koers",
    "immediate": False,
    "huey_class": "huey.RedisHuey" if REDIS_URL else "huey.SqliteHuey",
    "connection": {"url": REDIS_URL} if REDIS_URL else {"filename": str(VAR_DIR / "queue.sqlite3")},
    "consumer": {"workers": 2, "worker_type": "thread"},
}

AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "koers.core.backends.TeamAwareBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "core:login"
LOGIN_REDIRECT_URL = "core:start"
LOGOUT_REDIRECT_URL = "core:login"

# Login throttling: after five failures for one username from one address, that pair
# is locked out for fifteen minutes; a successful login resets the count.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "core/locked_out.html"
AXES_VERBOSE = False
# And one address may fail this often across all usernames before it must wait too.
KOERS_LOGIN_FAILURES_PER_ADDRESS = 30
# Behind reverse proxies, the client's address is in X-Forwarded-For: say how many
# proxies there are, or every visitor has the proxy's address and one person's typos
# lock out everyone with that username.
KOERS_PROXY_COUNT = int(os.environ.get("KOERS_PROXY_COUNT", "0"))
AXES_CLIENT_IP_CALLABLE = "koers.core.clients.client_ip_address"

LANGUAGE_CODE = os.environ.get("KOERS_LANGUAGE", "nl")
LANGUAGES = [("nl", "Nederlands"), ("en", "English")]
if LANGUAGE_CODE not in dict(LANGUAGES):
    raise ValueError(f"KOERS_LANGUAGE must be one of {', '.join(dict(LANGUAGES))}")
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "koers_language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
TIME_ZONE = "Europe/Amsterdam"
USE_I18N = True
USE_TZ = True
COUNTRIES_FIRST = ["NL", "BE", "DE", "LU", "FR", "GB"]
COUNTRIES_FIRST_REPEAT = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# Front-end libraries, copied from node_modules by scripts/vendor.mjs.
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_flag("KOERS_HTTPS"):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")


# Deleted companies and contacts stay in the trash this long, then are erased.
KOERS_TRASH_DAYS = int(os.environ.get("KOERS_TRASH_DAYS", "30"))
# Tracking: requests per minute a visitor and an address may send (429 beyond); an office
# behind one address has many visitors. Accepted events are stored in bulk by a drain the
# worker runs this many seconds after the first of them arrives (0: at once).
KOERS_TRACKING_RATE_VISITOR = int(os.environ.get("KOERS_TRACKING_RATE_VISITOR") or 120)
KOERS_TRACKING_RATE_ADDRESS = int(os.environ.get("KOERS_TRACKING_RATE_ADDRESS") or 1200)
KOERS_TRACKING_DRAIN_DELAY = float(os.environ.get("KOERS_TRACKING_DRAIN_DELAY") or 1)
# Calls per API token per minute (429 with Retry-After beyond).
KOERS_API_RATE_LIMIT = int(os.environ.get("KOERS_API_RATE_LIMIT") or 600)
# Webhooks: a failed delivery is tried again after base × 2ⁿ seconds, up to the most
# attempts; then its subscription is paused. Receivers on a private network (loopback,
# 10.x, 192.168.x …) only with KOERS_WEBHOOK_ALLOW_PRIVATE_ADDRESSES=1: otherwise anyone
# who can log in could make Koers call into its own network.
KOERS_WEBHOOK_RETRY_BASE_SECONDS = int(os.environ.get("KOERS_WEBHOOK_RETRY_BASE_SECONDS") or 30)
KOERS_WEBHOOK_MAX_ATTEMPTS = int(os.environ.get("KOERS_WEBHOOK_MAX_ATTEMPTS") or 8)
KOERS_WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env_flag("KOERS_WEBHOOK_ALLOW_PRIVATE_ADDRESSES")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {"huey": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}
