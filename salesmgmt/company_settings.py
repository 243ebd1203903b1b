"""The company settings read (one query, at most once per request) and its per-request memo.

A module of its own (rather than ``selectors``) because the services read the fiscal year
start month, and ``selectors`` imports ``services``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings

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
