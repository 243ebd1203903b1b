"""New deals of an import: the deal rows, their dated history and line items, in bulk."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings

from salesmgmt.bulk_rows import BackgroundInserts
from salesmgmt.money import quantize_money

from ..models import (
    MilestoneCompletion,
    Opportunity,
    OpportunityChange,
    OpportunityLineItem,
)
from .checks import Plan
from .history import (
    CHANGE_COLUMNS,
    COMPLETION_COLUMNS,
    DealHistory,
    Stamps,
    close_moment,
    spread,
    tracked_state,
)
from .rows import DealRow, account_key

OPEN = Opportunity.Status.OPEN
WON = Opportunity.Status.WON
OPPORTUNITY_COLUMNS = [
    "id", "account_id", "owner_id", "process_id", "stage_id", "stage_entered_at", "name",
    "amount", "currency", "expected_close_on", "status", "closed_on", "lost_reason",
    "forecast_category", "next_step", "lead_source", "external_id", "imported_at", "created_at",
]  # fmt: skip
LINE_ITEM_COLUMNS = ["opportunity_id", "product_id", "quantity", "unit_price", "created_at"]


@dataclass
class Touched:
    """What the import changed, for the one ``refresh.changed`` at its end."""

    deals: set[int] = field(default_factory=set)
    people: set[int] = field(default_factory=set)
    days: set[dt.date] = field(default_factory=set)


def line_item_values(row: DealRow) -> tuple[Decimal, Decimal]:
    """(quantity, unit price): the deal's amount spread over the quantity (default 1)."""
    quantity = quantize_money(row.quantity if row.quantity is not None else 1)
    return quantity, quantize_money(quantize_money(row.amount) / quantity)


@dataclass
class NewDeals:
    """Writes the new deals of an import, one batch at a time."""

    plan: Plan
    account_ids: dict[str, int]  # the accounts created for names not found, by lower name
    now: dt.datetime
    touched: Touched
    stamp: Stamps = field(default_factory=Stamps)

    def insert(self, rows: list[DealRow], ids: list[int], inserts: BackgroundInserts) -> None:
        """Insert the deals of ``rows`` (ids from ``reserve_ids``) with their history, through
        ``inserts`` (PostgreSQL writes them while the next batch is built)."""
        history = DealHistory(None, self.stamp)
        deals, items = [], []
        for row, pk in zip(rows, ids, strict=True):
            deal = self._deal(row, pk, history)
            deals.append(deal)
            if row.product is not None:
                quantity, price = line_item_values(row)
                created = self.stamp(row.created_at or self.now)
                items.append((pk, row.product.pk, quantity, price, created))
        inserts.add(
            [
                (Opportunity, OPPORTUNITY_COLUMNS, deals),
                (OpportunityChange, CHANGE_COLUMNS, history.changes),
                (MilestoneCompletion, COMPLETION_COLUMNS, history.completions),
                (OpportunityLineItem, LINE_ITEM_COLUMNS, items),
            ]
        )

    def _account_id(self, row: DealRow) -> int:
        if row.account is not None:
            return row.account.pk
        return self.account_ids[account_key(row.new_account_name)]

    def _stage_target(self, row: DealRow, stages: int) -> int:
        """The stage position the file puts the deal in: its stage; the last for a won deal;
        the first for a lost one without a stage (-1: none given, the process's first)."""
        shape = self.plan.shapes[self.plan.process_id(row) or 0]
        if row.status == WON:
            return stages - 1
        return shape.position(row.stage.pk) if row.stage is not None else -1

    def _deal(self, row: DealRow, pk: int, history: DealHistory) -> tuple:
        """The deal's row; its history goes to ``history``."""
        actor = self.plan.actor
        owner_id = (row.owner or actor).pk
        process_id = self.plan.process_id(row) or 0
        shape = self.plan.shapes[process_id]
        created = row.created_at or self.now
        closed_on = row.closed_on if row.status != OPEN else None
        closed_at = close_moment(self.stamp, closed_on, created) if closed_on else None
        currency = (row.currency or settings.REPORTING_CURRENCY).upper()
        amount = quantize_money(row.amount)
        category = row.forecast_category or ""
        state = tracked_state(
            amount=amount, currency=currency, expected_close_on=row.expected_close_on,
            stage_id=shape.first_stage_id, forecast_category=category, owner_id=owner_id,
            status=OPEN, closed_on=None,
        )  # fmt: skip
        history.creation(pk, state, created)
        steps = shape.walk(set(), self._stage_target(row, len(shape.stages)))
        stage_id, entered = history.milestones(
            pk, steps, spread(created, closed_at or created, len(steps)), shape.first_stage_id
        )
        if closed_at is not None and closed_on is not None:
            history.close(pk, row.status, closed_on, closed_at)
        self.touched.people.add(owner_id)
        self.touched.days.update(d for d in (row.expected_close_on, closed_on) if d)
        day = self.stamp.day
        return (
            pk, self._account_id(row), owner_id, process_id, stage_id,
            self.stamp(entered or created), row.name, amount, currency,
            day(row.expected_close_on), row.status, day(closed_on),
            row.lost_reason if row.status == Opportunity.Status.LOST else "", category,
            row.next_step or "", (row.lead_source or "").strip(), row.external_id,
            self.stamp(self.now), self.stamp(created),
        )  # fmt: skip
