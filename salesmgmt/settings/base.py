"""Settings shared by every environment; values come from the environment (12-factor)."""

import ipaddress
from pathlib import Path

import environ
import plotly

from .databases import replica_database
from .mail import CONSOLE_BACKEND, email_settings

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
# A local .env is a convenience for development only; production passes real variables.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "salesmgmt",
    "accounts",
    "territories",
    "forecasting",
    "coaching",
    "compensation",
    "planning",
    # Cross-cutting features above the domain apps (docs/architecture.md, import-linter).
    "csv_import",
    "demo_data",
    "benchmarks",
    "reconciliation",
    "notifications",
    "capture",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Above sessions and auth: a database outage while loading them is a 503 too.
    "salesmgmt.middleware.DatabaseUnavailableMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Below the 503 (a replica failing mid-request is retried on the primary, not a 503) and
    # static files; above sessions and auth, whose reads it routes (salesmgmt.db_router).
    "salesmgmt.middleware.ReplicaReadsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before anything reads them: NUL and lone surrogates in query strings and form posts → 400.
    "salesmgmt.middleware.InputSanitationMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "salesmgmt.middleware.ContentSecurityPolicyMiddleware",
    # The company settings are read at most once per request (a memo, not a cache).
    "salesmgmt.middleware.CompanySettingsMiddleware",
]

# Headers every environment sends (production adds HTTPS-only ones in production.py).
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# plotly.io.to_html embeds each figure as an inline <script> and plotly injects <style>
# elements, so both need 'unsafe-inline'; everything is otherwise served from our own origin.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "base-uri 'self'",
    ]
)

# Sessions end after SESSION_COOKIE_AGE_HOURS (default a working day), not at browser close.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE_HOURS", default=12) * 60 * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = False

# Login throttling (salesmgmt.security): this many failures for one username from one IP
# within the window lock that pair out for LOGIN_LOCKOUT_SECONDS.
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_FAILURE_WINDOW_SECONDS = env.int("LOGIN_FAILURE_WINDOW_SECONDS", default=15 * 60)
LOGIN_LOCKOUT_SECONDS = env.int("LOGIN_LOCKOUT_SECONDS", default=15 * 60)
# Proxies (IPs or CIDRs) whose X-Forwarded-For is believed when keying the lockout and the
# audit log (salesmgmt.security.client_ip); empty: the peer address is the client.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])

# Two-factor sign-in (salesmgmt.two_factor): these roles must use an authenticator app;
# everyone else may. The password step is remembered for TWO_FACTOR_PENDING_SECONDS only.
TWO_FACTOR_REQUIRED_ROLES = env.list("TWO_FACTOR_REQUIRED_ROLES", default=["admin", "executive"])
TWO_FACTOR_PENDING_SECONDS = env.int("TWO_FACTOR_PENDING_SECONDS", default=5 * 60)
TWO_FACTOR_ISSUER = env("TWO_FACTOR_ISSUER", default="salesmgmt")

# Sign-in invitations (salesmgmt.invitations): a signed set-password link, valid this many days
# and only until a password is set. E-mailed when an SMTP host is configured (or
# INVITATIONS_SEND_EMAIL says so); otherwise the admin copies the link from the page.
INVITATION_MAX_AGE_DAYS = env.int("INVITATION_MAX_AGE_DAYS", default=7)
# Outgoing mail (salesmgmt.settings.mail): EMAIL_URL, or EMAIL_HOST, EMAIL_PORT,
# EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS / EMAIL_USE_SSL. Unconfigured, mail is
# written to the log here (local.py: files under var/mail/).
_mail = email_settings(env, unconfigured_backend=CONSOLE_BACKEND)
EMAIL_BACKEND: str = _mail["EMAIL_BACKEND"]
EMAIL_HOST: str = _mail["EMAIL_HOST"]
EMAIL_PORT: int = _mail["EMAIL_PORT"]
EMAIL_HOST_USER: str = _mail["EMAIL_HOST_USER"]
EMAIL_HOST_PASSWORD: str = _mail["EMAIL_HOST_PASSWORD"]
EMAIL_USE_TLS: bool = _mail["EMAIL_USE_TLS"]
EMAIL_USE_SSL: bool = _mail["EMAIL_USE_SSL"]
EMAIL_TIMEOUT: int = _mail["EMAIL_TIMEOUT"]
EMAIL_CONFIGURED: bool = _mail["EMAIL_CONFIGURED"]
# Where the file backend writes (make run without mail configured): one .log file per
# connection, every message in full.
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", default=str(BASE_DIR / "var" / "mail"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="salesmgmt@localhost")
INVITATIONS_SEND_EMAIL = env.bool("INVITATIONS_SEND_EMAIL", default=EMAIL_CONFIGURED)
# The address in e-mailed links (e.g. https://sales.example.com); empty: the host of the
# admin's request that sends the invitation.
SITE_URL = env("SITE_URL", default="")

ROOT_URLCONF = "salesmgmt.urls"
WSGI_APPLICATION = "salesmgmt.wsgi.application"

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
                "salesmgmt.navigation.main_navigation",
                "notifications.context.inbox_bell",
            ],
        },
    },
]

# Default: a SQLite file in the project folder, so a fresh machine needs nothing installed.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
# A persistent connection broken by a database restart is replaced on the next request.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Write-ahead logging: readers never wait for a writer. In SQLite's default rollback
    # journal a long write (a 20,000-row CSV import applies in one transaction, in the
    # background) locks every reader out until it commits, so every page and API call,
    # and the import's own progress poll, answered 503 for a minute. Writers still take
    # turns (use PostgreSQL for many concurrent writers). The mode is kept in the file.
    # A 64 MB page cache per connection instead of 2 MB: a 100,000-deal import writes a
    # million history rows into tables with five indexes each, whose pages then stay cached.
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options.setdefault("init_command", "PRAGMA journal_mode=WAL; PRAGMA cache_size=-65536;")
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # Pages and API calls read a page of rows through indexes, where starting parallel
    # workers costs more than they save: a manager's activity list took 8 ms longer when
    # PostgreSQL planned it with two. DATABASE_PARALLEL_WORKERS sets PostgreSQL's
    # max_parallel_workers_per_gather for every connection of the app.
    # JIT compilation likewise: PostgreSQL compiles a query whose estimated cost passes
    # jit_above_cost, and the estimates of the ranged and joined list reads at 1 M deals do
    # (a manager's activities: 85 ms compiling a query that runs in 3 ms). DATABASE_JIT=1
    # turns it back on (e.g. for a worker that only runs large aggregates).
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _parallel = env.int("DATABASE_PARALLEL_WORKERS", default=0)
    _jit = "on" if env.bool("DATABASE_JIT", default=False) else "off"
    _options["options"] = (
        f"{_options.get('options', '')} -c max_parallel_workers_per_gather={_parallel}"
        f" -c jit={_jit}"
    ).strip()
# An optional PostgreSQL streaming replica (salesmgmt.db_router): the GET/HEAD reads of pages
# and the API go to it, everything else (writes, locks, transactions, Celery, commands) to the
# primary. Unset: no "replica" alias, and the router changes nothing. The replica connects as
# the primary does (same OPTIONS, persistence and health checks) but gives up within
# DATABASE_REPLICA_CONNECT_TIMEOUT seconds, so a replica that is gone costs a request little.
DATABASE_ROUTERS = ["salesmgmt.db_router.PrimaryReplicaRouter"]
if env("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = replica_database(
        env.db("DATABASE_REPLICA_URL"),
        primary=DATABASES["default"],
        connect_timeout=env.int("DATABASE_REPLICA_CONNECT_TIMEOUT", default=2),
    )
# A person's reads stay on the primary this long after any write of theirs (read-your-writes;
# a signed cookie). Longer than the replica may lag plus one lag check.
DATABASE_REPLICA_STICKY_SECONDS = env.int("DATABASE_REPLICA_STICKY_SECONDS", default=10)
# Reads fall back to the primary while the replica is further behind than this (or down);
# each process measures the lag at most once per DATABASE_REPLICA_CHECK_SECONDS.
DATABASE_REPLICA_MAX_LAG_SECONDS = env.float("DATABASE_REPLICA_MAX_LAG_SECONDS", default=5)
DATABASE_REPLICA_CHECK_SECONDS = env.float("DATABASE_REPLICA_CHECK_SECONDS", default=1)
# Path prefixes whose reads always go to the primary, whatever the method.
DATABASE_REPLICA_PRIMARY_PATHS = env.list("DATABASE_REPLICA_PRIMARY_PATHS", default=["/admin/"])
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "salesmgmt.User"
# Username and password, refusing the office nodes of the hierarchy (User.is_org_unit).
AUTHENTICATION_BACKENDS = ["salesmgmt.backends.PeopleBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT: Path | None = BASE_DIR / "staticfiles"  # None where finders serve (local, test)
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # plotly.js ships inside the plotly package: served as static/vendor/plotly.min.js, so
    # charts work offline and no copy of the bundle lives in the repository.
    ("vendor", Path(plotly.__file__).resolve().parent / "package_data"),
]

# The company's reporting currency: every total converts into it (see salesmgmt.money).
REPORTING_CURRENCY = env("REPORTING_CURRENCY", default="USD")

# Celery: with REDIS_URL a real broker and worker; without it tasks run in-process, eagerly,
# so a fresh machine needs no Redis.
REDIS_URL = env("REDIS_URL", default="")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", default="salesmgmt")
# The wall clock of the scheduled jobs (salesmgmt.celery): the nightly ones from
# NIGHTLY_JOBS_HOUR, the weekly ones (forecast snapshots, call lock, territory balance) on
# WEEKLY_JOBS_WEEKDAY ("mon".."sun") at WEEKLY_JOBS_HOUR, in CELERY_TIMEZONE (TIME_ZONE unless
# set). Beat and `manage.py run_schedule` read the same three settings.
CELERY_TIMEZONE = env("CELERY_TIMEZONE", default="") or TIME_ZONE
NIGHTLY_JOBS_HOUR = env.int("NIGHTLY_JOBS_HOUR", default=2)
WEEKLY_JOBS_WEEKDAY = env("WEEKLY_JOBS_WEEKDAY", default="mon")
WEEKLY_JOBS_HOUR = env.int("WEEKLY_JOBS_HOUR", default=5)
# Redis redelivers an unacked task after this long; longer than our longest recompute. The
# short socket timeouts and publish retries bound how long a request waits while Redis is down
# (salesmgmt.task_queue then logs and leaves the work to its sweep).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3600,
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
# A full recompute whose worker has not renewed its heartbeat for this long is resumed by the
# reconciler (forecasting.services.runs). The phase delay is for fault tests only.
FORECASTING_RUN_STALE_SECONDS = env.int("FORECASTING_RUN_STALE_SECONDS", default=60)
FORECASTING_RUN_PHASE_DELAY_SECONDS = env.float("FORECASTING_RUN_PHASE_DELAY_SECONDS", default=0)
# KPI rows lag the incremental rollups by up to this window: one batch per window runs every
# KPI mark that piled up in it (forecasting.aggregate_kinds). Rollups are not debounced.
FORECASTING_KPI_DEBOUNCE_SECONDS = env.float("FORECASTING_KPI_DEBOUNCE_SECONDS", default=60)
# Attainment, compliance and the planning snapshot refresh this long after the first change of
# a burst (salesmgmt.refresh): edits made together are covered by one batch.
REFRESH_DEBOUNCE_SECONDS = env.float("REFRESH_DEBOUNCE_SECONDS", default=5)
# A manager's own time for joint calls and deal reviews asked through resource requests
# (coaching.capacity): hours a week, unless set for the manager (ManagerCapacity), and the hours
# a request of each kind books unless its policy says otherwise (ResourcePolicy.manager_hours).
MANAGER_WEEKLY_CAPACITY_HOURS = env.float("MANAGER_WEEKLY_CAPACITY_HOURS", default=8.0)
MANAGER_REQUEST_HOURS = {"joint": 2.0, "review": 1.0}

# The cache holds API throttle counters and live import progress. With REDIS_URL it is Redis,
# shared by every gunicorn and Celery process; without it a per-process memory cache. It fails
# open (salesmgmt.fail_open_cache: while Redis is down, no throttling or login lockout) and
# gives up on an unreachable Redis within a second rather than hanging the request.
CACHES = {
    "default": (
        {
            "BACKEND": "salesmgmt.fail_open_cache.FailOpenRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "salesmgmt",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

REST_FRAMEWORK = {
    # Token first: an unauthenticated API call then gets 401 with WWW-Authenticate.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "salesmgmt.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "salesmgmt.api.permissions.TokenScopePermission",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # DRF's parsers behind the one sanitation point: depth, surrogates, NUL, size (issue 14).
    "DEFAULT_PARSER_CLASSES": [
        "salesmgmt.api.parsers.JSONParser",
        "salesmgmt.api.parsers.FormParser",
        "salesmgmt.api.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "salesmgmt.api.pagination.SyncPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "salesmgmt.api.schema.ApiAutoSchema",
    "DEFAULT_FILTER_BACKENDS": [
        "salesmgmt.api.filters.FilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "salesmgmt.api.throttling.TokenRateThrottle",
        "salesmgmt.api.throttling.AnonRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "token": env("API_THROTTLE_RATE", default="1200/min"),
        "anon": env("API_ANON_THROTTLE_RATE", default="60/min"),
    },
    "EXCEPTION_HANDLER": "salesmgmt.api.exceptions.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "salesmgmt API",
    "DESCRIPTION": (
        "Sales management platform API for integrators. Authenticate with "
        "`Authorization: Token <key>` (or `Bearer <key>`); see each operation for filters, "
        "pagination (`?page=` or, with `updated_since`/`cursor`, cursor pagination ordered by "
        "`updated_at` for incremental sync), `ETag`/`If-Match`, `Idempotency-Key` and "
        "`?format=csv` exports."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "OpportunityStatusEnum": "accounts.models.Opportunity.Status",
        "ForecastCategoryEnum": "accounts.models.ForecastCategory",
        "CategoryEnum": "accounts.forecast_categories.EffectiveCategory",
        "ImportStatusEnum": "salesmgmt.models.ImportJob.Status",
        "DeliveryStatusEnum": "salesmgmt.models.WebhookDelivery.Status",
        "ActivityKindEnum": "accounts.models.Activity.Kind",
        "ImportKindEnum": "salesmgmt.models.ImportKind",
        "WebhookEventEnum": "salesmgmt.models.WebhookEvent",
        "ApiTokenScopeEnum": "salesmgmt.models.ApiToken.Scope",
        "ForecastScopeEnum": "forecasting.models.Scope",
        "StatementStatusEnum": "compensation.models.Statement.Status",
        "NotificationKindEnum": "notifications.kinds.Kind",
        "NotificationChannelEnum": "notifications.kinds.Channel",
    },
}

# Webhooks (salesmgmt.webhooks): per-attempt timeout, bounded retries with exponential backoff.
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=5.0)
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=8)
WEBHOOK_BACKOFF_BASE_SECONDS = env.int("WEBHOOK_BACKOFF_BASE_SECONDS", default=30)
WEBHOOK_BACKOFF_MAX_SECONDS = env.int("WEBHOOK_BACKOFF_MAX_SECONDS", default=3600)
# Against SSRF, webhooks only go to public internet addresses (salesmgmt.webhook_destinations).
# An admin may allow internal receivers: host names (exact, e.g. "erp.internal") and networks
# in CIDR notation (e.g. "10.20.0.0/16"), comma-separated.
WEBHOOK_ALLOWED_HOSTS = env.list("WEBHOOK_ALLOWED_HOSTS", default=[])
# Parsed here so a typo stops the start instead of every delivery.
WEBHOOK_ALLOWED_NETWORKS = [
    str(ipaddress.ip_network(network, strict=False))
    for network in env.list("WEBHOOK_ALLOWED_NETWORKS", default=[])
]

# CSV imports (csv_import): largest accepted file; how long replays are kept.
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=20 * 1024 * 1024)
# Request bodies: form posts (files aside) and API bodies read through ``request.body`` keep
# Django's 2.5 MB (larger: 413 on the API); the JSON parser's own ceiling is API_MAX_JSON_BYTES.
# A CSV import larger than 2.5 MB goes as a multipart file (up to IMPORT_MAX_BYTES).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)
API_MAX_JSON_BYTES = IMPORT_MAX_BYTES + 1024 * 1024
# Without Redis (tasks eager), run each import in a background thread of the web process so the
# upload answers at once and the page polls progress, as with a worker.
IMPORT_IN_BACKGROUND = env.bool("IMPORT_IN_BACKGROUND", default=True)
IDEMPOTENCY_TTL_HOURS = env.int("IDEMPOTENCY_TTL_HOURS", default=24)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}

# Notifications (the notifications app): inbox rows older than this are purged daily.
NOTIFICATIONS_KEEP_DAYS = env.int("NOTIFICATIONS_KEEP_DAYS", default=90)
# The record of each mail sent (its dedupe key refuses a second send) is purged nightly this
# long after it was queued, once sent, failed or skipped.
NOTIFICATIONS_EMAIL_KEEP_DAYS = env.int("NOTIFICATIONS_EMAIL_KEEP_DAYS", default=365)
# The weekly forecast call is due by this weekday (Monday 0) and hour, company time zone;
# the reminder goes out this many hours before, "overdue" and the manager's roll-up after.
NOTIFICATIONS_CALL_DEADLINE_WEEKDAY = env.int("NOTIFICATIONS_CALL_DEADLINE_WEEKDAY", default=4)
NOTIFICATIONS_CALL_DEADLINE_HOUR = env.int("NOTIFICATIONS_CALL_DEADLINE_HOUR", default=17)
NOTIFICATIONS_CALL_DUE_HOURS_BEFORE = env.int("NOTIFICATIONS_CALL_DUE_HOURS_BEFORE", default=24)
# Development goals are announced this many days before their target date.
NOTIFICATIONS_GOAL_DUE_DAYS = env.int("NOTIFICATIONS_GOAL_DUE_DAYS", default=7)
NOTIFICATIONS_REMINDERS_BATCH = env.int("NOTIFICATIONS_REMINDERS_BATCH", default=5000)
# A mail claimed by a worker longer ago than this and not sent: the worker died; resend.
NOTIFICATIONS_CLAIM_TIMEOUT_SECONDS = env.int("NOTIFICATIONS_CLAIM_TIMEOUT_SECONDS", default=600)
# Test-only: a pause between claiming a mail and handing it to SMTP (the worker-kill test).
NOTIFICATIONS_SEND_DELAY_SECONDS = env.float("NOTIFICATIONS_SEND_DELAY_SECONDS", default=0)
# Mails link here (e.g. https://sales.example.com); SITE_URL when set, else this.
NOTIFICATIONS_DEFAULT_SITE_URL = env(
    "NOTIFICATIONS_DEFAULT_SITE_URL", default="http://localhost:8000"
)
# Activity capture (capture app): each person's address is log+<token>@CAPTURE_DOMAIN; the
# company's MTA routes that domain to the gateway (``manage.py mail_gateway``).
CAPTURE_DOMAIN = env("CAPTURE_DOMAIN", default="capture.localhost")
MAIL_GATEWAY_HOST = env("MAIL_GATEWAY_HOST", default="127.0.0.1")
MAIL_GATEWAY_PORT = env.int("MAIL_GATEWAY_PORT", default=2525)
# Largest message the gateway accepts (the raw bytes travel to the worker through the broker).
MAIL_GATEWAY_MAX_BYTES = env.int("MAIL_GATEWAY_MAX_BYTES", default=10 * 1024 * 1024)
# A new person's excluded domains (editable on their capture settings page).
CAPTURE_DEFAULT_EXCLUDED_DOMAINS = env.list(
    "CAPTURE_DEFAULT_EXCLUDED_DOMAINS",
    default=[
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "hotmail.com",
        "outlook.com",
        "live.com",
        "icloud.com",
        "me.com",
        "aol.com",
        "proton.me",
        "gmx.com",
    ],
)
# Calendar capture: the occurrences a read looks at, and the largest feed it fetches.
CAPTURE_CALENDAR_PAST_DAYS = env.int("CAPTURE_CALENDAR_PAST_DAYS", default=90)
CAPTURE_CALENDAR_FUTURE_DAYS = env.int("CAPTURE_CALENDAR_FUTURE_DAYS", default=30)
CAPTURE_CALENDAR_MAX_BYTES = env.int("CAPTURE_CALENDAR_MAX_BYTES", default=5 * 1024 * 1024)
# Captured mail and meetings (sender, recipients, subject, excerpt) are deleted nightly this
# long after capture: unfiled ones nobody filed, deleted ones' keys, and the captured copy
# of filed ones (the activity each became stays: the audit record). Longer than the
# calendar's look-back, or a feed re-read would capture a purged meeting again.
CAPTURE_KEEP_DAYS = max(env.int("CAPTURE_KEEP_DAYS", default=365), CAPTURE_CALENDAR_PAST_DAYS + 1)
