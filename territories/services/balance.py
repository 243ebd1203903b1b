"""The weekly balance monitor: one snapshot row per territory and week."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils import timezone

from salesmgmt import fiscal_calendar
from salesmgmt.company_settings import company_settings_get
from salesmgmt.money import quantize_money

from .. import selectors
from ..models import Territory, TerritoryBalanceSnapshot
from .planning import planning_refresh

INDEX = Decimal("0.0001")


def week_start_of(day: dt.date) -> dt.date:
    """The first day of ``day``'s week: Monday or Sunday, as the company settings say."""
    first_weekday = company_settings_get().first_weekday
    return fiscal_calendar.week_start_of(day, first_weekday=first_weekday)


@transaction.atomic
def balance_snapshot_record(
    *, week_start: dt.date | None = None, band: Decimal | None = None
) -> list[TerritoryBalanceSnapshot]:
    """Record each active territory's balance index for a week and flag those outside the band.

    Idempotent: a second run for the same week updates the same rows (one per territory and
    week), so a retried or duplicated task changes nothing it should not.
    """
    week_start = week_start_of(week_start or timezone.localdate())
    territories = list(
        Territory.objects.active_on(week_start).leaves().select_related("owner").order_by("pk")
    )
    report = selectors.balance_for(territories=territories, as_of=week_start, band=band)
    existing = {
        s.territory_id: s
        for s in TerritoryBalanceSnapshot.objects.filter(
            week_start=week_start, territory__in=territories
        )
    }
    snapshots = []
    for row in report.rows:
        values = {
            "account_count": row["account_count"],
            "potential_amount": quantize_money(row["potential"]),
            "pipeline_amount": quantize_money(row["pipeline"]),
            "bookings_amount": quantize_money(row["bookings"]),
            "activity_count": row["activity_count"],
            "balance_index": Decimal(str(row["balance_index"])).quantize(
                INDEX, rounding=ROUND_HALF_UP
            ),
            "band": report.band,
            "is_flagged": bool(row["is_outside_band"]),
        }
        snapshot = existing.get(row["territory_id"]) or TerritoryBalanceSnapshot(
            territory_id=row["territory_id"], week_start=week_start
        )
        for name, value in values.items():
            setattr(snapshot, name, value)
        snapshot.full_clean(validate_unique=False)
        snapshot.save()
        snapshots.append(snapshot)
    return snapshots


def balance_week_record(*, week_start: dt.date | None = None) -> list[TerritoryBalanceSnapshot]:
    """The weekly run: the week's balance snapshots, then a full planning refresh.

    The refresh is forced: it also picks up what no service marks as a change (accounts'
    revenue and place, deals, activities). Each step commits on its own.
    """
    snapshots = balance_snapshot_record(week_start=week_start)
    planning_refresh(force=True)
    return snapshots
