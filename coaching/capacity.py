"""The manager's own time as a resource: pure rules, no ORM.

Joint calls and deal reviews (``MANAGER_KINDS``) asked through resource requests take hours of
one manager's week: the deal owner's manager (the approver when the owner has none). A request
books the week of the day it is needed by (the week of the decision when that is earlier or
not given); weeks start on Monday. Approving a request that would take the manager's booked
hours past their weekly capacity is refused, unless the approver approves *over capacity*
explicitly, with a reason (kept on the request: ``is_over_capacity`` and the decision note).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

WEEKS_SHOWN = 4  # this week and the next three, on the resource-requests page


def week_of(day: dt.date) -> dt.date:
    """The Monday of ``day``'s week."""
    return day - dt.timedelta(days=day.weekday())


def booked_week(*, needed_by: dt.date | None, today: dt.date) -> dt.date:
    """The week a request books: when it is needed, never a week already past."""
    return week_of(max(needed_by or today, today))


def default_capacity() -> Decimal:
    return Decimal(str(settings.MANAGER_WEEKLY_CAPACITY_HOURS))


def default_hours(kind: str) -> Decimal:
    return Decimal(str(settings.MANAGER_REQUEST_HOURS.get(kind, 0)))


@dataclass(frozen=True)
class WeekLoad:
    """One week of a manager's time: hours booked by approved requests against capacity."""

    week: dt.date
    booked: Decimal
    capacity: Decimal

    @property
    def free(self) -> Decimal:
        return max(self.capacity - self.booked, Decimal(0))

    @property
    def is_over(self) -> bool:
        return self.booked > self.capacity

    @property
    def percent(self) -> int:
        """Booked as a share of capacity, for the bar (0-100)."""
        if self.capacity <= 0:
            return 100 if self.booked > 0 else 0
        return min(int(self.booked * 100 / self.capacity), 100)

    def would_exceed(self, hours: Decimal) -> bool:
        return self.booked + hours > self.capacity

    def refusal(self, *, manager: object, hours: Decimal, what: str) -> str:
        """Why booking ``hours`` more is refused: what is booked, what is left, what to do."""
        return (
            f"{manager} has {hours_text(self.free)} h left in the week of {self.week:%b} "
            f"{self.week.day} ({hours_text(self.booked)} of {hours_text(self.capacity)} h "
            f"booked); this {what} needs {hours_text(hours)} h. Choose another week (needed by), "
            "or approve over capacity with a reason."
        )


def hours_text(hours: Decimal) -> str:
    """6.00 as "6", 1.50 as "1.5"."""
    return format(hours.normalize(), "f")
