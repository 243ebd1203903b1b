"""The rules of the per-deal services, checked for a whole import at once.

Everything a rule needs is read up front, a few queries for the whole import (deals found by
external id, the actor's visibility, exchange rates, processes with their stages and
milestones); each row is then checked against dictionaries. The rules and messages are those
of ``opportunity_create``/``_update``/``_close_won``/``_close_lost``, with the bad value
quoted, plus the import's own (a stage of the deal's process, a product's quantity).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from salesmgmt.models import User
from salesmgmt.money import RateTable, is_money, money_range_message, quantize_money
from salesmgmt.visibility import can_see_user, manages, may_reassign

from ..models import Account, Opportunity, OpportunityTeamMember
from ..selectors import default_process
from ..services import SELLING_ROLES
from .rows import DealRow, RowProblem
from .shapes import ProcessShape, process_shapes

LOOKUP_CHUNK = 10_000  # ids or keys per IN (...) list: well inside every database's limit
CLOSED = (Opportunity.Status.WON, Opportunity.Status.LOST)
# A line item's quantity: hundredths, at most 12 digits (OpportunityLineItem.quantity).
QUANTITY_MIN, QUANTITY_LIMIT = Decimal("0.01"), Decimal(10) ** 10


def chunks(values: Iterable, size: int = LOOKUP_CHUNK) -> Iterator[list]:
    batch: list = []
    for value in values:
        batch.append(value)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def quoted(value: object) -> str:
    """A value as the import's messages quote it (``csv_import.parsing.quote``)."""
    text = str(value)
    return f'"{text[:40]}…"' if len(text) > 40 else f'"{text}"'


@dataclass
class Plan:
    """What the checks read, kept for the writes: deals found, processes, problems."""

    actor: User
    found: dict[str, Opportunity]  # by external id: deals an earlier import (or a page) made
    shapes: dict[int, ProcessShape]
    default_process_id: int | None
    problems: list[RowProblem] = field(default_factory=list)

    def process_id(self, row: DealRow) -> int | None:
        return row.process.pk if row.process is not None else self.default_process_id

    def existing(self, row: DealRow) -> Opportunity | None:
        return self.found.get(row.external_id) if row.external_id else None


def _found_deals(rows: list[DealRow]) -> dict[str, Opportunity]:
    """Every deal with an external id of the file, whoever owns it (one query per 10,000)."""
    ids = sorted({row.external_id for row in rows if row.external_id})
    found: dict[str, Opportunity] = {}
    for batch in chunks(ids):
        deals = Opportunity.objects.filter(external_id__in=batch).select_related("owner")
        found.update({deal.external_id: deal for deal in deals})
    return found


def _workable(actor: User, deals: list[Opportunity]) -> tuple[set[int], set[int]]:
    """(visible, workable) deal ids among ``deals``: the actor sees / may work on them
    (owner, team member, the owner's managers, executives, admins, integrators)."""
    if actor.sees_everyone:
        ids = {deal.pk for deal in deals}
        return ids, ids
    workable = {d.pk for d in deals if d.owner_id == actor.pk or manages(actor, d.owner)}
    rest = [deal.pk for deal in deals if deal.pk not in workable]
    visible = set(workable)
    for batch in chunks(rest):
        visible |= set(
            Opportunity.objects.visible_to(actor).filter(pk__in=batch).values_list("pk", flat=True)
        )
        teams = OpportunityTeamMember.objects.filter(user=actor, opportunity_id__in=batch)
        workable |= set(teams.values_list("opportunity_id", flat=True))
    return visible, workable


def _visible_accounts(actor: User, rows: list[DealRow]) -> set[int] | None:
    """Ids of the rows' accounts the actor sees (None: the actor sees every account)."""
    if actor.sees_everyone:
        return None
    ids = sorted({row.account.pk for row in rows if row.account is not None})
    visible: set[int] = set()
    for batch in chunks(ids):
        found = Account.objects.visible_to(actor).filter(pk__in=batch)
        visible |= set(found.values_list("pk", flat=True))
    return visible


@dataclass
class _Context:
    """The reads every row's check looks things up in."""

    plan: Plan
    visible_deals: set[int]
    workable_deals: set[int]
    visible_accounts: set[int] | None
    rates: RateTable
    owner_verdicts: dict[int, str] = field(default_factory=dict)


def plan_import(*, actor: User, rows: list[DealRow]) -> Plan:
    """Read what the rows need and check every row; ``Plan.problems`` lists what is wrong."""
    found = _found_deals(rows)
    default = default_process()
    process_ids = {row.process.pk for row in rows if row.process is not None}
    process_ids |= {deal.process_id for deal in found.values()}
    if default is not None:
        process_ids.add(default.pk)
    plan = Plan(actor, found, process_shapes(process_ids), default.pk if default else None)
    visible, workable = _workable(actor, list(found.values()))
    ctx = _Context(plan, visible, workable, _visible_accounts(actor, rows), RateTable.load())
    for row in rows:
        deal = plan.existing(row)
        checks = _new_deal_problems(ctx, row) if deal is None else _found_problems(ctx, row, deal)
        plan.problems += [RowProblem(row.row, name, message) for name, message in checks]
    return plan


def _owner_problem(ctx: _Context, owner: User) -> str:
    """``ensure_assignable_owner``'s rule for a new owner: an active seller the actor sees."""
    verdict = ctx.owner_verdicts.get(owner.pk)
    if verdict is None:
        verdict = ""
        if not owner.is_active or owner.role not in SELLING_ROLES:
            verdict = f"{quoted(owner)} is not an active seller."
        elif not can_see_user(ctx.plan.actor, owner):
            verdict = (
                f"{quoted(owner)} is not in your team; you can only assign records to people "
                "in your team."
            )
        ctx.owner_verdicts[owner.pk] = verdict
    return verdict


def _common_problems(ctx: _Context, row: DealRow) -> Iterator[tuple[str, str]]:
    """Rules of every row, new deal or found: account, currency, amount, close, product."""
    if "account" not in row.unresolved:
        if row.account is None and not row.new_account_name.strip():
            yield "account", "Required."
        visible = ctx.visible_accounts
        if row.account is not None and visible is not None and row.account.pk not in visible:
            yield "account", "No such account."
    if row.currency and not ctx.rates.knows(row.currency.upper()):
        yield "currency", f"No exchange rate for {quoted(row.currency)}; add one first."
    if not is_money(row.amount):
        yield "amount", f"{quoted(row.amount)}: {money_range_message(signed=False)}"
    if row.status in CLOSED and row.closed_on is None:
        yield "closed_on", f"Give the close date of a {row.status} deal."
    if row.quantity is not None and "product" not in row.unresolved:
        if row.product is None:
            yield "quantity", "A quantity needs a product (the product column)."
        elif not QUANTITY_MIN <= quantize_money(row.quantity) < QUANTITY_LIMIT:
            yield (
                "quantity",
                (f"{quoted(row.quantity)}: give a quantity above zero and below 10,000,000,000."),
            )
    if row.created_at is not None and timezone.is_naive(row.created_at):
        yield "created_at", "Give a time zone with the time."


def _new_deal_problems(ctx: _Context, row: DealRow) -> Iterator[tuple[str, str]]:
    yield from _common_problems(ctx, row)
    if row.owner is not None or "owner" not in row.unresolved:
        owner_problem = _owner_problem(ctx, row.owner or ctx.plan.actor)
        if owner_problem:
            yield "owner", owner_problem
    process_id = ctx.plan.process_id(row)
    if process_id is None and "process" not in row.unresolved:
        yield "process", "Define a sales process first."
    if row.stage is not None and process_id is not None and row.stage.process_id != process_id:
        process = ctx.plan.shapes[process_id].process
        yield "stage", f"No stage named {quoted(row.stage.name)} in the process {quoted(process)}."
    if row.forecast_category and row.status in CLOSED:
        yield "forecast_category", _closed_category_message(row)


def _closed_category_message(row: DealRow) -> str:
    return (
        f"Only an open deal gets a forecast category ({quoted(row.forecast_category)} given): "
        f"leave it blank for a {row.status} deal."
    )


def _found_problems(ctx: _Context, row: DealRow, deal: Opportunity) -> Iterator[tuple[str, str]]:
    """A re-import of a deal: ``opportunity_update`` (and the close) would refuse these."""
    actor = ctx.plan.actor
    if deal.pk not in ctx.visible_deals:
        # Someone else's deal: as ``_ensure_unique_external_id`` says it for a new one.
        taken = quoted(row.external_id)
        yield "external_id", f"Another opportunity already has the external id {taken}."
        return
    if deal.pk not in ctx.workable_deals:
        yield "", "You do not work on this opportunity."
        return
    yield from _common_problems(ctx, row)
    if row.owner is not None and row.owner.pk != deal.owner_id:
        if not may_reassign(actor, deal.owner):
            yield (
                "owner",
                (
                    "Only the owner's managers, executives and admins can give this record to "
                    "someone else."
                ),
            )
        elif _owner_problem(ctx, row.owner):
            yield "owner", _owner_problem(ctx, row.owner)
    yield from _found_category_problems(actor, row, deal)
    if row.status != deal.status and not deal.is_open:
        yield "status", f"The deal is already {deal.status}."
    if row.stage is not None and row.stage.process_id != deal.process_id:
        process = ctx.plan.shapes[deal.process_id].process
        yield "stage", f"No stage named {quoted(row.stage.name)} in the process {quoted(process)}."


def _found_category_problems(
    actor: User, row: DealRow, deal: Opportunity
) -> Iterator[tuple[str, str]]:
    category = row.forecast_category
    if category is None or category == deal.forecast_category:
        return
    if row.status in CLOSED and category:
        yield "forecast_category", _closed_category_message(row)
    elif not (actor.sees_everyone or actor.pk == deal.owner_id or manages(actor, deal.owner)):
        yield (
            "forecast_category",
            ("Only the deal's owner, their managers and executives choose its forecast category."),
        )
    elif category and not deal.is_open:
        yield (
            "forecast_category",
            (f"Only an open deal gets a forecast category; this one is {deal.status}."),
        )
