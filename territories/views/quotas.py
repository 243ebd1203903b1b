"""Quota planning, one person's quota, and the company target allocation."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from salesmgmt.decorators import page_for, people_only
from salesmgmt.money import reporting_currency
from salesmgmt.page_actions import call_service, id_param
from salesmgmt.selectors import period_current, period_get
from salesmgmt.visibility import leads_people

from .. import selectors, services
from ..forms import AllocationForm, QuotaEditForm
from ..permissions import can_edit_quota_of, can_set_company_target
from .feedback import nav_flags


def _period(request: HttpRequest):
    raw = request.GET.get("period", "")
    # A malformed id is 0, which no period has: a 404 like an unknown one.
    return period_get(pk=id_param(raw) or 0) if raw else period_current()


@page_for(leads_people, "Quota planning serves the people who lead a team.")
def quota_plan(request: HttpRequest) -> HttpResponse:
    """The people the viewer sees, with quota, attainment and ramp state for a period."""
    period = _period(request)
    plan = selectors.quota_plan(viewer=request.user, period=period) if period else None
    context = {
        "period": period,
        "periods": selectors.period_choices(),
        "plan": plan,
        **nav_flags(request.user),
    }
    return render(request, "territories/quota_plan.html", context)


@people_only
@require_http_methods(["GET", "POST"])
def quota_edit(request: HttpRequest, period_id: int, user_id: int) -> HttpResponse:
    """One person's quota with its terms and audit history; their managers may edit it."""
    period = period_get(pk=period_id)
    person = selectors.person_get(viewer=request.user, pk=user_id)
    quota = selectors.quota_list(viewer=request.user, period=period).filter(user=person).first()
    can_edit = can_edit_quota_of(request.user, person)
    status = 200
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied("Only this person's managers set their quota.")
        form = QuotaEditForm(request.POST)
        # A refused form is shown again with its errors, as a 400 (409 for a stale version).
        status = 400
        if form.is_valid():
            saved, status = call_service(
                form,
                lambda: services.quota_update(
                    actor=request.user,
                    person=person,
                    period=period,
                    reason=form.cleaned_data["reason"],
                    expected_version=form.cleaned_data["version"],
                    **form.changes(),
                ),
            )
            if saved is not None:
                messages.success(request, f"Quota of {person} saved.")
                return redirect(f"{reverse('territories:quota_plan')}?period={period.pk}")
    else:
        form = QuotaEditForm(
            initial={
                "basis": quota.basis if quota else "components",
                "territory_quota": quota.territory_quota if quota else None,
                "assignment_share": quota.assignment_share if quota else Decimal(1),
                "manager_adjustment": quota.manager_adjustment if quota else Decimal(0),
                "amount": quota.amount if quota and quota.basis == "explicit" else None,
                "version": quota.version if quota else None,
            }
        )
    context = {
        "period": period,
        "person": person,
        "quota": quota,
        "attainment": selectors.attainment_for(user=person, period=period),
        "history": selectors.quota_history(quota=quota) if quota else [],
        "form": form if can_edit else None,
    }
    return render(request, "territories/quota_edit.html", context, status=status)


@people_only
@require_http_methods(["GET", "POST"])
def allocation(request: HttpRequest) -> HttpResponse:
    """Company target → method → preview (GET) → apply (POST)."""
    if not can_set_company_target(request.user):
        raise PermissionDenied("Only executives and admins allocate the company target.")
    data = request.POST if request.method == "POST" else (request.GET or None)
    form = AllocationForm(data)
    preview = None
    if form.is_valid():
        period, amount = form.cleaned_data["period"], form.cleaned_data["amount"]
        method = form.cleaned_data["method"]
        if request.method == "POST":
            allocated, _ = call_service(
                form,
                lambda: services.company_target_allocate(
                    actor=request.user,
                    period=period,
                    amount=amount,
                    method=method,
                    reason=form.cleaned_data["reason"],
                ),
            )
            if allocated is not None:
                messages.success(request, f"Allocated {amount} for {period}.")
                return redirect(f"{reverse('territories:quota_plan')}?period={period.pk}")
        else:
            preview, _ = call_service(
                form,
                lambda: selectors.allocation_preview(period=period, amount=amount, method=method),
            )
    context = {
        "form": form,
        "preview": preview,
        "currency": reporting_currency(),
        **nav_flags(request.user),
    }
    return render(request, "territories/allocation.html", context)
