"""All settings, read from the environment (README lists every variable).

`local.py` only flips debugging defaults on for a developer machine; `test.py` only speeds
things up. Production runs this module with the environment set.
"""

from __future__ import annotations

from pathlib import Path

import environ
from csp import constants as csp_constants

from surveillance.schedules import parse_clinic_days, parse_schedule

BASE_DIR = Path(__file__).resolve().parents[2]
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
env.smart_cast = False

DEBUG = env.bool("DEBUG", default=False)

# A development key exists only while debugging; production must supply SECRET_KEY
# (or SECRET_KEY_FILE, for Docker/Kubernetes secrets).
if env.str("SECRET_KEY_FILE", default=""):
    SECRET_KEY = Path(env.str("SECRET_KEY_FILE")).read_text().strip()
elif DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="insecure-development-key-" + "x" * 40)
else:
    SECRET_KEY = env.str("SECRET_KEY")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "axes",
    "csp",
    # Own apps, bottom to top; imports run one way (pyproject's import-linter contract):
    # clinic -> therapy -> liquidbiopsy -> patients -> accounts | audit | notifications -> core.
    "core",
    "accounts",
    "audit",
    "notifications",
    "patients",
    "liquidbiopsy",
    "therapy",
    "clinic",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # PostgreSQL unreachable: 503 + Retry-After (core.availability), whatever raised it.
    "core.middleware.DatabaseUnavailableMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # NUL in a header or the query string: 400 before anything reads it.
    "core.middleware.RequestSanityMiddleware",
    # Content-Security-Policy with a per-request nonce for inline scripts (django-csp).
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Cache-Control: no-store, private on answers to logged-in users and token calls.
    "core.middleware.NoStoreMiddleware",
    "accounts.middleware.IdleSessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "audit.context.AuditChannelMiddleware",
    # Axes last, as its documentation asks: it turns lockouts into a response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "surveillance.urls"
WSGI_APPLICATION = "surveillance.wsgi.application"

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
                "accounts.context_processors.roles",
                "notifications.context_processors.unread",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# Default: SQLite under var/ so the product starts with no server. Tests and production use
# PostgreSQL through DATABASE_URL.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'surveillance.sqlite3'}")
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(exist_ok=True)
    # Web, worker and beat share the file: wait for locks instead of failing, and take the
    # write lock at BEGIN so two writers cannot deadlock on a lock upgrade.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Least privilege (audit.privileges): the role web, worker and beat connect as. When set,
# every `migrate` (run as the owner role) grants it DML on the tables and only SELECT and
# INSERT on the audit trail.
DATABASE_APP_ROLE = env.str("DATABASE_APP_ROLE", default="")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# models.W040: SQLite (the embedded demo) ignores the INCLUDE columns of a covering index;
# PostgreSQL, where they matter, has them.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

# --- Authentication, sessions, login throttling ---------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Per-address (spraying) and per-username (distributed guessing) limits; see the module.
    "accounts.backends.LoginRateLimitBackend",
    # ModelBackend that loads the user's roles with the user (one query a request, not two).
    "accounts.backends.RoleModelBackend",
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
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Idle sessions expire: accounts.middleware.IdleSessionMiddleware pushes the expiry
# forward by the idle timeout on activity (at most one session write a minute).
SESSION_IDLE_TIMEOUT_MINUTES = env.int("SESSION_IDLE_TIMEOUT_MINUTES", default=30)
SESSION_COOKIE_AGE = SESSION_IDLE_TIMEOUT_MINUTES * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
# However active, a session ends this long after its log-in (accounts.middleware).
SESSION_ABSOLUTE_TIMEOUT_HOURS = env.float("SESSION_ABSOLUTE_TIMEOUT_HOURS", default=12.0)

# The reverse proxies in front of the app that append to X-Forwarded-For (0: none, the header
# is ignored). The client address is the entry the outermost trusted proxy appended
# (accounts.client_address); login throttling and the audit trail use it.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# django-axes: lock a username at one client address out after repeated failures. The
# address is the real client's behind the trusted proxies, not the proxy's.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("LOGIN_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "accounts.client_address.client_ip"
AXES_RESET_ON_SUCCESS = True
# A refused attempt during a lockout neither counts again nor extends the cool-off.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# accounts.backends: failures within the cool-off from one address across usernames
# (password spraying), and on one username across addresses (distributed guessing).
LOGIN_IP_FAILURE_LIMIT = env.int("LOGIN_IP_FAILURE_LIMIT", default=20)
LOGIN_USERNAME_FAILURE_LIMIT = env.int("LOGIN_USERNAME_FAILURE_LIMIT", default=50)
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

# --- Security (production values unless DEBUG) ----------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): scripts only from this origin or inline with the
# request's nonce (templates: nonce="{{ request.csp_nonce }}"); no other host anywhere.
# Styles allow inline: plotly.js and Swagger UI set style attributes and inject <style>.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", csp_constants.NONCE],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- Time: stored in UTC, shown and reasoned about in the clinic's zone ---------------------
USE_TZ = True
TIME_ZONE = env.str("TIME_ZONE", default="Europe/London")  # the clinic's zone
LANGUAGE_CODE = "en-gb"
USE_I18N = True

# --- Static files (whitenoise serves them in every mode) -------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- E-mail ---------------------------------------------------------------------------------
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="surveillance@localhost")
# An e-mail the mail server refused is tried again (the next work sweep, then after 1, 2, 4 ...
# minutes, at most an hour apart) and recorded failed after this many tries in all.
EMAIL_MAX_ATTEMPTS = env.int("EMAIL_MAX_ATTEMPTS", default=8)

# --- Celery ---------------------------------------------------------------------------------
# Default: kombu's filesystem transport under var/, so the product runs with no broker
# server. Production and tests set REDIS_URL (or CELERY_BROKER_URL).
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    _broker_dir.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_TIME_LIMIT = 15 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 14 * 60
# A task that dies with its worker is redelivered (tasks proven idempotent set acks_late and
# reject_on_worker_lost); Redis redelivers an unacknowledged message after this many seconds,
# more than the hard time limit, so a live task is never delivered twice.
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT + 5 * 60}
CELERY_WORKER_PREFETCH_MULTIPLIER = 1  # a killed worker holds at most one message
# Uploads: stalled `processing` (no change past the hard limit), lost `queued`, give up.
UPLOAD_STALLED_MINUTES = env.int("UPLOAD_STALLED_MINUTES", default=CELERY_TASK_TIME_LIMIT // 60 + 1)
# Worker liveness: each worker process touches this file when it starts and when it finishes
# a task (beat's work sweep gives it one a minute). `manage.py worker_alive` fails when it is
# older than WORKER_STALL_MINUTES: a worker that answers `celery inspect ping` but consumes
# nothing (a pool child killed at the wrong moment can leave it so) is then restarted. The
# limit is longer than any task may run (CELERY_TASK_TIME_LIMIT), so two long uploads running
# side by side do not look like a stall.
WORKER_ALIVE_FILE = env.str("WORKER_ALIVE_FILE", default=str(VAR_DIR / "worker-alive"))
WORKER_STALL_MINUTES = env.int("WORKER_STALL_MINUTES", default=CELERY_TASK_TIME_LIMIT // 60 + 5)
UPLOAD_QUEUED_GRACE_MINUTES = env.int("UPLOAD_QUEUED_GRACE_MINUTES", default=5)
UPLOAD_GIVE_UP_HOURS = env.int("UPLOAD_GIVE_UP_HOURS", default=6)
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Periodic jobs: keep this list short (a handful in the whole product, never per patient).
# Times are clinic time (CELERY_TIMEZONE). Format: five cron fields, or "every N s".
CELERY_BEAT_SCHEDULE = {
    # https://crontab.guru/#15_6_*_*_* : plan draws for everyone, before clinic opens.
    "draws-plan": {
        "task": "clinic.draws_plan",
        "schedule": parse_schedule(env.str("PLANNER_SCHEDULE", default="15 6 * * *")),
    },
    # https://crontab.guru/#5_*_*_*_* : deferred alerts come back; unacknowledged ones escalate.
    "alerts-sweep": {
        "task": "therapy.alerts_sweep",
        "schedule": parse_schedule(env.str("ALERT_SWEEP_SCHEDULE", default="5 * * * *")),
    },
    # https://crontab.guru/#*_*_*_*_* : work owed in the database that nobody is doing
    # (stalled or lost uploads, pending e-mails whose task was lost, alert reconciles owed).
    "work-sweep": {
        "task": "clinic.work_sweep",
        "schedule": parse_schedule(env.str("WORK_SWEEP_SCHEDULE", default="* * * * *")),
    },
    # https://crontab.guru/#30_7_*_*_* : the nurses' digest of overdue and due-today draws.
    "nurse-digest": {
        "task": "patients.nurse_digest_send",
        "schedule": parse_schedule(env.str("DIGEST_SCHEDULE", default="30 7 * * *")),
    },
}

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first, so an anonymous call answers 401 with a WWW-Authenticate header.
        # knox (stores only a SHA-512 digest), refusing malformed tokens with 401.
        "core.drf_inputs.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Every API view (core.drf.BaseApi) needs a login and one of the view's allowed_roles.
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "accounts.roles.HasRole",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.drf.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.drf.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "core.drf_inputs.JSONParser",  # DRF's, with the nesting depth capped (400, not a crash)
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    # Lab reports that fail to match their draw (liquidbiopsy.throttles): guessing a date
    # of birth or an MRN one post at a time is slowed to this.
    "DEFAULT_THROTTLE_RATES": {
        "lab_match_failure": env.str("LAB_MATCH_FAILURE_RATE", default="20/hour")
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DATETIME_FORMAT": "iso-8601",
}
REST_KNOX = {
    # Service-account tokens do not expire by themselves; an admin revokes them.
    "TOKEN_TTL": None,
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ESR1 ctDNA surveillance API",
    "DESCRIPTION": (
        "Patients, regimens, scans, draws, lab reports and switch alerts for ctDNA "
        "surveillance of HR+/HER2- advanced breast cancer (SERENA-6). Errors share one "
        'shape: {"message": str, "extra": {"fields": {field: [messages]}}}.'
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.drf.document_error_responses",
        "core.drf.document_id_bounds",
    ],
    "ENUM_NAME_OVERRIDES": {
        "RegimenEndReasonEnum": "patients.models.Regimen.EndReason",
        "ReportStatusEnum": "liquidbiopsy.models.LabReport.Status",
        "ReportQcStatusEnum": "liquidbiopsy.models.LabReport.QcStatus",
    },
}

# --- Clinical configuration (data, not code) ------------------------------------------------
# Drug names, doses and allowed combinations: a JSON file (see patients/data/formulary.json).
FORMULARY_PATH = Path(
    env.str("FORMULARY_PATH", default=str(BASE_DIR / "patients" / "data" / "formulary.json"))
)
MIN_THERAPY_MONTHS = env.int("MIN_THERAPY_MONTHS", default=6)
# Draw scheduling (DESIGN.md §4).
DRAW_WINDOW_DAYS = env.int("DRAW_WINDOW_DAYS", default=7)
CLINIC_DAYS = parse_clinic_days(env.str("CLINIC_DAYS", default="mon,tue,wed,thu,fri"))
WORKLIST_UPCOMING_DAYS = env.int("WORKLIST_UPCOMING_DAYS", default=14)
AWAITING_RESULT_FLAG_DAYS = env.int("AWAITING_RESULT_FLAG_DAYS", default=14)
# The SERENA-6 switch rule (therapy/rules.py, DESIGN.md §5).
SWITCH_ALLOWED_AIS = env.list("SWITCH_ALLOWED_AIS", default=["letrozole", "anastrozole"])
ESR1_VAF_FLOOR = env.float("ESR1_VAF_FLOOR", default=0.0)  # a fraction; 0 = any detected
SCAN_LOOKBACK_DAYS = env.int("SCAN_LOOKBACK_DAYS", default=28)
REALERT_RISE_FACTOR = env.float("REALERT_RISE_FACTOR", default=2.0)
ALERT_ACK_SLA_HOURS = env.int("ALERT_ACK_SLA_HOURS", default=72)
# Who hears about escalated alerts besides the oncologist (usernames); default: the admins.
ALERT_ESCALATION_CONTACTS = env.list("ALERT_ESCALATION_CONTACTS", default=[])
ESR1_ANY_LBD_MISSENSE = env.bool("ESR1_ANY_LBD_MISSENSE", default=False)
ESR1_ALLOWLIST_PATH = Path(
    env.str(
        "ESR1_ALLOWLIST_PATH",
        default=str(BASE_DIR / "liquidbiopsy" / "data" / "esr1_allowlist.json"),
    )
)
# Lab files: up to UPLOAD_SYNC_MAX_ROWS lines are answered at once, larger files by a worker.
UPLOAD_SYNC_MAX_ROWS = env.int("UPLOAD_SYNC_MAX_ROWS", default=1000)
UPLOAD_MAX_ROWS = env.int("UPLOAD_MAX_ROWS", default=200_000)
UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_BYTES", default=30 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = UPLOAD_MAX_BYTES + 1024 * 1024
# Labs (issue 12 §3): a draw records the lab its sample was sent to; a lab account sees and
# reports only its lab's draws. LAB_ACCOUNTS="central=lab,lims;regional=lab2" (lab code =
# usernames). With LAB_ACCOUNTS empty every lab account is DEFAULT_LAB's; once it names a lab,
# every lab account must be listed (DEFAULT_LAB's too): one listed nowhere sees and reports on
# no draw (fails closed; a warning names it). A draw collected without a lab is DEFAULT_LAB's.
DEFAULT_LAB = env.str("DEFAULT_LAB", default="default")
LAB_ACCOUNTS = {
    code.strip(): frozenset(name.strip() for name in names.split(",") if name.strip())
    for code, _, names in (
        item.partition("=") for item in env.str("LAB_ACCOUNTS", default="").split(";")
    )
    if code.strip()
}
# LAB_MATCH_FAILURE_RATE (REST_FRAMEWORK above): reports that do not match their draw.
# Absolute links in e-mails.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
SURVEILLANCE_INTERVAL_WEEKS_DEFAULT = env.int("SURVEILLANCE_INTERVAL_WEEKS", default=8)


# --- Logging: no PHI; identifiers only ------------------------------------------------------
def _forbidden_in_one_line(record) -> bool:
    """A 403 (a role's page refused) is logged as its one line, without the traceback."""
    if getattr(record, "status_code", None) == 403:
        record.exc_info = None
        record.exc_text = None
    return True


LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {
        "forbidden_one_line": {"()": lambda: _forbidden_in_one_line},
        # runserver's request lines lose their query strings (core.logging).
        "no_query": {"()": "core.logging.StripQueryString"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["forbidden_one_line"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        "django.server": {"handlers": ["console"], "filters": ["no_query"], "propagate": False},
    },
}
