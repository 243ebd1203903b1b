"""The raw records, read with plain SQL: deals, rates, credit splits, cancellations, people.

Nothing here goes through the models' querysets or the incremental code: each query names
the tables and columns, so the reconciliation reads exactly what is stored. Values are
normalised (dates, Decimals) because SQLite hands raw cursors text and floats.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection

from salesmgmt.money import quantize_money, reporting_currency

# The effective forecast category of a deal, in one expression (decided in issue 13): a won
# deal is Closed, a lost one in no category; otherwise the rep's own choice, the stage's
# default when nobody chose one ("" = not chosen), and Pipeline without a stage.
CATEGORY_SQL = """
    CASE o.status
        WHEN 'won' THEN 'closed'
        WHEN 'lost' THEN NULL
        ELSE COALESCE(NULLIF(o.forecast_category, ''), s.default_forecast_category, 'pipeline')
    END
"""
# A constant expression, no input.
DEALS_SQL = " ".join(
    [
        "SELECT o.id, o.owner_id, o.status, o.amount, o.currency, o.expected_close_on,",
        "o.closed_on,",
        CATEGORY_SQL,
        "AS category, o.created_at",
        "FROM accounts_opportunity o LEFT JOIN accounts_stage s ON s.id = o.stage_id",
    ]
)


def as_date(value: object) -> dt.date | None:
    if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
        return value  # type: ignore[return-value]
    if isinstance(value, dt.datetime):
        return value.date()
    return dt.date.fromisoformat(str(value)[:10])


def as_decimal(value: object) -> Decimal:
    if value is None:
        return Decimal(0)
    if isinstance(value, Decimal):
        return value
    return Decimal(str(value))


def cents(value: Decimal) -> Decimal:
    # The figures are rebuilt independently, but rounded by the same rule as the product.
    return quantize_money(value)


def fetch(sql: str, params: list | tuple = ()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


@dataclass(frozen=True)
class Person:
    id: int
    username: str
    name: str
    role: str
    manager_id: int | None

    def __str__(self) -> str:
        return f"{self.name} (#{self.id})"


@dataclass(frozen=True)
class PeriodRow:
    id: int
    kind: str
    name: str
    start_on: dt.date
    end_on: dt.date

    def contains(self, day: dt.date | None) -> bool:
        return day is not None and self.start_on <= day <= self.end_on


@dataclass(frozen=True)
class Deal:
    id: int
    owner_id: int
    status: str
    amount: Decimal  # in the deal's currency
    currency: str
    expected_close_on: dt.date
    closed_on: dt.date | None
    category: str | None  # effective (CATEGORY_SQL)
    created_at: object

    @property
    def day(self) -> dt.date:
        """The day its amount is converted on: the close day, else the expected one."""
        return self.closed_on or self.expected_close_on


class Rates:
    """Exchange rates: the latest one effective on a day; before the first, the first."""

    def __init__(self, rows: list[tuple[str, dt.date, Decimal]]) -> None:
        self.reporting = reporting_currency()
        self._days: dict[str, list[dt.date]] = defaultdict(list)
        self._rates: dict[str, list[Decimal]] = defaultdict(list)
        for currency, day, rate in sorted(rows):
            self._days[currency].append(day)
            self._rates[currency].append(rate)

    def convert(self, amount: Decimal, currency: str, day: dt.date) -> Decimal | None:
        """In the reporting currency, rounded to cents; None when no rate is known."""
        if currency == self.reporting:
            return cents(amount)
        days = self._days.get(currency)
        if not days:
            return None
        index = max(bisect.bisect_right(days, day) - 1, 0)
        return cents(amount * self._rates[currency][index])


@dataclass
class Book:
    """Everything the expected figures are computed from, loaded once."""

    people: dict[int, Person]
    periods: dict[int, PeriodRow]
    deals: dict[int, Deal]
    rates: Rates
    splits: dict[int, list[tuple[int, Decimal]]]  # deal -> [(user, percent)] by user id
    cancellations: dict[int, dt.date]  # deal -> cancelled_on
    _children: dict[int | None, list[int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        children: dict[int | None, list[int]] = defaultdict(list)
        for person in self.people.values():
            parent = person.manager_id if person.manager_id in self.people else None
            children[parent].append(person.id)
        self._children = {k: sorted(v) for k, v in children.items()}

    def children(self, person_id: int | None) -> list[int]:
        return self._children.get(person_id, [])

    def subtree(self, person_id: int) -> set[int]:
        """The person and everyone below them, following ``manager`` (the truth)."""
        seen, stack = set(), [person_id]
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            stack.extend(self.children(current))
        return seen

    def amount(self, deal: Deal) -> Decimal | None:
        return self.rates.convert(deal.amount, deal.currency, deal.day)


def load_book() -> Book:
    """Read the raw records (7 queries)."""
    people = {
        row[0]: Person(
            id=row[0],
            username=row[1],
            name=(f"{row[2]} {row[3]}".strip() or row[1]),
            role=row[4],
            manager_id=row[5],
        )
        for row in fetch(
            "SELECT id, username, first_name, last_name, role, manager_id FROM salesmgmt_user"
        )
    }
    periods = {
        row[0]: PeriodRow(row[0], row[1], row[2], as_date(row[3]), as_date(row[4]))
        for row in fetch("SELECT id, kind, name, start_on, end_on FROM salesmgmt_period")
    }
    deals = {
        row[0]: Deal(
            id=row[0],
            owner_id=row[1],
            status=row[2],
            amount=as_decimal(row[3]),
            currency=row[4],
            expected_close_on=as_date(row[5]),
            closed_on=as_date(row[6]),
            category=row[7],
            created_at=row[8],
        )
        for row in fetch(DEALS_SQL)
    }
    rates = Rates(
        [
            (row[0], as_date(row[1]), as_decimal(row[2]))
            for row in fetch(
                "SELECT currency, effective_on, rate_to_reporting FROM salesmgmt_exchangerate"
            )
        ]
    )
    splits: dict[int, list[tuple[int, Decimal]]] = defaultdict(list)
    for deal_id, user_id, percent in fetch(
        "SELECT opportunity_id, user_id, percent FROM compensation_creditsplit"
        " ORDER BY opportunity_id, user_id"
    ):
        splits[deal_id].append((user_id, as_decimal(percent)))
    cancellations = {
        row[0]: as_date(row[1])
        for row in fetch("SELECT opportunity_id, cancelled_on FROM compensation_dealcancellation")
    }
    return Book(people, periods, deals, rates, dict(splits), cancellations)
