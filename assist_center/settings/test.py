"""Test settings: only what makes tests fast and deterministic differs from base."""

import os

os.environ.setdefault("DEBUG", "true")

from .base import *  # noqa: F403
from .base import CACHES, DATABASES, STORAGES, env

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Manifest storage 404s under live_server; plain storage serves files straight from static/.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
# One key space per xdist worker: rate-limit counters and the calendar version stamp must not leak
# between tests running side by side (they share one Redis).
CACHES = {
    "default": {
        **CACHES["default"],
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="ac-test")
        + "-"
        + os.environ.get("PYTEST_XDIST_WORKER", "main"),
    }
}
SECURE_SSL_REDIRECT = False
STAFF_REQUIRE_2FA = False
SMS_BACKEND = "assist_center.sms.backends.LocmemBackend"
AXES_ENABLED = True

# WhiteNoise warns when STATIC_ROOT is missing; tests serve from the finders instead.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
os.makedirs(STATIC_ROOT, exist_ok=True)  # noqa: F405

# The replica alias, mirroring the test database, so the read router is tested (off unless a test
# turns DATABASE_READ_REPLICA on and declares the alias: tests/core/test_db_router.py).
DATABASES = {**DATABASES, "replica": {**DATABASES["default"], "TEST": {"MIRROR": "default"}}}
DATABASE_READ_REPLICA = False
