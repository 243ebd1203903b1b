"""A deal's dated history as the per-deal services would have written it, as plain rows.

``opportunity_create`` logs every tracked field at creation; each milestone completion that
moves the derived stage logs the stage; ``opportunity_close_won``/``_lost`` log status and
close date. An import writes the same rows, dated from the file: creation at ``created_at``
(the fields of ``LOGGED_AT_CREATION`` only), the milestones of the stages before the file's
stage (recorded as *imported*) spread from creation to the stage date, the close at
``closed_on``. ``opportunities_as_of`` then replays an imported deal as it stood on any past
day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from salesmgmt.money import quantize_money

from ..models import MilestoneCompletion, OpportunityChange
from .shapes import Step

F = OpportunityChange.Field
COMPLETE = MilestoneCompletion.Action.COMPLETE
IMPORTED = MilestoneCompletion.Verification.IMPORTED
IMPORTED_NOTE = "Imported with the deal's stage"

# Columns of the rows built here, in the order of the tuples.
CHANGE_COLUMNS = [
    "opportunity_id", "field", "old_value", "new_value", "changed_by_id", "changed_at",
]  # fmt: skip
COMPLETION_COLUMNS = [
    "opportunity_id", "milestone_id", "action", "completed_at", "note", "verification_state",
    "created_at",
]  # fmt: skip


# The creation rows an imported deal gets: the fields read by their logged values (the
# waterfall finds deals by close date and owner through the change log's index, stage stays
# start at the creation row). The other fields (amount, currency, category, status, closed
# on) get a row only when they change: every replay (``opportunities_as_of``, forecasting's
# ``History``) reads a field with no row yet as its value before its first change, else the
# deal's own. Three rows fewer a deal: a fifth of what a 10,000-deal import writes.
LOGGED_AT_CREATION = [F.EXPECTED_CLOSE_ON, F.STAGE, F.OWNER]


class Stamps:
    """Datetimes as the database stores them (``adapt_datetimefield_value``, as text), each
    converted once: an import's dates repeat (every deal engaged on a day shares its
    midnight). Also the start of a day in the company's time zone, once per day."""

    def __init__(self) -> None:
        self._stored: dict[dt.datetime, str] = {}
        self._days: dict[dt.date, dt.datetime] = {}
        self._adapt = connection.ops.adapt_datetimefield_value
        self._adapt_day = connection.ops.adapt_datefield_value
        self._zone = timezone.get_current_timezone()

    def __call__(self, moment: dt.datetime) -> str:
        stored = self._stored.get(moment)
        if stored is None:
            stored = self._stored[moment] = str(self._adapt(moment))
        return stored

    def day(self, day: dt.date | None) -> object:
        """A date as the database stores it (``adapt_datefield_value``)."""
        return self._adapt_day(day)

    def day_start(self, day: dt.date) -> dt.datetime:
        start = self._days.get(day)
        if start is None:
            start = self._days[day] = dt.datetime.combine(day, dt.time(), tzinfo=self._zone)
        return start


def close_moment(stamp: Stamps, closed_on: dt.date, created_at: dt.datetime) -> dt.datetime:
    """When a deal closed on ``closed_on`` is logged as closed: the day's start in the company's
    time zone, never before the deal was created."""
    return max(stamp.day_start(closed_on), created_at)


def spread(start: dt.datetime, end: dt.datetime, count: int) -> list[dt.datetime]:
    """``count`` moments from just after ``start`` to ``end``, evenly (the last at ``end``)."""
    step = (end - start) / count if count else dt.timedelta(0)
    return [start + step * (i + 1) for i in range(count)]


def money_text(amount: Decimal) -> str:
    """How history stores an amount (``accounts.services._as_text``)."""
    return str(quantize_money(amount))


@dataclass
class DealHistory:
    """The history rows of the deals of one batch, appended deal by deal.

    ``changed_by_id`` is who the history rows name as having made the changes: None for a new
    deal's history, which the file dates in the old system (nobody here made those changes;
    and PostgreSQL has no key to check per row at commit); the importer for changes made to
    deals already here. Imported completions name nobody: the old system's stage made them.
    """

    changed_by_id: int | None
    stamp: Stamps
    changes: list[tuple] = field(default_factory=list)
    completions: list[tuple] = field(default_factory=list)

    def change(self, pk: int, name: str, old: str, new: str, at: dt.datetime) -> None:
        self.changes.append((pk, name, old, new, self.changed_by_id, self.stamp(at)))

    def creation(self, pk: int, state: dict[str, str], at: dt.datetime) -> None:
        """The fields reports look up by logged value, with a value, old value empty (as
        ``_record_changes`` logs them for a new deal); see ``LOGGED_AT_CREATION``."""
        stored, by = self.stamp(at), self.changed_by_id
        self.changes += [
            (pk, name, "", state[name], by, stored) for name in LOGGED_AT_CREATION if state[name]
        ]

    def milestones(
        self, pk: int, steps: list[Step], moments: list[dt.datetime], stage_id: int | None
    ) -> tuple[int | None, dt.datetime | None]:
        """Imported completions at ``moments``; a stage row whenever the derived stage moves.
        Returns the stage reached and when (None: it did not move)."""
        entered: dt.datetime | None = None
        for (milestone_id, after), at in zip(steps, moments, strict=True):
            stored = self.stamp(at)
            self.completions.append(
                (pk, milestone_id, COMPLETE, stored, IMPORTED_NOTE, IMPORTED, stored)
            )
            if after != stage_id:
                self.change(pk, F.STAGE, _id_text(stage_id), _id_text(after), at)
                stage_id, entered = after, at
        return stage_id, entered

    def close(self, pk: int, status: str, closed_on: dt.date, at: dt.datetime) -> None:
        """Status and close date, as ``opportunity_close_won``/``_lost`` log them."""
        self.change(pk, F.STATUS, "open", status, at)
        self.change(pk, F.CLOSED_ON, "", closed_on.isoformat(), at)


def _id_text(pk: int | None) -> str:
    return "" if pk is None else str(pk)


def tracked_state(
    *,
    amount: Decimal,
    currency: str,
    expected_close_on: dt.date,
    stage_id: int | None,
    forecast_category: str,
    owner_id: int,
    status: str,
    closed_on: dt.date | None,
) -> dict[str, str]:
    """The tracked fields as history stores them (``accounts.services._tracked_state``)."""
    return {
        F.AMOUNT: money_text(amount),
        F.CURRENCY: currency,
        F.EXPECTED_CLOSE_ON: expected_close_on.isoformat(),
        F.STAGE: _id_text(stage_id),
        F.FORECAST_CATEGORY: forecast_category,
        F.OWNER: str(owner_id),
        F.STATUS: status,
        F.CLOSED_ON: closed_on.isoformat() if closed_on else "",
    }
