"""Tests: fast hashing, eager Celery unless a test starts a real worker."""

from .base import *  # noqa: F403
from .base import env

DEBUG = False
SECRET_KEY = env("SECRET_KEY", default="test-only-key")
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests call tasks in-process; the real-worker tests start their own worker process and
# switch the client side off eager mode for their duration.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
# Imports run where they are sent, so a test sees the result; the background test turns it on.
IMPORT_IN_BACKGROUND = False
# KPI requests run as soon as they are claimed (tests of the window set it themselves).
FORECASTING_KPI_DEBOUNCE_SECONDS = env.float("FORECASTING_KPI_DEBOUNCE_SECONDS", default=0)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Tests serve static files through the finders; there is no collected STATIC_ROOT to scan.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STATIC_ROOT = None
