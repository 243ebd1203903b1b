"""Response headers every page carries, a clean 503 while the database is unreachable, and a
400 for query strings and form posts carrying text no database can store."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from django.conf import settings
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.html import escape

from .db_router import (
    close_replica_connection,
    current_reads,
    reads_from_replica,
    replica_configured,
    replica_usable,
)
from .input_sanitation import find_pair_problem

# Connection-level failures only: an IntegrityError or a bad query is a bug, not an outage.
# psycopg2's own errors reach us wrapped by Django, but code that talks to psycopg2 directly
# (or an error raised while connecting) may surface them unwrapped.
try:
    import psycopg2

    DATABASE_ERRORS: tuple[type[BaseException], ...] = (
        OperationalError,
        InterfaceError,
        psycopg2.OperationalError,
        psycopg2.InterfaceError,
    )
except ImportError:  # pragma: no cover - psycopg2 is a dependency; SQLite-only installs differ
    DATABASE_ERRORS = (OperationalError, InterfaceError)


class ContentSecurityPolicyMiddleware:
    """Adds settings.CONTENT_SECURITY_POLICY unless a view already set its own policy."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = getattr(settings, "CONTENT_SECURITY_POLICY", "")
        if policy:
            response.headers.setdefault("Content-Security-Policy", policy)
        return response


# --- text no database can store → 400 ----------------------------------------------------------

FORM_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class InputSanitationMiddleware:
    """Refuses a NUL or a lone surrogate in a query string or a page's POSTed form with a 400.

    The one sanitation point (salesmgmt.input_sanitation) for what is not JSON: a NUL reaches
    PostgreSQL as an error from search boxes, filters and free-text fields alike. Page forms
    are read here, as the CSRF check does next anyway; API bodies of every kind are checked by
    the API's parsers (salesmgmt.api.parsers), so the raw body stays readable for them.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        problem = find_pair_problem(request.GET.items())
        if problem is None and _is_page_form_post(request):
            problem = find_pair_problem(
                [
                    *request.POST.items(),
                    *((k, f.name or "") for k, files in request.FILES.lists() for f in files),
                ]
            )
        if problem is not None:
            return _bad_text_response(request, *problem)
        return self.get_response(request)


def _is_page_form_post(request: HttpRequest) -> bool:
    return (
        request.method == "POST"
        and request.content_type in FORM_CONTENT_TYPES
        and not request.path.startswith("/api/")
    )


def _bad_text_response(request: HttpRequest, field: str, reason: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        body = {"detail": "Invalid input.", "code": "invalid", "fields": {field: [reason]}}
        return JsonResponse(body, status=400)
    page = f"<!doctype html><title>Bad request</title><p>{escape(field)}: {escape(reason)}</p>"
    return HttpResponse(page, status=400, content_type="text/html")


# --- database outage → 503 ---------------------------------------------------------------------

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 10
UNAVAILABLE_MESSAGE = (
    "The service is briefly unavailable (database unreachable). Try again shortly; a write "
    "sent just now may or may not have been saved, so re-read the record before retrying."
)
# Self-contained on purpose: no template, static file, session or database access that could
# itself fail while the database is down.
UNAVAILABLE_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Temporarily unavailable</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem}
</style></head><body><h1>Temporarily unavailable</h1>
<p>The service cannot reach its database right now.</p>
<p>If you were saving a change, it may or may not have been saved: the connection can drop
just as a save completes. Reload the record in a few seconds and check before trying again;
a stale edit is refused with a conflict message, never applied twice.</p></body></html>
"""
_ERROR_ATTRIBUTE = "_salesmgmt_database_error"


def database_error_in(exc: BaseException | None) -> BaseException | None:
    """The database connection error in ``exc`` or its causes, if there is one."""
    seen = 0
    while exc is not None and seen < 10:  # a bounded walk: cause chains can loop
        if isinstance(exc, DATABASE_ERRORS):
            return exc
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


def unavailable_response(request: HttpRequest) -> HttpResponse:
    """503 with Retry-After: JSON for the API, a small HTML page for people."""
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            {"detail": UNAVAILABLE_MESSAGE, "code": "service_unavailable"}, status=503
        )
    else:
        response = HttpResponse(UNAVAILABLE_PAGE, status=503, content_type="text/html")
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
        )
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response.headers["Cache-Control"] = "no-store"
    return response


def _log(request: HttpRequest, error: BaseException) -> None:
    # One line, no traceback: an outage makes every request fail the same way.
    logger.error(
        "Database unavailable, answered 503 to %s %s: %s: %s",
        request.method,
        request.path,
        type(error).__name__,
        str(error).strip().splitlines()[0] if str(error).strip() else "",
    )


def _remember_database_error(sender, request: HttpRequest | None = None, **kwargs) -> None:
    """Mark the request when a middleware below ours failed on the database.

    Django turns an exception raised inside a middleware (loading or saving the session,
    say) into a 500 response right there, so it never reaches ours as an exception; the
    ``got_request_exception`` signal is the one place that still sees it.
    """
    error = database_error_in(sys.exc_info()[1])
    if request is not None and error is not None:
        setattr(request, _ERROR_ATTRIBUTE, error)


got_request_exception.connect(
    _remember_database_error, dispatch_uid="salesmgmt.middleware.database_error"
)


class DatabaseUnavailableMiddleware:
    """A lost database connection gives 503 + Retry-After with a clear message, not a 500.

    Placed near the top of MIDDLEWARE so that session and user loading below it are covered.
    With ``CONN_HEALTH_CHECKS`` the next request opens a fresh connection: recovery needs
    no restart.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        error = getattr(request, _ERROR_ATTRIBUTE, None)
        if error is not None and response.status_code == 500:
            _log(request, error)
            return unavailable_response(request)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """A view (or its template) failed on the database."""
        error = database_error_in(exception)
        if error is None:
            return None
        _log(request, error)
        return unavailable_response(request)


class CompanySettingsMiddleware:
    """Opens the per-request memo of the company settings (``salesmgmt.company_settings``):
    read at most once per request, only by a page that needs them, and never kept across
    requests (so a change applies to the next request, in every process). Runs the request
    in the company time zone remembered in the session at log-in."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from .company_settings import company_settings_scope, session_time_zone

        with company_settings_scope():
            try:
                zone = session_time_zone(request)
            except DATABASE_ERRORS:
                # The session cannot be read now: the default zone; the view's own read of the
                # session fails the same way and answers 503 (DatabaseUnavailableMiddleware).
                zone = None
            if zone is None:
                return self.get_response(request)
            with timezone.override(zone):
                return self.get_response(request)


# --- reads from the read replica ---------------------------------------------------------------

SAFE_METHODS = frozenset({"GET", "HEAD"})
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Read-your-writes: a person's browser (or API client keeping cookies) carries this signed
# cookie for DATABASE_REPLICA_STICKY_SECONDS after any write request; its signature's age is
# the window, so it cannot be forged or stretched.
PRIMARY_READS_COOKIE = "sm_primary_reads"
PRIMARY_READS_SALT = "salesmgmt.db_router.primary-reads"
_REPLICA_FAILED = "_salesmgmt_replica_failed"


class ReplicaReadsMiddleware:
    """Runs a replica-eligible GET/HEAD with its reads on the replica (salesmgmt.db_router).

    Eligible: not under DATABASE_REPLICA_PRIMARY_PATHS, no recent write by this person (the
    cookie), and the replica reachable and within the lag limit. A write request sets the
    cookie. Should the replica fail during the request (it stopped since the last check),
    the request runs again with its reads on the primary: a GET changes nothing, and the
    person gets the page, not a 503. Without a replica configured it does nothing.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not replica_configured():
            return self.get_response(request)
        if request.method not in SAFE_METHODS:
            response = self.get_response(request)
            if request.method not in WRITE_METHODS:
                return response  # OPTIONS and the like: primary, but nothing was written
            response.set_signed_cookie(
                PRIMARY_READS_COOKIE,
                "1",
                salt=PRIMARY_READS_SALT,
                max_age=settings.DATABASE_REPLICA_STICKY_SECONDS,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
            return response
        if not self._replica_eligible(request):
            return self.get_response(request)
        return self._on_replica(request)

    def _replica_eligible(self, request: HttpRequest) -> bool:
        if request.path.startswith(tuple(settings.DATABASE_REPLICA_PRIMARY_PATHS)):
            return False
        recent_write = request.get_signed_cookie(
            PRIMARY_READS_COOKIE,
            default=None,
            salt=PRIMARY_READS_SALT,
            max_age=settings.DATABASE_REPLICA_STICKY_SECONDS,
        )
        return recent_write is None and replica_usable()

    def _on_replica(self, request: HttpRequest) -> HttpResponse:
        with reads_from_replica():
            response = self.get_response(request)
        failed = getattr(request, _REPLICA_FAILED, None) or getattr(request, _ERROR_ATTRIBUTE, None)
        if failed is None or response.status_code not in (500, 503):
            return response
        # Again on the primary. If the primary was the one that failed, this fails the same
        # way and answers 503 as any request would.
        close_replica_connection()
        replica_usable(refresh=True)  # the next requests of this process skip a dead replica
        logger.warning(
            "Read replica failed during %s %s (%s), answered from the primary",
            request.method,
            request.path,
            type(failed).__name__,
        )
        for attribute in (_REPLICA_FAILED, _ERROR_ATTRIBUTE):
            if hasattr(request, attribute):
                delattr(request, attribute)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """A view failed on a database while reading from the replica: retried in __call__."""
        error = database_error_in(exception)
        if error is None or current_reads() is None:
            return None
        setattr(request, _REPLICA_FAILED, error)
        # Answered before DatabaseUnavailableMiddleware logs an outage; replaced by the retry.
        return HttpResponse(status=503)
