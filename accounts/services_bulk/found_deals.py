"""Deals an import finds by external id: updated as ``opportunity_update`` and the close
services would, in bulk (fields and their history, the stage moved forward, the close)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import OuterRef, Subquery

from salesmgmt.bulk_rows import insert_rows, update_rows
from salesmgmt.money import quantize_money

from ..models import (
    Activity,
    MilestoneCompletion,
    Opportunity,
    OpportunityChange,
    OpportunityLineItem,
)
from ..selectors import completed_milestone_ids
from .checks import Plan
from .history import (
    CHANGE_COLUMNS,
    COMPLETION_COLUMNS,
    DealHistory,
    Stamps,
    close_moment,
    tracked_state,
)
from .new_deals import LINE_ITEM_COLUMNS, Touched, line_item_values
from .rows import DealRow, account_key

Found = tuple[DealRow, Opportunity]
UPDATED_COLUMNS = [
    "name", "amount", "currency", "expected_close_on", "next_step", "lead_source", "account",
    "owner", "forecast_category", "stage", "stage_entered_at", "status", "closed_on", "lost_reason",
    "version", "updated_at",
]  # fmt: skip


def _state(deal: Opportunity) -> dict[str, str]:
    return tracked_state(
        amount=deal.amount, currency=deal.currency, expected_close_on=deal.expected_close_on,
        stage_id=deal.stage_id, forecast_category=deal.forecast_category,
        owner_id=deal.owner_id, status=deal.status, closed_on=deal.closed_on,
    )  # fmt: skip


@dataclass
class FoundDeals:
    """Updates the deals of an import found by external id, one batch at a time."""

    plan: Plan
    account_ids: dict[str, int]
    now: dt.datetime
    touched: Touched
    stamp: Stamps

    def update(self, found: list[Found]) -> None:
        history = DealHistory(self.plan.actor.pk, self.stamp)
        done = completed_milestone_ids(opportunity_ids=[d.pk for _, d in found if d.is_open])
        owners = {deal.pk: deal.owner_id for _, deal in found}
        rows = [self._apply(row, deal, history, done.get(deal.pk, set())) for row, deal in found]
        update_rows(Opportunity, UPDATED_COLUMNS, rows)
        insert_rows(OpportunityChange, CHANGE_COLUMNS, history.changes)
        insert_rows(MilestoneCompletion, COMPLETION_COLUMNS, history.completions)
        moved = [deal.pk for _, deal in found if deal.owner_id != owners[deal.pk]]
        if moved:
            # The owner copied onto the deals' activities (Activity.deal_owner), as
            # ``opportunity_update`` keeps it.
            owner = Opportunity.objects.filter(pk=OuterRef("opportunity_id")).values("owner_id")
            Activity.objects.filter(opportunity_id__in=moved).update(
                deal_owner_id=Subquery(owner[:1])
            )
        self._line_items([(row, deal) for row, deal in found if row.product is not None])

    def _apply(self, row: DealRow, deal: Opportunity, history: DealHistory, done: set) -> tuple:
        """Apply the row to ``deal`` (in memory) and log what changed; returns its new row."""
        before = _state(deal)
        self.touched.people.add(deal.owner_id)
        self.touched.days.update(d for d in (deal.expected_close_on, deal.closed_on) if d)
        self._set_fields(row, deal)
        after = _state(deal)
        for name, value in after.items():
            if before[name] != value:
                history.change(deal.pk, name, before[name], value, self.now)
        if deal.is_open:
            closed_at = (
                close_moment(self.stamp, row.closed_on, deal.created_at) if row.closed_on else None
            )
            self._move_stage(row, deal, history, done, closed_at or self.now)
            if row.status != deal.status and row.closed_on is not None and closed_at:
                deal.status, deal.closed_on = row.status, row.closed_on
                if row.status == Opportunity.Status.LOST:
                    deal.lost_reason = row.lost_reason
                history.close(deal.pk, row.status, row.closed_on, closed_at)
        deal.version += 1
        self.touched.deals.add(deal.pk)
        self.touched.people.add(deal.owner_id)
        self.touched.days.update(d for d in (deal.expected_close_on, deal.closed_on) if d)
        day = self.stamp.day
        return (
            deal.pk, deal.name, deal.amount, deal.currency, day(deal.expected_close_on),
            deal.next_step, deal.lead_source, deal.account_id, deal.owner_id,
            deal.forecast_category,
            deal.stage_id, self.stamp(deal.stage_entered_at), deal.status,
            day(deal.closed_on), deal.lost_reason, deal.version, self.stamp(self.now),
        )  # fmt: skip

    def _set_fields(self, row: DealRow, deal: Opportunity) -> None:
        """The fields ``opportunity_update`` is given by a re-import (blank: kept)."""
        deal.name, deal.expected_close_on = row.name, row.expected_close_on
        deal.amount = quantize_money(row.amount)
        if row.next_step is not None:
            deal.next_step = row.next_step
        if row.lead_source is not None:
            deal.lead_source = row.lead_source.strip()
        if row.account is not None:
            deal.account_id = row.account.pk
        elif row.new_account_name.strip():
            deal.account_id = self.account_ids[account_key(row.new_account_name)]
        if row.owner is not None:
            deal.owner_id = row.owner.pk
        if row.currency:
            deal.currency = row.currency.upper()
        elif not deal.currency:
            deal.currency = settings.REPORTING_CURRENCY
        if row.forecast_category is not None:
            # The rep's choice; a blank cell is no choice (the stage's default applies).
            deal.forecast_category = row.forecast_category

    def _move_stage(
        self, row: DealRow, deal: Opportunity, history: DealHistory, done: set, at: dt.datetime
    ) -> None:
        """Forward only: milestones before the file's stage (the last for a won deal) that are
        not complete are recorded as imported at ``at``. A stage behind the deal's is left:
        going back means undoing completions someone made here."""
        shape = self.plan.shapes[deal.process_id]
        if row.status == Opportunity.Status.WON:
            target = len(shape.stages) - 1
        elif row.stage is not None:
            target = shape.position(row.stage.pk)
        else:
            return
        if target <= shape.position(deal.stage_id):
            return
        steps = shape.walk(done, target)
        stage_id, entered = history.milestones(deal.pk, steps, [at] * len(steps), deal.stage_id)
        if entered is not None:
            deal.stage_id, deal.stage_entered_at = stage_id, entered

    def _line_items(self, found: list[tuple[DealRow, Opportunity]]) -> None:
        """The row's product on the deal: its line item updated, or one added."""
        if not found:
            return
        items = OpportunityLineItem.objects.filter(opportunity_id__in=[d.pk for _, d in found])
        existing = {(o, p): pk for pk, o, p in items.values_list("pk", "opportunity_id", "product")}
        updates, inserts = [], []
        now = self.stamp(self.now)
        for row, deal in found:
            product_id = row.product.pk if row.product is not None else 0
            quantity, price = line_item_values(row)
            pk = existing.get((deal.pk, product_id))
            if pk is not None:
                updates.append((pk, quantity, price, now))
            else:
                inserts.append((deal.pk, product_id, quantity, price, now))
        update_rows(OpportunityLineItem, ["quantity", "unit_price", "updated_at"], updates)
        insert_rows(OpportunityLineItem, LINE_ITEM_COLUMNS, inserts)
