"""Deal history: the change log, and any deal rebuilt as it stood at a past moment."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet

from salesmgmt.models import User

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
    # Creation logs only the fields with a value: a field with no row yet was empty.
    empty = {name: _PARSERS.get(name, str)("") for name in OpportunityChange.Field.values}
    return {deal_id: {**empty, **state} for deal_id, state in states.items()}


def opportunity_as_of(*, opportunity: Opportunity, at: dt.datetime) -> dict[str, object] | None:
    return opportunities_as_of(at=at, opportunity_ids=[opportunity.pk]).get(opportunity.pk)


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


def _who(change: OpportunityChange, imported_at: dt.datetime | None) -> str:
    if change.changed_by is not None:
        return str(change.changed_by)
    if imported_at is not None and change.changed_at <= imported_at:
        return "imported"
    return "system"
