"""The company settings read (one query, at most once per request), its per-request memo,
and the company time zone of a signed-in person's pages.

A module of its own (rather than ``selectors``) because the services read the fiscal year
start month, and ``selectors`` imports ``services``.

Time zone: at log-in the company's time zone is written into the session
(``remember_time_zone``, a receiver of ``user_logged_in``), and every request of that session
runs in it (``middleware.CompanySettingsMiddleware``), so "today" and the times on pages are
the company's without a query per request. A change applies to the administrator who made
it at once and to everyone else at their next log-in.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.http import HttpRequest

from .models import CompanySettings


def company_settings_default() -> CompanySettings:
    """The settings of a company that has saved none: the environment's defaults (unsaved)."""
    return CompanySettings(
        pk=CompanySettings.SINGLETON_PK,
        reporting_currency=settings.REPORTING_CURRENCY.upper(),
        time_zone=settings.TIME_ZONE,
    )


# A per-request memo (not a cache): ``company_settings_scope`` opens it for one request
# (``middleware.CompanySettingsMiddleware``), so a page reads the row once however many
# amounts it converts; outside a request (tasks, commands) every call reads the row anew.
_request_memo: ContextVar[dict[str, CompanySettings] | None] = ContextVar(
    "company_settings_memo", default=None
)


@contextmanager
def company_settings_scope() -> Iterator[None]:
    """Read the company settings at most once inside this block (one request)."""
    token = _request_memo.set({})
    try:
        yield
    finally:
        _request_memo.reset(token)


def company_settings_get() -> CompanySettings:
    """The company settings (one query, once per request); the defaults while none are saved."""
    memo = _request_memo.get()
    if memo is not None and "row" in memo:
        return memo["row"]
    stored = CompanySettings.objects.filter(pk=CompanySettings.SINGLETON_PK).first()
    row = stored or company_settings_default()
    if memo is not None:
        memo["row"] = row
    return row


def company_settings_forget() -> None:
    """Drop this request's memo (after the settings were saved in it)."""
    memo = _request_memo.get()
    if memo is not None:
        memo.clear()


SESSION_TIME_ZONE = "company_time_zone"


def remember_time_zone(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """At log-in: the session's pages run in the company time zone (one query)."""
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_TIME_ZONE] = company_settings_get().time_zone


def session_time_zone(request: HttpRequest) -> ZoneInfo | None:
    """The company time zone remembered in this request's session, if any (no query: the
    session of a signed-in person is loaded anyway, and without a cookie there is none)."""
    session = getattr(request, "session", None)
    name = session.get(SESSION_TIME_ZONE) if session is not None else None
    if not name:
        return None
    try:
        return ZoneInfo(str(name))
    except (ValueError, LookupError):  # a zone this system no longer knows: the default
        return None
