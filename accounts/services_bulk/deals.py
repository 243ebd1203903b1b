"""``opportunity_bulk_import``: many deals in one transaction, set-based, all or nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from salesmgmt import refresh
from salesmgmt import services as org_services
from salesmgmt.bulk_rows import (
    BackgroundInserts,
    insert_rows,
    objects_kept_from_collection,
    reserve_ids,
)
from salesmgmt.models import User

from ..models import Account, Opportunity
from .checks import Plan, chunks, plan_import
from .found_deals import FoundDeals
from .history import Stamps
from .new_deals import NewDeals, Touched
from .rows import (
    BulkImportResult,
    DealRow,
    ImportRowsInvalid,
    Progress,
    RowProblem,
    account_key,
)

# Deals written per batch: what one round of inserts holds in memory, and how often the
# import's progress moves.
BATCH = 5000


def opportunity_bulk_problems(*, actor: User, rows: list[DealRow]) -> list[RowProblem]:
    """What ``opportunity_bulk_import`` would refuse in ``rows``, without writing anything."""
    return plan_import(actor=actor, rows=rows).problems


def opportunity_bulk_preview(*, actor: User, rows: list[DealRow]) -> BulkImportResult:
    """What ``opportunity_bulk_import`` would do with ``rows`` (deals created and updated,
    accounts created), without writing anything; ``ImportRowsInvalid`` if it would refuse.

    A dry run: the import checks every rule and constraint before its first write, so
    what passes here is written by the import as it is."""
    plan = plan_import(actor=actor, rows=rows)
    if plan.problems:
        raise ImportRowsInvalid(plan.problems)
    found = sum(plan.existing(row) is not None for row in rows)
    names: dict[str, str] = {}
    for row in rows:
        if row.account is None and account_key(row.new_account_name):
            names.setdefault(account_key(row.new_account_name), row.new_account_name.strip())
    return BulkImportResult(
        created=len(rows) - found, updated=found, accounts_created=list(names.values())
    )


@transaction.atomic
def opportunity_bulk_import(
    *,
    actor: User,
    rows: list[DealRow],
    progress: Progress | None = None,
    batch_size: int | None = None,
) -> BulkImportResult:
    """Create or update (by ``external_id``) every deal of ``rows``, or none.

    The rules of ``opportunity_create``/``_update``/``_close_won``/``_close_lost`` are checked
    for every row first (a few queries for all of them); any problem raises
    ``ImportRowsInvalid`` with each row's problems and nothing is written. Then the deals,
    their dated history (``history``), imported milestone completions and line items go in
    with bulk inserts, batch by batch (``progress`` is told the rows done after each), the
    accounts named but not found are created, the periods the deals' dates fall in exist,
    and one ``refresh.changed`` marks every figure the import moved. Imported deals carry
    ``imported_at``. No webhook per deal: an import is history from another system.
    """
    with objects_kept_from_collection():
        return _import(actor, rows, progress, batch_size or BATCH)


def _import(
    actor: User, rows: list[DealRow], progress: Progress | None, batch_size: int
) -> BulkImportResult:
    """The steps of ``opportunity_bulk_import``, in its transaction."""
    plan = plan_import(actor=actor, rows=rows)
    if plan.problems:
        raise ImportRowsInvalid(plan.problems)
    now = timezone.now()
    account_ids, names = _accounts_create(plan, rows, now)
    touched, stamp = Touched(), Stamps()
    new = NewDeals(plan, account_ids, now, touched, stamp)
    found = FoundDeals(plan, account_ids, now, touched, stamp)
    result = BulkImportResult(accounts_created=names)
    created = [r for r in rows if plan.existing(r) is None]
    ids = reserve_ids(Opportunity, len(created))
    # Until the block ends the database is busy with the batches (progress uses the cache).
    with BackgroundInserts() as inserts:
        for first in range(0, len(created), batch_size):
            batch_ids = ids[first : first + batch_size]
            new.insert(created[first : first + batch_size], batch_ids, inserts)
            result.deal_ids += batch_ids
            result.created += len(batch_ids)
            _report(progress, result)
    pairs = ((row, plan.existing(row)) for row in rows)
    for batch in chunks(((r, d) for r, d in pairs if d is not None), batch_size):
        found.update(batch)
        result.deal_ids += [deal.pk for _, deal in batch]
        result.updated += len(batch)
        _report(progress, result)
    _periods_cover(_days(rows, touched))
    # One mark for everything: the people and days of the new deals (all their figures are
    # in those), and the deals found, whose earlier figures their ids lead to.
    refresh.changed(deals=touched.deals, people=touched.people, days=touched.days)
    return result


def _report(progress: Progress | None, result: BulkImportResult) -> None:
    if progress is not None:
        progress(result.created + result.updated)


def _accounts_create(
    plan: Plan, rows: list[DealRow], now: dt.datetime
) -> tuple[dict[str, int], list[str]]:
    """One account per name the rows give without an account (case and spaces aside), owned
    by the first such row's deal owner (whom the checks allowed to own the deal)."""
    wanted: dict[str, tuple[str, int]] = {}
    for row in rows:
        name, key = row.new_account_name.strip(), account_key(row.new_account_name)
        if row.account is None and key and key not in wanted:
            deal = plan.existing(row)
            owner = row.owner or (deal.owner if deal is not None else plan.actor)
            wanted[key] = (name, owner.pk)
    ids = reserve_ids(Account, len(wanted))
    stored = Stamps()(now)
    insert_rows(
        Account,
        ["id", "name", "owner_id", "created_at"],
        [
            (pk, name, owner_id, stored)
            for pk, (name, owner_id) in zip(ids, wanted.values(), strict=True)
        ],
    )
    return dict(zip(wanted, ids, strict=True)), [name for name, _ in wanted.values()]


def _days(rows: list[DealRow], touched: Touched) -> list[dt.date]:
    created = [timezone.localdate(r.created_at) for r in rows if r.created_at is not None]
    return [*touched.days, *created]


def _periods_cover(days: Iterable[dt.date]) -> None:
    """Every fiscal period the import's dates fall in exists (its figures have a home): each
    fiscal year, on the company's calendar, from the earliest date to the latest (3 queries)."""
    days = list(days)
    if days:
        org_services.periods_ensure_covering(first=min(days), last=max(days))
