"""Visibility-scoped reads of accounts, contacts, deals, processes and activities."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import cast

from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone

from salesmgmt.models import Role, User
from salesmgmt.row_slices import ImpliedByRanges
from salesmgmt.visibility import visible_users

from ..models import (
    Account,
    Activity,
    Contact,
    Milestone,
    MilestoneCompletion,
    Opportunity,
    OpportunityTeamMember,
    SalesProcess,
    Stage,
)
from . import listing

# The roles accounts.services accepts as a deal owner; kept here so selectors need no services.
SELLING_ROLES = (Role.REP, Role.MANAGER, Role.EXECUTIVE)


def opportunity_list(
    *, viewer: User, status: str | None = None, owner_id: int | None = None
) -> QuerySet[Opportunity]:
    # listing.visible_opportunities: visible_to's rule, index-friendly for long lists.
    qs = Opportunity.objects.filter(listing.visible_opportunities(viewer)).select_related(
        "account", "owner", "stage", "process"
    )
    if status:
        qs = qs.filter(status=status)
    if owner_id:
        qs = qs.filter(owner_id=owner_id)
    return qs.order_by("expected_close_on", "id")


def opportunity_get(*, viewer: User, pk: int) -> Opportunity:
    """The deal if ``viewer`` may see it; otherwise 404, never the record."""
    try:
        return (
            Opportunity.objects.visible_to(viewer)
            .select_related("account", "owner", "stage", "process")
            .get(pk=pk)
        )
    except Opportunity.DoesNotExist:
        raise Http404("No such opportunity.") from None


def _latest_two_way(now: dt.datetime | None) -> QuerySet[Activity]:
    return Activity.objects.two_way(now=now or timezone.now()).order_by("-occurred_at", "-id")


def with_last_two_way_contact(
    deals: QuerySet[Opportunity], *, now: dt.datetime | None = None
) -> QuerySet[Opportunity]:
    """``deals`` with ``last_two_way_contact_at``: when the customer last took part (a reply
    received, a meeting held, a call answered; ``ActivityQuerySet.two_way``), None if never.
    In the deals' own query: a list of any length costs no query more."""
    latest = _latest_two_way(now).filter(opportunity_id=OuterRef("pk"))
    return deals.annotate(last_two_way_contact_at=Subquery(latest.values("occurred_at")[:1]))


def last_two_way_contact(
    *, opportunity: Opportunity, now: dt.datetime | None = None
) -> dt.datetime | None:
    """One deal's ``last_two_way_contact_at`` (1 query; the annotation's when it has one)."""
    if hasattr(opportunity, "last_two_way_contact_at"):
        return opportunity.last_two_way_contact_at
    return (
        _latest_two_way(now)
        .filter(opportunity=opportunity)
        .values_list("occurred_at", flat=True)
        .first()
    )


def account_list(*, viewer: User) -> QuerySet[Account]:
    return (
        Account.objects.filter(listing.visible_accounts(viewer))
        .select_related("owner")
        .order_by("name", "id")
    )


def account_get(*, viewer: User, pk: int) -> Account:
    try:
        return Account.objects.visible_to(viewer).select_related("owner").get(pk=pk)
    except Account.DoesNotExist:
        raise Http404("No such account.") from None


def contact_list(*, viewer: User) -> QuerySet[Contact]:
    """Contacts of accounts ``viewer`` may see, with their account loaded."""
    return (
        Contact.objects.visible_to(viewer)
        .select_related("account")
        .order_by("last_name", "first_name", "id")
    )


def process_list() -> QuerySet[SalesProcess]:
    """Every sales process with its stages and their milestones (3 queries); readable by all."""
    return SalesProcess.objects.prefetch_related(
        Prefetch(
            "stages",
            queryset=Stage.objects.order_by("order").prefetch_related(
                Prefetch("milestones", queryset=Milestone.objects.order_by("order", "id"))
            ),
        )
    ).order_by("name", "id")


def stage_list() -> QuerySet[Stage]:
    return Stage.objects.select_related("process").order_by("process_id", "order")


def milestone_list() -> QuerySet[Milestone]:
    return Milestone.objects.select_related("stage").order_by(
        "stage__process_id", "stage__order", "order", "id"
    )


def milestone_completion_list(*, viewer: User) -> QuerySet[MilestoneCompletion]:
    """The milestone audit trail of deals ``viewer`` may see."""
    return (
        MilestoneCompletion.objects.filter(
            opportunity__in=Opportunity.objects.visible_to(viewer).values("pk")
        )
        .select_related("opportunity", "milestone", "completed_by", "verified_by")
        .order_by("completed_at", "id")
    )


def activity_list(
    *,
    viewer: User,
    account: Account | None = None,
    opportunity: Opportunity | None = None,
    people: list[int] | None = None,
) -> QuerySet[Activity]:
    """``people``: ``visible_user_ids(viewer)`` when the caller already read them."""
    if account is None and opportunity is None:
        # The long list: listing's form of the rule reads only the visible rows' index entries
        # (and a page read range by range, from rows visible by construction, skips it).
        visible = listing.visible_activities(viewer, people)
        qs = (
            Activity.objects.filter(ImpliedByRanges(visible)) if visible else Activity.objects.all()
        )
    else:
        # One deal's or account's activities: their index finds the rows, checked one by one.
        qs = Activity.objects.visible_to(viewer)
    qs = qs.select_related("owner", "opportunity", "account", "milestone")
    if account is not None:
        qs = qs.filter(account=account)
    if opportunity is not None:
        qs = qs.filter(opportunity=opportunity)
    return qs.order_by("-occurred_at", "-id")


def deal_activities(*, opportunity: Opportunity) -> QuerySet[Activity]:
    """The activities logged on a deal, newest first; fetch the deal through
    ``opportunity_get`` (visibility) first. Whoever sees a deal sees every activity on it
    (``ActivityQuerySet.visible_to``: one logged on a deal the viewer can see), so the rule is
    not applied again: on the deal page it was nested EXISTS subqueries built and run for each
    of its three activity queries, always true. Only who logged each is joined: the deal is
    ``opportunity`` itself and the page shows no account."""
    return (
        Activity.objects.filter(opportunity=opportunity)
        .select_related("owner")
        .order_by("-occurred_at", "-id")
    )


# Activities linked to a milestone shown on a deal's page: the newest this many (a bound on the
# page, not a page of its own; the rest are in the API and the activities list).
MILESTONE_ACTIVITY_LIMIT = 100


@dataclass(frozen=True)
class MilestoneActivities:
    milestone: Milestone
    activities: list[Activity]


def milestone_activity_groups(*, opportunity: Opportunity) -> list[MilestoneActivities]:
    """The deal's activities linked to a milestone, grouped under it in process order, newest
    first in each (1 query); the others are ``deal_activities(...).filter(milestone=None)``."""
    rows = (
        deal_activities(opportunity=opportunity)
        .filter(milestone__isnull=False)
        .select_related("milestone__stage")[:MILESTONE_ACTIVITY_LIMIT]
    )
    groups: dict[int, MilestoneActivities] = {}
    for activity in rows:
        milestone = cast(Milestone, activity.milestone)  # never None: filtered above
        group = groups.setdefault(milestone.pk, MilestoneActivities(milestone, []))
        group.activities.append(activity)
    return sorted(
        groups.values(),
        key=lambda g: (g.milestone.stage.order, g.milestone.order, g.milestone.pk),
    )


def default_process() -> SalesProcess | None:
    return SalesProcess.objects.filter(is_default=True).first() or SalesProcess.objects.first()


def recent_activities(*, user: User, limit: int = 10) -> list[Activity]:
    """The latest activities ``user`` logged themselves (one query)."""
    return list(
        Activity.objects.filter(owner=user)
        .select_related("account", "opportunity")
        .order_by("-occurred_at", "-id")[:limit]
    )


def account_search(*, viewer: User, query: str = "") -> QuerySet[Account]:
    """Visible accounts, optionally those whose name contains ``query``."""
    qs = account_list(viewer=viewer)
    if query.strip():
        qs = qs.filter(name__icontains=query.strip())
    return qs


def account_opportunities(*, viewer: User, account: Account) -> QuerySet[Opportunity]:
    """The account's deals that ``viewer`` may see (never all of them)."""
    return (
        Opportunity.objects.visible_to(viewer)
        .filter(account=account)
        .select_related("owner", "stage")
        .order_by("status", "expected_close_on", "id")
    )


def account_contacts(*, viewer: User, account: Account) -> QuerySet[Contact]:
    return (
        Contact.objects.visible_to(viewer)
        .filter(account=account)
        .order_by("last_name", "first_name", "id")
    )


def opportunity_team(*, opportunity: Opportunity) -> list[OpportunityTeamMember]:
    return list(team_member_list(opportunity=opportunity))


def team_member_list(*, opportunity: Opportunity) -> QuerySet[OpportunityTeamMember]:
    """The deal's team, in the order they joined (one query, with each person)."""
    return (
        OpportunityTeamMember.objects.filter(opportunity=opportunity)
        .select_related("user")
        .order_by("id")
    )


def team_member_get(*, opportunity: Opportunity, pk: int) -> OpportunityTeamMember:
    """A member of the team of a deal already fetched through visibility; else 404."""
    try:
        return team_member_list(opportunity=opportunity).get(pk=pk)
    except OpportunityTeamMember.DoesNotExist:
        raise Http404("No such team member.") from None


def team_candidates(*, viewer: User, opportunity: Opportunity) -> QuerySet[User]:
    """Active sellers ``viewer`` may put on the deal's team: people they see, not the owner,
    not on the team already (one query when read)."""
    return (
        visible_users(viewer)
        .filter(is_active=True, role__in=SELLING_ROLES, is_org_unit=False)
        .exclude(pk=opportunity.owner_id)
        .exclude(opportunity_teams__opportunity=opportunity)
        .order_by("last_name", "first_name", "id")
    )


def assignable_owners(*, viewer: User, opportunity: Opportunity | None = None) -> list[User]:
    """Active sellers ``viewer`` may hand a deal to, plus the deal's current owner (one query)."""
    candidates = visible_users(viewer).filter(
        is_active=True, role__in=SELLING_ROLES, is_org_unit=False
    )
    condition = Q(pk__in=candidates.values("pk"))
    if opportunity is not None:
        condition |= Q(pk=opportunity.owner_id)
    return list(User.objects.filter(condition).order_by("last_name", "first_name", "id"))


def account_open_opportunity_choices(*, viewer: User, account: Account) -> list[Opportunity]:
    """The account's open deals ``viewer`` sees, light enough for a drop-down (one query)."""
    return list(
        Opportunity.objects.visible_to(viewer)
        .filter(account=account, status=Opportunity.Status.OPEN)
        .only("pk", "name")
        .order_by("expected_close_on", "id")
    )
