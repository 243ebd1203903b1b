"""Territory and quota pages: parse, call a selector or service, render."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from salesmgmt.decorators import people_only
from salesmgmt.errors import ApplicationError
from salesmgmt.money import reporting_currency

from . import charts, selectors, services
from .forms import AllocationForm, ApplyMovesForm, BandForm, QuotaEditForm
from .permissions import can_edit_quota_of, can_plan_assignments, can_set_company_target

COVERAGE_ROWS = 50


def _error_text(error: Exception) -> str:
    if isinstance(error, ApplicationError):
        return error.message
    return " ".join(error.messages)


def _add_errors(form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form, next to the field it names."""
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


def _nav_flags(user) -> dict[str, bool]:
    return {"can_plan": can_plan_assignments(user), "can_allocate": can_set_company_target(user)}


def _band(request: HttpRequest) -> Decimal | None:
    """The band from ?band=<percent>, or None for the configured default."""
    form = BandForm(request.GET)
    if form.is_valid() and form.cleaned_data["band"] is not None:
        return form.cleaned_data["band"] / 100
    return None


@people_only
def overview(request: HttpRequest) -> HttpResponse:
    """The hierarchy, rules, balance with its chart, coverage problems and a rebalancing."""
    viewer = request.user
    band = _band(request)
    balance = selectors.territory_balance(viewer=viewer, band=band)
    coverage = selectors.coverage_report(viewer=viewer)
    plan = None
    if can_plan_assignments(viewer):
        plan = selectors.rebalance_preview(actor=viewer, band=band)
    context = {
        "tree": selectors.territory_tree(viewer=viewer),
        "rules": selectors.rule_list(viewer=viewer),
        "balance": balance,
        "chart": (
            charts.to_html(charts.balance_figure(balance.table, currency=reporting_currency()))
            if len(balance.table)
            else ""
        ),
        "uses_charts": bool(len(balance.table)),
        "coverage": coverage,
        "gaps": coverage.gaps[:COVERAGE_ROWS],
        "overlaps": coverage.overlaps[:COVERAGE_ROWS],
        "plan": plan,
        "band_percent": (band if band is not None else selectors.balance_band()) * 100,
        "band_form": BandForm(initial={"band": (band or selectors.balance_band()) * 100}),
        "apply_form": ApplyMovesForm(
            initial={"fingerprint": plan.fingerprint, "band": plan.band * 100}
        )
        if plan
        else None,
        "currency": reporting_currency(),
        **_nav_flags(viewer),
    }
    return render(request, "territories/overview.html", context)


@people_only
@require_POST
def rebalance_apply(request: HttpRequest) -> HttpResponse:
    if not can_plan_assignments(request.user):
        raise PermissionDenied("Only managers, executives and admins rebalance territories.")
    form = ApplyMovesForm(request.POST)
    target = reverse("territories:overview")
    if not form.is_valid():
        messages.error(request, "The rebalancing form was incomplete; preview again.")
        return redirect(target)
    band = form.cleaned_data["band"]
    try:
        run = services.rebalance_apply(
            actor=request.user,
            band=band / 100 if band is not None else None,
            move_open_opportunities=form.cleaned_data["move_open_opportunities"],
            expected_fingerprint=form.cleaned_data["fingerprint"],
        )
    except (ValidationError, ApplicationError) as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, f"Rebalanced: {run.moved_count} accounts moved.")
    return redirect(target + (f"?band={band}" if band is not None else ""))


@people_only
def assignment_preview(request: HttpRequest) -> HttpResponse:
    """What applying the rules would move; managers and above may apply it."""
    if not can_plan_assignments(request.user):
        raise PermissionDenied("Only managers, executives and admins move accounts.")
    include_pinned = request.GET.get("include_pinned") == "1"
    plan = selectors.assignment_preview(actor=request.user, include_pinned=include_pinned)
    form = ApplyMovesForm(
        initial={"fingerprint": plan.fingerprint, "include_pinned": include_pinned}
    )
    context = {
        "plan": plan,
        "form": form,
        "include_pinned": include_pinned,
        **_nav_flags(request.user),
    }
    return render(request, "territories/assignment_preview.html", context)


@people_only
@require_POST
def assignment_apply(request: HttpRequest) -> HttpResponse:
    if not can_plan_assignments(request.user):
        raise PermissionDenied("Only managers, executives and admins move accounts.")
    form = ApplyMovesForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The form was incomplete; preview again.")
        return redirect("territories:assignment_preview")
    try:
        run = services.assignment_apply(
            actor=request.user,
            include_pinned=form.cleaned_data["include_pinned"],
            move_open_opportunities=form.cleaned_data["move_open_opportunities"],
            expected_fingerprint=form.cleaned_data["fingerprint"],
        )
    except (ValidationError, ApplicationError) as error:
        messages.error(request, _error_text(error))
        return redirect("territories:assignment_preview")
    messages.success(
        request,
        f"Applied the rules: {run.moved_count} accounts and "
        f"{run.opportunities_moved_count} open opportunities moved.",
    )
    return redirect("territories:overview")


def _period(request: HttpRequest):
    raw = request.GET.get("period", "")
    if raw:
        if not raw.isdigit():
            raise Http404("No such period.")
        return selectors.period_get(pk=int(raw))
    return selectors.default_period()


@people_only
def quota_plan(request: HttpRequest) -> HttpResponse:
    """The people the viewer sees, with quota, attainment and ramp state for a period."""
    period = _period(request)
    plan = selectors.quota_plan(viewer=request.user, period=period) if period else None
    context = {
        "period": period,
        "periods": selectors.period_choices(),
        "plan": plan,
        **_nav_flags(request.user),
    }
    return render(request, "territories/quota_plan.html", context)


@people_only
@require_http_methods(["GET", "POST"])
def quota_edit(request: HttpRequest, period_id: int, user_id: int) -> HttpResponse:
    """One person's quota with its terms and audit history; their managers may edit it."""
    period = selectors.period_get(pk=period_id)
    person = selectors.person_get(viewer=request.user, pk=user_id)
    quota = selectors.quota_list(viewer=request.user, period=period).filter(user=person).first()
    can_edit = can_edit_quota_of(request.user, person)
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied("Only this person's managers set their quota.")
        form = QuotaEditForm(request.POST)
        if form.is_valid():
            try:
                services.quota_update(
                    actor=request.user,
                    person=person,
                    period=period,
                    reason=form.cleaned_data["reason"],
                    expected_version=form.cleaned_data["version"],
                    **form.changes(),
                )
            except ValidationError as error:
                _add_errors(form, error)
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
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
    return render(request, "territories/quota_edit.html", context)


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
        try:
            if request.method == "POST":
                services.company_target_allocate(
                    actor=request.user,
                    period=period,
                    amount=amount,
                    method=method,
                    reason=form.cleaned_data["reason"],
                )
                messages.success(request, f"Allocated {amount} for {period}.")
                return redirect(f"{reverse('territories:quota_plan')}?period={period.pk}")
            preview = selectors.allocation_preview(period=period, amount=amount, method=method)
        except (ValidationError, ApplicationError) as error:
            form.add_error(None, _error_text(error))
    context = {
        "form": form,
        "preview": preview,
        "currency": reporting_currency(),
        **_nav_flags(request.user),
    }
    return render(request, "territories/allocation.html", context)
