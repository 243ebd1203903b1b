"""Tests: fast hashing, eager Celery unless a test starts a real worker."""

import os
from urllib.parse import urlsplit

from .base import *  # noqa: F403
from .base import CACHES, EMAIL_CONFIGURED, REDIS_URL, env
from .mail import MEMORY_BACKEND

DEBUG = False
SECRET_KEY = env("SECRET_KEY", default="test-only-key")
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests call tasks in-process; the real-worker tests start their own worker process and
# switch the client side off eager mode for their duration.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
# Mail stays in Django's outbox (pytest-django's ``mailoutbox``) unless EMAIL_URL names a server:
# the real-worker mail tests start their worker with the test SMTP server's EMAIL_URL
# (tests/fixtures/mail.py).
if not EMAIL_CONFIGURED:
    EMAIL_BACKEND = MEMORY_BACKEND
# Imports run where they are sent, so a test sees the result; the background test turns it on.
IMPORT_IN_BACKGROUND = False
# KPI marks run as soon as they are claimed (tests of the window set it themselves).
FORECASTING_KPI_DEBOUNCE_SECONDS = env.float("FORECASTING_KPI_DEBOUNCE_SECONDS", default=0)
# Likewise attainment, compliance and planning batches run on commit (eager Celery).
REFRESH_DEBOUNCE_SECONDS = env.float("REFRESH_DEBOUNCE_SECONDS", default=0)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Tests serve static files through the finders; there is no collected STATIC_ROOT to scan.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STATIC_ROOT = None

# pytest-xdist (`make test` runs `pytest -n auto`): every xdist worker ("gw0", "gw1", ...) is a
# process of its own with its own test database (pytest-django suffixes its name). The cache
# and, with REDIS_URL, Redis are per worker too: a key prefix of its own, and the Redis
# database after REDIS_URL's plus one plus the worker's number (REDIS_URL .../9: gw0 uses 10,
# gw1 11). A whole database, not only a prefix, because `cache.clear()` flushes the database
# and a real-worker test's Celery queue lives in it. The Celery worker such a test starts
# inherits PYTEST_XDIST_WORKER, so it lands on the same database. tests/conftest.py caps
# `-n auto` to the databases left below Redis's default 16.
REDIS_DATABASES = 16
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


def redis_url_for_xdist_worker(url: str, worker: str) -> str:
    """``url`` with the database number of xdist ``worker`` ("gw3"); ``url`` outside xdist."""
    if not worker:
        return url
    parts = urlsplit(url)
    base = parts.path.strip("/") or "0"
    if not base.isdigit():
        raise ValueError(f"REDIS_URL {url!r}: expected a database number after the last /")
    database = int(base) + 1 + int(worker.removeprefix("gw"))
    if database >= REDIS_DATABASES:
        raise ValueError(
            f"xdist worker {worker} needs Redis database {database}, past the last one "
            f"({REDIS_DATABASES - 1}): use fewer workers (-n) or a lower database in REDIS_URL"
        )
    return parts._replace(path=f"/{database}").geturl()


if REDIS_URL:
    REDIS_URL = redis_url_for_xdist_worker(REDIS_URL, XDIST_WORKER)
    CELERY_BROKER_URL = REDIS_URL
    CACHES["default"]["LOCATION"] = REDIS_URL
CACHES["default"]["KEY_PREFIX"] = f"salesmgmt-test-{XDIST_WORKER or 'main'}"
