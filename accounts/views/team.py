"""A deal's team on the deal page: add, change and remove members.

Who may is who may reassign the deal (``accounts.services.may_change_team``); each write is
one accounts.services call and comes back to the deal page's team section with the outcome.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from salesmgmt.decorators import people_only
from salesmgmt.page_actions import call_service_or_flash

from .. import selectors, services
from ..models import Opportunity
from ..team_forms import TeamMemberEditForm, TeamMemberForm
from .processes import flash_invalid


def team_context(request: HttpRequest, deal: Opportunity) -> dict[str, object]:
    """The deal page's team section: members, their history, and the forms if editable."""
    members = selectors.opportunity_team(opportunity=deal)
    editable = services.may_change_team(request.user, deal)
    people = selectors.team_candidates(viewer=request.user, opportunity=deal) if editable else None
    return {
        "rows": [
            (
                member,
                TeamMemberEditForm(initial={"team_role": member.team_role}, prefix=f"tm{member.pk}")
                if editable
                else None,
            )
            for member in members
        ],
        "can_edit": editable,
        "add_form": TeamMemberForm(people=people, auto_id="team-%s") if editable else None,
        "history": selectors.team_history(opportunity=deal),
    }


def _back_to(deal_id: int) -> HttpResponse:
    return redirect(reverse("accounts:opportunity_detail", args=[deal_id]) + "#team")


@people_only
@require_POST
def team_member_add(request: HttpRequest, pk: int) -> HttpResponse:
    deal = selectors.opportunity_get(viewer=request.user, pk=pk)
    people = selectors.team_candidates(viewer=request.user, opportunity=deal)
    form = TeamMemberForm(request.POST, people=people)
    if not form.is_valid():
        flash_invalid(request, form)
        return _back_to(deal.pk)
    member, ok = call_service_or_flash(
        request,
        lambda: services.opportunity_team_member_add(
            actor=request.user, opportunity=deal, **form.cleaned_data
        ),
    )
    if ok and member is not None:
        messages.success(request, f"Added {member.user} to the deal's team.")
    return _back_to(deal.pk)


@people_only
@require_POST
def team_member_edit(request: HttpRequest, pk: int, member_id: int) -> HttpResponse:
    deal = selectors.opportunity_get(viewer=request.user, pk=pk)
    member = selectors.team_member_get(opportunity=deal, pk=member_id)
    form = TeamMemberEditForm(request.POST, prefix=f"tm{member.pk}")
    if not form.is_valid():
        flash_invalid(request, form)
        return _back_to(deal.pk)
    _, ok = call_service_or_flash(
        request,
        lambda: services.opportunity_team_member_update(
            actor=request.user, member=member, team_role=form.cleaned_data["team_role"]
        ),
    )
    if ok:
        messages.success(request, f"Saved {member.user}'s role on the deal.")
    return _back_to(deal.pk)


@people_only
@require_POST
def team_member_remove(request: HttpRequest, pk: int, member_id: int) -> HttpResponse:
    deal = selectors.opportunity_get(viewer=request.user, pk=pk)
    member = selectors.team_member_get(opportunity=deal, pk=member_id)
    _, ok = call_service_or_flash(
        request, lambda: services.opportunity_team_member_remove(actor=request.user, member=member)
    )
    if ok:
        messages.success(request, f"Removed {member.user} from the deal's team.")
    return _back_to(deal.pk)
