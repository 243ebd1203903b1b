"""Pages (GET), and the renderers a refused action reuses to show its errors in place."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from salesmgmt.decorators import people_only
from salesmgmt.selectors import period_current, user_list
from salesmgmt.visibility import manages, may_reassign
from territories.selectors import attainment_for

from .. import forecast_categories, selectors
from ..forms import (
    AccountForm,
    AccountSearchForm,
    ActivityLogForm,
    AsOfForm,
    CloseLostForm,
    CloseWonForm,
    OpportunityEditForm,
    OpportunityFilterForm,
)
from ..models import Account, Activity, Opportunity
from .pagination import paginate
from .products import line_items_context
from .team import team_context

RECENT_ACTIVITY_COUNT = 10
PENDING_REVIEW_COUNT = 10


@dataclass
class RowError:
    """A refused form that lives on one row of a list (a milestone, a completion)."""

    action: str
    target: int
    form: forms.Form
    label: str = ""

    @property
    def milestone_id(self) -> int | None:
        return self.target if self.action in ("complete", "undo") else None

    @property
    def messages(self) -> list[str]:
        return [message for errors in self.form.errors.values() for message in errors]


def _amount_follows_line_items(form: OpportunityEditForm) -> None:
    """Shown read-only: ``opportunity_update`` refuses any amount but the line items' total."""
    field = form.fields["amount"]
    field.widget.attrs["readonly"] = True
    field.help_text = "The total of the deal's products: change the products below to change it."


def render_opportunity_detail(
    request: HttpRequest,
    deal: Opportunity,
    *,
    status: int = 200,
    edit_form: OpportunityEditForm | None = None,
    close_won_form: CloseWonForm | None = None,
    close_lost_form: CloseLostForm | None = None,
    log_form: ActivityLogForm | None = None,
    row_error: RowError | None = None,
) -> HttpResponse:
    """The deal page; a refused action passes its bound form to show the errors on it."""
    viewer = request.user
    checklist = selectors.milestone_checklist(opportunity=deal)
    current = next((stage for stage in checklist if stage.is_current), None)
    page_url = reverse("accounts:opportunity_detail", args=[deal.pk])
    history = paginate(
        request, selectors.opportunity_history(opportunity=deal), param="history", base=page_url
    )
    # Calls grouped under the milestone they advanced; the rest ("Other activity") paged.
    activities = paginate(
        request,
        selectors.deal_activities(opportunity=deal).filter(milestone__isnull=True),
        param="activities",
        base=page_url,
    )
    log_form = log_form or ActivityLogForm(initial={"opportunity": deal.pk}, auto_id="log-%s")
    log_form.set_milestone_choices(
        row.milestone
        for stage in checklist
        for row in stage.rows
        if deal.is_open and not row.is_complete
    )
    can_reassign = may_reassign(viewer, deal.owner)
    owners = selectors.assignable_owners(viewer=viewer, opportunity=deal) if can_reassign else []
    context = {
        "deal": deal,
        # When the customer last took part (a reply, a held meeting, an answered call).
        "last_two_way_contact": selectors.last_two_way_contact(opportunity=deal),
        "checklist": checklist,
        "current_stage": current,
        "missing": current.missing if current else [],
        "team": team_context(request, deal),
        "history": history,
        "history_rows": selectors.describe_changes(
            changes=history.page.object_list, imported_at=deal.imported_at
        ),
        "activities": activities,
        "milestone_activities": selectors.milestone_activity_groups(opportunity=deal),
        "as_of": as_of_context(request, deal),
        # The owner's managers (and executives/admins) verify evidence, never their own.
        "can_review": manages(viewer, deal.owner),
        # The new stage's default when the rep's choice differs: a hint, never written.
        "proposed_category": forecast_categories.label(deal.proposed_stage_category)
        if deal.proposed_stage_category
        else "",
        "row_error": row_error,
        # Actions on this page come back to it, even when it was rendered by a refused POST.
        "return_url": page_url,
        "edit_form": edit_form
        or OpportunityEditForm(
            initial=OpportunityEditForm.initial_for(deal),
            can_reassign=can_reassign,
            owner_choices=owners,
            auto_id="edit-%s",
        ),
        "close_won_form": close_won_form
        or CloseWonForm(
            initial={"expected_version": deal.version},
            auto_id="won-%s",
            can_override=manages(viewer, deal.owner),
        ),
        # Closing won needs these (or a manager's override with a reason): said before trying.
        "closing_missing": selectors.checklist_closing_missing(checklist) if deal.is_open else [],
        "won_override": selectors.opportunity_won_override(opportunity=deal)
        if deal.status == Opportunity.Status.WON
        else None,
        "close_lost_form": close_lost_form
        or CloseLostForm(initial={"expected_version": deal.version}, auto_id="lost-%s"),
        "log_form": log_form,
        "today": timezone.localdate(),
        "line_items": line_items_context(request, deal),
    }
    if edit_form is not None:
        edit_form.set_owner_choices(owners)
    if context["line_items"]["rows"]:
        _amount_follows_line_items(context["edit_form"])
    if status >= 400:
        # The refused form can be far down the page; say so where the eye lands first.
        messages.error(request, "Nothing was saved. See the highlighted form below.")
    if context["as_of"].is_invalid:
        status = 400  # a bad ?as_of= is bad input: the page says why beside the date
    return render(request, "accounts/opportunity_detail.html", context, status=status)


@dataclass(frozen=True)
class AsOfView:
    """The deal page's "as of" panel: the date form and, for a valid date, the deal then."""

    form: AsOfForm
    state: selectors.DealAsOf | None = None
    # The day asked for came before the deal's first record (None: not asked, or it existed).
    not_yet_on: dt.date | None = None

    @property
    def is_invalid(self) -> bool:
        return self.form.is_bound and not self.form.is_valid()


def as_of_context(request: HttpRequest, deal: Opportunity) -> AsOfView:
    """``?as_of=YYYY-MM-DD``: the deal at the end of that day (company time zone); no
    query unless asked."""
    if "as_of" not in request.GET:
        return AsOfView(form=AsOfForm(today=timezone.localdate(), auto_id="asof-%s"))
    form = AsOfForm(request.GET, today=selectors.company_today(), auto_id="asof-%s")
    if not form.is_valid():
        return AsOfView(form=form)
    day = form.cleaned_data["as_of"]
    state = selectors.opportunity_on_day(opportunity=deal, day=day)
    return AsOfView(form=form, state=state, not_yet_on=None if state else day)


def render_account_detail(
    request: HttpRequest,
    account: Account,
    *,
    status: int = 200,
    log_form: ActivityLogForm | None = None,
    edit_form: AccountForm | None = None,
) -> HttpResponse:
    viewer = request.user
    deals = selectors.account_opportunities(viewer=viewer, account=account)
    open_deals = selectors.account_open_opportunity_choices(viewer=viewer, account=account)
    log_form = log_form or ActivityLogForm(initial={"account": account.pk}, auto_id="log-%s")
    log_form.set_opportunity_choices(open_deals)
    if status >= 400:
        messages.error(request, "Nothing was saved. See the highlighted form below.")
    contacts = selectors.account_contacts(viewer=viewer, account=account)
    activities = selectors.activity_list(viewer=viewer, account=account)
    page_url = reverse("accounts:account_detail", args=[account.pk])
    context = {
        "account": account,
        "contacts": paginate(request, contacts, param="contacts", base=page_url),
        "opportunities": paginate(request, deals, param="opportunities", base=page_url),
        "activities": paginate(request, activities, param="activities", base=page_url),
        "log_form": log_form,
        "edit_form": edit_form
        or AccountForm(initial=AccountForm.initial_for(account), auto_id="edit-%s"),
        "today": timezone.localdate(),
    }
    return render(request, "accounts/account_detail.html", context, status=status)


# --- pages ----------------------------------------------------------------------------------


@people_only
@require_safe
def rep_home(request: HttpRequest) -> HttpResponse:
    """My open deals by close date, each with its next milestone, a call log and a complete."""
    user = request.user
    deals = paginate(
        request,
        selectors.opportunity_list(viewer=user, status=Opportunity.Status.OPEN, owner_id=user.pk),
    )
    # Open milestones (the log form's choices) and, of those, the next of the current stage.
    open_milestones = selectors.open_milestones(opportunities=list(deals.page.object_list))
    # My quota and attainment this quarter (territories: the period, then 4 queries).
    period = period_current()
    context = {
        "period": period,
        "attainment": attainment_for(user=user, period=period) if period else None,
        "deals": deals,
        "rows": [
            (
                deal,
                selectors.first_open_milestone(deal=deal, open_ones=open_milestones[deal.pk]),
                open_milestones[deal.pk],
            )
            for deal in deals.page.object_list
        ],
        "recent_activities": selectors.recent_activities(user=user, limit=RECENT_ACTIVITY_COUNT),
        "is_reviewer": selectors.is_reviewer(user),
        "pending": selectors.pending_verifications(viewer=user, limit=PENDING_REVIEW_COUNT),
        "activity_kinds": Activity.Kind.choices,
        "outcomes": Activity.Outcome.choices,
        "today": timezone.localdate(),
        "return_url": request.get_full_path(),
    }
    return render(request, "accounts/rep_home.html", context)


@people_only
@require_safe
def opportunity_list(request: HttpRequest) -> HttpResponse:
    """Every deal the viewer sees, filtered by status (open unless asked) and owner."""
    viewer = request.user
    data = request.GET.copy()
    data.setdefault("status", Opportunity.Status.OPEN)
    form = OpportunityFilterForm(data, people=user_list(viewer=viewer))
    filters = form.cleaned_data if form.is_valid() else {"status": Opportunity.Status.OPEN}
    owner = filters.get("owner")
    deals = selectors.opportunity_list(
        viewer=viewer, status=filters.get("status") or None, owner_id=owner.pk if owner else None
    )
    context = {"form": form, "deals": paginate(request, deals), "today": timezone.localdate()}
    return render(request, "accounts/opportunity_list.html", context)


@people_only
@require_safe
def opportunity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    deal = selectors.opportunity_get(viewer=request.user, pk=pk)
    return render_opportunity_detail(request, deal)


@people_only
@require_safe
def account_list(request: HttpRequest) -> HttpResponse:
    form = AccountSearchForm(request.GET)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    accounts = selectors.account_search(viewer=request.user, query=query)
    context = {"form": form, "query": query, "accounts": paginate(request, accounts)}
    return render(request, "accounts/account_list.html", context)


@people_only
@require_safe
def account_detail(request: HttpRequest, pk: int) -> HttpResponse:
    account = selectors.account_get(viewer=request.user, pk=pk)
    return render_account_detail(request, account)
