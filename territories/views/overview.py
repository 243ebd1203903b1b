"""The territory overview (read from the planning snapshot) and the pages that move accounts."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from salesmgmt.charts import figure_html
from salesmgmt.decorators import page_for, people_only
from salesmgmt.money import reporting_currency
from salesmgmt.page_actions import call_service_or_flash
from salesmgmt.visibility import leads_people

from .. import charts, selectors, services
from ..forms import ApplyMovesForm, ApplyProposalForm, BandForm, RecomputeForm
from ..permissions import can_plan_assignments
from .feedback import nav_flags

COVERAGE_ROWS = 50


def _band(request: HttpRequest) -> Decimal | None:
    """The band from ?band=<percent>, or None for the configured default."""
    form = BandForm(request.GET)
    if form.is_valid() and form.cleaned_data["band"] is not None:
        return form.cleaned_data["band"] / 100
    return None


def _percent(fraction: Decimal) -> Decimal:
    """0.1 → 10.0, as the band fields show it."""
    return (fraction * 100).quantize(Decimal("0.1"))


@page_for(leads_people, "Territories serve the people who lead a team.")
def overview(request: HttpRequest) -> HttpResponse:
    """The hierarchy and rules, with the precomputed balance, coverage and rebalancing.

    Balance, coverage and the rebalancing scan every account, so they are read from the
    latest planning snapshot (services.planning) rather than computed here.
    """
    viewer = request.user
    band = _band(request)
    snapshot = selectors.latest_snapshot()
    balance = coverage = stored = None
    if snapshot is not None:
        balance = selectors.stored_balance(viewer=viewer, snapshot=snapshot, band=band)
        coverage = selectors.stored_coverage(viewer=viewer, snapshot=snapshot, limit=COVERAGE_ROWS)
        stored = selectors.proposal_for(actor=viewer, snapshot=snapshot)
    default_band = snapshot.band if snapshot is not None else selectors.balance_band()
    shown_band = band if band is not None else default_band
    has_chart = balance is not None and bool(len(balance.table))
    # The weekly monitor's rows (until now only in the admin), as a trend.
    trend = selectors.balance_trend(viewer=viewer)
    trend_chart = figure_html(charts.balance_trend_figure(trend.rows)) if len(trend.rows) else ""
    context = {
        "snapshot": snapshot,
        "tree": selectors.territory_tree(viewer=viewer),
        "rules": selectors.rule_table(viewer=viewer),
        "balance": balance,
        "chart": (
            figure_html(charts.balance_figure(balance.table, currency=reporting_currency()))
            if has_chart
            else ""
        ),
        "uses_charts": has_chart or bool(trend_chart),
        "trend": trend,
        "trend_chart": trend_chart,
        "coverage": coverage,
        "gaps": coverage.gaps if coverage else [],
        "overlaps": coverage.overlaps if coverage else [],
        "proposal": stored,
        "plan": stored.plan if stored else None,
        "band_percent": shown_band * 100,
        "plan_band_percent": default_band * 100,
        "band_form": BandForm(initial={"band": _percent(shown_band)}),
        "apply_form": ApplyProposalForm(
            initial={"proposal": stored.proposal.pk, "fingerprint": stored.plan.fingerprint}
        )
        if stored and stored.is_current
        else None,
        "recompute_form": RecomputeForm(initial={"band": _percent(shown_band)})
        if can_plan_assignments(viewer)
        else None,
        "currency": reporting_currency(),
        **nav_flags(viewer),
    }
    return render(request, "territories/overview.html", context)


@people_only
@require_POST
def planning_recompute(request: HttpRequest) -> HttpResponse:
    """Recompute now: queue a fresh planning snapshot, optionally for another band."""
    if not can_plan_assignments(request.user):
        raise PermissionDenied("Only managers, executives and admins recompute the plan.")
    form = RecomputeForm(request.POST)
    target = reverse("territories:overview")
    if not form.is_valid():
        messages.error(request, "Give a band between 1 and 100 percent.")
        return redirect(target)
    band = form.cleaned_data["band"]
    _, done = call_service_or_flash(
        request,
        lambda: services.planning_refresh_request(
            actor=request.user, band=band / 100 if band is not None else None
        ),
    )
    if done:
        messages.success(
            request, "Recomputing balance, coverage and rebalancing; reload in a minute."
        )
    return redirect(target)


@people_only
@require_POST
def rebalance_apply(request: HttpRequest) -> HttpResponse:
    """Apply the stored rebalancing proposal shown on the overview, as it was shown."""
    if not can_plan_assignments(request.user):
        raise PermissionDenied("Only managers, executives and admins rebalance territories.")
    form = ApplyProposalForm(request.POST)
    target = reverse("territories:overview")
    if not form.is_valid():
        messages.error(request, "The rebalancing form was incomplete; look at the proposal again.")
        return redirect(target)
    run, _ = call_service_or_flash(
        request,
        lambda: services.rebalance_proposal_apply(
            actor=request.user,
            proposal_id=form.cleaned_data["proposal"],
            expected_fingerprint=form.cleaned_data["fingerprint"],
            move_open_opportunities=form.cleaned_data["move_open_opportunities"],
        ),
    )
    if run is not None:
        messages.success(request, f"Rebalanced: {run.moved_count} accounts moved.")
    return redirect(target)


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
        **nav_flags(request.user),
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
    run, _ = call_service_or_flash(
        request,
        lambda: services.assignment_apply(
            actor=request.user,
            include_pinned=form.cleaned_data["include_pinned"],
            move_open_opportunities=form.cleaned_data["move_open_opportunities"],
            expected_fingerprint=form.cleaned_data["fingerprint"],
        ),
    )
    if run is None:
        return redirect("territories:assignment_preview")
    messages.success(
        request,
        f"Applied the rules: {run.moved_count} accounts and "
        f"{run.opportunities_moved_count} open opportunities moved.",
    )
    return redirect("territories:overview")
