"""Milestone state: which exit criteria count as complete, checklists, reviews."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Prefetch, Q
from django.http import Http404

from salesmgmt.models import Role, User
from salesmgmt.visibility import owned_by_visible

from ..models import (
    Milestone,
    MilestoneCompletion,
    Opportunity,
    Stage,
)
from ..stages import StageSpec, closing_stage_index, current_completions

# Who may be asked to verify milestone evidence of people below them.
REVIEWER_ROLES = (Role.MANAGER, Role.EXECUTIVE, Role.ADMIN)


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
    # Keyed as deals look it up: a deal without a stage finds no milestones.
    milestones_by_stage: dict[int | None, list[Milestone]] = defaultdict(list)
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


def open_milestones(*, opportunities: list[Opportunity]) -> dict[int, list[Milestone]]:
    """Per open deal, its process's milestones not complete yet, in process order, with their
    stage (2 queries: the processes' milestones, the deals' completion records)."""
    process_ids = {deal.process_id for deal in opportunities if deal.is_open}
    by_process: dict[int, list[Milestone]] = defaultdict(list)
    milestones = Milestone.objects.filter(stage__process_id__in=process_ids).select_related("stage")
    for milestone in milestones.order_by("stage__order", "order", "id"):
        by_process[milestone.stage.process_id].append(milestone)
    done = completed_milestone_ids(opportunity_ids=[deal.pk for deal in opportunities])
    return {
        deal.pk: [m for m in by_process[deal.process_id] if m.pk not in done.get(deal.pk, set())]
        if deal.is_open
        else []
        for deal in opportunities
    }


def first_open_milestone(*, deal: Opportunity, open_ones: list[Milestone]) -> Milestone | None:
    """The next milestone of the deal's current stage (what ``next_milestones`` gives)."""
    return next((m for m in open_ones if m.stage_id == deal.stage_id), None)


def milestone_of(*, opportunity: Opportunity | None, pk: int) -> Milestone | None:
    """A milestone of the deal's process, or None (an activity form's choice, checked)."""
    if opportunity is None:
        return None
    return (
        Milestone.objects.select_related("stage")
        .filter(pk=pk, stage__process_id=opportunity.process_id)
        .first()
    )


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


# --- closing won: the closing stage's exit milestones --------------------------------------


def closing_milestones(*, process_id: int) -> list[Milestone]:
    """The milestones a deal needs to close won: the exit criteria of the process's closing
    stage (``stages.closing_stage_index``). Two queries."""
    stages = list(Stage.objects.filter(process_id=process_id).order_by("order"))
    index = closing_stage_index([stage.default_forecast_category for stage in stages])
    if index is None:
        return []
    return list(stages[index].milestones.order_by("order", "id"))


def checklist_closing_missing(checklist: list[StageChecklist]) -> list[Milestone]:
    """The same rule read off a deal's checklist already loaded (no query)."""
    index = closing_stage_index([item.stage.default_forecast_category for item in checklist])
    if index is None:
        return []
    return [row.milestone for row in checklist[index].rows if not row.is_complete]


def closing_milestones_missing(*, opportunity: Opportunity) -> list[Milestone]:
    """The closing milestones that do not count as complete on the deal (2 to 3 queries)."""
    required = closing_milestones(process_id=opportunity.process_id)
    if not required:
        return []
    done = completed_milestone_ids(opportunity_ids=[opportunity.pk]).get(opportunity.pk, set())
    return [milestone for milestone in required if milestone.pk not in done]
