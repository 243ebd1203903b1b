"""Forecast rollups and their Monte Carlo inputs, rebuilt from deals, the ledger and the
stored per-deal probabilities (the one model output taken as an input).

A deal counts in a quarter when it is open with its expected close date in it, or won with
its close date in it. Own figures are per deal owner; a subtree's are the sum over everyone
below the person (following ``manager``). ``closed`` is the person's credited bookings
(ledger), not the owner's won deals. Cumulative: commit = commit + closed; best case = best
case + commit + closed. Weighted = Σ amount·p and variance = Σ amount²·p(1-p) over open,
non-omitted deals; projections add closed and the run rate (the stored ``expected_new``,
which depends on history only: its subtree figure is checked as the sum of the own ones).
The range: a quarter that is over has P10 = P50 = P90 = closed; otherwise
closed ≤ P10 ≤ P50 ≤ P90 ≤ closed + every open, non-omitted amount.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from salesmgmt.money import quantize_money

from .ledger import Ledger
from .records import Book, Deal, PeriodRow, as_decimal, fetch
from .report import Collector, Difference

ZERO = Decimal(0)
OPEN_CATEGORIES = ("pipeline", "best_case", "commit", "omitted")
ROLLUP_COLUMNS = [
    "person_id", "scope", "pipeline_amount", "best_case_amount", "commit_amount",
    "closed_amount", "omitted_amount", "cumulative_best_case_amount",
    "cumulative_commit_amount", "open_deal_count", "weighted_amount", "variance",
    "expected_new_amount", "projection_weighted_amount", "projection_run_rate_amount",
    "p10_amount", "p50_amount", "p90_amount",
]  # fmt: skip


@dataclass
class Figures:
    """One person's (or subtree's) expected figures with the records behind each."""

    amounts: dict[str, Decimal] = field(
        default_factory=lambda: {c: ZERO for c in (*OPEN_CATEGORIES, "closed")}
    )
    records: dict[str, set[str]] = field(
        default_factory=lambda: {c: set() for c in (*OPEN_CATEGORIES, "closed")}
    )
    open_count: int = 0
    weighted: float = 0.0
    variance: float = 0.0
    simulated: Decimal = ZERO  # open, non-omitted amounts: the most the range can add
    expected_new: Decimal = ZERO

    def add(self, other: Figures) -> None:
        for key in self.amounts:
            self.amounts[key] += other.amounts[key]
            self.records[key] |= other.records[key]
        self.open_count += other.open_count
        self.weighted += other.weighted
        self.variance += other.variance
        self.simulated += other.simulated
        self.expected_new += other.expected_new

    def open_records(self) -> set[str]:
        return set().union(*(self.records[c] for c in OPEN_CATEGORIES))


def deals_in(book: Book, period: PeriodRow) -> list[Deal]:
    return [
        deal
        for deal in book.deals.values()
        if (deal.status == "open" and period.contains(deal.expected_close_on))
        or (deal.status == "won" and period.contains(deal.closed_on))
    ]


def stored_probabilities() -> dict[int, tuple]:
    """deal -> (owner, period, category, amount, probability) as the last recompute stored."""
    return {
        row[0]: (row[1], row[2], row[3], as_decimal(row[4]), float(row[5]))
        for row in fetch(
            "SELECT opportunity_id, owner_id, period_id, category, amount, probability"
            " FROM forecasting_dealprobability"
        )
    }


def rollup_periods(book: Book) -> list[PeriodRow]:
    ids = {row[0] for row in fetch("SELECT DISTINCT period_id FROM forecasting_forecastrollup")}
    return sorted((book.periods[i] for i in ids), key=lambda p: p.start_on)


def own_figures(
    book: Book, ledger: Ledger, period: PeriodRow, probabilities: dict[int, tuple]
) -> dict[int, Figures]:
    own: dict[int, Figures] = {pid: Figures() for pid in book.people}
    for deal in deals_in(book, period):
        if deal.status != "open" or deal.category not in OPEN_CATEGORIES:
            continue
        amount = book.amount(deal)
        if amount is None or deal.owner_id not in own:
            continue
        figures = own[deal.owner_id]
        figures.amounts[deal.category] += amount
        figures.records[deal.category].add(f"deal {deal.id}")
        figures.open_count += 1
        if deal.category != "omitted":
            p = probabilities.get(deal.id, (None, None, None, None, 0.0))[4]
            a = float(amount)
            figures.weighted += a * p
            figures.variance += a * a * p * (1.0 - p)
            figures.simulated += amount
    for person_id, credits in ledger.by_person(period).items():
        if person_id in own:
            own[person_id].amounts["closed"] += sum((c.amount for c in credits), ZERO)
            own[person_id].records["closed"] |= {c.label() for c in credits}
    return own


def check_rollups(
    book: Book,
    ledger: Ledger,
    collector: Collector,
    periods: list[PeriodRow],
    *,
    today: dt.date,
) -> dict[tuple[int, int, str], Figures]:
    """Compare every stored rollup row of ``periods``; returns the expected figures."""
    probabilities = stored_probabilities()
    expected_all: dict[tuple[int, int, str], Figures] = {}
    forecast_people = [p for p in book.people.values() if p.role != "integrator"]
    for period in periods:
        own = own_figures(book, ledger, period, probabilities)
        stored = {
            (row[0], row[1]): dict(zip(ROLLUP_COLUMNS, row, strict=True))
            for row in fetch(
                f"SELECT {', '.join(ROLLUP_COLUMNS)} FROM forecasting_forecastrollup"  # noqa: S608  # nosec B608
                " WHERE period_id = %s",
                [period.id],
            )
        }
        for person_id, row in stored.items():
            if person_id[1] == "own":
                own[person_id[0]].expected_new = as_decimal(row["expected_new_amount"])
        for person in forecast_people:
            subtree = Figures()
            for member in book.subtree(person.id):
                if book.people[member].role != "integrator":
                    subtree.add(own[member])
            for scope, figures in (("own", own[person.id]), ("subtree", subtree)):
                expected_all[(person.id, period.id, scope)] = figures
                row = stored.pop((person.id, scope), None)
                context = {
                    "aggregate": f"forecast rollup ({scope})",
                    "person": person,
                    "period": period,
                }
                if row is None:
                    collector.add(
                        Difference(
                            figure="row",
                            stored=None,
                            expected="a row",
                            records=tuple(
                                sorted(figures.open_records() | figures.records["closed"])
                            ),
                            note="the rollup row is missing",
                            **context,
                        )
                    )
                    continue
                _compare_row(collector, row, figures, period, today, context)
        for (person_id, scope), _row in stored.items():
            person = book.people.get(person_id)
            collector.add(
                Difference(
                    aggregate=f"forecast rollup ({scope})",
                    figure="row",
                    stored="a row",
                    expected=None,
                    person=person,
                    period=period,
                    note="a row for someone outside the forecast tree",
                )
            )
    return expected_all


def _sorted(records: set[str]) -> tuple[str, ...]:
    return tuple(sorted(records, key=lambda r: (len(r), r)))


def _compare_row(
    collector: Collector, row: dict, f: Figures, period: PeriodRow, today: dt.date, context: dict
) -> None:
    a, r = f.amounts, f.records
    closed = a["closed"]
    for category in (*OPEN_CATEGORIES, "closed"):
        collector.money(
            as_decimal(row[f"{category}_amount"]),
            a[category],
            figure=f"{category}_amount",
            records=_sorted(r[category]),
            **context,
        )
    collector.money(
        as_decimal(row["cumulative_commit_amount"]),
        a["commit"] + closed,
        figure="cumulative_commit_amount",
        records=_sorted(r["commit"] | r["closed"]),
        **context,
    )
    collector.money(
        as_decimal(row["cumulative_best_case_amount"]),
        a["best_case"] + a["commit"] + closed,
        figure="cumulative_best_case_amount",
        records=_sorted(r["best_case"] | r["commit"] | r["closed"]),
        **context,
    )
    counted = _sorted(r["pipeline"] | r["best_case"] | r["commit"])
    collector.number(
        row["open_deal_count"],
        f.open_count,
        figure="open_deal_count",
        records=_sorted(f.open_records()),
        **context,
    )
    weighted = quantize_money(f.weighted)
    collector.money(
        as_decimal(row["weighted_amount"]),
        weighted,
        figure="weighted_amount",
        records=counted,
        note="Σ amount * stored probability",
        **context,
    )
    # Stored rounded to two decimals like the money columns.
    collector.number(
        row["variance"], f.variance, absolute=0.006, figure="variance", records=counted, **context
    )
    collector.money(
        as_decimal(row["projection_weighted_amount"]),
        closed + weighted,
        figure="projection_weighted_amount",
        records=_sorted(r["closed"]) + counted,
        **context,
    )
    if context["aggregate"].endswith("(subtree)"):
        collector.money(
            as_decimal(row["expected_new_amount"]),
            f.expected_new,
            figure="expected_new_amount",
            note="the sum of the subtree's own run rates",
            **context,
        )
    collector.money(
        as_decimal(row["projection_run_rate_amount"]),
        closed + weighted + f.expected_new,
        figure="projection_run_rate_amount",
        records=_sorted(r["closed"]) + counted,
        **context,
    )
    _check_range(collector, row, f, period, today, context)


def _check_range(
    collector: Collector, row: dict, f: Figures, period: PeriodRow, today: dt.date, context
) -> None:
    closed = f.amounts["closed"]
    p10, p50, p90 = (as_decimal(row[k]) for k in ("p10_amount", "p50_amount", "p90_amount"))
    tol = collector.tolerance
    records = _sorted(f.records["closed"])
    if period.end_on < today:  # over: nothing left to simulate
        for name, value in (("p10_amount", p10), ("p50_amount", p50), ("p90_amount", p90)):
            collector.money(
                value,
                closed,
                figure=name,
                records=records,
                note="a quarter that is over ranges over its closed bookings only",
                **context,
            )
        return
    top = closed + f.simulated
    if not (closed - tol <= p10 <= p50 + tol and p50 <= p90 + tol and p90 <= top + tol):
        collector.add(
            Difference(
                figure="p10/p50/p90",
                stored=f"{p10:.2f}/{p50:.2f}/{p90:.2f}",
                expected=f"ordered, within {closed:.2f}..{top:.2f}",
                records=records + _sorted(f.open_records()),
                note="the range must lie between closed and closed + open non-omitted",
                **context,
            )
        )


def check_deal_probabilities(book: Book, collector: Collector, periods: list[PeriodRow]) -> None:
    """The Monte Carlo inputs: one row per counted deal, with its owner, category, amount, in
    its quarter (months and years have rollups too, but a deal's row names its quarter)."""
    periods = [p for p in periods if p.kind == "quarter"]
    stored = stored_probabilities()
    period_ids = {p.id for p in periods}
    expected_ids: set[int] = set()
    for period in periods:
        for deal in deals_in(book, period):
            if deal.category is None:
                continue
            expected_ids.add(deal.id)
            person = book.people.get(deal.owner_id)
            context = {
                "aggregate": "deal probability",
                "person": person,
                "period": period,
                "records": (f"deal {deal.id}",),
            }
            row = stored.get(deal.id)
            if row is None:
                collector.add(Difference(figure="row", stored=None, expected="a row", **context))
                continue
            owner_id, period_id, category, amount, probability = row
            if period_id != period.id:
                collector.add(
                    Difference(figure="period", stored=period_id, expected=period.id, **context)
                )
            if owner_id != deal.owner_id:
                collector.add(
                    Difference(figure="owner", stored=owner_id, expected=deal.owner_id, **context)
                )
            if category != deal.category:
                collector.add(
                    Difference(
                        figure="category", stored=category, expected=deal.category, **context
                    )
                )
            converted = book.amount(deal)
            if converted is not None:
                collector.money(amount, converted, figure="amount", **context)
            if deal.status == "won" and probability != 1.0:
                collector.number(probability, 1.0, figure="probability", **context)
            elif not 0.0 <= probability <= 1.0:
                collector.add(
                    Difference(figure="probability", stored=probability, expected="0..1", **context)
                )
    for deal_id, (owner_id, period_id, *_rest) in stored.items():
        if period_id in period_ids and deal_id not in expected_ids:
            collector.add(
                Difference(
                    aggregate="deal probability",
                    figure="row",
                    stored="a row",
                    expected=None,
                    person=book.people.get(owner_id),
                    period=book.periods.get(period_id),
                    records=(f"deal {deal_id}",),
                    note="the deal no longer counts in this period",
                )
            )
