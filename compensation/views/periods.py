"""The period a compensation page shows: the ``?period=`` picker, else the latest."""

from __future__ import annotations

from django.http import HttpRequest

from salesmgmt.models import Period

from ..forms import PeriodForm


def period_from(request: HttpRequest) -> tuple[PeriodForm, Period | None]:
    form = PeriodForm(request.GET or None)
    period = form.cleaned_data.get("period") if form.is_valid() else None
    return form, period
