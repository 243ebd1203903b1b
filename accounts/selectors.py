"""Reads for customer accounts, deals, milestones and activities; all scoped by visibility."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404

from salesmgmt.models import Role, User
from salesmgmt.visibility import owned_by_visible, visible_users

from .models import (
    Account,
    Activity,
    Contact,
    ForecastCategory,
    Milestone,
    MilestoneCompletion,
    Opportunity,
    OpportunityChange,
    OpportunityTeamMember,
    SalesProcess,
    Stage,
)
from .stages import StageSpec, current_completions


def opportunity_list(
    *, viewer: User, status: str | None = None, owner_id: int | None = None
) -> QuerySet[Opportunity]:
    qs = Opportunity.objects.visible_to(viewer).select_related(
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


def account_list(*, viewer: User) -> QuerySet[Account]:
    return Account.objects.visible_to(viewer).select_related("owner").order_by("name", "id")


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
    *, viewer: User, account: Account | None = None, opportunity: Opportunity | None = None
) -> QuerySet[Activity]:
    qs = Activity.objects.visible_to(viewer).select_related(
        "owner", "opportunity", "account", "milestone"
    )
    if account is not None:
        qs = qs.filter(account=account)
    if opportunity is not None:
        qs = qs.filter(opportunity=opportunity)
    return qs.order_by("-occurred_at", "-id")


def process_stage_specs(*, process_id: int) -> list[StageSpec]:
    """The process's stages in order, each with its exit milestone ids (one query)."""
    stages = Stage.objects.filter(process_id=process_id).prefetch_related(
        Prefetch("milestones", queryset=Milestone.objects.only("id", "stage_id"))
    )
    return [
        StageSpec(stage.pk, frozenset(m.pk for m in stage.milestones.all()))
        for stage in stages.order_by("order")
    ]


def completed_milestone_ids(*, opportunity_ids: list[int]) -> dict[int, set[int]]:
    """Per deal, the milestones that currently count as complete (latest record counts)."""
    records = MilestoneCompletion.objects.filter(opportunity_id__in=opportunity_ids).only(
        "opportunity_id", "milestone_id", "action", "verification_state", "completed_at"
    )
    by_deal: dict[int, list[MilestoneCompletion]] = defaultdict(list)
    for record in records.order_by("completed_at", "id"):
        by_deal[record.opportunity_id].append(record)
    return {
        deal_id: {mid for mid, rec in current_completions(recs).items() if rec.counts}
        for deal_id, recs in by_deal.items()
    }


@dataclass
class MilestoneRow:
    milestone: Milestone
    record: MilestoneCompletion | None
    is_complete: bool

    @property
    def is_pending(self) -> bool:
        return (
            self.record is not None
            and self.record.action == MilestoneCompletion.Action.COMPLETE
            and self.record.verification_state == MilestoneCompletion.Verification.PENDING
        )


@dataclass
class StageChecklist:
    stage: Stage
    rows: list[MilestoneRow] = field(default_factory=list)
    is_current: bool = False

    @property
    def missing(self) -> list[Milestone]:
        return [row.milestone for row in self.rows if not row.is_complete]


def milestone_checklist(*, opportunity: Opportunity) -> list[StageChecklist]:
    """Every stage of the deal's process with each milestone's latest record (3 queries)."""
    stages = Stage.objects.filter(process_id=opportunity.process_id).prefetch_related("milestones")
    records = (
        MilestoneCompletion.objects.filter(opportunity=opportunity)
        .select_related("completed_by", "verified_by")
        .order_by("completed_at", "id")
    )
    latest = current_completions(records)
    checklists = []
    for stage in stages.order_by("order"):
        rows = []
        for milestone in stage.milestones.all():
            record = latest.get(milestone.pk)
            rows.append(MilestoneRow(milestone, record, bool(record and record.counts)))
        checklists.append(
            StageChecklist(stage=stage, rows=rows, is_current=stage.pk == opportunity.stage_id)
        )
    return checklists


def next_milestones(*, opportunities: list[Opportunity]) -> dict[int, Milestone | None]:
    """Per open deal, the first not-yet-complete milestone of its current stage (2 queries)."""
    stage_ids = {o.stage_id for o in opportunities if o.stage_id}
    milestones_by_stage: dict[int, list[Milestone]] = defaultdict(list)
    for milestone in Milestone.objects.filter(stage_id__in=stage_ids).order_by("order", "id"):
        milestones_by_stage[milestone.stage_id].append(milestone)
    done = completed_milestone_ids(opportunity_ids=[o.pk for o in opportunities])
    result: dict[int, Milestone | None] = {}
    for deal in opportunities:
        completed = done.get(deal.pk, set())
        result[deal.pk] = next(
            (m for m in milestones_by_stage.get(deal.stage_id, []) if m.pk not in completed), None
        )
    return result


def opportunity_history(*, opportunity: Opportunity) -> QuerySet[OpportunityChange]:
    return opportunity.changes.select_related("changed_by").order_by("-changed_at", "-id")


def default_process() -> SalesProcess | None:
    return SalesProcess.objects.filter(is_default=True).first() or SalesProcess.objects.first()


# --- As-of rebuild --------------------------------------------------------------------------

_PARSERS = {
    OpportunityChange.Field.AMOUNT: lambda v: Decimal(v) if v else None,
    OpportunityChange.Field.EXPECTED_CLOSE_ON: lambda v: dt.date.fromisoformat(v) if v else None,
    OpportunityChange.Field.CLOSED_ON: lambda v: dt.date.fromisoformat(v) if v else None,
    OpportunityChange.Field.STAGE: lambda v: int(v) if v else None,
    OpportunityChange.Field.OWNER: lambda v: int(v) if v else None,
}


def opportunities_as_of(
    *, at: dt.datetime, opportunity_ids: list[int] | None = None
) -> dict[int, dict[str, object]]:
    """Each deal as it stood at ``at``, rebuilt from the append-only change log alone.

    Deals created after ``at`` are absent. Keys of each state: the tracked field names
    (``amount``, ``currency``, ``expected_close_on``, ``stage``, ``forecast_category``,
    ``owner``, ``status``, ``closed_on``), typed as on the model (stage/owner as ids).
    Looks only at rows with ``changed_at <= at``, so it can never see the future.
    """
    changes = OpportunityChange.objects.filter(changed_at__lte=at)
    if opportunity_ids is not None:
        changes = changes.filter(opportunity_id__in=opportunity_ids)
    states: dict[int, dict[str, object]] = defaultdict(dict)
    rows = changes.order_by("changed_at", "id").values_list("opportunity_id", "field", "new_value")
    for deal_id, field_name, value in rows.iterator(chunk_size=5000):
        parse = _PARSERS.get(field_name, str)
        states[deal_id][field_name] = parse(value)
    return dict(states)


def opportunity_as_of(*, opportunity: Opportunity, at: dt.datetime) -> dict[str, object] | None:
    return opportunities_as_of(at=at, opportunity_ids=[opportunity.pk]).get(opportunity.pk)


# --- Page reads (server-rendered pages) -------------------------------------------------------

# The roles accounts.services accepts as a deal owner; kept here so selectors need no services.
SELLING_ROLES = (Role.REP, Role.MANAGER, Role.EXECUTIVE)
REVIEWER_ROLES = (Role.MANAGER, Role.EXECUTIVE, Role.ADMIN)


def milestone_get(*, opportunity: Opportunity, pk: int) -> Milestone:
    """A milestone of the deal's own process; anything else is a 404."""
    try:
        return Milestone.objects.select_related("stage").get(
            pk=pk, stage__process_id=opportunity.process_id
        )
    except Milestone.DoesNotExist:
        raise Http404("No such milestone.") from None


def completion_get(*, viewer: User, pk: int) -> MilestoneCompletion:
    """A completion record on a deal ``viewer`` may see; otherwise 404."""
    try:
        return MilestoneCompletion.objects.select_related(
            "milestone", "opportunity", "opportunity__owner"
        ).get(pk=pk, opportunity__in=Opportunity.objects.visible_to(viewer).values("pk"))
    except MilestoneCompletion.DoesNotExist:
        raise Http404("No such milestone completion.") from None


def recent_activities(*, user: User, limit: int = 10) -> list[Activity]:
    """The latest activities ``user`` logged themselves (one query)."""
    return list(
        Activity.objects.filter(owner=user)
        .select_related("account", "opportunity")
        .order_by("-occurred_at", "-id")[:limit]
    )


def is_reviewer(user: User) -> bool:
    """Whether ``user`` may be asked to verify milestone evidence of people below them."""
    return user.is_superuser or user.role in REVIEWER_ROLES


def pending_verifications(*, viewer: User, limit: int = 10) -> list[MilestoneCompletion]:
    """Completions waiting for ``viewer``'s verification, oldest first (one query).

    Only the latest record of each milestone counts: a pending completion that was undone
    afterwards is no longer waiting for anyone.
    """
    if not is_reviewer(viewer):
        return []
    later = MilestoneCompletion.objects.filter(
        opportunity=OuterRef("opportunity"), milestone=OuterRef("milestone")
    ).filter(
        Q(completed_at__gt=OuterRef("completed_at"))
        | Q(completed_at=OuterRef("completed_at"), pk__gt=OuterRef("pk"))
    )
    return list(
        MilestoneCompletion.objects.filter(
            owned_by_visible(viewer, "opportunity__owner"),
            action=MilestoneCompletion.Action.COMPLETE,
            verification_state=MilestoneCompletion.Verification.PENDING,
            opportunity__status=Opportunity.Status.OPEN,
        )
        .exclude(opportunity__owner=viewer)
        .exclude(completed_by=viewer)
        .filter(~Exists(later))
        .select_related("milestone", "opportunity", "opportunity__account", "completed_by")
        .order_by("completed_at", "id")[:limit]
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
    return list(
        OpportunityTeamMember.objects.filter(opportunity=opportunity)
        .select_related("user")
        .order_by("id")
    )


def assignable_owners(*, viewer: User, opportunity: Opportunity | None = None) -> list[User]:
    """Active sellers ``viewer`` may hand a deal to, plus the deal's current owner (one query)."""
    candidates = visible_users(viewer).filter(is_active=True, role__in=SELLING_ROLES)
    condition = Q(pk__in=candidates.values("pk"))
    if opportunity is not None:
        condition |= Q(pk=opportunity.owner_id)
    return list(User.objects.filter(condition).order_by("last_name", "first_name", "id"))


@dataclass(frozen=True)
class ChangeRow:
    """One history row with ids and choice values turned into what people read."""

    change: OpportunityChange
    label: str
    old_display: str
    new_display: str


_CHOICE_LABELS: dict[str, dict[str, str]] = {
    OpportunityChange.Field.STATUS: dict(Opportunity.Status.choices),
    OpportunityChange.Field.FORECAST_CATEGORY: dict(ForecastCategory.choices),
}


def describe_changes(*, changes: list[OpportunityChange]) -> list[ChangeRow]:
    """Show stage and owner ids as names with one lookup each, not one per row (≤2 queries)."""
    ids: dict[str, set[int]] = {
        OpportunityChange.Field.STAGE: set(),
        OpportunityChange.Field.OWNER: set(),
    }
    for change in changes:
        if change.field in ids:
            ids[change.field].update(
                int(value) for value in (change.old_value, change.new_value) if value.isdigit()
            )
    names: dict[str, dict[str, str]] = {field_name: {} for field_name in ids}
    if ids[OpportunityChange.Field.STAGE]:
        names[OpportunityChange.Field.STAGE] = {
            str(pk): name
            for pk, name in Stage.objects.filter(
                pk__in=ids[OpportunityChange.Field.STAGE]
            ).values_list("pk", "name")
        }
    if ids[OpportunityChange.Field.OWNER]:
        people = User.objects.filter(pk__in=ids[OpportunityChange.Field.OWNER]).only(
            "pk", "username", "first_name", "last_name"
        )
        names[OpportunityChange.Field.OWNER] = {str(person.pk): str(person) for person in people}
    labels = dict(OpportunityChange.Field.choices)
    rows = []
    for change in changes:
        lookup = names.get(change.field) or _CHOICE_LABELS.get(change.field, {})
        rows.append(
            ChangeRow(
                change=change,
                label=labels.get(change.field, change.field),
                old_display=lookup.get(change.old_value, change.old_value),
                new_display=lookup.get(change.new_value, change.new_value),
            )
        )
    return rows


def account_open_opportunity_choices(*, viewer: User, account: Account) -> list[Opportunity]:
    """The account's open deals ``viewer`` sees, light enough for a drop-down (one query)."""
    return list(
        Opportunity.objects.visible_to(viewer)
        .filter(account=account, status=Opportunity.Status.OPEN)
        .only("pk", "name")
        .order_by("expected_close_on", "id")
    )
