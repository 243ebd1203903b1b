"""Reads for customer accounts, deals, milestones and activities; all scoped by visibility."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from salesmgmt.models import User

from .models import (
    Account,
    Activity,
    Milestone,
    MilestoneCompletion,
    Opportunity,
    OpportunityChange,
    SalesProcess,
    Stage,
)
from .stages import StageSpec, current_completions


def opportunity_list(
    *, viewer: User, status: str | None = None, owner_id: int | None = None
) -> QuerySet[Opportunity]:
    qs = Opportunity.objects.visible_to(viewer).select_related("account", "owner", "stage")
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


def activity_list(
    *, viewer: User, account: Account | None = None, opportunity: Opportunity | None = None
) -> QuerySet[Activity]:
    qs = Activity.objects.visible_to(viewer).select_related("owner", "opportunity", "account")
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
    rows = changes.order_by("changed_at", "id").values_list(
        "opportunity_id", "field", "new_value"
    )
    for deal_id, field_name, value in rows.iterator(chunk_size=5000):
        parse = _PARSERS.get(field_name, str)
        states[deal_id][field_name] = parse(value)
    return dict(states)


def opportunity_as_of(*, opportunity: Opportunity, at: dt.datetime) -> dict[str, object] | None:
    return opportunities_as_of(at=at, opportunity_ids=[opportunity.pk]).get(opportunity.pk)
