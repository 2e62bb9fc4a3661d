"""kapflow settings, read from the environment (see README, "Configuration")."""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

import dj_database_url
import django_stubs_ext
from csp.constants import NONCE, SELF
from django.utils.translation import gettext_lazy as _

from kapflow.env import (
    ConfigurationError,
    envbool,
    envint,
    envlist,
    envsecret,
    envstr,
)

django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent

KAPFLOW_ENV = envstr("KAPFLOW_ENV", "development").strip().lower()
if KAPFLOW_ENV not in {"development", "production"}:
    raise ConfigurationError(f"KAPFLOW_ENV must be 'development' or 'production'; got {KAPFLOW_ENV!r}")
PRODUCTION = KAPFLOW_ENV == "production"

DATA_DIR = Path(envstr("KAPFLOW_DATA_DIR", "var")).resolve()

DEBUG = envbool("KAPFLOW_DEBUG", False)
if PRODUCTION and DEBUG:
    raise ConfigurationError("KAPFLOW_DEBUG cannot be on when KAPFLOW_ENV=production.")


def _secret_key() -> str:
    key = envsecret("KAPFLOW_SECRET_KEY")
    if key:
        if PRODUCTION and len(key) < 50:
            raise ConfigurationError("KAPFLOW_SECRET_KEY must be at least 50 characters long.")
        return key
    if PRODUCTION:
        raise ConfigurationError(
            "KAPFLOW_ENV=production needs a secret key: set KAPFLOW_SECRET_KEY or "
            "KAPFLOW_SECRET_KEY_FILE (at least 50 random characters)."
        )
    # Development: one key per data directory, kept so sessions survive a restart.
    key_file = DATA_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text(encoding="utf-8").strip()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    key_file.write_text(key, encoding="utf-8")
    key_file.chmod(0o600)
    return key


SECRET_KEY = _secret_key()

ALLOWED_HOSTS = envlist(
    "KAPFLOW_ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ConfigurationError(
        "KAPFLOW_ENV=production needs KAPFLOW_ALLOWED_HOSTS (comma-separated host names)."
    )
CSRF_TRUSTED_ORIGINS = envlist("KAPFLOW_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "csp",
    "simple_history",
    "kapflow.core",
    "kapflow.accounts",
    "kapflow.clinics",
    "kapflow.patients",
    "kapflow.intake",
    "kapflow.portal",
    "kapflow.measures",
    "kapflow.screening",
    "kapflow.consent",
    "kapflow.courses",
    "kapflow.dosing",
    "kapflow.scheduling",
    "kapflow.outcomes",
    "kapflow.api",
    "kapflow.fhir",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The access-log entries of what a request reads are written in one commit at its end.
    "kapflow.core.middleware.AuditBatchMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After MessageMiddleware: signing a person out leaves them a message saying why.
    "kapflow.accounts.middleware.SessionPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # After every middleware that sets a header (its 413 carries them all), before anything reads the body.
    "kapflow.api.middleware.BodyLimitMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "kapflow.core.middleware.ApplicationErrorMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "kapflow.urls"
WSGI_APPLICATION = "kapflow.wsgi.application"

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
                "kapflow.core.context_processors.kapflow",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = envstr("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "kapflow.sqlite3"),
            "OPTIONS": {
                # Writers take the lock when the transaction starts, so two writers queue on
                # the busy timeout instead of failing half-way with "database is locked".
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;",
            },
            # Tests use a file of their own (not Django's in-memory database), so tests of
            # concurrent writers run on SQLite as they would in use; one file per test run.
            "TEST": {"NAME": str(Path(tempfile.gettempdir()) / f"kapflow-test-{os.getpid()}.sqlite3")},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Authentication -------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
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
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

# The clinic whose public pages are served at / (its slug). Empty: the only active clinic,
# or, with several, a list of clinics linking to /clinics/<slug>/.
KAPFLOW_PUBLIC_CLINIC = envstr("KAPFLOW_PUBLIC_CLINIC").strip()
KAPFLOW_INTAKE_RATE_LIMIT = envint("KAPFLOW_INTAKE_RATE_LIMIT", 5, minimum=1)
KAPFLOW_INTAKE_RATE_WINDOW_MINUTES = envint("KAPFLOW_INTAKE_RATE_WINDOW_MINUTES", 60, minimum=1)
KAPFLOW_PORTAL_INVITATION_HOURS = envint("KAPFLOW_PORTAL_INVITATION_HOURS", 72, minimum=1)

KAPFLOW_REQUIRE_2FA = envbool("KAPFLOW_REQUIRE_2FA", PRODUCTION)
KAPFLOW_SESSION_ABSOLUTE_HOURS = envint("KAPFLOW_SESSION_ABSOLUTE_HOURS", 12, minimum=1)
KAPFLOW_DEFAULT_IDLE_MINUTES = 15
OTP_TOTP_ISSUER = "kapflow"

AXES_FAILURE_LIMIT = envint("KAPFLOW_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = 0.25  # hours: a locked account opens again after 15 minutes
# Lock the account, not the address: a clinic's staff often share one public IP address, and
# one person's typos must not lock everyone out. axes.W006 warns about exactly this choice.
# Guessing from one address across accounts is limited by KAPFLOW_LOGIN_RATE_LIMIT below.
AXES_LOCKOUT_PARAMETERS = ["username"]
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_USERNAME_FORM_FIELD = "email"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "kapflow.accounts.views.locked_out"
AXES_VERBOSE = False
AXES_ENABLE_ACCESS_FAILURE_LOG = True
# Masked in the form data axes stores with a failed attempt (the password always is).
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "email", "code"]
# Failed sign-ins (passwords and two-factor codes) per client address per 5 minutes, whoever's
# account they name; then 429 until the window ends (no account is locked by it). Counted in
# the default cache: Django's per-process local memory, as no CACHES is configured (see
# kapflow/core/ratelimit.py).
KAPFLOW_LOGIN_RATE_LIMIT = envint("KAPFLOW_LOGIN_RATE_LIMIT", 30, minimum=1)
# The reverse proxies in front of kapflow (their addresses as gunicorn sees them, e.g.
# 127.0.0.1): from these, the client's address is the right-most X-Forwarded-For entry, which
# the proxy must set (nginx: proxy_set_header X-Forwarded-For $remote_addr;). Rate limits count
# per client address; without this, behind a proxy everyone would share one count.
KAPFLOW_TRUSTED_PROXIES = frozenset(envlist("KAPFLOW_TRUSTED_PROXIES"))
# The rate-limit counts and throttles live in this per-process cache; room for many addresses,
# so a flood of them cannot push the counts out (Django's default keeps 300 entries).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "OPTIONS": {"MAX_ENTRIES": 20000},
    }
}

SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = KAPFLOW_SESSION_ABSOLUTE_HOURS * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "kapflow.core.views.csrf_failure"

# --- Security headers -----------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SECURE_SSL_REDIRECT = envbool("KAPFLOW_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = envint("KAPFLOW_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "form-action": [SELF],
        "frame-ancestors": ["'none'"],
        "base-uri": [SELF],
        "object-src": ["'none'"],
    }
}

# --- REST API and FHIR ---------------------------------------------------------------------
KAPFLOW_API_RATE_LIMIT = envint("KAPFLOW_API_RATE_LIMIT", 600, minimum=1)  # requests per minute per token
KAPFLOW_API_MAX_BODY_BYTES = envint("KAPFLOW_API_MAX_BODY_BYTES", 1024 * 1024, minimum=1024)
# Requests with an unknown or revoked token per client address per minute; then 429 for every
# token from that address until the minute ends, so tokens cannot be guessed quickly.
KAPFLOW_API_BAD_TOKEN_LIMIT = envint("KAPFLOW_API_BAD_TOKEN_LIMIT", 20, minimum=1)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "kapflow.api.authentication.BearerTokenAuthentication",
        "kapflow.api.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "kapflow.api.permissions.ClinicMember",
        "kapflow.api.permissions.TokenScope",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["kapflow.api.throttling.PerTokenRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["kapflow.api.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "kapflow.api.problems.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    "DATETIME_FORMAT": "iso-8601",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "kapflow API",
    "DESCRIPTION": (
        "REST API v1 of kapflow. Authenticate with a personal token (`Authorization: Bearer kf_…`, "
        "made in your profile or with `kapflow token create EMAIL`). Errors are RFC 7807 "
        "`application/problem+json`; changes to existing records need `If-Match` with the ETag you read."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_AUTHENTICATION": [
        "kapflow.api.authentication.BearerTokenAuthentication",
        "kapflow.api.authentication.SessionAuthentication",
    ],
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "kapflow.api.schema.problem_responses",  # the problem+json answers of every operation
        "kapflow.api.schema.resource_links",  # OpenAPI links: list -> record -> actions, with ETags
    ],
    # Choice sets that share a field name get names of their own in the schema.
    "ENUM_NAME_OVERRIDES": {
        "CourseStatusEnum": "kapflow.courses.models.CourseStatus",
        "NoteStatusEnum": "kapflow.courses.models.NoteStatus",
        "AppointmentKindEnum": "kapflow.scheduling.models.Kind",
        "ReadingKindEnum": "kapflow.dosing.models.ReadingKind",
        "EventKindEnum": "kapflow.dosing.models.EventKind",
        "EventSeverityEnum": "kapflow.dosing.models.Severity",
        "EventOutcomeEnum": "kapflow.dosing.models.EventOutcome",
    },
}

# --- Request bodies and uploads -------------------------------------------------------------
# An HTML form's whole body (fields and files) above DATA_UPLOAD_MAX_MEMORY_SIZE is refused
# with 413 before it is read (kapflow/api/middleware.py; the API has its own limit above).
# Django compares FILE_UPLOAD_MAX_MEMORY_SIZE with the whole body, so with the same value every
# upload that is let in stays in memory and nothing is written to a temporary file. The one
# upload, an instrument definition, is checked for at most 256 KB and JSON by its form. Raise
# DATA_UPLOAD_MAX_NUMBER_FILES when a form takes more than one file.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
DATA_UPLOAD_MAX_NUMBER_FILES = 1

# --- Internationalisation and time ----------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # collectstatic is only run in production

# --- Email ----------------------------------------------------------------------------------
EMAIL_HOST = envstr("KAPFLOW_EMAIL_HOST")
DEFAULT_FROM_EMAIL = envstr("KAPFLOW_EMAIL_FROM", "kapflow <no-reply@kapflow.invalid>")
if EMAIL_HOST or PRODUCTION:
    # Production without KAPFLOW_EMAIL_HOST hands mail to the local MTA on port 25.
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = EMAIL_HOST or "localhost"
    EMAIL_PORT = envint("KAPFLOW_EMAIL_PORT", 25, minimum=1)
    EMAIL_HOST_USER = envstr("KAPFLOW_EMAIL_USER")
    EMAIL_HOST_PASSWORD = envsecret("KAPFLOW_EMAIL_PASSWORD")
    EMAIL_USE_TLS = envbool("KAPFLOW_EMAIL_TLS", False)
    EMAIL_TIMEOUT = 20
else:
    # Development: every message is written as a file, so nothing leaves the machine.
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = DATA_DIR / "mail"

# --- Background tasks (reminders; later exports): stored in the database, run by `kapflow worker`
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

# --- Logging: no health data in logs; requests are logged by path only ----------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # Secret path segments (reset, invitation and feed links), query strings, tokens and email
    # addresses are masked in whatever is written (kapflow/core/logs.py).
    "filters": {"redact": {"()": "kapflow.core.logs.RedactFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {"kapflow": {"level": envstr("KAPFLOW_LOG_LEVEL", "INFO")}},
}

SIMPLE_HISTORY_HISTORY_ID_USE_UUID = False
