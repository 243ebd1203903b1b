"""Reads for territory balance: DataFrames built from ``.values()``, computed by analytics."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

import pandas as pd
from django.conf import settings
from django.db.models import Count, F, Q
from django.utils import timezone

from accounts.models import Activity, Opportunity
from compensation import ledger
from salesmgmt.models import User
from salesmgmt.money import RateTable

from .. import analytics
from ..models import AccountTerritoryAssignment, Territory

# A territory is balanced when its potential is within ±10% of the mean, unless the settings
# say otherwise (TERRITORY_BALANCE_BAND, a fraction such as 0.15).
DEFAULT_BALANCE_BAND = Decimal("0.10")
ACTIVITY_WINDOW_DAYS = 90


def balance_band() -> Decimal:
    return Decimal(str(getattr(settings, "TERRITORY_BALANCE_BAND", DEFAULT_BALANCE_BAND)))


def quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def last_four_quarters(as_of: dt.date) -> tuple[dt.date, dt.date]:
    """The four complete quarters before the one containing ``as_of`` (inclusive bounds)."""
    current = quarter_start(as_of)
    return current.replace(year=current.year - 1), current - dt.timedelta(days=1)


def territory_bookings(
    *, territory_ids: list[int], start_on: dt.date, end_on: dt.date, rates: RateTable
) -> pd.DataFrame:
    """Credited bookings in [start_on, end_on] per deal, each credited to the territory its
    account was assigned to on the day the deal closed, from the credit ledger
    (``compensation.ledger``: a cancellation debits that territory on the day it is recorded)
    (2 queries). Columns: territory_id, amount - one row per deal and territory."""
    wanted = set(territory_ids)
    totals: dict[tuple[int, int], Decimal] = {}
    for entry in ledger.ledger_entries(
        start_on=start_on, end_on=end_on, rates=rates, with_territory=True
    ):
        if entry.territory_id in wanted:
            key = (entry.territory_id, entry.opportunity_id)
            totals[key] = totals.get(key, Decimal(0)) + entry.amount
    return pd.DataFrame(
        [{"territory_id": tid, "amount": amount} for (tid, _), amount in totals.items()],
        columns=["territory_id", "amount"],
    )


def current_potential(*, territory_ids: list[int]) -> pd.DataFrame:
    """Accounts currently assigned to the territories (1 query).

    Columns: account_id, name, territory_id, potential (annual revenue, 0 when unknown),
    source (of the open assignment), owner_id.
    """
    rows = (
        AccountTerritoryAssignment.objects.current()
        .filter(territory_id__in=territory_ids)
        .values(
            "account_id", "territory_id", "source", "account__name", "account__annual_revenue",
            "account__owner_id",
        )
        .order_by("account_id")
    )  # fmt: skip
    return pd.DataFrame(
        [
            {
                "account_id": r["account_id"],
                "name": r["account__name"],
                "territory_id": r["territory_id"],
                "potential": r["account__annual_revenue"] or Decimal(0),
                "source": r["source"],
                "owner_id": r["account__owner_id"],
            }
            for r in rows
        ],
        columns=["account_id", "name", "territory_id", "potential", "source", "owner_id"],
    )


@dataclass
class BalanceReport:
    table: pd.DataFrame
    cv: float
    band: Decimal
    as_of: dt.date
    bookings_from: dt.date
    bookings_to: dt.date
    territories: list[Territory] = field(default_factory=list)

    @property
    def rows(self) -> list[dict]:
        return self.table.to_dict("records")

    @property
    def flagged_count(self) -> int:
        return int(self.table["is_outside_band"].sum()) if len(self.table) else 0


def balance_for(
    *, territories: list[Territory], as_of: dt.date | None = None, band: Decimal | None = None
) -> BalanceReport:
    """Workload, potential, pipeline, bookings and balance index per territory (7 queries)."""
    as_of = as_of or timezone.localdate()
    band = band if band is not None else balance_band()
    ids = [t.pk for t in territories]
    rates = RateTable.load()
    accounts = current_potential(territory_ids=ids)
    current = Q(
        account__territory_assignments__territory_id__in=ids,
        account__territory_assignments__effective_to__isnull=True,
    )
    pipeline = pd.DataFrame(
        [
            {
                "territory_id": d["account__territory_assignments__territory_id"],
                "amount": rates.convert(d["amount"], d["currency"], as_of),
            }
            for d in Opportunity.objects.open()
            .filter(current)
            .values("account__territory_assignments__territory_id", "amount", "currency")
        ],
        columns=["territory_id", "amount"],
    )
    start, end = last_four_quarters(as_of)
    bookings = territory_bookings(territory_ids=ids, start_on=start, end_on=end, rates=rates)
    since = timezone.make_aware(
        dt.datetime.combine(as_of - dt.timedelta(days=ACTIVITY_WINDOW_DAYS), dt.time.min)
    )
    activities = pd.DataFrame(
        [
            {"territory_id": r["territory_id"], "activity_count": r["n"]}
            for r in Activity.objects.held(now=timezone.now())
            .filter(current, occurred_at__gte=since)
            .values(territory_id=F("account__territory_assignments__territory_id"))
            .annotate(n=Count("id"))
            .order_by()
        ],
        columns=["territory_id", "activity_count"],
    )
    frame = pd.DataFrame(
        [{"territory_id": t.pk, "name": t.name, "owner": str(t.owner)} for t in territories],
        columns=["territory_id", "name", "owner"],
    )
    table = analytics.balance_table(
        frame, accounts, pipeline, bookings, activities, band=float(band)
    )
    cv = analytics.coefficient_of_variation(table["potential"]) if len(table) else 0.0
    return BalanceReport(table, cv, band, as_of, start, end, territories)


def territory_balance(
    *, viewer: User, as_of: dt.date | None = None, band: Decimal | None = None
) -> BalanceReport:
    """Balance of the active lowest-level territories ``viewer`` sees (8 queries)."""
    as_of = as_of or timezone.localdate()
    territories = list(
        Territory.objects.visible_to(viewer)
        .active_on(as_of)
        .leaves()
        .select_related("owner")
        .order_by("name", "id")
    )
    return balance_for(territories=territories, as_of=as_of, band=band)
