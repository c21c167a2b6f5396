"""Settings shared by every profile. Everything that differs per machine comes from the environment."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
import django_stubs_ext
from django.utils.translation import gettext_lazy as _

# Lets admin.ModelAdmin[Model] and other generics run at import time.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("OMS_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("SECRET_KEY", "")
DEBUG = False
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "csp",
    "axes",
    # django-ninja's own Swagger UI files (pinned with it in uv.lock): /api/docs needs no CDN.
    "ninja",
    "oms.core",
    "oms.audit",
    "oms.outbox",
    "oms.accounts",
    "oms.catalog",
    "oms.channels",
    "oms.inventory",
    "oms.fulfillment",
    "oms.orders",
    "oms.review",
    "oms.reports",
    "oms.splitmerge",
    "oms.connectors",
    "oms.aftersales",
    "oms.invoicing",
    "oms.api",
    "oms.console",
    "oms.wiring",
    "oms.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "oms.core.middleware.RequestContextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

# Content-Security-Policy (django-csp): the console loads its own CSS and scripts (htmx, console.js) and
# nothing inline, from nowhere else; no framing, no plugins, forms post only here. The API docs page
# (/api/docs) loads its Swagger UI files from this server too.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "oms.console.context_processors.navigation",
            ],
        },
    }
]

# The embedded default is SQLite under var/; production points DATABASE_URL at PostgreSQL.
DEFAULT_SQLITE_URL = f"sqlite:///{VAR_DIR / 'oms.sqlite3'}"
# Connections are kept between requests (CONN_MAX_AGE seconds, DB_CONN_MAX_AGE; 0 closes after each request)
# and checked before reuse (CONN_HEALTH_CHECKS). Passed to parse(): it sets CONN_MAX_AGE itself, so a default
# applied afterwards would never take effect.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", DEFAULT_SQLITE_URL),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock at BEGIN so two
    # writers queue on the busy timeout instead of failing with "database is locked" on upgrade.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
elif not env_bool("DB_JIT", False):
    # JIT compilation pays off for long analytic queries, never for the short ones this application sends:
    # a list query whose cost estimate crosses jit_above_cost spends hundreds of ms compiling. Off per
    # connection (DB_JIT=1 leaves the server's setting, e.g. behind a pooler that refuses startup options).
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.Operator"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "console:login"
LOGIN_REDIRECT_URL = "console:home"
LOGOUT_REDIRECT_URL = "console:login"

# Brute-force protection: lock a username+address pair after repeated failures.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("AXES_COOLOFF_HOURS", "0.25"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "console/locked_out.html"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "oms" / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
# With no broker configured every task runs in process, so the embedded default still does all work.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

# Domain settings
OMS = {
    "UNPAID_TIMEOUT_MINUTES": int(os.environ.get("OMS_UNPAID_TIMEOUT_MINUTES", "30")),
    "BULK_INTAKE_MAX": 1000,
    # An Idempotency-Key claim is a lease: if the request that claimed it died (process killed, database
    # restarted) a retry after this many seconds runs it again. Keep it above the longest request.
    "IDEMPOTENCY_LEASE_S": float(os.environ.get("OMS_IDEMPOTENCY_LEASE_S", "30")),
}

# Outbox and webhooks (oms.outbox). A relay run claims a batch; its lease must outlast delivering the
# whole batch, so the relay stretches it to (batch size + 1) × HTTP timeout when that is longer.
OMS_OUTBOX = {
    "BATCH_SIZE": int(os.environ.get("OMS_OUTBOX_BATCH_SIZE", "20")),
    "HTTP_TIMEOUT_S": float(os.environ.get("OMS_OUTBOX_HTTP_TIMEOUT_S", "10")),
    "LEASE_S": float(os.environ.get("OMS_OUTBOX_LEASE_S", "300")),
    "MAX_ATTEMPTS": int(os.environ.get("OMS_OUTBOX_MAX_ATTEMPTS", "10")),
    "BACKOFF_BASE_S": float(os.environ.get("OMS_OUTBOX_BACKOFF_BASE_S", "10")),
    "BACKOFF_CAP_S": float(os.environ.get("OMS_OUTBOX_BACKOFF_CAP_S", "3600")),
    "RELAY_INTERVAL_S": float(os.environ.get("OMS_OUTBOX_RELAY_INTERVAL_S", "10")),
}
# Lets tests and side-by-side deployments keep their own queue on a shared broker.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_TASK_DEFAULT_QUEUE", "celery")
# Periodic work for `celery beat` (or `oms worker --beat`); each app's section below adds its own.
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "outbox-relay": {"task": "outbox.relay", "schedule": OMS_OUTBOX["RELAY_INTERVAL_S"]},
    # The operation log's hash chain, checked hourly; the console's board shows the last result.
    "audit-verify": {"task": "audit.verify", "schedule": float(os.environ.get("OMS_AUDIT_VERIFY_INTERVAL_S", "3600"))},
}

# ---- Fulfilment (oms.fulfillment) — owned by the fulfilment work --------------------------------------
# REVIEW_BUFFER_MINUTES: paid orders wait this long before automatic review, so related orders can be
# merged first (0 reviews at once). WAREHOUSE_TIE_BREAKS: the order of the allocation tie-breaks.
OMS_FULFILMENT = {
    "REVIEW_BUFFER_MINUTES": int(os.environ.get("OMS_REVIEW_BUFFER_MINUTES", "30")),
    "WAREHOUSE_TIE_BREAKS": ["stock", "packages", "distance", "cost"],
    "AUTO_DISPATCH": os.environ.get("OMS_AUTO_DISPATCH", "1") == "1",
    # Orders per pipeline batch: B3 runs 693 orders/s with 2,000 against 542/s with 500 (fewer statements each).
    "BATCH_SIZE": int(os.environ.get("OMS_FULFILMENT_BATCH_SIZE", "2000")),
    "PIPELINE_INTERVAL_S": float(os.environ.get("OMS_FULFILMENT_INTERVAL_S", "60")),
    "WMS_CALLBACK_TOLERANCE_S": int(os.environ.get("OMS_WMS_CALLBACK_TOLERANCE_S", "300")),
}
CELERY_BEAT_SCHEDULE.update(
    {
        # Review after the buffer, allocation, courier, dispatch; then stockouts re-judged against new stock.
        "fulfilment-pipeline": {"task": "fulfillment.pipeline", "schedule": OMS_FULFILMENT["PIPELINE_INTERVAL_S"]},
        "fulfilment-stockouts": {"task": "fulfillment.stockouts", "schedule": OMS_FULFILMENT["PIPELINE_INTERVAL_S"]},
    }
)

# ---- Split and merge (oms.splitmerge) ----------------------------------------------------------------
# Automatic merge runs more often than the pipeline, so related orders merge within the review buffer.
OMS_AUTO_MERGE_MAX_ORDERS = int(os.environ.get("OMS_AUTO_MERGE_MAX_ORDERS", "5"))
CELERY_BEAT_SCHEDULE["split-merge-auto-merge"] = {
    "task": "splitmerge.auto_merge",
    "schedule": float(os.environ.get("OMS_AUTO_MERGE_INTERVAL_S", "30")),
}
# Reports read daily rollups kept up to date by this task (only the days whose orders or payments changed).
OMS_REPORTS = {
    "ROLLUP_LAG_S": float(os.environ.get("OMS_REPORTS_ROLLUP_LAG_S", "300")),
    "MAX_DAYS": int(os.environ.get("OMS_REPORTS_MAX_DAYS", "366")),
}
# Exports of console lists: files under VAR_DIR/exports, written by a Celery task with a broker, else by a
# thread of the web process ("inline" runs them in the request, for tests).
OMS_EXPORTS = {
    "RUNNER": os.environ.get("OMS_EXPORTS_RUNNER", ""),
    "DIR": os.environ.get("OMS_EXPORTS_DIR", ""),
}
CELERY_BEAT_SCHEDULE["reports-ship-by-alerts"] = {
    "task": "reports.ship_by_alerts",
    "schedule": float(os.environ.get("OMS_SHIP_BY_ALERT_INTERVAL_S", "300")),
}
CELERY_BEAT_SCHEDULE["reports-refresh-rollups"] = {
    "task": "reports.refresh_rollups",
    "schedule": float(os.environ.get("OMS_REPORTS_REFRESH_INTERVAL_S", "60")),
}
# Invoices due by a shop's policy (on shipment / on signing) are issued by this task (oms.invoicing.tasks).
CELERY_BEAT_SCHEDULE["invoicing-issue-due"] = {
    "task": "invoicing.issue_due",
    "schedule": float(os.environ.get("OMS_INVOICING_INTERVAL_S", "60")),
}
CELERY_BEAT_SCHEDULE["orders-cancel-unpaid"] = {
    "task": "orders.cancel_unpaid",
    "schedule": float(os.environ.get("OMS_CANCEL_UNPAID_INTERVAL_S", "300")),
}
# Orders no single warehouse can serve are split by allocation's plan automatically (else they wait).
OMS_AUTO_SPLIT_BY_WAREHOUSE = os.environ.get("OMS_AUTO_SPLIT_BY_WAREHOUSE", "1") == "1"
# The PostgreSQL fast paths of channel reservation keep state in the database session (prepared statements, a
# session-local function, the batch queue's locks). Behind a transaction-pooling proxy (sessions shared between
# clients) turn them off: every reservation then takes the general path (row locks in the global order).
OMS_STOCK_FAST_PATH = os.environ.get("OMS_STOCK_FAST_PATH", "1") == "1"
# Changed available-to-sell figures go to the platforms through the outbox (oms.channels.services.push).
CELERY_BEAT_SCHEDULE["channels-stock-push"] = {
    "task": "channels.stock_push",
    "schedule": float(os.environ.get("OMS_STOCK_PUSH_INTERVAL_S", "60")),
}
CELERY_BEAT_SCHEDULE["channels-stock-push-full"] = {
    "task": "channels.stock_push",
    "schedule": float(os.environ.get("OMS_STOCK_PUSH_FULL_INTERVAL_S", "3600")),
    "kwargs": {"full": True},
}
# Full quota re-allocation (forecast shares move as sales age; rule edits): rows that change only.
CELERY_BEAT_SCHEDULE["channels-reallocate"] = {
    "task": "channels.reallocate",
    "schedule": float(os.environ.get("OMS_REALLOCATE_INTERVAL_S", "900")),
}
# Hot-SKU reservation requests whose caller never came back for them (it died while queued).
CELERY_BEAT_SCHEDULE["inventory-sweep-reservation-requests"] = {
    "task": "inventory.sweep_reservation_requests",
    "schedule": float(os.environ.get("OMS_RESERVATION_REQUEST_SWEEP_S", "600")),
}
CELERY_BEAT_SCHEDULE["split-merge-auto-split"] = {
    "task": "splitmerge.auto_split",
    "schedule": float(os.environ.get("OMS_AUTO_SPLIT_INTERVAL_S", "60")),
}

# ---- Platform connectors (oms.connectors) ----------------------------------------------------------------
# Fernet keys for shop credentials, comma-separated, newest first (else derived from SECRET_KEY).
OMS_CONNECTORS_KEYS = os.environ.get("OMS_CONNECTORS_KEYS", "")
# RETRIES / BACKOFF: a rate-limited or failing platform call is retried this often, waiting base·2^n (capped).
OMS_CONNECTORS = {
    "RETRIES": float(os.environ.get("OMS_CONNECTORS_RETRIES", "4")),
    "BACKOFF_BASE_S": float(os.environ.get("OMS_CONNECTORS_BACKOFF_BASE_S", "1")),
    "BACKOFF_CAP_S": float(os.environ.get("OMS_CONNECTORS_BACKOFF_CAP_S", "30")),
    "HTTP_TIMEOUT_S": float(os.environ.get("OMS_CONNECTORS_HTTP_TIMEOUT_S", "10")),
    "TOKEN_WARN_DAYS": float(os.environ.get("OMS_CONNECTORS_TOKEN_WARN_DAYS", "7")),
}
# Where the outbox reaches this system's own write-back receivers (tracking and stock to the platforms).
OMS_CONNECTORS_CALLBACK_URL = os.environ.get("OMS_CONNECTORS_CALLBACK_URL", "http://127.0.0.1:8000")
# Shops whose pull interval has passed are pulled; each shop keeps its own interval and cursor.
CELERY_BEAT_SCHEDULE["connectors-pull-due"] = {
    "task": "connectors.pull_due",
    "schedule": float(os.environ.get("OMS_CONNECTORS_TICK_S", "30")),
}
