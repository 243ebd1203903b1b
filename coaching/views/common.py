"""Helpers the coaching views share: an empty form for refusals, ids from requests, the period.

Running a service onto a form and safe redirects are in ``salesmgmt.page_actions``.
"""

from __future__ import annotations

from typing import TypeVar

from django import forms
from django.http import HttpRequest

from salesmgmt.models import Period
from salesmgmt.page_actions import id_param
from salesmgmt.selectors import period_current, period_get

T = TypeVar("T")


def empty_form() -> forms.Form:
    """A validated form with no fields, to carry a refused action's message."""
    form = forms.Form({})
    form.is_valid()
    return form


def int_param(request: HttpRequest, name: str) -> int | None:
    return id_param(request.GET.get(name))


def post_id(request: HttpRequest, name: str) -> int:
    """An id posted in ``name``; 0 (which no row has, so a 404) when missing or malformed."""
    return id_param(request.POST.get(name)) or 0


def chosen_period(request: HttpRequest) -> Period | None:
    """``?period=`` or the current quarter (1 query)."""
    pk = int_param(request, "period")
    return period_get(pk=pk) if pk else period_current()


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"
