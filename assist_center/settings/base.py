"""Settings for every environment, read from the environment (see docs/configuration.md)."""

from __future__ import annotations

import base64
import hashlib
import ipaddress
from pathlib import Path

import environ
from celery.schedules import crontab
from cryptography.fernet import Fernet
from csp.constants import NONCE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)


def _dev_secret(name: str) -> str:
    """Derive a stable development-only secret so a fresh clone runs without configuration."""
    return hashlib.sha256(f"assist-center-dev-only:{name}:{BASE_DIR}".encode()).hexdigest()


def _dev_fernet_key() -> str:
    return base64.urlsafe_b64encode(bytes.fromhex(_dev_secret("fernet"))).decode()


def _secret(name: str, dev_default: str) -> str:
    """A secret from the environment; production (DEBUG=false) refuses to start without it."""
    value = env.str(name, default="")
    if value:
        return value
    if DEBUG:
        return dev_default
    raise ImproperlyConfigured(f"{name} must be set when DEBUG is false (see docs/configuration.md).")


def _fernet_keys(raw: str) -> list[str]:
    """Parse FIELD_ENCRYPTION_KEYS, refusing at start-up what would only fail at the first save."""
    keys = [k.strip() for k in raw.split(",") if k.strip()]
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS must hold at least one Fernet key.")
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key.encode())
        except (ValueError, TypeError):
            # `from None`, and no value in the message: the key must not reach logs or a terminal.
            raise ImproperlyConfigured(
                f"FIELD_ENCRYPTION_KEYS: key #{position} is not a Fernet key (32 url-safe base64-encoded "
                "bytes; generate one with cryptography.fernet.Fernet.generate_key())."
            ) from None
    if len(set(keys)) != len(keys):
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS lists the same key twice.")
    return keys


def _is_weak_secret_key(value: str) -> bool:
    # The same rule as Django's security.W009, so production fails at start-up instead of warning.
    return len(value) < 50 or len(set(value)) < 5 or value.startswith("django-insecure")


SECRET_KEY = _secret("SECRET_KEY", "django-insecure-" + _dev_secret("secret-key"))
# Old SECRET_KEYs still accepted for signatures and sessions while they expire, newest first.
SECRET_KEY_FALLBACKS: list[str] = env.list("SECRET_KEY_FALLBACKS", default=[])
# Comma-separated Fernet keys, newest first: the first encrypts, all decrypt (see rotate_pii_keys).
FIELD_ENCRYPTION_KEYS: list[str] = _fernet_keys(_secret("FIELD_ENCRYPTION_KEYS", _dev_fernet_key()))
# Key of the HMAC blind index; changing it means rebuilding every *_hash column.
PII_HASH_KEY = _secret("PII_HASH_KEY", _dev_secret("pii-hash"))
if not DEBUG:
    if _is_weak_secret_key(SECRET_KEY):
        raise ImproperlyConfigured("SECRET_KEY must be at least 50 random characters in production.")
    if any(_is_weak_secret_key(k) for k in SECRET_KEY_FALLBACKS):
        raise ImproperlyConfigured("SECRET_KEY_FALLBACKS: every key must be at least 50 random characters.")
    if len(PII_HASH_KEY) < 32 or len(set(PII_HASH_KEY)) < 5:
        raise ImproperlyConfigured("PII_HASH_KEY must be at least 32 random characters in production.")
    if PII_HASH_KEY in (SECRET_KEY, *SECRET_KEY_FALLBACKS, *FIELD_ENCRYPTION_KEYS):
        raise ImproperlyConfigured("PII_HASH_KEY must differ from SECRET_KEY and the encryption keys.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must name the site's host names when DEBUG is false.")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Public base URL, used in SMS links and QR codes (they leave the site, so they must be absolute).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
COUNTY_NAME = env.str("COUNTY_NAME", default="S县")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "simple_history",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    # Recovery codes: printed once at enrolment, each usable once (assist_center/two_factor.py).
    "django_otp.plugins.otp_static",
    "django_htmx",
    "csp",
    "django_structlog",
    "assist_center.apps.AssistCenterConfig",
    "applications",
    "benefits",
    "eligibility",
    "referrals",
    "charity",
    "happiness_list",
    # Reads every app's records for the figures (issue 13); below the demo alone.
    "dashboards",
    # Above every app: the demo county's builders and `seed_demo` (development data only).
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "assist_center.middleware.CountyLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django_structlog.middlewares.RequestMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "assist_center.middleware.NoStoreMiddleware",
    "assist_center.middleware.IdleTimeoutMiddleware",
    # axes last, as its documentation requires.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "assist_center.urls"
WSGI_APPLICATION = "assist_center.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "assist_center.context_processors.site",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/assist_center")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# libpq waits forever for an unreachable server by default: fail fast so requests answer 503.
DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env.int("DB_CONNECT_TIMEOUT", default=2)
# A streaming replica for reads that tolerate its lag (dashboards, the public board; docs/scaling.md).
# Empty: no replica, every read on the primary. Tests mirror "default" to exercise the router.
if env.str("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = {
        **env.db("DATABASE_REPLICA_URL"),
        "CONN_MAX_AGE": DATABASES["default"]["CONN_MAX_AGE"],
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {"connect_timeout": DATABASES["default"]["OPTIONS"]["connect_timeout"]},
        "TEST": {"MIRROR": "default"},
    }
DATABASE_READ_REPLICA = "replica" in DATABASES
DATABASE_ROUTERS = ["assist_center.db_router.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env.str("CACHE_URL", default=REDIS_URL),
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="ac"),
        # A cache that is down must not hang a request for long.
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "admin:login"

# Staff accounts (security.md): lockout per username+IP, sessions in the database, 30-minute idle timeout.
AXES_FAILURE_LIMIT = 5
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_COOLOFF_TIME = 1  # hours
AXES_RESET_ON_SUCCESS = True
# One client address for the lockout, the rate limits and the audit trail (assist_center.http).
AXES_CLIENT_IP_CALLABLE = "assist_center.http.client_ip"
# Reverse proxies (addresses or networks) whose X-Forwarded-For is believed; empty: REMOTE_ADDR
# only, since any client can send the header (issue 17).
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy.strip(), strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"TRUSTED_PROXIES: {_proxy!r} is not an IP address or network (e.g. 127.0.0.1, 172.16.0.0/12)."
        ) from None
if "PROXY_COUNT" in env.ENVIRON:
    # A count trusted whatever REMOTE_ADDR sent it; silently ignoring it would change who is who.
    raise ImproperlyConfigured("PROXY_COUNT is replaced by TRUSTED_PROXIES (see docs/configuration.md).")
# Database sessions that record their user: a change of role, scope or rights ends them all.
SESSION_ENGINE = "assist_center.sessions"
SESSION_IDLE_TIMEOUT = env.int("SESSION_IDLE_TIMEOUT", default=30 * 60)
SESSION_COOKIE_AGE = 12 * 60 * 60
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
# TOTP for every staff login in production; development and tests may turn it off.
STAFF_REQUIRE_2FA = env.bool("STAFF_REQUIRE_2FA", default=not DEBUG)
# TOTP secrets are shown once, by `manage.py totp_enroll`, never again in the admin.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

LANGUAGE_CODE = "zh-hans"
# Each language by its own name, as a language switcher shows them.
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# A refused form (expired CSRF token) is a Chinese page in the site's layout, like every refusal.
CSRF_FAILURE_VIEW = "assist_center.error_views.csrf_failure"
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=str(VAR_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "media"))
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# Security headers (security.md). Production must pass `manage.py check --deploy` with no warnings.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# Load balancers probe over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# Only behind a proxy that sets the header itself: otherwise a client could claim HTTPS.
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_PROXY", default=False) else None
)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'", NONCE],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "assist_center.api.AutoSchema",
    "EXCEPTION_HANDLER": "assist_center.api.exception_handler",
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "assist_center API",
    "DESCRIPTION": '县联合帮扶中心 API. Errors are {"message", "extra"}.',
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a "status"; name each choice set after its model.
    "ENUM_NAME_OVERRIDES": {
        "ApplicationStatusEnum": "applications.models.Application.Status",
        "ReferralStatusEnum": "referrals.models.Referral.Status",
        "CaseStatusEnum": "referrals.models.Case.Status",
        "ImportJobStatusEnum": "eligibility.models.ImportJob.Status",
    },
}

# Celery: JSON only, no result backend (outcomes live in the app's tables).
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A worker must keep our handlers: Celery's own would drop the PII redaction filter.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Requests never publish directly: the outbox publishes after commit with its own 1-second,
# no-retry options (assist_center.outbox), and the sweeper catches up. These are the workers'.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 6 * 60 * 60,
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
    "max_retries": 1,
}
# Audit retention (MLPS 2.0: at least 6 months). Events are never deleted by the application;
# those older than AUDIT_ARCHIVE_AFTER_DAYS are copied into hash-chained, signed files
# (assist_center/audit_archive.py, docs/operations.md#audit-archive).
AUDIT_ARCHIVE_AFTER_DAYS = env.int("AUDIT_ARCHIVE_AFTER_DAYS", default=190)
if AUDIT_ARCHIVE_AFTER_DAYS < 183:
    raise ImproperlyConfigured("AUDIT_ARCHIVE_AFTER_DAYS must be at least 183 (six months, MLPS 2.0).")
AUDIT_ARCHIVE_DIR = env.path("AUDIT_ARCHIVE_DIR", default=str(VAR_DIR / "audit-archive"))
AUDIT_ARCHIVE_BATCH_SIZE = env.int("AUDIT_ARCHIVE_BATCH_SIZE", default=10_000)
# Signs the archive's chain; falls back to SECRET_KEY. Set it in production and keep it: another
# key makes every existing batch fail verification.
AUDIT_ARCHIVE_KEY = env.str("AUDIT_ARCHIVE_KEY", default="")

CELERY_BEAT_SCHEDULE = {
    # Re-send outbox rows whose after-commit hand-off failed (broker down, process killed).
    "outbox-sweep": {"task": "assist_center.tasks.outbox_sweep", "schedule": 30.0},
    # Retry SMS that failed with a temporary error, with backoff recorded on each row.
    "sms-retry": {"task": "assist_center.tasks.sms_retry_due", "schedule": 60.0},
    # The county's dashboard pages recomputed before their 10-minute snapshots expire (issue 13).
    "dashboards-refresh": {"task": "dashboards.tasks.dashboards_refresh", "schedule": 300.0},
    # 浙政钉 / DingTalk notices the robot's 20-a-minute limit or a timeout held back (issue 13).
    "work-notice-retry": {"task": "referrals.tasks.work_notice_retry_due", "schedule": 60.0},
    # The State Council publishes next year's holidays in Nov/Dec: remind staff to confirm it.
    # Referral colours change at 00:00 Asia/Shanghai; 5 minutes bounds the delay after midnight or a
    # worker outage. Idempotent and advisory-locked: two beats or a redelivered task change nothing twice.
    "referral-colour-sweep": {"task": "referrals.tasks.colour_sweep", "schedule": 300.0},
    # Audit events past the retention period copied into the signed archive: daily is enough (it is
    # a copy, nothing waits for it); advisory-locked and resumable, so two beats write each file once.
    "audit-archive": {"task": "assist_center.tasks.audit_archive", "schedule": crontab(hour=4, minute=20)},
    "calendar-check": {
        "task": "assist_center.tasks.calendar_check_next_year",
        "schedule": crontab(hour=8, minute=0),
    },
    # Rolls (issue 10). Exits end on the day after their grace end: hourly bounds the delay after
    # midnight or an outage; reminders go out each working morning; the month's ledger entries are
    # written daily (an enrolment started today is paid for this month tomorrow). All idempotent.
    "rolls-grace-end": {"task": "benefits.tasks.grace_end_sweep", "schedule": 3600.0},
    "rolls-grace-reminder": {
        "task": "benefits.tasks.grace_reminder_sweep",
        "schedule": crontab(hour=7, minute=30),
    },
    "ledger-month": {"task": "benefits.tasks.ledger_write_month", "schedule": crontab(hour=2, minute=15)},
    # 公益谷 (issue 11): claims past their contact or delivery deadline go back to the board, and
    # reminders go out at half-time and the day before. Conditional updates: two beats act once.
    "charity-claim-sweep": {"task": "charity.tasks.claim_sweep", "schedule": 900.0},
    # The fewer-than-5 rule re-applied to every public need as the registry changes (moves, deaths,
    # birthdays); the board and feed also re-apply it, at most once a minute, when built afresh.
    "charity-need-profiles": {"task": "charity.tasks.need_profiles_refresh", "schedule": 3600.0},
    # 幸福清单 (issue 12): the nightly omission and duplicate check (once a day by its run row, under
    # an advisory lock; reads only the households whose ledger or rolls changed), and the monthly
    # receipt-check sample (asked daily, drawn once a month by its run row).
    "happiness-flag-check": {
        "task": "happiness_list.tasks.flag_check_nightly",
        "schedule": crontab(hour=3, minute=10),
    },
    "happiness-receipt-sample": {
        "task": "happiness_list.tasks.receipt_sample_month",
        "schedule": crontab(hour=9, minute=30),
    },
}

# 幸福清单 (issue 12): the share of last month's paid entries whose households get a receipt-check
# SMS each month (0.02: one in fifty; 0 turns the checks off).
HAPPINESS_RECEIPT_SAMPLE_SHARE = env.float("HAPPINESS_RECEIPT_SAMPLE_SHARE", default=0.02)
if not 0 <= HAPPINESS_RECEIPT_SAMPLE_SHARE <= 1:
    raise ImproperlyConfigured("HAPPINESS_RECEIPT_SAMPLE_SHARE must be a share between 0 and 1 (0.02).")

# 公益谷 (issue 11): how many open claims one organisation may hold at once.
CHARITY_MAX_OPEN_CLAIMS = env.int("CHARITY_MAX_OPEN_CLAIMS", default=10)

# SMS (docs/configuration.md): a dotted class path like EMAIL_BACKEND.
SMS_BACKEND = env.str("SMS_BACKEND", default="assist_center.sms.backends.ConsoleBackend")
if not DEBUG and SMS_BACKEND.rsplit(".", 1)[-1] in ("ConsoleBackend", "FileBackend", "LocmemBackend"):
    # Those backends print or store verification codes in the clear: development only.
    raise ImproperlyConfigured("SMS_BACKEND must be a real provider (Aliyun or Tencent) when DEBUG is false.")
SMS_FILE_PATH = env.str("SMS_FILE_PATH", default=str(VAR_DIR / "sms.jsonl"))
SMS_SIGN_NAME = env.str("SMS_SIGN_NAME", default="")
SMS_ACCESS_KEY_ID = env.str("SMS_ACCESS_KEY_ID", default="")
SMS_ACCESS_KEY_SECRET = env.str("SMS_ACCESS_KEY_SECRET", default="")
SMS_TENCENT_APP_ID = env.str("SMS_TENCENT_APP_ID", default="")
SMS_TENCENT_REGION = env.str("SMS_TENCENT_REGION", default="ap-guangzhou")
# Provider template ids keyed by our template code, e.g. "otp=SMS_123,case_closed=SMS_456".
SMS_TEMPLATE_IDS = env.dict("SMS_TEMPLATE_IDS", default={})
SMS_MAX_ATTEMPTS = env.int("SMS_MAX_ATTEMPTS", default=5)

# The provincial assistance system's economic check (issue 13, docs/province.md): off unless
# PROVINCE_CHECK_URL is set. Each attempt is bounded by the timeout, and the attempts by their count.
PROVINCE_CHECK_URL = env.str("PROVINCE_CHECK_URL", default="")
PROVINCE_CHECK_SECRET = env.str("PROVINCE_CHECK_SECRET", default="")
PROVINCE_CHECK_TIMEOUT = env.float("PROVINCE_CHECK_TIMEOUT", default=5.0)
PROVINCE_CHECK_ATTEMPTS = env.int("PROVINCE_CHECK_ATTEMPTS", default=3)
PROVINCE_BACKEND = env.str(
    "PROVINCE_BACKEND", default="eligibility.province.HttpProvince" if PROVINCE_CHECK_URL else ""
)

# Referral warnings (issue 5): blue when the working days left r <= n * fraction; yellow when
# r <= REFERRAL_YELLOW_DAYS_LEFT; red after the due date. Default deadline in working days.
REFERRAL_BLUE_FRACTION = env.float("REFERRAL_BLUE_FRACTION", default=0.5)
REFERRAL_YELLOW_DAYS_LEFT = env.int("REFERRAL_YELLOW_DAYS_LEFT", default=0)
REFERRAL_DEFAULT_DAYS = env.int("REFERRAL_DEFAULT_DAYS", default=2)
# Files the centre attaches to its answer to a department's question (issue 16): each at most this
# many bytes (photos, scans and PDFs only, checked by their content), at most 5 per answer.
REFERRAL_ATTACHMENT_MAX_BYTES = env.int("REFERRAL_ATTACHMENT_MAX_BYTES", default=5 * 1024 * 1024)
if not 0 <= REFERRAL_BLUE_FRACTION <= 1:
    raise ImproperlyConfigured("REFERRAL_BLUE_FRACTION must be a share between 0 and 1 (0.5: half the time).")
if REFERRAL_YELLOW_DAYS_LEFT < 0:
    raise ImproperlyConfigured("REFERRAL_YELLOW_DAYS_LEFT must be 0 or more working days.")
if REFERRAL_DEFAULT_DAYS < 1:
    raise ImproperlyConfigured("REFERRAL_DEFAULT_DAYS must be at least 1 working day.")

DEMO_PASSWORD = env.str("DEMO_PASSWORD", default="")

SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    import sentry_sdk

    from assist_center.redaction import sentry_before_send

    # send_default_pii=False is not enough: request bodies and frame locals would still carry ID
    # numbers and phones off the machine. Send neither, and redact what remains.
    sentry_sdk.init(
        dsn=SENTRY_DSN,
        send_default_pii=False,
        traces_sample_rate=0.0,
        max_request_body_size="never",
        include_local_variables=False,
        before_send=sentry_before_send,
        before_breadcrumb=sentry_before_send,
    )

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_pii": {"()": "assist_center.redaction.RedactPiiFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_pii"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Django's own loggers have handlers of their own that would bypass the redaction filter.
        "django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django_structlog": {"level": LOG_LEVEL},
        # axes announces itself at every start-up; only its warnings matter.
        "axes": {"level": "WARNING"},
        # WeasyPrint narrates every render step at INFO.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
DJANGO_STRUCTLOG_CELERY_ENABLED = True
