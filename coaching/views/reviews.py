"""Standardized account reviews: start one, walk through it, record scores and the plan."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from accounts import selectors as account_selectors
from salesmgmt.decorators import people_only
from salesmgmt.page_actions import call_service, call_service_or_flash, next_url
from salesmgmt.selectors import user_list
from salesmgmt.visibility import manages

from .. import selectors, services
from ..forms import (
    ActionItemForm,
    CompetitorForm,
    NegotiationForm,
    ProofForm,
    ReviewCreateForm,
    ReviewNotesForm,
    ScoreForm,
)
from ..models import AccountReview, EvidenceState
from ..selectors.reviews import CriterionRow
from .common import empty_form, int_param, is_htmx, post_id

RECENT_REVIEWS = 25


def _review_url(review: AccountReview, anchor: str = "") -> str:
    url = reverse("coaching:review_detail", args=[review.pk])
    return f"{url}#{anchor}" if anchor else url


def render_review(
    request: HttpRequest, review: AccountReview, *, status: int = 200, **forms
) -> HttpResponse:
    """The review page; a refused action passes its bound form to show the errors."""
    viewer = request.user
    page = selectors.review_page(viewer=viewer, review=review)
    attendees = list(review.attendees.all())
    action_form = forms.get("action_form") or ActionItemForm(
        initial={"owner": review.account.owner_id, "due_on": timezone.localdate()}
    )
    action_form.set_people(attendees)
    if status >= 400:
        messages.error(request, "Nothing was saved. See the highlighted form below.")
    context = {
        "review": review,
        "page": page,
        "attendees": attendees,
        "can_validate": {d.deal.pk for d in page.deals if manages(viewer, d.deal.owner)},
        "notes_form": forms.get("notes_form") or ReviewNotesForm(initial={"notes": review.notes}),
        "can_edit_notes": services.may_edit_review(viewer, review),
        "notes_history": selectors.review_notes_history(review=review),
        "action_form": action_form,
        "failed": forms.get("failed"),
        "competitor_form": CompetitorForm(),
        "proof_form": ProofForm(),
        "negotiation_form": NegotiationForm(),
        "states": EvidenceState,
        "today": timezone.localdate(),
    }
    return render(request, "coaching/review_detail.html", context, status=status)


@people_only
@require_safe
def review_list(request: HttpRequest) -> HttpResponse:
    """Recent reviews, and a form to start one for an account the viewer sees."""
    viewer = request.user
    account_id = int_param(request, "account")
    account = account_selectors.account_get(viewer=viewer, pk=account_id) if account_id else None
    form = None
    if account is not None:
        form = ReviewCreateForm(
            initial={"account": account.pk, "held_on": timezone.localdate()},
        )
        form.set_people(user_list(viewer=viewer))
    context = {
        "reviews": selectors.review_list(viewer=viewer, account=account)[:RECENT_REVIEWS],
        "account": account,
        "form": form,
        "accounts": account_selectors.account_list(viewer=viewer)[:200],
    }
    return render(request, "coaching/review_list.html", context)


@people_only
@require_POST
def review_create(request: HttpRequest) -> HttpResponse:
    viewer = request.user
    form = ReviewCreateForm(request.POST)
    form.set_people(user_list(viewer=viewer))
    account = account_selectors.account_get(viewer=viewer, pk=post_id(request, "account"))
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        review, status = call_service(
            form,
            lambda: services.review_create(
                actor=viewer,
                account=account,
                held_on=data["held_on"],
                attendees=data["attendees"],
                notes=data["notes"],
                template=data["template"],
            ),
        )
        if review is not None:
            messages.success(request, f"Review of {account} started.")
            return redirect(_review_url(review))
    context = {
        "reviews": selectors.review_list(viewer=viewer, account=account)[:RECENT_REVIEWS],
        "account": account,
        "form": form,
        "accounts": account_selectors.account_list(viewer=viewer)[:200],
    }
    return render(request, "coaching/review_list.html", context, status=status)


@people_only
@require_safe
def review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    review = selectors.review_get(viewer=request.user, pk=pk)
    return render_review(request, review)


@people_only
@require_POST
def review_notes(request: HttpRequest, pk: int) -> HttpResponse:
    review = selectors.review_get(viewer=request.user, pk=pk)
    form = ReviewNotesForm(request.POST)
    status = 400
    if form.is_valid():
        saved, status = call_service(
            form,
            lambda: services.review_update(
                actor=request.user, review=review, notes=form.cleaned_data["notes"]
            ),
        )
        if saved is not None:
            messages.success(request, "Notes saved.")
            return redirect(_review_url(review, "record"))
    return render_review(request, review, status=status, notes_form=form)


def _score_fragment(request, review, deal, criterion, score, form=None, status=200):
    context = {
        "review": review,
        "deal": deal,
        "row": CriterionRow(criterion, score),
        "can_validate": {deal.pk} if manages(request.user, deal.owner) else set(),
        "form": form,
        "states": EvidenceState,
    }
    return render(request, "coaching/review_detail_score.html", context, status=status)


@people_only
@require_POST
def score_save(request: HttpRequest, pk: int, deal_id: int, criterion_id: int) -> HttpResponse:
    """Rate a criterion with a note (HTMX swaps the row; without JS, back to the page)."""
    review = selectors.review_get(viewer=request.user, pk=pk)
    deal = selectors.review_opportunity_get(viewer=request.user, review=review, pk=deal_id)
    criterion = selectors.criterion_get(template=review.template, pk=criterion_id)
    form = ScoreForm(request.POST)
    score, status = None, 400
    if form.is_valid():
        score, status = call_service(
            form,
            lambda: services.score_record(
                actor=request.user,
                opportunity=deal,
                criterion=criterion,
                rating=form.cleaned_data["rating"],
                note=form.cleaned_data["note"],
                review=review,
            ),
        )
    if is_htmx(request):
        existing = score or deal.qualification_scores.filter(criterion=criterion).first()
        return _score_fragment(
            request, review, deal, criterion, existing, None if score else form, status
        )
    if score is not None:
        messages.success(request, f"Saved “{criterion}” for {deal}.")
        return redirect(_review_url(review, f"deal-{deal.pk}"))
    messages.error(request, " ".join(m for errs in form.errors.values() for m in errs))
    return redirect(_review_url(review, f"deal-{deal.pk}"))


@people_only
@require_POST
def score_validate(request: HttpRequest, pk: int) -> HttpResponse:
    score = selectors.score_get(viewer=request.user, pk=pk)
    review = selectors.review_get(viewer=request.user, pk=post_id(request, "review"))
    form = empty_form()
    validated, status = call_service(
        form, lambda: services.score_validate(actor=request.user, score=score)
    )
    if is_htmx(request):
        score.refresh_from_db()
        return _score_fragment(
            request, review, score.opportunity, score.criterion, score,
            None if validated else form, status,
        )  # fmt: skip
    if validated is None:
        messages.error(request, " ".join(form.non_field_errors()))
    else:
        messages.success(request, f"Validated “{score.criterion}”.")
    return redirect(_review_url(review, f"deal-{score.opportunity_id}"))


def _deal_plan_action(request, pk: int, deal_id: int, form_class, service, label: str):
    review = selectors.review_get(viewer=request.user, pk=pk)
    deal = selectors.review_opportunity_get(viewer=request.user, review=review, pk=deal_id)
    form = form_class(request.POST)
    if form.is_valid():
        saved, _status = call_service(
            form, lambda: service(actor=request.user, opportunity=deal, **form.cleaned_data)
        )
        if saved is not None:
            messages.success(request, f"{label} added to {deal}.")
            return redirect(_review_url(review, f"deal-{deal.pk}"))
    messages.error(
        request,
        f"{label} not added: " + " ".join(m for errs in form.errors.values() for m in errs),
    )
    return redirect(_review_url(review, f"deal-{deal.pk}"))


@people_only
@require_POST
def competitor_add(request: HttpRequest, pk: int, deal_id: int) -> HttpResponse:
    return _deal_plan_action(
        request, pk, deal_id, CompetitorForm, services.competitor_add, "Competitor"
    )


@people_only
@require_POST
def proof_add(request: HttpRequest, pk: int, deal_id: int) -> HttpResponse:
    return _deal_plan_action(request, pk, deal_id, ProofForm, services.proof_add, "Proof resource")


@people_only
@require_POST
def negotiation_add(request: HttpRequest, pk: int, deal_id: int) -> HttpResponse:
    return _deal_plan_action(
        request, pk, deal_id, NegotiationForm, services.negotiation_add, "Negotiation item"
    )


@people_only
@require_POST
def action_item_add(request: HttpRequest, pk: int) -> HttpResponse:
    review = selectors.review_get(viewer=request.user, pk=pk)
    form = ActionItemForm(request.POST)
    form.set_people(list(review.attendees.all()))
    status = 400
    if form.is_valid():
        item, status = call_service(
            form,
            lambda: services.action_item_add(
                actor=request.user, review=review, **form.cleaned_data
            ),
        )
        if item is not None:
            messages.success(request, f"Action item for {item.owner} added.")
            return redirect(_review_url(review, "record"))
    return render_review(request, review, status=status, action_form=form)


@people_only
@require_POST
def action_item_done(request: HttpRequest, pk: int) -> HttpResponse:
    item = selectors.action_item_get(viewer=request.user, pk=pk)
    call_service_or_flash(
        request, lambda: services.action_item_complete(actor=request.user, item=item)
    )
    default = _review_url(item.review, "record")
    return redirect(next_url(request, default))
