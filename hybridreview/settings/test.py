"""Tests. DATABASE_URL / CELERY_BROKER_URL switch to PostgreSQL and Redis (CI does)."""

import hashlib

from .base import *  # noqa: F403
from .base import (
    BASE_DIR,
    DATABASES,
    FILESYSTEM_BROKER_URL,
    VAR_DIR,
    env,
    filesystem_broker_options,
)

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not :memory:, so a real Celery worker process in the tests can
    # open the same test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
else:
    # One test database per checkout (and per HR_VAR_DIR): two test runs on
    # one server, say CI's clean clone and a developer's tree, would otherwise
    # both create, flush and drop "test_<name>" under each other.
    checkout = hashlib.sha256(f"{BASE_DIR}|{VAR_DIR}".encode()).hexdigest()[:8]
    DATABASES["default"]["TEST"] = {
        "NAME": env.str(
            "HR_TEST_DATABASE_NAME", default=f"test_{DATABASES['default']['NAME']}_{checkout}"
        )
    }
# Without Redis the tests still drive a real worker process, over the
# filesystem broker in a folder of their own.
CELERY_BROKER_URL = env.str(
    "CELERY_BROKER_URL", default=env.str("REDIS_URL", default=FILESYSTEM_BROKER_URL)
)
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = filesystem_broker_options(VAR_DIR / "test-broker")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
REST_FRAMEWORK = {**REST_FRAMEWORK}  # noqa: F405
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {"login": "1000/min", "password_reset": "1000/hour"}
CREDENTIALS_KEYS = env.list(
    "CREDENTIALS_KEYS", default=["8Lh3pQZ0xN1m3qPp5X6sCw6xv7r0bqv8bq3c7pN5Gk8="]
)
# The test suite flushes the database after every transactional test; the
# audit table's triggers are lifted for that flush only (approvals flush command).
AUDIT_ALLOW_FLUSH = True
# Test-only backends (tests/support/backends.py) a real worker process
# registers at start, e.g. a deliberately slow simulator for the SIGKILL test.
JOBS_TEST_BACKENDS_MODULE = env.str("HR_TEST_BACKENDS_MODULE", default="")

# Per-process and cleared between tests that care; no test reads another's figures.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
