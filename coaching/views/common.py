"""Helpers the coaching views share: run a service onto a form, the period, safe redirects."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme

from accounts.forms import add_service_errors
from salesmgmt.errors import ApplicationError
from salesmgmt.models import Period
from territories.selectors import default_period, period_get

T = TypeVar("T")


def call_service(form: forms.Form, action: Callable[[], T]) -> tuple[T | None, int]:
    """Run a write; a refusal lands on ``form`` and its HTTP status is returned instead."""
    try:
        return action(), 200
    except ValidationError as error:
        add_service_errors(form, error)
        return None, 400
    except ApplicationError as error:
        form.add_error(None, error.message)
        return None, error.status_code


def empty_form() -> forms.Form:
    """A validated form with no fields, to carry a refused action's message."""
    form = forms.Form({})
    form.is_valid()
    return form


def next_url(request: HttpRequest, default: str) -> str:
    """Where a form asked to go back to, if it is on this site; else ``default``."""
    target = request.POST.get("next", "")
    # A path on this site only: anything else (a bare word) would be taken for a URL name.
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _as_id(value: object) -> int | None:
    """An id as a primary key can hold it (18 digits at most); anything else is None."""
    value = str(value or "")
    return int(value) if value.isdigit() and len(value) <= 18 else None


def int_param(request: HttpRequest, name: str) -> int | None:
    return _as_id(request.GET.get(name))


def post_id(request: HttpRequest, name: str) -> int:
    """An id posted in ``name``; 0 (which no row has, so a 404) when missing or malformed."""
    return _as_id(request.POST.get(name)) or 0


def chosen_period(request: HttpRequest) -> Period | None:
    """``?period=`` or the current quarter (1 query)."""
    pk = int_param(request, "period")
    return period_get(pk=pk) if pk else default_period()


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"
