"""How page views run a write: call a service, show its refusal on the form, go back.

A service refuses with a ``ValidationError`` (bad input: 400, on the field it names when the
form has that field) or an ``ApplicationError`` (a conflict, a stale version, a state that
forbids it: its own status). Pages show either on the form they re-render with that status
(``call_service``; ``submit_form`` checks the form first: an invalid one is a 400), or,
when they redirect instead (buttons without a form of their own), as a flash message
(``call_service_or_flash``). A page whose form, once saved, leads elsewhere with a message
runs it through ``submit_then``. Views never catch these errors themselves
(tests/test_one_way.py checks).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils.http import url_has_allowed_host_and_scheme

from .errors import ApplicationError

T = TypeVar("T")


def add_service_errors(form: forms.Form, error: ValidationError | ApplicationError) -> None:
    """Put a service's refusal on ``form``: on its field when the form has one, else on top."""
    if isinstance(error, ApplicationError):
        form.add_error(None, error.message)
    elif hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


def call_service(form: forms.Form, action: Callable[[], T]) -> tuple[T | None, int]:
    """Run a write; a refusal lands on ``form`` and its HTTP status is returned instead."""
    try:
        return action(), 200
    except ValidationError as error:
        add_service_errors(form, error)
        return None, 400
    except ApplicationError as error:
        add_service_errors(form, error)
        return None, error.status_code


def submit_form(form: forms.Form, action: Callable[[], T]) -> tuple[T | None, int]:
    """A bound form's write: an invalid form is (None, 400) with its field errors; a valid
    one runs ``action`` (``call_service``: its result, or the refusal on the form)."""
    if not form.is_valid():
        return None, 400
    return call_service(form, action)


def submit_then(
    request: HttpRequest,
    form: forms.Form,
    action: Callable[[], T],
    *,
    then: Callable[[T], HttpResponse],
    done: Callable[[T], str] | None = None,
) -> tuple[HttpResponse | None, int]:
    """The write of a page's form: on a GET nothing (None, 200); on a POST ``submit_form``,
    then the ``done`` message and the ``then`` response (a redirect), or None and the status
    to render the page again with (the form then carries the errors)."""
    if request.method != "POST":
        return None, 200
    saved, status = submit_form(form, action)
    if saved is None:
        return None, status
    if done is not None:
        messages.success(request, done(saved))
    return then(saved), status


def service_error_text(error: ValidationError | ApplicationError) -> str:
    """A service's refusal as one line (for a flash message)."""
    if isinstance(error, ApplicationError):
        return error.message
    return " ".join(error.messages)


def call_service_or_flash(request: HttpRequest, action: Callable[[], T]) -> tuple[T | None, bool]:
    """Run a write: its result and True, or, refused, None and False with the refusal as an
    error message on the next page."""
    try:
        return action(), True
    except (ValidationError, ApplicationError) as error:
        messages.error(request, service_error_text(error))
        return None, False


def id_param(value: object) -> int | None:
    """An id from a request (a query or form parameter) as a primary key can hold it: 1 to 18
    digits, not zero; anything else (missing, malformed, too long) is None."""
    text = str(value or "")
    return int(text) or None if text.isdigit() and len(text) <= 18 else None


def next_url(request: HttpRequest, default: str) -> str:
    """Where a form asked to go back to, if it is on this site; else ``default``."""
    target = request.POST.get("next", "")
    # A path on this site only: anything else (a bare word) would be taken for a URL name.
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default
