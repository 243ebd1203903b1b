"""Reconciliation: every stored aggregate rebuilt from the raw records by an independent path.

The raw records are read with plain SQL (``records``), the credited bookings recomputed
(``ledger``), and each stored figure compared with its rebuilt value: forecast rollups and
their Monte Carlo inputs (``rollups``), attainment, KPI rows, draft statements' bookings,
compliance summaries (``compliance``), inspection flags (``flags``) and the activities' copy
of their deal's owner (``activities``). Nothing here calls
the incremental or recompute code, so a bug there shows up as a difference instead of being
reproduced. Like a trial balance:
``manage.py verify_figures`` prints each difference and exits non-zero when there is any.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.utils import timezone

from .activities import check_activities
from .attainment import check_attainment
from .compliance import check_compliance
from .flags import check_flags
from .kpis import check_kpis
from .ledger import build_ledger
from .records import fetch, load_book
from .report import Collector, Difference
from .rollups import check_deal_probabilities, check_rollups, rollup_periods
from .statements import check_statements

__all__ = ["AGGREGATES", "Difference", "verify_figures"]

AGGREGATES = (
    "rollups",
    "attainment",
    "kpis",
    "statements",
    "compliance",
    "flags",
    "activities",
)


def verify_figures(
    *,
    period_ids: Iterable[int] | None = None,
    person_ids: Iterable[int] | None = None,
    tolerance: Decimal = Decimal("0.01"),
    aggregates: Iterable[str] = AGGREGATES,
) -> list[Difference]:
    """Every difference between stored aggregates and the raw records (empty: they agree)."""
    book = load_book()
    ledger = build_ledger(book)
    wanted_periods = None if period_ids is None else set(period_ids)
    collector = Collector(
        tolerance=tolerance, person_ids=None if person_ids is None else set(person_ids)
    )
    today = timezone.localdate()
    aggregates = set(aggregates)

    def chosen(periods):
        return [p for p in periods if wanted_periods is None or p.id in wanted_periods]

    for deal_id, problem in ledger.problems:
        deal = book.deals[deal_id]
        collector.add(
            Difference(
                aggregate="credit ledger",
                figure="credit",
                stored=problem,
                expected="a full credit",
                person=book.people.get(deal.owner_id),
                records=(f"deal {deal_id}",),
            )
        )
    expected_rollups: dict = {}
    if "rollups" in aggregates:
        periods = chosen(rollup_periods(book))
        expected_rollups = check_rollups(book, ledger, collector, periods, today=today)
        check_deal_probabilities(book, collector, periods)
    if "attainment" in aggregates:
        ids = {
            row[0] for row in fetch("SELECT DISTINCT period_id FROM territories_attainmentfigure")
        }
        check_attainment(book, ledger, collector, chosen(book.periods[i] for i in sorted(ids)))
    if "kpis" in aggregates:
        ids = {row[0] for row in fetch("SELECT DISTINCT period_id FROM forecasting_kpisnapshot")}
        periods = chosen(book.periods[i] for i in sorted(ids))
        # The pipeline figure is checked against the rebuilt rollups (when those ran).
        check_kpis(book, ledger, collector, periods, expected_rollups)
    if "statements" in aggregates:
        check_statements(
            book,
            ledger,
            collector,
            chosen(book.periods.values()) if wanted_periods is not None else [],
        )
    if "compliance" in aggregates and wanted_periods is None:
        check_compliance(book, collector, today)
    if "flags" in aggregates and wanted_periods is None:
        check_flags(book, collector)
    if "activities" in aggregates and wanted_periods is None:
        check_activities(book, collector)
    return collector.differences
