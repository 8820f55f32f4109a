"""Settings shared by every environment. Every value comes from the environment.

The defaults here are the *embedded* ones `make run` relies on: SQLite under
var/ and kombu's filesystem broker, so a fresh machine needs no servers.
Production (production.py) removes the defaults that would be unsafe there.
"""

from __future__ import annotations

from pathlib import Path

import django_stubs_ext
import environ
import plotly
from celery.schedules import crontab

# Lets admin/DRF generics be subscripted at run time, as django-stubs types them.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(environ.Env().str("HR_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
# SQLite, the filesystem broker and beat's schedule live here on embedded defaults.
VAR_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-key-change-me")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
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
    "guardian",
    "csp",
    "hybridreview.accounts",
    "quantum",
    "jobs",
    "approvals",
]

MIDDLEWARE = [
    "hybridreview.correlation.CorrelationIdMiddleware",
    "hybridreview.health.ProbeMiddleware",
    "hybridreview.api.BodySizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "hybridreview.api.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "hybridreview.urls"
WSGI_APPLICATION = "hybridreview.wsgi.application"

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
                "hybridreview.accounts.context.roles",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server, worker and beat share one SQLite file: WAL lets readers
    # go on while one writer commits, and IMMEDIATE takes the write lock at
    # BEGIN so two writers queue on the busy timeout instead of deadlocking.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE", "timeout": 30}
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# A cache shared by the web and worker processes: the worker builds a ranked
# request's figures so the reviewer's first view does not. Files under var/
# on embedded defaults; CACHE_URL=redis://... in a deployment.
CACHES = {"default": env.cache("CACHE_URL", default=f"filecache://{VAR_DIR / 'cache'}")}

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"
ANONYMOUS_USER_NAME = None  # guardian: no anonymous user row; anonymous gets nothing

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns on every start without it
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # plotly.js comes from the installed plotly package, so the browser always
    # draws with the version that built the figure JSON; served like any static.
    ("vendor/plotly", Path(plotly.__file__).parent / "package_data"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# Request bodies: problems are bounded by quantum.problems.MAX_PAYLOAD_BYTES;
# this is the outer bound before Django reads anything.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2_500_000)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["hybridreview.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "hybridreview.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "hybridreview.api.AutoSchema",
    "EXCEPTION_HANDLER": "hybridreview.api.exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "login": env.str("LOGIN_THROTTLE_RATE", default="10/min"),
        "password_reset": env.str("PASSWORD_RESET_THROTTLE_RATE", default="5/hour"),
    },
}
REST_KNOX = {
    "TOKEN_TTL": __import__("datetime").timedelta(
        hours=env.int("API_TOKEN_TTL_HOURS", default=24 * 30)
    ),
    "AUTO_REFRESH": False,
    "AUTH_HEADER_PREFIX": "Token",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "HybridReview API",
    "DESCRIPTION": (
        "Submit optimisation requests, review ranked candidates, fetch approved decisions."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a "status"; name each enum after its model.
    "ENUM_NAME_OVERRIDES": {
        "RequestStatusEnum": "jobs.models.request.RequestStatus",
        "RunStatusEnum": "jobs.models.run.RunStatus",
        "CampaignStatusEnum": "jobs.models.campaign.CampaignStatus",
    },
}

# Celery. The database row is the truth; a broker message is only a nudge.
# The embedded broker's URL names a host only so kombu does not warn that it
# "reverts to localhost" at every start; the filesystem transport ignores it.
FILESYSTEM_BROKER_URL = "filesystem://localhost//"
CELERY_BROKER_URL = env.str(
    "CELERY_BROKER_URL", default=env.str("REDIS_URL", default=FILESYSTEM_BROKER_URL)
)


def filesystem_broker_options(folder: Path) -> dict[str, object]:
    """kombu's filesystem transport: a broker with no server, shared across
    processes through a folder (the embedded default of `make run`)."""
    (folder / "queue").mkdir(parents=True, exist_ok=True)
    (folder / "processed").mkdir(parents=True, exist_ok=True)
    (folder / "control").mkdir(parents=True, exist_ok=True)
    return {
        "control_folder": str(folder / "control"),
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "processed_folder": str(folder / "processed"),
        "store_processed": False,
    }


if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = filesystem_broker_options(VAR_DIR / "broker")
else:
    # Redis redelivers an unacknowledged message after this long; it must
    # exceed the hard time limit or a long run would be executed twice.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=900)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=960)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Celery closes the database connection around every task unless this is set
# (then only every 2 x this many tasks); hybridreview/celery.py applies
# Django's CONN_MAX_AGE and health checks per task instead.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# Secrets for backend credentials (issue: backends and budgets). Comma-separated
# Fernet keys, newest first; MultiFernet decrypts with any and encrypts with the first.
CREDENTIALS_KEYS = env.list("CREDENTIALS_KEYS", default=[])
# Budgets (jobs.services.budget). A team's first month starts from these; later
# months copy the team's previous budget. Credits are decimals, 1 credit = 1 USD.
BUDGET_DEFAULT_LIMIT_CREDITS = __import__("decimal").Decimal(
    env.str("BUDGET_DEFAULT_LIMIT_CREDITS", default="100")
)
BUDGET_DEFAULT_HARD = env.bool("BUDGET_DEFAULT_HARD", default=True)
# Where "on_budget_exceeded": "simulate" sends paid quantum runs: the first of
# these that is enabled, free and wide enough.
BUDGET_SIMULATOR_BACKENDS = env.list(
    "BUDGET_SIMULATOR_BACKENDS", default=["aer_statevector", "aer_mps"]
)

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_FORMAT = env.str("LOG_FORMAT", default="json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "correlation": {"()": "hybridreview.correlation.CorrelationIdFilter"},
        "client_error": {"()": "hybridreview.logfilters.ClientErrorWithoutTraceback"},
        "links": {"()": "hybridreview.logfilters.RedactSecretLinks"},
    },
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(correlation_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(correlation_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["correlation", "links"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's own handlers for "django" (a second console under DEBUG, mail
        # to admins) are replaced: each line is written once, by the root's.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.request": {"filters": ["client_error"]},
        "django.db.backends": {"level": "WARNING"},
        "qiskit": {"level": "WARNING"},
        "stevedore": {"level": "WARNING"},
    },
}

# Content-Security-Policy (django-csp 4): everything from our own origin.
# plotly.js sets inline styles on the SVG it draws, hence 'unsafe-inline' for
# styles only; no inline or remote script is allowed.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # the small fetch() helpers read it to send X-CSRFToken

# The optimisation pipeline (jobs app).
JOBS_MAX_ATTEMPTS = env.int("JOBS_MAX_ATTEMPTS", default=3)
# Transient backend errors: wait base * 2^(attempt - 1) seconds, at most max.
JOBS_RETRY_BACKOFF_SECONDS = env.float("JOBS_RETRY_BACKOFF_SECONDS", default=2.0)
JOBS_RETRY_BACKOFF_MAX_SECONDS = env.float("JOBS_RETRY_BACKOFF_MAX_SECONDS", default=300.0)
# A claim's lease outlives the hard time limit: before it expires the worker
# may still legitimately be solving; after it, the worker is gone.
JOBS_LEASE_SECONDS = env.int("JOBS_LEASE_SECONDS", default=CELERY_TASK_TIME_LIMIT + 60)
# A queued run nobody claimed for this long lost its broker message; re-send it.
JOBS_RENUDGE_AFTER_SECONDS = env.int("JOBS_RENUDGE_AFTER_SECONDS", default=120)
JOBS_DEFAULT_SHOTS = env.int("JOBS_DEFAULT_SHOTS", default=4096)
# A fixed default seed: results are reproducible, and cache "prefer" can match.
JOBS_DEFAULT_SEED = env.int("JOBS_DEFAULT_SEED", default=7)
JOBS_DEFAULT_DEADLINE_SECONDS = env.int("JOBS_DEFAULT_DEADLINE_SECONDS", default=300)
JOBS_MAX_DEADLINE_SECONDS = env.int("JOBS_MAX_DEADLINE_SECONDS", default=7 * 24 * 3600)
# Candidate rows kept per run; the whole distribution is kept in Distribution.
JOBS_CANDIDATES_PER_RUN = env.int("JOBS_CANDIDATES_PER_RUN", default=100)
JOBS_DISTRIBUTION_COMPRESS_ABOVE = env.int("JOBS_DISTRIBUTION_COMPRESS_ABOVE", default=16_384)
JOBS_SOLVE_WAIT_MAX_SECONDS = 30  # POST /api/v1/solve/ never holds a web worker longer
# POST /api/v1/requests/batch/: requests per call, all saved in one transaction.
JOBS_BATCH_MAX = env.int("JOBS_BATCH_MAX", default=500)
# Small classical runs (exact, local_search, annealing on at most this many
# variables: milliseconds each) travel in groups of up to JOBS_GROUP_SIZE per
# broker message, claimed and finished in one transaction per group, so a
# burst of them is not dominated by per-message and per-transaction costs.
JOBS_GROUP_MAX_VARIABLES = env.int("JOBS_GROUP_MAX_VARIABLES", default=20)
JOBS_GROUP_SIZE = env.int("JOBS_GROUP_SIZE", default=50)
# Test-only hook (set in settings/test.py): a module a worker imports at start
# to register fake backends. Never set outside the test settings.
JOBS_TEST_BACKENDS_MODULE = ""
CELERY_TASK_ROUTES = {
    "jobs.execute_quantum_run": {"queue": "quantum"},
    "jobs.execute_classical_run": {"queue": "classical"},
    "jobs.execute_classical_runs": {"queue": "classical"},
    "jobs.execute_campaign_batch": {"queue": "quantum"},
}

# Demo data (seed_demo).
DEMO_PASSWORD = env.str("DEMO_PASSWORD", default="")

# Every queue some worker must consume: the routed ones and Celery's default
# (beat's periodic tasks, figure warming).
WORKER_QUEUES = sorted({route["queue"] for route in CELERY_TASK_ROUTES.values()} | {"celery"})
# A heartbeat goes to every queue; /readyz names a queue whose newest one is
# older than this (nobody consumed it: no worker, or every one busy).
JOBS_HEARTBEAT_SECONDS = 30.0
JOBS_WORKER_STALE_SECONDS = env.int("JOBS_WORKER_STALE_SECONDS", default=120)

CELERY_BEAT_SCHEDULE = {
    **{
        f"worker-heartbeat-{queue}": {
            "task": "jobs.heartbeat",
            "schedule": JOBS_HEARTBEAT_SECONDS,
            "options": {"queue": queue},
        }
        for queue in WORKER_QUEUES
    },
    # The pipeline's safety nets (jobs app): lost workers, deadlines, campaign bursts.
    "jobs-reap-runs": {"task": "jobs.reap_runs", "schedule": 15.0},
    "jobs-sweep-deadlines": {"task": "jobs.sweep_deadlines", "schedule": 5.0},
    "jobs-dispatch-campaigns": {"task": "jobs.dispatch_campaigns", "schedule": 10.0},
    # Walk the audit hash chain; a break is logged at error level and shown by /readyz.
    "audit-verify": {"task": "approvals.verify_audit_chain", "schedule": 3600.0},
    # Write the chain head out of the database once a day, to be kept elsewhere.
    "audit-anchor": {
        "task": "approvals.anchor_audit_head",
        "schedule": crontab(hour=0, minute=5),
    },
}
# Where the daily chain head is written (one JSON line per anchor, a file per day).
AUDIT_ANCHOR_DIR = Path(env.str("AUDIT_ANCHOR_DIR", default=str(VAR_DIR / "audit-anchors")))

# Invitations (hybridreview/accounts/services/invitations.py) are emailed.
# EMAIL_URL in django-environ's form, e.g. smtp+tls://user:password@mail.example.org:587.
# The default writes each mail as a file in var/mail: `make run` shows them there,
# and nothing leaves the machine. The admin who invites also sees the link once.
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="filemail://")
vars().update(EMAIL_CONFIG)
# Set on its own: django-environ drops the leading "/" of a filemail URL's
# path, which would write mail relative to wherever the process started.
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="HybridReview <hybridreview@localhost>")
# How long a password reset link works (Django's default is 3 days).
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_HOURS", default=24) * 3600
# How long an invitation link opens the way to an account.
INVITATION_DAYS = env.int("INVITATION_DAYS", default=7)
