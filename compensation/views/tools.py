"""The what-if calculator, the plans list and the payroll export."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from salesmgmt.decorators import people_only
from salesmgmt.models import Role
from salesmgmt.page_actions import call_service
from salesmgmt.selectors import period_current, period_get

from .. import selectors
from ..forms import WhatIfForm
from ..models import LINE_KIND_CHOICES
from ..payroll import payroll_csv, payroll_filename
from .periods import period_from

PAYROLL_ROLES = (Role.MANAGER, Role.EXECUTIVE, Role.ADMIN)


# --- what-if, plans, payroll ------------------------------------------------------------------


@people_only
def whatif(request: HttpRequest) -> HttpResponse:
    """What the rep's payout becomes if they also close some deals (the payout engine)."""
    data = request.POST if request.method == "POST" else None
    initial = {"period": period_current()}
    form = WhatIfForm(data, initial=initial)
    result = base = None
    status = 200
    if data is not None and form.is_valid():
        period = form.cleaned_data["period"]
        deals = [
            selectors.HypotheticalDeal(name=name, amount=amount, closed_on=day, is_new_logo=logo)
            for name, amount, day, logo in form.deals()
        ]
        both, status = call_service(
            form,
            lambda: (
                selectors.whatif(rep=request.user, period=period),
                selectors.whatif(rep=request.user, period=period, deals=deals),
            ),
        )
        base, result = both or (None, None)
    elif data is not None:
        status = 400
    labels = dict(LINE_KIND_CHOICES)
    rows = [(labels[line.kind], line) for line in result.lines] if result else []
    context = {"form": form, "result": result, "base": base, "rows": rows}
    return render(request, "compensation/whatif.html", context, status=status)


@people_only
@require_GET
def plan_list(request: HttpRequest) -> HttpResponse:
    return render(request, "compensation/plan_list.html", {"plans": list(selectors.plan_list())})


def _ensure_payroll(request: HttpRequest) -> None:
    if not (request.user.is_superuser or request.user.role in PAYROLL_ROLES):
        raise PermissionDenied("The payroll export is for managers, executives and admins.")


@people_only
@require_GET
def payroll(request: HttpRequest) -> HttpResponse:
    _ensure_payroll(request)
    period_form, period = period_from(request)
    period = period or period_current()
    rows = selectors.payroll_rows(viewer=request.user, period=period) if period else []
    context = {"period_form": period_form, "period": period, "rows": rows}
    return render(request, "compensation/payroll.html", context)


@people_only
@require_GET
def payroll_download(request: HttpRequest, period_id: int) -> HttpResponse:
    _ensure_payroll(request)
    period = period_get(pk=period_id)
    rows = selectors.payroll_rows(viewer=request.user, period=period)
    response = HttpResponse(payroll_csv(period=period, rows=rows), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{payroll_filename(period)}"'
    return response
