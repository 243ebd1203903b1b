"""How page views call services: a refusal lands on the form with its HTTP status."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from salesmgmt.errors import ApplicationError
from salesmgmt.models import Period

from ..forms import (
    PeriodForm,
    add_service_errors,
)

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


def period_from(request: HttpRequest) -> tuple[PeriodForm, Period | None]:
    form = PeriodForm(request.GET or None)
    period = form.cleaned_data.get("period") if form.is_valid() else None
    return form, period
