"""Settings for Warehouse, read from the environment with safe defaults.

Every value that differs between a laptop, CI and production comes from an
environment variable; the helpers below fail loudly on values they cannot read.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name: str, default: str) -> bool:
    value = os.environ.get(name, default).strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def envint(name: str, default: str) -> int:
    value = os.environ.get(name, default)
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None


def envlist(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = envbool("DEBUG", "false")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is required when DEBUG is off. Set SECRET_KEY, or DEBUG=true for local use."
        )
    SECRET_KEY = "insecure-development-key-never-use-in-production"

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", "")

# Where the app keeps what must never be committed: its certificate authority, keys.
STATE_DIR = Path(os.environ.get("WAREHOUSE_STATE_DIR", BASE_DIR / "var"))
# The API server's address as kubeconfigs name it, and extra names its TLS certificate covers.
# The API server's address in the kubeconfigs handed out; empty: wherever `serve` serves it
# (it notes the address in STATE_DIR), else https://127.0.0.1:6443.
WAREHOUSE_API_URL = os.environ.get("WAREHOUSE_API_URL", "")
WAREHOUSE_API_HOSTS = envlist("WAREHOUSE_API_HOSTS", "")
# Dotted paths to `async def task(stop: asyncio.Event)` run beside the server by `serve`.
# `serve` runs them in development; `manage.py controlplane` runs them in production.
WAREHOUSE_BACKGROUND_TASKS: list[str] = ["controlplane.runner.run", "apiserver.housekeeping.run"]
# Where the API server reads a container's log (`kubectl logs`), as it would ask a kubelet.
WAREHOUSE_CONTAINER_LOGS = "controlplane.logs.read"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "catalog",
    "apiserver",
    "controlplane",
    "shop",
    "learning",
]

MIDDLEWARE = [
    # API paths and cached catalog pages leave the chain here (see hub/middleware.py).
    "hub.middleware.ApiFastPathMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "hub.urls"

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
            ],
        },
    },
]

WSGI_APPLICATION = "hub.wsgi.application"
ASGI_APPLICATION = "hub.asgi.application"

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=envint("DB_CONN_MAX_AGE", "0"),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the control plane write while pages and watches read.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }

elif envbool("DB_POOL", "false"):
    # A PostgreSQL connection costs ~10 ms to open, more than a whole API request; every
    # request runs on a thread of its own, so connections are pooled per process instead.
    DATABASES["default"]["OPTIONS"] = {
        "pool": {"min_size": 2, "max_size": envint("DB_POOL_MAX", "20"), "timeout": 10}
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("WAREHOUSE_STATIC_ROOT", BASE_DIR / "staticfiles"))
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

SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", "false")
SESSION_COOKIE_SECURE = envbool("SECURE_COOKIES", "false")
CSRF_COOKIE_SECURE = envbool("SECURE_COOKIES", "false")
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", "0")
# Once HSTS is on, cover subdomains too unless told otherwise; preloading is a separate promise.
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool(
    "SECURE_HSTS_INCLUDE_SUBDOMAINS", "true" if SECURE_HSTS_SECONDS else "false"
)
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", "false")
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# The API server: a learner's share of the cluster, as the ResourceQuota their namespace
# opens with (apiserver/accounts.py): the nodes divided among the room expected, the objects
# it may hold and the Events counted apart. Then the largest request body it accepts, and
# the largest object the store keeps (etcd's 1.5 MiB request limit).
WAREHOUSE_EXPECTED_LEARNERS = envint("WAREHOUSE_EXPECTED_LEARNERS", "30")
WAREHOUSE_NAMESPACE_QUOTA = envint("WAREHOUSE_NAMESPACE_QUOTA", "200")
WAREHOUSE_NAMESPACE_EVENT_QUOTA = envint("WAREHOUSE_NAMESPACE_EVENT_QUOTA", "1000")
WAREHOUSE_MAX_BODY_BYTES = envint("WAREHOUSE_MAX_BODY_BYTES", str(1024 * 1024))
WAREHOUSE_MAX_OBJECT_BYTES = envint("WAREHOUSE_MAX_OBJECT_BYTES", str(1536 * 1024))
# Long-lived threads per process that run API requests (each keeps a database connection).
WAREHOUSE_API_THREADS = envint("WAREHOUSE_API_THREADS", "16")
# Plain reads answered on the event loop instead (apiserver/onloop.py): "auto" does so on
# SQLite with in-process rate limits, "on" always, "off" never.
WAREHOUSE_API_READS_ON_LOOP = os.environ.get("WAREHOUSE_API_READS_ON_LOOP", "auto")
if WAREHOUSE_API_READS_ON_LOOP not in ("auto", "on", "off"):
    raise ImproperlyConfigured("WAREHOUSE_API_READS_ON_LOOP must be auto, on or off")

# Housekeeping (apiserver/housekeeping.py), every WAREHOUSE_HOUSEKEEPING_SECONDS: compact the
# revision log to its last minutes or rows, expire Events an hour after their last write
# (kube-apiserver's --event-ttl), and prune the audit log by age and by rows.
WAREHOUSE_HOUSEKEEPING_SECONDS = envint("WAREHOUSE_HOUSEKEEPING_SECONDS", "300")
WAREHOUSE_REVISION_KEEP_SECONDS = envint("WAREHOUSE_REVISION_KEEP_SECONDS", "600")
WAREHOUSE_REVISION_KEEP_ROWS = envint("WAREHOUSE_REVISION_KEEP_ROWS", "100000")
# The newest revisions kept of any one object (0: no such bound); a watch from before one
# removed gets 410 Gone, as from a compacted resourceVersion.
WAREHOUSE_REVISION_KEEP_PER_OBJECT = envint("WAREHOUSE_REVISION_KEEP_PER_OBJECT", "50")
WAREHOUSE_EVENT_TTL_SECONDS = envint("WAREHOUSE_EVENT_TTL_SECONDS", "3600")
WAREHOUSE_AUDIT_KEEP_HOURS = envint("WAREHOUSE_AUDIT_KEEP_HOURS", "24")
WAREHOUSE_AUDIT_KEEP_ROWS = envint("WAREHOUSE_AUDIT_KEEP_ROWS", "200000")
# Audit rows written in batches at most this many seconds late (0: each at once).
WAREHOUSE_AUDIT_BATCH_SECONDS = float(os.environ.get("WAREHOUSE_AUDIT_BATCH_SECONDS", "0"))

# How often a server process's threads take turns at the interpreter (hub/asgi.py).
WAREHOUSE_SWITCH_INTERVAL_MS = float(os.environ.get("WAREHOUSE_SWITCH_INTERVAL_MS", "1"))

# Priority and fairness (apiserver/fairness.py): per-learner and learner-lane token buckets,
# kept in this process ("memory"), in Redis shared by every process ("redis"), or "off".
WAREHOUSE_RATE_LIMIT_BACKEND = os.environ.get("WAREHOUSE_RATE_LIMIT_BACKEND", "memory")
if WAREHOUSE_RATE_LIMIT_BACKEND not in ("memory", "redis", "off"):
    raise ImproperlyConfigured("WAREHOUSE_RATE_LIMIT_BACKEND must be memory, redis or off")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
WAREHOUSE_LEARNER_QPS = envint("WAREHOUSE_LEARNER_QPS", "20")
WAREHOUSE_LEARNER_BURST = envint("WAREHOUSE_LEARNER_BURST", "40")
WAREHOUSE_LEARNER_LANE_QPS = envint("WAREHOUSE_LEARNER_LANE_QPS", "500")
WAREHOUSE_LEARNER_LANE_BURST = envint("WAREHOUSE_LEARNER_LANE_BURST", "1000")
WAREHOUSE_LEARNER_CONCURRENCY = envint("WAREHOUSE_LEARNER_CONCURRENCY", "16")
# Callers with no working credentials: one bucket per client address, one for the lane.
WAREHOUSE_ANONYMOUS_QPS = envint("WAREHOUSE_ANONYMOUS_QPS", "5")
WAREHOUSE_ANONYMOUS_BURST = envint("WAREHOUSE_ANONYMOUS_BURST", "20")
WAREHOUSE_CATCH_ALL_QPS = envint("WAREHOUSE_CATCH_ALL_QPS", "50")
WAREHOUSE_CATCH_ALL_BURST = envint("WAREHOUSE_CATCH_ALL_BURST", "100")
# Open watch streams per user (0: no cap); the control plane is never capped.
WAREHOUSE_MAX_WATCHES_PER_USER = envint("WAREHOUSE_MAX_WATCHES_PER_USER", "50")
WAREHOUSE_MAX_WATCHES_PER_INSTRUCTOR = envint("WAREHOUSE_MAX_WATCHES_PER_INSTRUCTOR", "500")

# Attempts per client address (apiserver/limits.py), in the same backend: new learner names,
# workshop join attempts and admin logins, each at most LIMIT per SECONDS. The address is
# REMOTE_ADDR unless WAREHOUSE_BEHIND_PROXY says a trusted proxy sets X-Forwarded-For.
# A whole workshop often arrives from one NAT address, so the name and join budgets fit a
# room of 300; admin logins, which nobody needs many of, are kept tight.
WAREHOUSE_NEW_LEARNERS_LIMIT = envint("WAREHOUSE_NEW_LEARNERS_LIMIT", "300")
WAREHOUSE_NEW_LEARNERS_SECONDS = envint("WAREHOUSE_NEW_LEARNERS_SECONDS", "3600")
WAREHOUSE_JOIN_LIMIT = envint("WAREHOUSE_JOIN_LIMIT", "300")
WAREHOUSE_JOIN_SECONDS = envint("WAREHOUSE_JOIN_SECONDS", "600")
WAREHOUSE_ADMIN_LOGIN_LIMIT = envint("WAREHOUSE_ADMIN_LOGIN_LIMIT", "10")
WAREHOUSE_ADMIN_LOGIN_SECONDS = envint("WAREHOUSE_ADMIN_LOGIN_SECONDS", "600")
WAREHOUSE_BEHIND_PROXY = envbool("WAREHOUSE_BEHIND_PROXY", "false")
