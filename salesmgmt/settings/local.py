"""Development: DEBUG on, a fixed development key when none is given."""

from .base import *  # noqa: F403
from .base import EMAIL_CONFIGURED, env
from .mail import FILE_BACKEND

DEBUG = env.bool("DEBUG", default=True)
# A development default only: production.py refuses to start without SECRET_KEY.
SECRET_KEY = env("SECRET_KEY", default="dev-only-insecure-key-change-me")
# Development serves static files straight from the app folders (no collectstatic needed).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STATIC_ROOT = None
# The demo logins (README) sign in with a password alone; set TWO_FACTOR_REQUIRED_ROLES to try
# the enforced two-factor flow locally.
TWO_FACTOR_REQUIRED_ROLES = env.list("TWO_FACTOR_REQUIRED_ROLES", default=[])
# Mail without EMAIL_URL or EMAIL_HOST: written to files under var/mail/ (EMAIL_FILE_PATH), so
# invitations, reminders and digests can be read there (README).
if not EMAIL_CONFIGURED:
    EMAIL_BACKEND = FILE_BACKEND
