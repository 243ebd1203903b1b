"""Deal history: the change log, and any deal rebuilt as it stood at a past moment."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import CharField, OuterRef, QuerySet, Subquery
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

from salesmgmt.company_settings import company_settings_get
from salesmgmt.models import AuditEvent, User

from .. import forecast_categories
from ..models import (
    ForecastCategory,
    Milestone,
    MilestoneCompletion,
    Opportunity,
    OpportunityChange,
    Stage,
)
from ..stages import current_completions


def opportunity_history(*, opportunity: Opportunity) -> QuerySet[OpportunityChange]:
    return opportunity.changes.select_related("changed_by").order_by("-changed_at", "-id")


# Keyed by the field's name as stored (a str; the Field choices are str too).
_PARSERS: dict[str, Callable[[str], object]] = {
    OpportunityChange.Field.AMOUNT: lambda v: Decimal(v) if v else None,
    OpportunityChange.Field.EXPECTED_CLOSE_ON: lambda v: dt.date.fromisoformat(v) if v else None,
    OpportunityChange.Field.CLOSED_ON: lambda v: dt.date.fromisoformat(v) if v else None,
    OpportunityChange.Field.STAGE: lambda v: int(v) if v else None,
    OpportunityChange.Field.OWNER: lambda v: int(v) if v else None,
}
_TRACKED = list(OpportunityChange.Field.values)


def opportunities_as_of(
    *, at: dt.datetime, opportunity_ids: list[int] | None = None
) -> dict[int, dict[str, object]]:
    """Each deal as it stood at ``at``, rebuilt from the append-only change log.

    Deals created after ``at`` are absent (created: ``created_at`` or the first history row,
    whichever is earlier: an import dates its rows from the file). Keys of each state: the
    tracked field names (``amount``, ``currency``, ``expected_close_on``, ``stage``,
    ``forecast_category``, ``owner``, ``status``, ``closed_on``), typed as on the model
    (stage/owner as ids). A field whose creation row is missing (older data, a field tracked
    later) falls back to the ``old_value`` of its first change after ``at``, else — never
    changed since — to the deal's current value.
    """
    changes = OpportunityChange.objects.filter(changed_at__lte=at)
    if opportunity_ids is not None:
        changes = changes.filter(opportunity_id__in=opportunity_ids)
    states: dict[int, dict[str, object]] = defaultdict(dict)
    rows = changes.order_by("changed_at", "id").values_list("opportunity_id", "field", "new_value")
    for deal_id, field_name, value in rows.iterator(chunk_size=5000):
        states[deal_id][field_name] = _parse(field_name, value)
    created = Opportunity.objects.filter(created_at__lte=at)
    if opportunity_ids is not None:
        created = created.filter(pk__in=opportunity_ids)
    for deal_id in created.values_list("pk", flat=True).iterator(chunk_size=5000):
        states.setdefault(deal_id, {})  # it existed by then, even with no row logged by then
    _fill_missing_fields(states, at=at)
    return dict(states)


def _parse(field_name: str, value: str) -> object:
    return _PARSERS.get(field_name, str)(value)


# The model's column of each tracked field (the last resort of the fallback).
_COLUMNS = {name: f"{name}_id" if name in ("stage", "owner") else name for name in _TRACKED}
_CHUNK = 500  # ids per IN (SQLite's bound parameters)


def _fill_missing_fields(states: dict[int, dict[str, object]], *, at: dt.datetime) -> None:
    """Fields with no row by ``at``: the value before their first later change, else the
    current value (no query when every deal has its creation rows)."""
    missing = [deal_id for deal_id, state in states.items() if len(state) < len(_TRACKED)]
    for chunk in (missing[i : i + _CHUNK] for i in range(0, len(missing), _CHUNK)):
        later = (
            OpportunityChange.objects.filter(opportunity_id__in=chunk, changed_at__gt=at)
            .order_by("changed_at", "id")
            .values_list("opportunity_id", "field", "old_value")
        )
        for deal_id, field_name, old_value in later:
            states[deal_id].setdefault(field_name, _parse(field_name, old_value))
        unchanged = [deal_id for deal_id in chunk if len(states[deal_id]) < len(_TRACKED)]
        current = Opportunity.objects.filter(pk__in=unchanged).values_list("pk", *_COLUMNS.values())
        for deal_id, *values in current:
            for name, value in zip(_COLUMNS, values, strict=True):
                states[deal_id].setdefault(name, value)


def opportunity_as_of(*, opportunity: Opportunity, at: dt.datetime) -> dict[str, object] | None:
    return opportunities_as_of(at=at, opportunity_ids=[opportunity.pk]).get(opportunity.pk)


def company_zone() -> ZoneInfo:
    return ZoneInfo(company_settings_get().time_zone)


def company_today() -> dt.date:
    """Today in the company's time zone (pages and the API alike)."""
    return dt.datetime.now(company_zone()).date()


def end_of_day(day: dt.date) -> dt.datetime:
    """ "As of a date": the last moment of that day in the company's time zone."""
    return dt.datetime.combine(day, dt.time.max, tzinfo=company_zone())


@dataclass(frozen=True)
class CompletedMilestone:
    milestone: Milestone
    completed_at: dt.datetime


@dataclass(frozen=True)
class DealAsOf:
    """A deal as it stood at the end of ``day``: what the deal page and API show "as of"."""

    day: dt.date
    at: dt.datetime
    amount: Decimal
    currency: str
    expected_close_on: dt.date | None
    stage: Stage | None
    chosen_category: str
    forecast_category: str | None  # the effective one (None: lost)
    owner: User | None
    status: str
    closed_on: dt.date | None
    completed_milestones: list[CompletedMilestone]

    @property
    def forecast_category_label(self) -> str:
        return forecast_categories.label(self.forecast_category)

    @property
    def status_label(self) -> str:
        return Opportunity.Status(self.status).label if self.status else ""


def opportunity_on_day(*, opportunity: Opportunity, day: dt.date) -> DealAsOf | None:
    """The deal at the end of ``day`` (company time zone); None: it did not exist yet.

    Queries: the change log and the deal's creation (2, +2 only for a deal missing creation
    rows), the milestone records up to then (1), the stage (1) and the owner (1) then.
    """
    at = end_of_day(day)
    state = opportunity_as_of(opportunity=opportunity, at=at)
    if state is None:
        return None
    stage_id, owner_id = state.get("stage"), state.get("owner")
    stage = Stage.objects.filter(pk=int(str(stage_id))).first() if stage_id else None
    owner = User.objects.filter(pk=int(str(owner_id))).first() if owner_id else None
    status = str(state.get("status") or Opportunity.Status.OPEN)
    chosen = str(state.get("forecast_category") or "")
    return DealAsOf(
        day=day,
        at=at,
        amount=state.get("amount") or Decimal(0),  # type: ignore[arg-type]
        currency=str(state.get("currency") or ""),
        expected_close_on=state.get("expected_close_on"),  # type: ignore[arg-type]
        stage=stage,
        chosen_category=chosen,
        forecast_category=forecast_categories.effective_category(
            status=status,
            chosen=chosen,
            stage_default=stage.default_forecast_category if stage else None,
        ),
        owner=owner,
        status=status,
        closed_on=state.get("closed_on"),  # type: ignore[arg-type]
        completed_milestones=milestones_completed_at(opportunity=opportunity, at=at),
    )


def _counted_at(record: MilestoneCompletion, at: dt.datetime) -> bool:
    """Whether the record made its milestone complete at ``at``: one verified later was still
    waiting for its manager then."""
    if record.action != MilestoneCompletion.Action.COMPLETE:
        return False
    if record.verification_state == MilestoneCompletion.Verification.VERIFIED:
        return record.verified_at is None or record.verified_at <= at
    return record.counts


def milestones_completed_at(
    *, opportunity: Opportunity, at: dt.datetime
) -> list[CompletedMilestone]:
    """The milestones complete at ``at`` (the latest record of each by then), in process
    order (1 query)."""
    records = (
        MilestoneCompletion.objects.filter(opportunity=opportunity, completed_at__lte=at)
        .select_related("milestone__stage")
        .order_by("completed_at", "id")
    )
    latest = current_completions(records)
    done = [
        CompletedMilestone(record.milestone, record.completed_at)
        for record in latest.values()
        if _counted_at(record, at)
    ]
    return sorted(
        done,
        key=lambda row: (row.milestone.stage.order, row.milestone.order, row.milestone.pk),
    )


@dataclass(frozen=True)
class ChangeRow:
    """One history row with ids and choice values turned into what people read."""

    change: OpportunityChange
    label: str
    old_display: str
    new_display: str
    who: str


_CHOICE_LABELS: dict[str, dict[str, str]] = {
    OpportunityChange.Field.STATUS: dict(Opportunity.Status.choices),
    # "" is no choice: the stage's default applies.
    OpportunityChange.Field.FORECAST_CATEGORY: {
        "": "Stage default",
        **dict(ForecastCategory.choices),
    },
}


def describe_changes(
    *, changes: list[OpportunityChange], imported_at: dt.datetime | None = None
) -> list[ChangeRow]:
    """Show stage and owner ids as names with one lookup each, not one per row (≤2 queries).

    ``imported_at``: when the deal was imported; history up to then with nobody named was
    dated by the import from the old system ("imported"), the rest was made by the system.
    """
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
        if change.old_value == change.new_value:
            lookup = {}  # a creation row of an empty field: nothing before, nothing chosen
        rows.append(
            ChangeRow(
                change=change,
                label=labels.get(change.field, change.field),
                old_display=lookup.get(change.old_value, change.old_value),
                new_display=lookup.get(change.new_value, change.new_value),
                who=_who(change, imported_at),
            )
        )
    return rows


# The audit action of a manager closing won without the closing milestones (the service's).
WON_OVERRIDE_ACTION = "opportunity.won_override"


def opportunity_won_override(*, opportunity: Opportunity) -> AuditEvent | None:
    """The manager override the deal was closed won with, if any: who, when, why (1 query)."""
    return (
        AuditEvent.objects.filter(
            action=WON_OVERRIDE_ACTION,
            target_type=opportunity._meta.label_lower,
            target_id=str(opportunity.pk),
        )
        .select_related("actor")
        .order_by("-created_at", "-id")
        .first()
    )


def with_won_override(deals: QuerySet[Opportunity]) -> QuerySet[Opportunity]:
    """``deals`` with the override each was closed won with, if any (``won_override_reason``,
    ``won_override_by_id``, ``won_override_at``; None without one), in the deals' own query:
    a list of any length costs no query more."""
    latest = AuditEvent.objects.filter(
        action=WON_OVERRIDE_ACTION,
        target_type=Opportunity._meta.label_lower,
        target_id=Cast(OuterRef("pk"), CharField()),
    ).order_by("-created_at", "-id")
    return deals.annotate(
        won_override_reason=Subquery(
            latest.annotate(reason=KeyTextTransform("reason", "details")).values("reason")[:1]
        ),
        won_override_by_id=Subquery(latest.values("actor_id")[:1]),
        won_override_at=Subquery(latest.values("created_at")[:1]),
    )


# The audit actions of deal-team changes (accounts.services), read back as the team's history.
TEAM_AUDIT_ACTIONS = {
    "added": "opportunity.team_member_added",
    "changed": "opportunity.team_member_changed",
    "removed": "opportunity.team_member_removed",
}


@dataclass(frozen=True)
class TeamChange:
    """One change of a deal's team, as people read it."""

    event: AuditEvent
    text: str


def _team_change_text(event: AuditEvent) -> str:
    who, role = event.details.get("user", "?"), event.details.get("team_role", "")
    as_role = f" as {role}" if role else ""
    if event.action == TEAM_AUDIT_ACTIONS["added"]:
        return f"Added {who}{as_role}"
    if event.action == TEAM_AUDIT_ACTIONS["removed"]:
        return f"Removed {who}"
    old = event.details.get("old_team_role") or "no role"
    return f"Changed {who}'s role from {old} to {role or 'no role'}"


def team_history(*, opportunity: Opportunity, limit: int = 20) -> list[TeamChange]:
    """The latest changes of the deal's team, newest first (1 query)."""
    events = (
        AuditEvent.objects.filter(
            action__in=TEAM_AUDIT_ACTIONS.values(),
            target_type=opportunity._meta.label_lower,
            target_id=str(opportunity.pk),
        )
        .select_related("actor")
        .order_by("-created_at", "-id")[:limit]
    )
    return [TeamChange(event, _team_change_text(event)) for event in events]


def _who(change: OpportunityChange, imported_at: dt.datetime | None) -> str:
    if change.changed_by is not None:
        return str(change.changed_by)
    if imported_at is not None and change.changed_at <= imported_at:
        return "imported"
    return "system"
