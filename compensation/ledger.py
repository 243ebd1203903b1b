"""The credit ledger: who is credited how much for a won deal, on which day (so in which period).

The one module that decides credit. Attainment (territories), KPIs and the forecast's closed
amount (forecasting), the dashboards (coaching, through those two) and statements
(``compensation.inputs``) all read these rows, so every page shows the same credited bookings
for a person and period. The rules:

- **Primary credit.** A won deal credits, on its ``closed_on``, its amount in the reporting
  currency converted at the rate of the close date (``salesmgmt.money.RateTable``): to the
  people of its ``CreditSplit`` rows, each share cut by ``engine.allocate_credit`` (the one
  rounding rule: cents rounded down, leftover cents to the largest remainders), or else 100 %
  to its owner. A deal's primary rows add up to its converted amount exactly, to the cent.
- **Cancellation.** A ``DealCancellation`` debits the period in which it is recorded: rows on
  ``cancelled_on`` that reverse each primary credit of the deal (same people, same converted
  amounts), so a deal cancelled in the period it closed nets to zero there, and one cancelled
  later keeps its credit in its closing period and lowers the later one. Reversing commission
  already paid is a separate matter: the plan's clawback window (``compensation.inputs``).
- **Overlay.** A manager on a plan with overlay credit is credited, on top, with every primary
  row of their reporting subtree (``overlay_entries``). Overlay rows are never added into
  anyone's bookings or team totals: a person's credited bookings are their own primary rows,
  a manager's team figure is the primary rows of their subtree - the same amount an overlay
  credits them, so pay and pages agree.
- **Territory.** Each row names the territory that held the deal's account on ``closed_on``
  (``AccountTerritoryAssignment``, half-open ``[effective_from, effective_to)``, so a deal
  closed on the day of a move goes to the new territory); a cancellation debits that same
  territory. None when no assignment covered the day.

The core (``deal_entries``, ``overlay_entries``, ``totals_by_person``) is pure ``Decimal``
Python, like ``compensation.engine``; ``ledger_entries`` loads the rows of a date range in a
fixed number of queries (won deals with their splits and cancellation in one, exchange rates
in one, and the account assignments in one more when territories are asked for).

Why here: the facts credit depends on (splits, cancellations, the rounding rule) live in this
app. The module imports only ``accounts``, ``territories.models``, ``salesmgmt`` and this app's
models and engine, never ``compensation.inputs`` or another app's selectors, so territories
and forecasting can import it without an import cycle.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum

from django.db.models import Q

from accounts.models import Opportunity
from salesmgmt.models import Period
from salesmgmt.money import RateTable
from territories.models import AccountTerritoryAssignment

from .engine import allocate_credit
from .models import CreditSplit

ZERO = Decimal(0)


class Kind(StrEnum):
    CREDIT = "credit"
    CANCELLATION = "cancellation"


class Layer(StrEnum):
    PRIMARY = "primary"  # counts in bookings, attainment, team totals
    OVERLAY = "overlay"  # extra credit for a manager's plan; never summed into totals


@dataclass(frozen=True)
class CreditedDeal:
    """What the ledger needs of a won deal; ``amount`` is already in the reporting currency."""

    opportunity_id: int
    owner_id: int
    amount: Decimal
    closed_on: dt.date
    splits: tuple[tuple[int, Decimal], ...] = ()  # (person_id, percent), in person-id order
    cancelled_on: dt.date | None = None
    territory_id: int | None = None


@dataclass(frozen=True)
class Entry:
    """One ledger row: ``amount`` credited (negative: debited) to a person on ``day``."""

    person_id: int
    opportunity_id: int
    day: dt.date
    amount: Decimal
    kind: Kind
    note: str
    layer: Layer = Layer.PRIMARY
    territory_id: int | None = None
    period_id: int | None = None  # set when loaded for a period (``period_entries``)

    @property
    def is_primary(self) -> bool:
        return self.layer == Layer.PRIMARY


# --- the pure core --------------------------------------------------------------------------


def deal_entries(deal: CreditedDeal) -> list[Entry]:
    """The deal's primary credit rows and, when cancelled, the rows reversing them."""
    if deal.splits:
        shares = allocate_credit(deal.amount, [percent for _, percent in deal.splits])
        parts = [
            (person_id, share, f"split {percent.normalize():f}%")
            for (person_id, percent), share in zip(deal.splits, shares, strict=True)
        ]
    else:
        parts = [(deal.owner_id, deal.amount, "owner, 100%")]
    credits = [
        Entry(
            person_id=person_id,
            opportunity_id=deal.opportunity_id,
            day=deal.closed_on,
            amount=share,
            kind=Kind.CREDIT,
            note=note,
            territory_id=deal.territory_id,
        )
        for person_id, share, note in parts
    ]
    if deal.cancelled_on is None:
        return credits
    reversals = [
        replace(
            entry,
            day=deal.cancelled_on,
            amount=-entry.amount,
            kind=Kind.CANCELLATION,
            note=f"cancelled {deal.cancelled_on.isoformat()}, reverses {entry.note}",
        )
        for entry in credits
    ]
    return credits + reversals


def entries_between(
    deals: Iterable[CreditedDeal], *, start_on: dt.date, end_on: dt.date
) -> list[Entry]:
    """The primary rows of ``deals`` dated within ``start_on``..``end_on`` (inclusive)."""
    return [
        entry for deal in deals for entry in deal_entries(deal) if start_on <= entry.day <= end_on
    ]


def overlay_entries(
    entries: Iterable[Entry],
    *,
    manager_paths: Mapping[int, str],
    ancestor_paths: Mapping[int, str],
    names: Mapping[int, str] | None = None,
) -> list[Entry]:
    """Overlay rows: each primary row credited again to each overlay manager above its person.

    ``manager_paths``: overlay manager id -> their ``subtree_path`` ("/1/4/9/");
    ``ancestor_paths``: person id -> their ``ancestor_path`` (the path of their managers);
    ``names``: how the notes name the person credited (else "person <id>").
    """
    names = names or {}
    rows = []
    for entry in entries:
        if not entry.is_primary:
            continue
        path = ancestor_paths.get(entry.person_id, "")
        for manager_id, subtree in manager_paths.items():
            if manager_id != entry.person_id and path.startswith(subtree):
                rows.append(
                    replace(
                        entry,
                        person_id=manager_id,
                        layer=Layer.OVERLAY,
                        note=(
                            f"overlay for {names.get(entry.person_id, f'person {entry.person_id}')}"
                            f": {entry.note}"
                        ),
                    )
                )
    return rows


def totals_by_person(entries: Iterable[Entry]) -> dict[int, Decimal]:
    """Credited bookings per person: the sum of their own primary rows (overlays left out)."""
    totals: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for entry in entries:
        if entry.is_primary:
            totals[entry.person_id] += entry.amount
    return dict(totals)


def totals_by_territory(entries: Iterable[Entry]) -> dict[int, Decimal]:
    """Credited bookings per territory (primary rows of deals whose account had one)."""
    totals: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for entry in entries:
        if entry.is_primary and entry.territory_id is not None:
            totals[entry.territory_id] += entry.amount
    return dict(totals)


def territory_on(day: dt.date, assignments: Sequence[tuple[int, dt.date, dt.date | None]]):
    """The territory of the assignment covering ``day`` (half-open ranges), else None.

    ``assignments``: (territory_id, effective_from, effective_to or None), any order.
    """
    for territory_id, start, end in sorted(assignments, key=lambda a: a[1], reverse=True):
        if start <= day and (end is None or day < end):
            return territory_id
    return None


# --- the selector ---------------------------------------------------------------------------


def credited_deals(
    *,
    start_on: dt.date,
    end_on: dt.date,
    rates: RateTable | None = None,
    with_territory: bool = False,
    person_ids: Iterable[int] | None = None,
) -> list[CreditedDeal]:
    """The won deals with a ledger row dated in the range: closed, or cancelled, within it;
    with ``person_ids``, only those that may credit one of them (owned, or split to them).

    Queries: the deals with their splits and cancellation (1, one row per split), the
    exchange rates (1, unless ``rates`` is given), account assignments (1, ``with_territory``).
    """
    rates = rates or RateTable.load()
    in_range = Q(closed_on__gte=start_on, closed_on__lte=end_on) | Q(
        cancellation__cancelled_on__gte=start_on, cancellation__cancelled_on__lte=end_on
    )
    rows = (
        Opportunity.objects.filter(in_range, status=Opportunity.Status.WON)
        .order_by("pk", "credit_splits__user_id")
        .values_list(
            "pk", "owner_id", "account_id", "amount", "currency", "closed_on",
            "cancellation__cancelled_on", "credit_splits__user_id", "credit_splits__percent",
        )
    )  # fmt: skip
    if person_ids is not None:
        # A subquery, not a filter on the splits join: every split row of a deal stays. The
        # owned deals and the split ones as a UNION, each read through its own index: as one
        # OR over a join of every deal with its splits it was a scan of all 930,000 deals
        # (0.8 s of an edit's recompute a period at 1 M deals; 6 ms now).
        ids = list(person_ids)
        owned = Opportunity.objects.filter(owner_id__in=ids).order_by().values("pk")
        split = CreditSplit.objects.filter(user_id__in=ids).order_by().values("opportunity_id")
        rows = rows.filter(pk__in=owned.union(split))
    facts: dict[int, dict] = {}
    for pk, owner_id, account_id, amount, currency, closed_on, cancelled_on, uid, pct in rows:
        deal = facts.get(pk)
        if deal is None:
            deal = facts[pk] = {
                "opportunity_id": pk,
                "owner_id": owner_id,
                "account_id": account_id,
                "amount": rates.convert(amount, currency, closed_on),
                "closed_on": closed_on,
                "cancelled_on": cancelled_on,
                "splits": [],
            }
        if uid is not None:
            deal["splits"].append((uid, pct))
    held: dict[int, list[tuple[int, dt.date, dt.date | None]]] = defaultdict(list)
    if with_territory and facts:
        for account_id, territory_id, start, end in AccountTerritoryAssignment.objects.filter(
            account_id__in={d["account_id"] for d in facts.values()}
        ).values_list("account_id", "territory_id", "effective_from", "effective_to"):
            held[account_id].append((territory_id, start, end))
    return [
        CreditedDeal(
            opportunity_id=d["opportunity_id"],
            owner_id=d["owner_id"],
            amount=d["amount"],
            closed_on=d["closed_on"],
            splits=tuple(d["splits"]),
            cancelled_on=d["cancelled_on"],
            territory_id=territory_on(d["closed_on"], held[d["account_id"]])
            if with_territory
            else None,
        )
        for d in facts.values()
    ]


def ledger_entries(
    *,
    start_on: dt.date,
    end_on: dt.date,
    person_ids: Iterable[int] | None = None,
    rates: RateTable | None = None,
    with_territory: bool = False,
) -> list[Entry]:
    """The primary rows dated ``start_on``..``end_on``, of ``person_ids`` (None: everyone).

    2 queries (3 ``with_territory``; 1 less with ``rates``), whatever the number of rows.
    """
    wanted = None if person_ids is None else set(person_ids)
    deals = credited_deals(
        start_on=start_on,
        end_on=end_on,
        rates=rates,
        with_territory=with_territory,
        person_ids=wanted,
    )
    entries = entries_between(deals, start_on=start_on, end_on=end_on)
    if wanted is not None:
        entries = [e for e in entries if e.person_id in wanted]
    return entries


def period_entries(
    *,
    period: Period,
    person_ids: Iterable[int] | None = None,
    rates: RateTable | None = None,
    with_territory: bool = False,
) -> list[Entry]:
    """The primary rows of ``period``, stamped with its id (queries as ``ledger_entries``)."""
    entries = ledger_entries(
        start_on=period.start_on,
        end_on=period.end_on,
        person_ids=person_ids,
        rates=rates,
        with_territory=with_territory,
    )
    return [replace(entry, period_id=period.pk) for entry in entries]


def bookings_by_person(
    *,
    start_on: dt.date,
    end_on: dt.date,
    rates: RateTable | None = None,
    person_ids: Iterable[int] | None = None,
) -> dict[int, Decimal]:
    """Each person's (of ``person_ids``; None: everyone's) credited bookings (own primary
    rows) dated in the range (2 queries; 1 with ``rates``)."""
    entries = ledger_entries(start_on=start_on, end_on=end_on, rates=rates, person_ids=person_ids)
    return totals_by_person(entries)
