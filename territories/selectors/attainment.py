"""Attainment = closed-won bookings credited in the period / the (ramped) quota.

Bookings are the deals won with ``closed_on`` in the period, credited 100% to the deal owner
(splits come with compensation), converted to the reporting currency at the rate in effect
on the day the deal closed. A manager's bookings and quota are those of their whole subtree
(unless their quota is set explicitly; see territories.quota_tree). Other apps read these.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from accounts.models import Opportunity
from salesmgmt.models import Period, User
from salesmgmt.money import RateTable

from ..models import Quota
from ..quota_rules import unramped_amount
from ..quota_tree import OwnQuota, RolledQuota, rollup_quotas, roots, subtree_totals

ZERO = Decimal(0)
RATIO = Decimal("0.0001")


@dataclass(frozen=True)
class Attainment:
    user_id: int | None
    bookings: Decimal
    quota: Decimal
    ramped_quota: Decimal
    is_explicit: bool = False

    @property
    def ratio(self) -> Decimal | None:
        """Bookings ÷ ramped quota to four decimals (ROUND_HALF_UP); None without a quota."""
        if not self.ramped_quota:
            return None
        return (self.bookings / self.ramped_quota).quantize(RATIO, rounding=ROUND_HALF_UP)

    @property
    def percent(self) -> Decimal | None:
        ratio = self.ratio
        return None if ratio is None else (ratio * 100).quantize(Decimal("0.1"))


def _own_quota(row: dict) -> OwnQuota:
    if row["basis"] == Quota.Basis.COMPONENTS:
        full = unramped_amount(
            row["territory_quota"], row["assignment_share"], row["manager_adjustment"]
        )
        return OwnQuota(row["basis"], max(full, ZERO), row["amount"])
    return OwnQuota(row["basis"], row["amount"], row["amount"])


@dataclass
class OrgFigures:
    """Everyone's rolled-up quota and subtree bookings for one period (4 queries)."""

    period: Period
    parent_of: dict[int, int | None]
    quotas: dict[int, RolledQuota]
    bookings: dict[int, Decimal]
    own_bookings: dict[int, Decimal]
    quota_rows: dict[int, dict] = field(default_factory=dict)

    def attainment(self, user_id: int) -> Attainment:
        rolled = self.quotas.get(user_id)
        return Attainment(
            user_id=user_id,
            bookings=self.bookings.get(user_id, ZERO),
            quota=rolled.quota if rolled else ZERO,
            ramped_quota=rolled.ramped_quota if rolled else ZERO,
            is_explicit=bool(rolled and rolled.is_explicit),
        )


def bookings_by_owner(*, start_on: dt.date, end_on: dt.date) -> dict[int, Decimal]:
    """Won bookings per deal owner in the reporting currency (2 queries)."""
    rates = RateTable.load()
    totals: dict[int, Decimal] = defaultdict(lambda: ZERO)
    deals = Opportunity.objects.filter(
        status=Opportunity.Status.WON, closed_on__gte=start_on, closed_on__lte=end_on
    ).values_list("owner_id", "amount", "currency", "closed_on")
    for owner_id, amount, currency, closed_on in deals:
        totals[owner_id] += rates.convert(amount, currency, closed_on)
    return dict(totals)


def org_figures(*, period: Period) -> OrgFigures:
    """Quotas and bookings of the whole organisation for ``period`` (4 queries)."""
    parent_of = dict(User.objects.values_list("pk", "manager_id"))
    rows = {
        row["user_id"]: row
        for row in Quota.objects.for_period(period.pk).values(
            "id", "user_id", "basis", "territory_quota", "assignment_share", "ramp_factor",
            "manager_adjustment", "amount", "territory_id", "version",
        )
    }  # fmt: skip
    own_bookings = bookings_by_owner(start_on=period.start_on, end_on=period.end_on)
    return OrgFigures(
        period=period,
        parent_of=parent_of,
        quotas=rollup_quotas(parent_of, {uid: _own_quota(row) for uid, row in rows.items()}),
        bookings=subtree_totals(parent_of, own_bookings),
        own_bookings=own_bookings,
        quota_rows=rows,
    )


def attainment_by_user(*, period: Period, user_ids: Iterable[int]) -> dict[int, Attainment]:
    """Attainment of many people at once, each over their subtree (4 queries in all)."""
    figures = org_figures(period=period)
    return {user_id: figures.attainment(user_id) for user_id in user_ids}


def attainment_for(*, user: User, period: Period) -> Attainment:
    """A person's attainment; for a manager, that of their whole subtree (4 queries)."""
    return attainment_by_user(period=period, user_ids=[user.pk])[user.pk]


def attainment_for_subtree(*, manager: User, period: Period) -> Attainment:
    """The team's bookings against the manager's quota (explicit, or the team's sum)."""
    return attainment_for(user=manager, period=period)


def attainment_company(*, period: Period) -> Attainment:
    """Everyone's bookings against the sum of the top of the hierarchy's quotas (4 queries)."""
    figures = org_figures(period=period)
    top = roots(figures.parent_of)
    return Attainment(
        user_id=None,
        bookings=sum(figures.own_bookings.values(), ZERO),
        quota=sum((figures.quotas[p].quota for p in top), ZERO),
        ramped_quota=sum((figures.quotas[p].ramped_quota for p in top), ZERO),
    )
