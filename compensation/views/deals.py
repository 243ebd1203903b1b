"""A deal's credit page: splits, cancellation and the pay lines it produced."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts.selectors import SELLING_ROLES, opportunity_get
from salesmgmt.decorators import people_only
from salesmgmt.page_actions import call_service
from salesmgmt.visibility import manages, visible_users

from .. import selectors, services
from ..forms import (
    CancellationForm,
    CreditSplitForm,
)

# --- a deal's credit: splits and cancellation -------------------------------------------------


def _split_people(request: HttpRequest):
    return (
        visible_users(request.user)
        .filter(is_active=True, role__in=SELLING_ROLES, is_org_unit=False)
        .order_by("last_name", "first_name", "id")
    )


def _render_deal_credit(
    request: HttpRequest,
    deal,
    *,
    status: int = 200,
    split_form: CreditSplitForm | None = None,
    cancel_form: CancellationForm | None = None,
) -> HttpResponse:
    credit = selectors.deal_credit(viewer=request.user, opportunity=deal)
    if split_form is None:
        initial = {}
        for i, split in enumerate(credit.splits):
            initial[f"user_{i}"], initial[f"percent_{i}"] = split.user_id, split.percent
        split_form = CreditSplitForm(initial=initial, people=_split_people(request))
    context = {
        "deal": deal,
        "credit": credit,
        "can_edit": manages(request.user, deal.owner),
        "split_form": split_form,
        "cancel_form": cancel_form or CancellationForm(),
    }
    return render(request, "compensation/deal_credit.html", context, status=status)


@people_only
@require_GET
def deal_credit(request: HttpRequest, pk: int) -> HttpResponse:
    """Who is credited with a deal, its cancellation if any, and every pay line it produced."""
    return _render_deal_credit(request, opportunity_get(viewer=request.user, pk=pk))


@people_only
@require_POST
def deal_credit_splits(request: HttpRequest, pk: int) -> HttpResponse:
    deal = opportunity_get(viewer=request.user, pk=pk)
    form = CreditSplitForm(request.POST, people=_split_people(request))
    status = 400
    if form.is_valid():
        _, status = call_service(
            form,
            lambda: services.credit_splits_set(
                actor=request.user, opportunity=deal, splits=form.splits()
            ),
        )
    if status != 200:
        return _render_deal_credit(request, deal, status=status, split_form=form)
    messages.success(request, "Credit splits saved; the next payout run uses them.")
    return redirect("compensation:deal_credit", pk=deal.pk)


@people_only
@require_POST
def deal_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    deal = opportunity_get(viewer=request.user, pk=pk)
    form = CancellationForm(request.POST)
    status = 400
    if form.is_valid():
        _, status = call_service(
            form,
            lambda: services.deal_cancellation_record(
                actor=request.user, opportunity=deal, **form.cleaned_data
            ),
        )
    if status != 200:
        return _render_deal_credit(request, deal, status=status, cancel_form=form)
    messages.success(request, "Cancellation recorded; pay within the window is clawed back.")
    return redirect("compensation:deal_credit", pk=deal.pk)
