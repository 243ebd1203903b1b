"""Production settings, served over plain HTTP on the loopback for the load and fault runs.

Everything is production.py (DEBUG off, manifest static files, persistent connections) except
what needs TLS: the test clients talk plain HTTP to 127.0.0.1, where a Secure cookie would
never be sent back and the SSL redirect would loop.
"""

from salesmgmt.settings.production import *  # noqa: F403
from salesmgmt.settings.production import env

SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
# collectstatic writes into the run's temporary folder, not the working tree.
STATIC_ROOT = env("OPS_STATIC_ROOT", default=STATIC_ROOT)  # noqa: F405
# Per-request server time and queries (scripts/ops/timing.py), when the run asks for it.
if env("OPS_TIMING_LOG", default=""):
    MIDDLEWARE = ["scripts.ops.timing.RequestTimingMiddleware", *MIDDLEWARE]  # noqa: F405
