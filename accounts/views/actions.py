"""Actions (POST): a form, one service, a redirect; a refusal re-renders with 400/403/409."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from salesmgmt.decorators import people_only
from salesmgmt.errors import ConflictError
from salesmgmt.page_actions import call_service, next_url
from salesmgmt.visibility import manages, may_reassign

from .. import selectors, services
from ..forms import (
    ActivityLogForm,
    CloseLostForm,
    CloseWonForm,
    CompletionRejectForm,
    MilestoneCompleteForm,
    MilestoneUndoForm,
    OpportunityEditForm,
)
from ..models import Opportunity
from .pages import RowError, render_account_detail, render_opportunity_detail


@people_only
@require_POST
def opportunity_edit(request: HttpRequest, pk: int) -> HttpResponse:
    deal = selectors.opportunity_get(viewer=request.user, pk=pk)
    form = OpportunityEditForm(
        request.POST, can_reassign=may_reassign(request.user, deal.owner), auto_id="edit-%s"
    )
    status = 400
    if form.is_valid():
        changes = {k: v for k, v in form.cleaned_data.items() if k != "owner" or v is not None}
        if "lead_source" not in request.POST:
            # Older forms (and quick edits) do not post it: leave the deal's source alone.
            changes.pop("lead_source", None)
        expected_version = changes.pop("expected_version")
        updated, status = call_service(
            form,
            lambda: services.opportunity_update(
                actor=request.user, opportunity=deal, expected_version=expected_version, **changes
            ),
        )
        if updated is not None:
            messages.success(request, f"Saved {updated}.")
            return redirect(next_url(request, reverse("accounts:opportunity_detail", args=[pk])))
        if status == ConflictError.status_code:
            # Keep what the person typed, now based on the current version: saving again is a
            # deliberate overwrite after seeing the current values above the form.
            form.data = form.data.copy()
            form.data["expected_version"] = str(deal.version)
            form.add_error(
                None,
                "Your changes are kept below. Check the current details at the top of the page, "
                "then save again to apply them.",
            )
    return render_opportunity_detail(request, deal, status=status, edit_form=form)


def _close_deal(
    request: HttpRequest,
    pk: int,
    make_form: Callable[[Opportunity], forms.Form],
    prefix: str,
    close: Callable[..., object],
    done_message: str,
) -> HttpResponse:
    """Close won or lost: the form's cleaned data goes to ``close`` as keyword arguments."""
    deal = selectors.opportunity_get(viewer=request.user, pk=pk)
    form = make_form(deal)
    status = 400
    if form.is_valid():
        closed, status = call_service(
            form, lambda: close(actor=request.user, opportunity=deal, **form.cleaned_data)
        )
        if closed is not None:
            messages.success(request, done_message.format(deal=closed))
            return redirect("accounts:opportunity_detail", pk=pk)
    return render_opportunity_detail(request, deal, status=status, **{f"close_{prefix}_form": form})


@people_only
@require_POST
def opportunity_close_won(request: HttpRequest, pk: int) -> HttpResponse:
    return _close_deal(
        request,
        pk,
        # The override reason is offered to the owner's managers only (the service's rule).
        lambda deal: CloseWonForm(
            request.POST, auto_id="won-%s", can_override=manages(request.user, deal.owner)
        ),
        "won",
        services.opportunity_close_won,
        "{deal} is closed won. Well done!",
    )


@people_only
@require_POST
def opportunity_close_lost(request: HttpRequest, pk: int) -> HttpResponse:
    return _close_deal(
        request,
        pk,
        lambda deal: CloseLostForm(request.POST, auto_id="lost-%s"),
        "lost",
        services.opportunity_close_lost,
        "{deal} is closed lost.",
    )


@people_only
@require_POST
def milestone_complete(request: HttpRequest, pk: int, milestone_id: int) -> HttpResponse:
    deal = selectors.opportunity_get(viewer=request.user, pk=pk)
    milestone = selectors.milestone_get(opportunity=deal, pk=milestone_id)
    form = MilestoneCompleteForm(request.POST)
    status = 400
    if form.is_valid():
        record, status = call_service(
            form,
            lambda: services.milestone_complete(
                actor=request.user,
                opportunity=deal,
                milestone=milestone,
                evidence=form.cleaned_data["evidence"],
                note=form.cleaned_data["note"],
            ),
        )
        if record is not None:
            pending = record.verification_state == record.Verification.PENDING
            messages.success(
                request,
                f"“{milestone}” completed"
                + (" — waiting for your manager to verify it." if pending else "."),
            )
            return redirect(next_url(request, reverse("accounts:opportunity_detail", args=[pk])))
    row_error = RowError(action="complete", target=milestone.pk, form=form, label=str(milestone))
    return render_opportunity_detail(request, deal, status=status, row_error=row_error)


@people_only
@require_POST
def milestone_undo(request: HttpRequest, pk: int, milestone_id: int) -> HttpResponse:
    deal = selectors.opportunity_get(viewer=request.user, pk=pk)
    milestone = selectors.milestone_get(opportunity=deal, pk=milestone_id)
    form = MilestoneUndoForm(request.POST)
    status = 400
    if form.is_valid():
        record, status = call_service(
            form,
            lambda: services.milestone_undo(
                actor=request.user,
                opportunity=deal,
                milestone=milestone,
                note=form.cleaned_data["note"],
            ),
        )
        if record is not None:
            messages.success(request, f"“{milestone}” is no longer complete.")
            return redirect(next_url(request, reverse("accounts:opportunity_detail", args=[pk])))
    row_error = RowError(action="undo", target=milestone.pk, form=form, label=str(milestone))
    return render_opportunity_detail(request, deal, status=status, row_error=row_error)


@people_only
@require_POST
def completion_verify(request: HttpRequest, pk: int) -> HttpResponse:
    completion = selectors.completion_get(viewer=request.user, pk=pk)
    form = forms.Form(request.POST)
    verified, status = call_service(
        form, lambda: services.milestone_verify(actor=request.user, completion=completion)
    )
    deal_url = reverse("accounts:opportunity_detail", args=[completion.opportunity_id])
    if verified is not None:
        messages.success(request, f"Verified “{completion.milestone}” on {completion.opportunity}.")
        return redirect(next_url(request, deal_url))
    deal = selectors.opportunity_get(viewer=request.user, pk=completion.opportunity_id)
    row_error = RowError(
        action="review", target=completion.pk, form=form, label=str(completion.milestone)
    )
    return render_opportunity_detail(request, deal, status=status, row_error=row_error)


@people_only
@require_POST
def completion_reject(request: HttpRequest, pk: int) -> HttpResponse:
    completion = selectors.completion_get(viewer=request.user, pk=pk)
    form = CompletionRejectForm(request.POST)
    status = 400
    if form.is_valid():
        rejected, status = call_service(
            form,
            lambda: services.milestone_reject(
                actor=request.user, completion=completion, reason=form.cleaned_data["reason"]
            ),
        )
        if rejected is not None:
            messages.success(
                request, f"Sent “{completion.milestone}” back to {completion.completed_by}."
            )
            deal_url = reverse("accounts:opportunity_detail", args=[completion.opportunity_id])
            return redirect(next_url(request, deal_url))
    deal = selectors.opportunity_get(viewer=request.user, pk=completion.opportunity_id)
    row_error = RowError(
        action="review", target=completion.pk, form=form, label=str(completion.milestone)
    )
    return render_opportunity_detail(request, deal, status=status, row_error=row_error)


@people_only
@require_POST
def activity_log(request: HttpRequest) -> HttpResponse:
    """Log an activity on a deal or an account; a refusal shows on that record's page."""
    viewer = request.user
    form = ActivityLogForm(request.POST, auto_id="log-%s")
    is_valid = form.is_valid()
    # Resolve the records first: one the viewer cannot see is a 404 whatever else was sent.
    deal_id, account_id = form.cleaned_data.get("opportunity"), form.cleaned_data.get("account")
    deal = selectors.opportunity_get(viewer=viewer, pk=deal_id) if deal_id else None
    account = selectors.account_get(viewer=viewer, pk=account_id) if account_id else None
    # The milestone the call advanced: one of the deal's process, else an error on the field.
    milestone_id = form.cleaned_data.get("milestone")
    milestone = selectors.milestone_of(opportunity=deal, pk=milestone_id) if milestone_id else None
    if milestone_id and milestone is None:
        form.add_error("milestone", "Choose one of this opportunity's milestones.")
        is_valid = False
    status = 400
    if is_valid:
        data = form.cleaned_data
        activity, status = call_service(
            form,
            lambda: services.activity_log(
                actor=viewer,
                kind=data["kind"],
                account=account,
                opportunity=deal,
                milestone=milestone,
                outcome=data["outcome"],
                notes=data["notes"],
                next_step=data["next_step"],
                duration_minutes=data["duration_minutes"] or 0,
            ),
        )
        if activity is not None:
            against = f" against “{milestone}”" if milestone else ""
            messages.success(
                request,
                f"{activity.get_kind_display()} logged on {deal or activity.account}{against}.",
            )
            default = (
                reverse("accounts:opportunity_detail", args=[deal.pk])
                if deal
                else reverse("accounts:account_detail", args=[activity.account_id])
            )
            return redirect(next_url(request, default))
    if account is not None:
        return render_account_detail(request, account, status=status, log_form=form)
    if deal is not None:
        return render_opportunity_detail(request, deal, status=status, log_form=form)
    messages.error(request, " ".join(form.non_field_errors()) or "Choose a record to log on.")
    return redirect("accounts:rep_home")
