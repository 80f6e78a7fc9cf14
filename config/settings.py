"""Handoff settings: one module, configured by environment variables.

Every variable is listed with its default in the README. The defaults run the
app on one machine with no server to install (SQLite and an SQLite-backed
Celery broker); production sets DATABASE_URL and CELERY_BROKER_URL.
"""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from handoff.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("HANDOFF_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "handoff-insecure-development-key-only-for-debug-mode"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "handoff",
    "leads",
    "scoring",
    "routing",
    "feedback",
    "privacy",
    "config",  # after the apps: it sits on top of them all (the seed_demo command)
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "handoff.middleware.DatabaseUnavailableMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last: turns a login refused for too many failures into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "handoff.context_processors.roles",
                "handoff.context_processors.notices",
                "config.context_processors.next_steps",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'handoff.sqlite3'}")
_SQLITE = DATABASE_URL.startswith("sqlite")
# Reusing PostgreSQL connections saves the server ~10 ms of CPU per request.
# Health checks: a connection kept across a database restart is found dead and
# replaced at the next request's first query, instead of failing that request.
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=env_int("CONN_MAX_AGE", 0 if _SQLITE else 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the worker writes; IMMEDIATE takes the
    # write lock at BEGIN, so two writers queue up instead of failing with
    # "database is locked" when a read transaction tries to upgrade.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # models.W040: SQLite has no covering indexes, so the INCLUDE columns of
    # two PostgreSQL indexes (Activity, Assignment) are left out there. The
    # indexes still work, and nobody running the embedded default can act on
    # the warning, which otherwise fills the start of every command's output.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: it refuses a locked-out login before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- Login rate limiting (handoff.login_limits) -------------------------------
LOGIN_FAILURES_PER_USERNAME = env_int("LOGIN_FAILURES_PER_USERNAME", 5)
LOGIN_FAILURES_PER_ADDRESS = env_int("LOGIN_FAILURES_PER_ADDRESS", 30)
LOGIN_LOCKOUT_MINUTES = env_int("LOGIN_LOCKOUT_MINUTES", 15)
AXES_HANDLER = "handoff.login_limits.LoginLimitHandler"
AXES_FAILURE_LIMIT = LOGIN_FAILURES_PER_USERNAME
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # the handler relies on this order
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_LOCKOUT_MINUTES)
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "handoff.login_limits.locked_out"
AXES_CLIENT_IP_CALLABLE = "handoff.login_limits.client_address"
AXES_DISABLE_ACCESS_LOG = True  # failures are what count; no row per successful login
AXES_VERBOSE = False

# --- HTTPS and cookies ------------------------------------------------------
# HTTPS defaults to on whenever DEBUG is off; set HTTPS=false only behind a
# proxy that does not terminate TLS (or for local tests over plain HTTP).
HTTPS = env_bool("HTTPS", not DEBUG)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
# No script of ours reads the CSRF cookie (pages carry the token in the HTML).
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# --- Content security policy ------------------------------------------------
# Enforced: every script, stylesheet, image and font comes from our own static
# files, with no inline script, inline style or eval anywhere (htmx is told not
# to inject its <style>: templates/htmx_head.html), so there is no nonce to manage.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# --- Internationalisation ------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# Deployed, static files are collected into STATIC_ROOT under hashed names
# (cached for good by browsers) and served from there by WhiteNoise. With
# STATIC_FROM_SOURCE, WhiteNoise serves them from the apps' own folders under
# their own names, with no collectstatic: what debug mode and `make run` do,
# since collecting and compressing the API docs' files takes minutes.
STATIC_FROM_SOURCE = env_bool("STATIC_FROM_SOURCE", DEBUG)
WHITENOISE_USE_FINDERS = STATIC_FROM_SOURCE
# Looked up per request, as in debug mode: no scan of an empty STATIC_ROOT at
# start-up (and no warning about it in the `make run` log).
WHITENOISE_AUTOREFRESH = STATIC_FROM_SOURCE
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if STATIC_FROM_SOURCE
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = VAR_DIR / "media"
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 10 * 1024 * 1024)

# --- Cache -----------------------------------------------------------------
# Shared by every web process, so API throttling counts each token once
# however many gunicorn workers serve it: Redis when CACHE_URL names one (use
# a database of its own, not the Celery broker's), else files under var/,
# which the processes of one machine share.
CACHE_URL = env_str("CACHE_URL", "")
if CACHE_URL.startswith(("redis://", "rediss://")):
    # Short timeouts: a request must not hang on a frozen Redis (throttling then
    # lets requests through, see handoff.api.throttling).
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
elif not CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
else:
    raise ImproperlyConfigured(f"CACHE_URL must be a redis:// URL or empty (got {CACHE_URL!r}).")

# --- Email ----------------------------------------------------------------
# Until SMTP is configured, notices' emails are written as files in
# VAR_DIR/mail (one per batch), where they can be read without flooding the
# worker's log. The timeout bounds a worker's wait on a mail server that
# accepts connections and never answers.
if env_str("SMTP_HOST", ""):
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": env_str("SMTP_HOST", ""),
                "port": env_int("SMTP_PORT", 587),
                "username": env_str("SMTP_USER", ""),
                "password": env_str("SMTP_PASSWORD", ""),
                "use_tls": env_bool("SMTP_TLS", True),
                "timeout": env_int("SMTP_TIMEOUT_SECONDS", 10),
            },
        }
    }
else:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": str(VAR_DIR / "mail")},
        }
    }
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "handoff@localhost")

# --- Notices (handoff.notices) ----------------------------------------------
# Where links in emails and chat messages point: the address people open.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")
# Per request to a chat webhook, to connect and again to read the answer.
CHAT_TIMEOUT_SECONDS = env_int("CHAT_TIMEOUT_SECONDS", 5)
# Chat webhooks to loopback or private addresses are refused unless this is
# set: for a chat server inside the company's network, and for the tests.
CHAT_WEBHOOKS_ALLOW_PRIVATE = env_bool("CHAT_WEBHOOKS_ALLOW_PRIVATE", False)
# Tries per notice before its email or chat message is marked failed
# (backoff from 30 s doubling to 30 min: about four hours with the default).
NOTICE_MAX_ATTEMPTS = env_int("NOTICE_MAX_ATTEMPTS", 12)

# --- Outgoing webhooks ------------------------------------------------------
# Endpoints on loopback or private addresses are refused unless this is set
# (the tests' receivers listen on loopback).
WEBHOOKS_ALLOW_PRIVATE = env_bool("WEBHOOKS_ALLOW_PRIVATE", False)
WEBHOOK_CONNECT_TIMEOUT_SECONDS = env_int("WEBHOOK_CONNECT_TIMEOUT_SECONDS", 5)
WEBHOOK_READ_TIMEOUT_SECONDS = env_int("WEBHOOK_READ_TIMEOUT_SECONDS", 10)
# A delivery is retried (backoff from 10 s doubling, at most this many
# minutes apart, with jitter) for this long after its first failure.
WEBHOOK_RETRY_HOURS = env_int("WEBHOOK_RETRY_HOURS", 72)
# Seconds, fractions allowed (the tests and benchmarks wait less).
WEBHOOK_BACKOFF_BASE_SECONDS = float(env_str("WEBHOOK_BACKOFF_BASE_SECONDS", "10"))
WEBHOOK_MAX_BACKOFF_MINUTES = env_int("WEBHOOK_MAX_BACKOFF_MINUTES", 60)
# An endpoint whose every attempt failed for this long is disabled, and
# marketing ops are told.
WEBHOOK_DISABLE_AFTER_DAYS = env_int("WEBHOOK_DISABLE_AFTER_DAYS", 5)
# After a secret's rotation, the old one still signs for this long.
WEBHOOK_SECRET_GRACE_HOURS = env_int("WEBHOOK_SECRET_GRACE_HOURS", 24)

# --- REST API -------------------------------------------------------------
# Integrations send "Authorization: Bearer <key>" (handoff.tokens); people use
# their session. The token class goes first: it makes DRF answer 401, with a
# WWW-Authenticate header, to a request without credentials.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "handoff.api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "handoff.api.permissions.TokenScopes",
        "handoff.api.permissions.RoleModelPermissions",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "handoff.api.parsers.JSONParser",
        "handoff.api.parsers.FormParser",
        "handoff.api.parsers.MultiPartParser",
    ],
    # POSTs to the ingestion endpoints, per token and per endpoint; generous
    # by default (the benchmarks send ~250 single events a second).
    "DEFAULT_THROTTLE_CLASSES": ["handoff.api.throttling.IngestionThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "ingest-leads": env_str("THROTTLE_INGEST_LEADS", "60000/min"),
        "ingest-activities": env_str("THROTTLE_INGEST_ACTIVITIES", "60000/min"),
        "ingest-opportunities": env_str("THROTTLE_INGEST_OPPORTUNITIES", "60000/min"),
    },
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "handoff.api.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "handoff.api.exceptions.domain_exception_handler",
}
# Larger API request bodies get 413; a batch of 1,000 events is about 0.3 MB.
API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 2 * 1024 * 1024)
SPECTACULAR_SETTINGS = {
    "TITLE": "Handoff API",
    "DESCRIPTION": "Push leads, activity events and outcomes; read scores and stages.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Anonymous visitors get nothing, the API's description included.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from our own static files, not a CDN (the CSP allows no other origin).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "WebhookEndpointStatusEnum": "handoff.webhooks.api.SETTABLE_STATUSES",
    },
}

# --- Celery ---------------------------------------------------------------
CELERY_BROKER_URL = env_str(
    "CELERY_BROKER_URL", f"sqla+sqlite:///{VAR_DIR / 'celery-broker.sqlite3'}"
)
CELERY_TASK_IGNORE_RESULT = True  # tasks record their outcome on database rows
CELERY_TASK_ACKS_LATE = True  # a task whose worker dies is redelivered...
CELERY_TASK_REJECT_ON_WORKER_LOST = True  # ...so every task must be idempotent
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 15 * 60)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 16 * 60)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # A message taken by a worker that died is handed out again after this many
    # seconds: longer than any task may run, so no live task is duplicated.
    # (Redis only: the SQLite broker hands these options to SQLAlchemy, which
    # refuses them.)
    # The socket timeouts bound a publish to a broker that accepts connections
    # but does not answer (frozen, partitioned); without them it waits forever.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": CELERY_TASK_TIME_LIMIT + 300,
        "socket_timeout": 1,
        "socket_connect_timeout": 1,
    }
# A request enqueues its follow-up work after commit: with the broker down it
# gives up after one quick retry (the periodic sweeps redo what was lost)
# rather than keep the user waiting.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0.2,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# Uploaded import files are deleted this many days after the import (its row,
# counts and errors stay). Activities older than ACTIVITY_RETENTION_DAYS are
# removed and their leads rescored; 0 keeps them for ever.
IMPORT_FILE_RETENTION_DAYS = env_int("IMPORT_FILE_RETENTION_DAYS", 30)
ACTIVITY_RETENTION_DAYS = env_int("ACTIVITY_RETENTION_DAYS", 0)
if IMPORT_FILE_RETENTION_DAYS < 1 or ACTIVITY_RETENTION_DAYS < 0:
    raise ImproperlyConfigured(
        "IMPORT_FILE_RETENTION_DAYS must be 1 or more, and ACTIVITY_RETENTION_DAYS 0 (keep "
        f"for ever) or more (got {IMPORT_FILE_RETENTION_DAYS} and {ACTIVITY_RETENTION_DAYS})."
    )

CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "apply-score-decay": {
        "task": "scoring.apply_decay",
        "schedule": env_int("SCORE_DECAY_INTERVAL_SECONDS", 3600),
    },
    "sweep-unscored-leads": {
        "task": "scoring.sweep_unscored_leads",
        "schedule": env_int("SCORE_SWEEP_INTERVAL_SECONDS", 60),
    },
    "sweep-account-scores": {
        "task": "scoring.sweep_account_scores",
        "schedule": env_int("SCORE_SWEEP_INTERVAL_SECONDS", 60),
    },
    "watch-sla-clocks": {
        "task": "routing.watch_sla_clocks",
        "schedule": env_int("SLA_WATCH_INTERVAL_SECONDS", 60),
    },
    "refresh-dashboard-rollup": {
        "task": "feedback.refresh_weekly_counts",
        "schedule": env_int("DASHBOARD_ROLLUP_INTERVAL_SECONDS", 300),
    },
    # Likely duplicate leads for marketing ops to merge or dismiss.
    "find-duplicate-candidates": {
        "task": "leads.find_duplicate_candidates",
        "schedule": env_int("DUPLICATE_SEARCH_INTERVAL_SECONDS", 3600),
    },
    "rebuild-dashboard-rollup": {
        "task": "feedback.rebuild_weekly_counts",
        "schedule": env_int("DASHBOARD_REBUILD_INTERVAL_SECONDS", 24 * 3600),
    },
    # Last week's digest to managers and marketing ops, Monday morning (in
    # the site's time zone); a second run the same week sends nothing.
    "send-weekly-digest": {
        "task": "feedback.send_weekly_digest",
        "schedule": crontab(day_of_week=1, hour=env_int("WEEKLY_DIGEST_HOUR", 7), minute=0),
    },
    # The SLA watcher keeps the SLA page's rollup current; this recounts it
    # all (assignments deleted with their lead change past days unmarked).
    "rebuild-sla-rollup": {
        "task": "routing.rebuild_sla_rollup",
        "schedule": env_int("SLA_ROLLUP_REBUILD_INTERVAL_SECONDS", 24 * 3600),
    },
    # Jobs (imports, recalibrations) whose message was lost (a broker outage)
    # or whose worker died.
    "resend-lost-jobs": {
        "task": "handoff.resend_lost_jobs",
        "schedule": env_int("QUEUED_JOB_SWEEP_INTERVAL_SECONDS", 300),
    },
    # Retention: uploaded import files, and (when ACTIVITY_RETENTION_DAYS is set) old activities.
    "delete-old-import-files": {
        "task": "leads.delete_old_import_files",
        "schedule": env_int("RETENTION_INTERVAL_SECONDS", 24 * 3600),
    },
    "remove-old-activities": {
        "task": "leads.remove_old_activities",
        "schedule": env_int("RETENTION_INTERVAL_SECONDS", 24 * 3600),
    },
    # Emails and chat messages of notices whose message was lost.
    "resend-notices": {
        "task": "handoff.resend_notices",
        "schedule": env_int("NOTICE_SWEEP_INTERVAL_SECONDS", 60),
    },
    # Outgoing webhooks whose message was lost.
    "resend-webhooks": {
        "task": "handoff.resend_webhooks",
        "schedule": env_int("WEBHOOK_SWEEP_INTERVAL_SECONDS", 60),
    },
    # Learns from what SDRs decided; it only ever proposes a draft.
    "recalibrate-from-handoffs": {
        "task": "feedback.scheduled_recalibration",
        "schedule": env_int("RECALIBRATION_INTERVAL_SECONDS", 7 * 24 * 3600),
    },
}

# --- Scoring ----------------------------------------------------------------
# Leads per rescore chunk (one task, one transaction). Each chunk has a fixed
# cost (planning, the accounts' hash, its task and commit): at a million
# leads, chunks of 20,000 rescored in 6 s what chunks of 5,000 did in 10 s.
RESCORE_CHUNK_SIZE = env_int("RESCORE_CHUNK_SIZE", 20000)

# --- Logging --------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # Django's own logger has a console handler too: print its lines once.
    "loggers": {"django": {"handlers": ["console"], "propagate": False}},
}
