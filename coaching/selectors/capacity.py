"""Reads of a manager's time: their weekly capacity and the hours approved requests booked."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Sum

from salesmgmt.models import User

from ..capacity import WEEKS_SHOWN, WeekLoad, default_capacity, default_hours, week_of
from ..models import ManagerCapacity, ResourcePolicy, ResourceRequest


def weekly_capacity(*, manager_id: int) -> Decimal:
    """The manager's hours a week for joint calls and reviews (1 query)."""
    own = (
        ManagerCapacity.objects.filter(manager_id=manager_id)
        .values_list("weekly_hours", flat=True)
        .first()
    )
    return own if own is not None else default_capacity()


def request_hours(*, kind: str, policy: ResourcePolicy | None) -> Decimal:
    """The hours a request of ``kind`` books: its policy's, else the default (no query)."""
    if policy is not None and policy.manager_hours is not None:
        return policy.manager_hours
    return default_hours(kind)


def week_loads(*, manager_id: int, first_week: dt.date, weeks: int = WEEKS_SHOWN) -> list[WeekLoad]:
    """``weeks`` weeks of the manager's time from ``first_week``: booked vs capacity (2 queries)."""
    first = week_of(first_week)
    mondays = [first + dt.timedelta(weeks=i) for i in range(weeks)]
    capacity = weekly_capacity(manager_id=manager_id)
    booked = dict(
        ResourceRequest.objects.filter(
            booked_manager_id=manager_id,
            booked_week__in=mondays,
            status=ResourceRequest.Status.APPROVED,
        )
        .values("booked_week")
        .annotate(hours=Sum("booked_hours"))
        .order_by()
        .values_list("booked_week", "hours")
    )
    return [WeekLoad(monday, booked.get(monday) or Decimal(0), capacity) for monday in mondays]


def booking_manager(*, owner: User, approver: User) -> int:
    """Whose time a joint call or review on ``owner``'s deal takes: the owner's manager, or the
    approver when the owner reports to nobody."""
    return owner.manager_id or approver.pk
