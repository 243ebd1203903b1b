"""Draft payout statements' bookings, rebuilt from the credit ledger."""

from __future__ import annotations

from .attainment import labels, subtree_credits, total
from .ledger import Ledger
from .records import Book, PeriodRow, as_decimal, fetch
from .report import Collector


def check_statements(
    book: Book, ledger: Ledger, collector: Collector, periods: list[PeriodRow]
) -> None:
    """Draft statements' bookings: the rep's credited bookings of the run's period; on a plan
    with overlay credit, a manager's are their whole subtree's."""
    wanted = {p.id for p in periods}
    rows = fetch(
        """
        SELECT s.id, s.rep_id, s.bookings_amount, r.period_id, p.manager_overlay_credit
        FROM compensation_statement s
        JOIN compensation_payoutrun r ON r.id = s.run_id
        JOIN compensation_plan p ON p.id = s.plan_id
        WHERE r.status = 'draft' AND s.status = 'draft'
        """
    )
    for statement_id, rep_id, bookings, period_id, overlay in rows:
        period = book.periods.get(period_id)
        person = book.people.get(rep_id)
        if period is None or person is None or (periods and period_id not in wanted):
            continue
        by_person = ledger.by_person(period)
        if overlay and person.role == "manager":
            credits = subtree_credits(book, by_person, rep_id)
        else:
            credits = by_person.get(rep_id, [])
        collector.money(
            as_decimal(bookings),
            total(credits),
            aggregate="statement (draft run)",
            figure="bookings_amount",
            person=person,
            period=period,
            records=labels(credits),
            note=f"statement {statement_id}",
        )
