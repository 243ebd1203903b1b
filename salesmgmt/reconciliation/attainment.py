"""Attainment figures, KPI rows and statement bookings, rebuilt from quotas and the ledger.

Quota of a person (issue 13 keeps territories' rule): an explicit quota is theirs alone; a
component quota is (territory quota x share, to cents) + adjustment, never below zero, plus
their reports' quotas; otherwise (derived, or no row) the sum of their reports'. The ramped
quota adds up the same way from each row's stored ``amount``. Bookings of a person are the
credited bookings of their subtree; the company's are everyone's.
"""

from __future__ import annotations

import datetime as dt
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
        f"SELECT {', '.join(columns)} FROM territories_quota WHERE period_id = %s",  # noqa: S608
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


def _total(credits: list[Credit]) -> Decimal:
    return sum((c.amount for c in credits), ZERO)


def _labels(credits: list[Credit]) -> tuple[str, ...]:
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
            bookings = _total(credits)
            context = {"aggregate": "attainment", "person": person, "period": period}
            pct = f"{bookings / quota.ramped * 100:.1f}%" if quota.ramped else "no quota"
            if row is None:
                if bookings or quota.quota or quota.ramped:
                    collector.add(
                        Difference(
                            figure="row",
                            stored=None,
                            expected=f"bookings {bookings:.2f}, quota {quota.ramped:.2f}",
                            records=_labels(credits) + tuple(sorted(quota.records)),
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
                records=_labels(credits),
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
            f"SELECT {', '.join(columns)} FROM forecasting_kpisnapshot"  # noqa: S608
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
            bookings = _total(credits)
            collector.money(
                as_decimal(stored["won_amount"]),
                bookings,
                figure="won_amount",
                records=_labels(credits),
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
                records=_labels(credits) + quota_records,
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
            _total(credits),
            aggregate="statement (draft run)",
            figure="bookings_amount",
            person=person,
            period=period,
            records=_labels(credits),
            note=f"statement {statement_id}",
        )


def check_compliance(book: Book, collector: Collector, today: dt.date) -> None:
    """Compliance summaries: open deals, and those failing the next-step and close-date checks
    (open: open now and created by the end of ``as_of``)."""
    rows = fetch(
        "SELECT user_id, as_of, open_deal_count, failing_next_step, failing_close_date"
        " FROM coaching_compliancesummary"
    )
    deals = fetch(
        "SELECT id, owner_id, next_step, expected_close_on, created_at"
        " FROM accounts_opportunity WHERE status = 'open'"
    )
    pending = {row[0] for row in fetch("SELECT DISTINCT user_id FROM coaching_compliancechange")}
    from .records import as_date

    for user_id, as_of, open_count, no_next_step, past_close in rows:
        person = book.people.get(user_id)
        as_of = as_date(as_of)
        mine = [d for d in deals if d[1] == user_id and _created_by(d[4], as_of)]
        context = {
            "aggregate": "compliance summary",
            "person": person,
            "period": None,
            "note": f"as of {as_of}" + (" (a refresh is pending)" if user_id in pending else ""),
        }
        for figure, stored, chosen in (
            ("open_deal_count", open_count, mine),
            ("failing_next_step", no_next_step, [d for d in mine if not (d[2] or "").strip()]),
            ("failing_close_date", past_close, [d for d in mine if as_date(d[3]) < as_of]),
        ):
            collector.number(
                stored,
                len(chosen),
                figure=figure,
                records=tuple(f"deal {d[0]}" for d in sorted(chosen)),
                **context,
            )


def _created_by(created_at: object, as_of: dt.date) -> bool:
    """Created by the end of ``as_of`` in the local zone."""
    from django.utils import timezone

    if isinstance(created_at, str):
        created_at = dt.datetime.fromisoformat(created_at)
    if timezone.is_naive(created_at):
        created_at = timezone.make_aware(created_at, dt.UTC)
    return timezone.localtime(created_at).date() <= as_of
