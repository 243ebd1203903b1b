"""Deal history: the change log, and any deal rebuilt as it stood at a past moment."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet

from salesmgmt.models import AuditEvent, User

from ..models import (
    ForecastCategory,
    Opportunity,
    OpportunityChange,
    Stage,
)


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


@dataclass(frozen=True)
class ChangeRow:
    """One history row with ids and choice values turned into what people read."""

    change: OpportunityChange
    label: str
    old_display: str
    new_display: str


_CHOICE_LABELS: dict[str, dict[str, str]] = {
    OpportunityChange.Field.STATUS: dict(Opportunity.Status.choices),
    # "" is no choice: the stage's default applies.
    OpportunityChange.Field.FORECAST_CATEGORY: {
        "": "Stage default",
        **dict(ForecastCategory.choices),
    },
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
        if change.old_value == change.new_value:
            lookup = {}  # a creation row of an empty field: nothing before, nothing chosen
        rows.append(
            ChangeRow(
                change=change,
                label=labels.get(change.field, change.field),
                old_display=lookup.get(change.old_value, change.old_value),
                new_display=lookup.get(change.new_value, change.new_value),
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
