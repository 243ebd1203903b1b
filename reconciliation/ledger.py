"""Credited bookings, recomputed from the raw records (the rules of issue 13's credit ledger).

- A won deal credits its amount in the reporting currency, converted at the rate in effect on
  ``closed_on``, dated ``closed_on``: to its credit-split users by their percentages, else to
  its owner 100 %.
- A split is cut in whole cents by the largest-remainder rule: each share rounded down to the
  cent, the cents left over one each to the largest remainders, ties to the lower user id
  (the order compensation reads the splits in), so the shares add up to the amount exactly.
- A recorded cancellation of a won deal debits the same people the same amounts, dated
  ``cancelled_on`` (the period in which it is recorded carries the debit).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from .records import Book, PeriodRow

ZERO = Decimal(0)


@dataclass(frozen=True)
class Credit:
    person_id: int
    on: dt.date
    amount: Decimal
    deal_id: int
    kind: str  # "won" or "cancelled"

    def label(self) -> str:
        return f"deal {self.deal_id}" + (" (cancellation)" if self.kind == "cancelled" else "")


def split_cents(amount: Decimal, percents: list[Decimal]) -> list[Decimal]:
    """``amount`` cut by ``percents`` in whole cents that add up to it (largest remainder)."""
    total = sum((Fraction(p) for p in percents), Fraction(0))
    whole = int(amount * 100)
    if total == 0:
        return [ZERO for _ in percents]
    exact = [Fraction(whole) * Fraction(p) / total for p in percents]
    parts = [math.floor(share) for share in exact]
    order = sorted(range(len(parts)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in order[: whole - sum(parts)]:
        parts[i] += 1
    return [Decimal(part) / 100 for part in parts]


@dataclass
class Ledger:
    credits: list[Credit]
    problems: list[tuple[int, str]]  # (deal id, what is wrong with its raw records)

    def in_period(self, period: PeriodRow) -> list[Credit]:
        return [c for c in self.credits if period.contains(c.on)]

    def by_person(self, period: PeriodRow) -> dict[int, list[Credit]]:
        rows: dict[int, list[Credit]] = defaultdict(list)
        for credit in self.in_period(period):
            rows[credit.person_id].append(credit)
        return rows


def build_ledger(book: Book) -> Ledger:
    credits: list[Credit] = []
    problems: list[tuple[int, str]] = []
    for deal in sorted(book.deals.values(), key=lambda d: d.id):
        if deal.status != "won":
            continue
        amount = book.amount(deal)
        if amount is None:
            problems.append((deal.id, f"no exchange rate for {deal.currency}"))
            continue
        splits = book.splits.get(deal.id) or []
        if splits:
            percents = [p for _, p in splits]
            if sum(percents, ZERO) != 100:
                problems.append((deal.id, f"credit splits add up to {sum(percents, ZERO)}%"))
            shares = list(zip([u for u, _ in splits], split_cents(amount, percents), strict=True))
        else:
            shares = [(deal.owner_id, amount)]
        cancelled_on = book.cancellations.get(deal.id)
        for person_id, share in shares:
            credits.append(Credit(person_id, deal.closed_on, share, deal.id, "won"))
            if cancelled_on is not None:
                credits.append(Credit(person_id, cancelled_on, -share, deal.id, "cancelled"))
    return Ledger(credits, problems)
