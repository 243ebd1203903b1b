"""The page helpers every view runs its writes through (salesmgmt.page_actions)."""

from __future__ import annotations

import pytest
from django import forms
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.core.exceptions import ValidationError

from salesmgmt.errors import ConflictError
from salesmgmt.page_actions import call_service, call_service_or_flash, id_param, submit_form


class NameForm(forms.Form):
    name = forms.CharField()


def refuse(error: Exception):
    def action():
        raise error

    return action


@pytest.mark.parametrize(
    ("value", "expected"),
    [("12", 12), (7, 7), ("", None), (None, None), ("0", None), ("-3", None), ("1e3", None),
     ("9" * 18, int("9" * 18)), ("1" * 19, None)],
)  # fmt: skip
def test_id_param_keeps_what_a_primary_key_can_hold(value, expected):
    assert id_param(value) == expected


def test_call_service_puts_a_refusal_on_the_form_with_its_status():
    form = NameForm({"name": "x"})
    assert form.is_valid()

    assert call_service(form, lambda: "saved") == ("saved", 200)
    result = call_service(form, refuse(ValidationError({"name": "Taken.", "other": "Bad."})))
    assert result == (None, 400)
    assert form.errors == {"name": ["Taken."], "__all__": ["Bad."]}
    assert call_service(form, refuse(ConflictError("Changed meanwhile."))) == (None, 409)
    assert "Changed meanwhile." in form.non_field_errors()


def test_submit_form_refuses_an_invalid_form_without_running_the_write():
    ran: list[str] = []

    invalid = NameForm({"name": ""})
    assert submit_form(invalid, lambda: ran.append("write")) == (None, 400)
    assert ran == []
    assert "name" in invalid.errors

    valid = NameForm({"name": "x"})
    assert submit_form(valid, lambda: valid.cleaned_data["name"]) == ("x", 200)
    assert submit_form(valid, refuse(ConflictError("Changed meanwhile."))) == (None, 409)


def test_call_service_or_flash_shows_a_refusal_on_the_next_page(rf):
    request = rf.post("/")
    request.session = SessionStore()
    request._messages = FallbackStorage(request)

    assert call_service_or_flash(request, lambda: None) == (None, True)
    assert call_service_or_flash(request, refuse(ValidationError(["One.", "Two."]))) == (
        None,
        False,
    )
    assert call_service_or_flash(request, refuse(ConflictError("Changed."))) == (None, False)
    assert [str(m) for m in get_messages(request)] == ["One. Two.", "Changed."]
