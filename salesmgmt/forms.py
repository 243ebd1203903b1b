"""Forms of the core pages (log-in, two-factor codes, API tokens, company settings) and
shared fields."""

from __future__ import annotations

import calendar
from typing import TYPE_CHECKING, Any

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.forms.renderers import Jinja2

from . import security
from .models import ApiToken, WeekStart
from .money import money_field_options

# The pages' forms render Django's own form templates compiled by Jinja2 (django/forms/jinja2,
# the same markup as the Django-template set): with Django templates each field took five to
# seven template renders (field, label, its empty error list twice, widget, attributes, one
# per <option>), about a fifth of the deal page's CPU (issue 21's load). The admin keeps the
# default renderer (its widgets have Django templates only).
PAGE_FORM_RENDERER = Jinja2()

# Largest value of an integer column (PostgreSQL ``integer``): versions, counts, priorities.
MAX_INTEGER = 2**31 - 1
# Largest id (``bigint``).
MAX_ID = 2**63 - 1


class MoneyField(forms.DecimalField):
    """An entered amount in the one money range (salesmgmt.money): cents, at most MONEY_MAX.

    Zero or more unless ``signed``; ``min_value`` may raise the floor (e.g. 0.01).
    """

    def __init__(self, *, signed: bool = False, **kwargs) -> None:
        super().__init__(**money_field_options(signed=signed, **kwargs))


if TYPE_CHECKING:
    # The mixin's self and super() are a log-in form's, which it always comes before.
    _LoginFormBase = AuthenticationForm
else:
    _LoginFormBase = object


class ThrottledLoginFormMixin(_LoginFormBase):
    """Refuses a username+IP locked out by salesmgmt.security; counts failures, clears on success.

    The lockout is checked before the password, so a right password during a lockout fails too.
    """

    locked_message = "Too many failed log-ins for this username. Try again in {minutes} minutes."

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username") or ""
        if self.request is None:
            raise ImproperlyConfigured("The log-in throttle needs the request (its client IP).")
        ip = security.client_ip(self.request)
        if username and security.login_is_locked(username=username, ip=ip):
            raise self._locked_error()
        try:
            cleaned_data = super().clean()
        except ValidationError:
            if username and security.login_failed(username=username, ip=ip):
                raise self._locked_error() from None
            raise
        if username:
            # Only the password counter: wrong second-factor codes keep counting until the
            # person is fully logged in (salesmgmt.two_factor.complete_login).
            security.login_succeeded(username=username, ip=ip, factors=(security.FIRST_FACTOR,))
        return cleaned_data

    def _locked_error(self) -> ValidationError:
        minutes = max(1, settings.LOGIN_LOCKOUT_SECONDS // 60)
        return ValidationError(self.locked_message.format(minutes=minutes), code="locked")


class ThrottledAuthenticationForm(ThrottledLoginFormMixin, AuthenticationForm):
    pass


class ThrottledAdminAuthenticationForm(ThrottledLoginFormMixin, AdminAuthenticationForm):
    pass


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=80, help_text="What the token is for, e.g. “BI export”.")
    scope = forms.ChoiceField(choices=ApiToken.Scope.choices, initial=ApiToken.Scope.READ)


class TwoFactorCodeForm(forms.Form):
    """A 6-digit code from the authenticator app, or (where allowed) a recovery code."""

    code = forms.CharField(
        label="Code",
        max_length=32,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


MONTH_CHOICES = [(number, calendar.month_name[number]) for number in range(1, 13)]


class CompanySettingsForm(forms.Form):
    """The company settings page (parse only; ``services.company_settings_update`` decides)."""

    name = forms.CharField(max_length=120, help_text="Shown on the pages and statements.")
    reporting_currency = forms.CharField(
        min_length=3,
        max_length=3,
        help_text="ISO 4217 code (e.g. USD, EUR): every total is converted into it.",
    )
    fiscal_year_start_month = forms.TypedChoiceField(
        choices=MONTH_CHOICES,
        coerce=int,
        help_text="Fiscal years are named by the calendar year they end in.",
    )
    time_zone = forms.CharField(
        max_length=64, help_text="An IANA time zone name, e.g. Europe/Berlin or America/Chicago."
    )
    week_start = forms.ChoiceField(choices=WeekStart.choices)


class PeriodsGenerateForm(forms.Form):
    """Generate fiscal years FY``first_year`` to FY``last_year`` (with quarters and months)."""

    first_year = forms.IntegerField(min_value=1900, max_value=2200, label="From fiscal year")
    last_year = forms.IntegerField(min_value=1900, max_value=2200, label="To fiscal year")
