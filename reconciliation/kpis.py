"""KPI rows rebuilt: won and lost counts and amounts, credited bookings, quota, attainment and
pipeline, own and over the subtree (definitions in forecasting.analytics.kpis)."""

from __future__ import annotations

from decimal import Decimal

from .attainment import labels, quota_rows, rolled_quotas, total
from .ledger import Ledger
from .records import Book, PeriodRow, as_decimal, fetch
from .report import Collector, Difference

ZERO = Decimal(0)


def check_kpis(
    book: Book, ledger: Ledger, collector: Collector, periods: list[PeriodRow], rollups: dict
) -> None:
    """KPI rows: won/lost counts and amounts, bookings (credited), quota, attainment, pipeline.

    Won and lost counts and the lost amount are per deal owner; ``won_amount`` is the credited
    bookings; the own quota is the person's own quota row (none when derived), the subtree's
    the rolled ramped quota (none when zero); pipeline = pipeline + best case + commit.
    """
    columns = ["person_id", "scope", "won_count", "lost_count", "won_amount", "lost_amount",
               "pipeline_amount", "quota_amount", "attainment"]  # fmt: skip
    for period in periods:
        rows = fetch(
            f"SELECT {', '.join(columns)} FROM forecasting_kpisnapshot"  # noqa: S608  # nosec B608
            " WHERE period_id = %s",
            [period.id],
        )
        if not rows:
            continue
        by_person = ledger.by_person(period)
        own_rows = quota_rows(period)
        rolled = rolled_quotas(book, own_rows)
        closed = [
            d for d in book.deals.values() if d.status != "open" and period.contains(d.closed_on)
        ]
        for row in rows:
            stored = dict(zip(columns, row, strict=True))
            person = book.people.get(stored["person_id"])
            if person is None:
                continue
            subtree = stored["scope"] == "subtree"
            members = book.subtree(person.id) if subtree else {person.id}
            context = {
                "aggregate": f"KPI ({stored['scope']})",
                "person": person,
                "period": period,
            }
            won = [d for d in closed if d.status == "won" and d.owner_id in members]
            lost = [d for d in closed if d.status == "lost" and d.owner_id in members]
            credits = [c for m in members for c in by_person.get(m, [])]
            for name, deals in (("won_count", won), ("lost_count", lost)):
                collector.number(
                    stored[name],
                    len(deals),
                    figure=name,
                    records=tuple(f"deal {d.id}" for d in sorted(deals, key=lambda d: d.id)),
                    **context,
                )
            bookings = total(credits)
            collector.money(
                as_decimal(stored["won_amount"]),
                bookings,
                figure="won_amount",
                records=labels(credits),
                note="credited bookings",
                **context,
            )
            lost_amount = sum((book.amount(d) or ZERO for d in lost), ZERO)
            collector.money(
                as_decimal(stored["lost_amount"]),
                lost_amount,
                figure="lost_amount",
                records=tuple(f"deal {d.id}" for d in sorted(lost, key=lambda d: d.id)),
                **context,
            )
            if subtree:
                quota = rolled[person.id].ramped if person.id in rolled else ZERO
                quota = quota or None
                quota_records = tuple(sorted(rolled[person.id].records)) if quota else ()
            else:
                own = own_rows.get(person.id)
                has_own = own is not None and own["basis"] != "derived"
                quota = as_decimal(own["amount"]) if has_own else None
                quota_records = (f"quota {own['id']}",) if has_own else ()
            if (stored["quota_amount"] is None) != (quota is None):
                collector.add(
                    Difference(
                        figure="quota_amount",
                        stored=stored["quota_amount"],
                        expected=quota,
                        records=quota_records,
                        **context,
                    )
                )
            elif quota is not None:
                collector.money(
                    as_decimal(stored["quota_amount"]),
                    quota,
                    figure="quota_amount",
                    records=quota_records,
                    **context,
                )
            attainment = float(bookings / quota) if quota else None
            collector.number(
                stored["attainment"],
                attainment,
                relative=1e-4,
                figure="attainment",
                records=labels(credits) + quota_records,
                **context,
            )
            figures = rollups.get((person.id, period.id, stored["scope"]))
            if figures is not None:
                pipe = sum((figures.amounts[c] for c in ("pipeline", "best_case", "commit")), ZERO)
                collector.money(
                    as_decimal(stored["pipeline_amount"]),
                    pipe,
                    figure="pipeline_amount",
                    records=tuple(
                        sorted(
                            figures.records["pipeline"]
                            | figures.records["best_case"]
                            | figures.records["commit"]
                        )
                    ),
                    **context,
                )
