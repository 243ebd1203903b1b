"""Attainment figures, rebuilt from the quotas and the credit ledger.

Quota of a person (issue 13 keeps territories' rule): an explicit quota is theirs alone; a
component quota is (territory quota x share, to cents) + adjustment, never below zero, plus
their reports' quotas; otherwise (derived, or no row) the sum of their reports'. The ramped
quota adds up the same way from each row's stored ``amount``. Bookings of a person are the
credited bookings of their subtree; the company's are everyone's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from .ledger import Credit, Ledger
from .records import Book, PeriodRow, as_decimal, cents, fetch
from .report import Collector, Difference

ZERO = Decimal(0)


@dataclass
class Rolled:
    quota: Decimal = ZERO
    ramped: Decimal = ZERO
    is_explicit: bool = False
    records: set[str] = field(default_factory=set)


def quota_rows(period: PeriodRow) -> dict[int, dict]:
    columns = ["id", "user_id", "basis", "territory_quota", "assignment_share",
               "manager_adjustment", "amount"]  # fmt: skip
    rows = fetch(
        f"SELECT {', '.join(columns)} FROM territories_quota WHERE period_id = %s",  # noqa: S608  # nosec B608
        [period.id],
    )
    return {row[1]: dict(zip(columns, row, strict=True)) for row in rows}


def rolled_quotas(book: Book, rows: dict[int, dict]) -> dict[int, Rolled]:
    """Each person's quota over their reports (recursion by an explicit stack)."""
    rolled: dict[int, Rolled] = {}
    order: list[int] = []
    stack = [(root, False) for root in book.children(None)]
    while stack:
        person, done = stack.pop()
        if done:
            order.append(person)
            continue
        stack.append((person, True))
        stack.extend((child, False) for child in book.children(person))
    for person in order:
        team = Rolled()
        for child in book.children(person):
            team.quota += rolled[child].quota
            team.ramped += rolled[child].ramped
            team.records |= rolled[child].records
        row = rows.get(person)
        basis = row["basis"] if row else "derived"
        if basis == "explicit":
            amount = as_decimal(row["amount"])
            rolled[person] = Rolled(amount, amount, True, {f"quota {row['id']}"})
        elif basis == "components":
            full = cents(as_decimal(row["territory_quota"]) * as_decimal(row["assignment_share"]))
            full = max(full + cents(as_decimal(row["manager_adjustment"])), ZERO)
            rolled[person] = Rolled(
                full + team.quota,
                as_decimal(row["amount"]) + team.ramped,
                False,
                team.records | {f"quota {row['id']}"},
            )
        else:
            rolled[person] = team
    return rolled


def subtree_credits(book: Book, by_person: dict[int, list[Credit]], person_id: int) -> list[Credit]:
    return [c for member in book.subtree(person_id) for c in by_person.get(member, [])]


def total(credits: list[Credit]) -> Decimal:
    return sum((c.amount for c in credits), ZERO)


def labels(credits: list[Credit]) -> tuple[str, ...]:
    return tuple(sorted({c.label() for c in credits}, key=lambda r: (len(r), r)))


def check_attainment(
    book: Book, ledger: Ledger, collector: Collector, periods: list[PeriodRow]
) -> None:
    for period in periods:
        stored = {
            row[0]: row[1:]
            for row in fetch(
                "SELECT user_id, bookings, quota, ramped_quota, is_explicit"
                " FROM territories_attainmentfigure WHERE period_id = %s",
                [period.id],
            )
        }
        if not stored:
            continue
        by_person = ledger.by_person(period)
        rolled = rolled_quotas(book, quota_rows(period))
        roots = book.children(None)
        company = Rolled(
            sum((rolled[r].quota for r in roots), ZERO),
            sum((rolled[r].ramped for r in roots), ZERO),
            False,
            set().union(*(rolled[r].records for r in roots)) if roots else set(),
        )
        expected: dict[int | None, tuple[list[Credit], Rolled]] = {
            pid: (subtree_credits(book, by_person, pid), rolled[pid]) for pid in book.people
        }
        expected[None] = ([c for cs in by_person.values() for c in cs], company)
        for user_id, (credits, quota) in expected.items():
            person = book.people.get(user_id) if user_id is not None else None
            row = stored.get(user_id)
            bookings = total(credits)
            context = {"aggregate": "attainment", "person": person, "period": period}
            pct = f"{bookings / quota.ramped * 100:.1f}%" if quota.ramped else "no quota"
            if row is None:
                if bookings or quota.quota or quota.ramped:
                    collector.add(
                        Difference(
                            figure="row",
                            stored=None,
                            expected=f"bookings {bookings:.2f}, quota {quota.ramped:.2f}",
                            records=labels(credits) + tuple(sorted(quota.records)),
                            note="the attainment row is missing",
                            **context,
                        )
                    )
                continue
            s_bookings, s_quota, s_ramped, s_explicit = row
            collector.money(
                as_decimal(s_bookings),
                bookings,
                figure="bookings",
                records=labels(credits),
                note=f"expected attainment {pct}",
                **context,
            )
            quota_records = tuple(sorted(quota.records))
            collector.money(
                as_decimal(s_quota), quota.quota, figure="quota", records=quota_records, **context
            )
            collector.money(
                as_decimal(s_ramped),
                quota.ramped,
                figure="ramped_quota",
                records=quota_records,
                note=f"expected attainment {pct}",
                **context,
            )
            if bool(s_explicit) != quota.is_explicit:
                collector.add(
                    Difference(
                        figure="is_explicit",
                        stored=bool(s_explicit),
                        expected=quota.is_explicit,
                        records=quota_records,
                        **context,
                    )
                )
