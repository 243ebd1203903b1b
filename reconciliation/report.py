"""A difference between a stored figure and the one rebuilt from raw records, and the list."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from salesmgmt.money import quantize_money

from .records import PeriodRow, Person


@dataclass(frozen=True)
class Difference:
    aggregate: str  # e.g. "forecast rollup (subtree)"
    figure: str  # the stored column, or "row" for a missing or extra row
    stored: object
    expected: object
    person: Person | None = None  # None: the company, or not about one person
    period: PeriodRow | None = None
    records: tuple[str, ...] = ()  # the raw records the expected figure is made of
    note: str = ""

    def as_dict(self) -> dict:
        return {
            "aggregate": self.aggregate,
            "figure": self.figure,
            "person_id": self.person.id if self.person else None,
            "person": str(self.person) if self.person else "company",
            "period_id": self.period.id if self.period else None,
            "period": self.period.name if self.period else None,
            "stored": _plain(self.stored),
            "expected": _plain(self.expected),
            "records": list(self.records),
            "note": self.note,
        }

    def __str__(self) -> str:
        who = str(self.person) if self.person else "company"
        when = self.period.name if self.period else "-"
        text = (
            f"{self.aggregate} | {who} | {when} | {self.figure}: stored {_plain(self.stored)}, "
            f"expected {_plain(self.expected)}"
        )
        if self.records:
            shown = ", ".join(self.records[:20])
            more = len(self.records) - 20
            text += f" | from {shown}" + (f" and {more} more" if more > 0 else "")
        else:
            text += " | from no records"
        return text + (f" | {self.note}" if self.note else "")


def _plain(value: object) -> object:
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, float):
        return round(value, 6)
    return value


@dataclass
class Collector:
    """Gathers differences, within a money tolerance, for the people asked about."""

    tolerance: Decimal
    person_ids: set[int] | None = None
    differences: list[Difference] = field(default_factory=list)

    def wants(self, person: Person | None) -> bool:
        if self.person_ids is None:
            return True
        return person is not None and person.id in self.person_ids

    def add(self, difference: Difference) -> None:
        if self.wants(difference.person):
            self.differences.append(difference)

    def money(self, stored, expected, **context) -> None:
        """Compare two amounts; a missing stored figure (None) is always a difference."""
        if stored is None or abs(Decimal(str(stored)) - Decimal(str(expected))) > self.tolerance:
            self.add(Difference(stored=stored, expected=_money(expected), **context))

    def number(
        self, stored, expected, *, relative: float = 1e-6, absolute: float = 0.0, **context
    ) -> None:
        """Compare floats (counts, ratios, variances) to a relative precision."""
        if stored is None and expected is None:
            return
        if stored is None or expected is None:
            self.add(Difference(stored=stored, expected=expected, **context))
            return
        gap = abs(float(stored) - float(expected))
        if gap > max(absolute, relative * max(1.0, abs(float(expected)))):
            self.add(Difference(stored=stored, expected=expected, **context))


def _money(value) -> Decimal:
    return quantize_money(value) if value is not None else value
