"""Attainment = closed-won bookings credited in the period / the (ramped) quota.

Bookings are a person's credited bookings from the credit ledger (``compensation.ledger``):
their primary credit rows dated in the period - their share of deals won in it (splits, else
100 % to the owner, converted to the reporting currency at the close date), less the credit
of deals cancelled in it. A manager's bookings are their whole subtree's primary rows, never
an overlay on top; their quota that of their subtree (unless set explicitly; see
territories.quota_tree). Other apps read these.

Two paths, one computation:
- ``attainment_compute_by_user`` / ``attainment_compute_company`` compute from the raw
  quotas, deals and rates (4 queries, the whole organisation every time). They are the
  single source of truth: the refresher stores what they return, tests use them as the
  oracle, and compensation pays on them (money is never paid on a cached figure).
- ``attainment_by_user`` / ``attainment_for`` / ``attainment_company`` (the pages) read the
  figures precomputed by ``territories.services.attainment`` (1 query). Staleness bound: a
  change made through the services (a deal won or a won deal edited, its credit split or
  cancellation, a quota edit or allocation, a manager change, an exchange rate) shows at
  most ~6 seconds later while a worker is up: REFRESH_DEBOUNCE_SECONDS (5 s) plus one refresh
  of each affected period (0.1-0.4 s at 1,000 reps; measured 5.6 s end to end). If the
  refresh message is lost (broker down) the refresh path's one-minute sweep runs it, so at
  most ~1 minute once a worker is up; writes that bypass the services (admin edits, CSV
  imports, bulk updates) at the latest by the nightly run. A period never refreshed is
  computed live: reads never write or enqueue, its first figures come from a write naming
  it (its creation, a quota) or the nightly run. Someone added to the organisation is
  marked by their creation and reads as zero until that refresh.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q

from compensation import ledger
from salesmgmt.models import Period, User

from ..models import AttainmentFigure, Quota
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


def bookings_by_person(*, start_on: dt.date, end_on: dt.date) -> dict[int, Decimal]:
    """Credited bookings per person in the reporting currency, from the credit ledger (2
    queries: the won or cancelled deals with their splits, the exchange rates)."""
    return ledger.bookings_by_person(start_on=start_on, end_on=end_on)


def org_figures(*, period: Period) -> OrgFigures:
    """Quotas and bookings of the whole organisation for ``period`` (4 queries)."""
    parent_of: dict[int, int | None] = dict(User.objects.values_list("pk", "manager_id"))
    own_bookings = bookings_by_person(start_on=period.start_on, end_on=period.end_on)
    return _org_figures(period, parent_of, own_bookings)


def org_figures_of(*, periods: Sequence[Period]) -> dict[int, OrgFigures]:
    """``org_figures`` of each of ``periods`` by period id, the same figures: the credited
    deals of overlapping periods are read once for them all (a year's shard of the KPIs: a
    ledger read per month, quarter and year was a fifth of its time), each period's quota
    rows by itself (1 query, and 2 per group of overlapping periods and 1 a period)."""
    parent_of: dict[int, int | None] = dict(User.objects.values_list("pk", "manager_id"))
    figures = {}
    for overlapping in _overlapping_groups(periods):
        deals = ledger.credited_deals(
            start_on=overlapping[0].start_on, end_on=max(p.end_on for p in overlapping)
        )
        # Every row of the span once, by day; each period's are those dated in it (as a read
        # of the period alone finds them), summed exactly (Decimal), so in any order.
        entries = sorted(
            (entry for deal in deals for entry in ledger.deal_entries(deal)), key=lambda e: e.day
        )
        days = [entry.day for entry in entries]
        for period in overlapping:
            dated = entries[bisect_left(days, period.start_on) : bisect_right(days, period.end_on)]
            figures[period.pk] = _org_figures(period, parent_of, ledger.totals_by_person(dated))
    return figures


def _overlapping_groups(periods: Sequence[Period]) -> list[list[Period]]:
    """``periods`` in groups that overlap (by start): an edit's month in 2024 and year in 2026
    read two spans, not the three years between them."""
    groups: list[list[Period]] = []
    end_on = None
    for period in sorted(periods, key=lambda p: p.start_on):
        if end_on is None or period.start_on > end_on:
            groups.append([])
            end_on = period.end_on
        groups[-1].append(period)
        end_on = max(end_on, period.end_on)
    return groups


def _org_figures(
    period: Period, parent_of: dict[int, int | None], own_bookings: dict[int, Decimal]
) -> OrgFigures:
    rows = {
        row["user_id"]: row
        for row in Quota.objects.for_period(period.pk).values(
            "id", "user_id", "basis", "territory_quota", "assignment_share", "ramp_factor",
            "manager_adjustment", "amount", "territory_id", "version",
        )
    }  # fmt: skip
    return OrgFigures(
        period=period,
        parent_of=parent_of,
        quotas=rollup_quotas(parent_of, {uid: _own_quota(row) for uid, row in rows.items()}),
        bookings=subtree_totals(parent_of, own_bookings),
        own_bookings=own_bookings,
        quota_rows=rows,
    )


def _company(figures: OrgFigures) -> Attainment:
    top = roots(figures.parent_of)
    return Attainment(
        user_id=None,
        bookings=sum(figures.own_bookings.values(), ZERO),
        quota=sum((figures.quotas[p].quota for p in top), ZERO),
        ramped_quota=sum((figures.quotas[p].ramped_quota for p in top), ZERO),
    )


def attainment_compute_by_user(*, period: Period, user_ids: Iterable[int]) -> dict[int, Attainment]:
    """Exact attainment from the raw data, each over their subtree (4 queries in all)."""
    figures = org_figures(period=period)
    return {user_id: figures.attainment(user_id) for user_id in user_ids}


def attainment_compute_company(*, period: Period) -> Attainment:
    """Exact company attainment from the raw data (4 queries)."""
    return _company(org_figures(period=period))


def attainment_compute_all(*, period: Period) -> list[Attainment]:
    """Everyone's attainment and the company's (``user_id`` None), as the refresher stores it."""
    figures = org_figures(period=period)
    return [figures.attainment(user_id) for user_id in sorted(figures.parent_of)] + [
        _company(figures)
    ]


def _stored(period: Period, user_ids: list[int]) -> dict[int | None, Attainment] | None:
    """The precomputed figures of ``user_ids`` and the company (key None); None if the period
    was never refreshed (1 query: the company row is written with every refresh)."""
    rows = AttainmentFigure.objects.filter(
        Q(user_id__in=user_ids) | Q(user__isnull=True), period_id=period.pk
    ).values_list("user_id", "bookings", "quota", "ramped_quota", "is_explicit")
    found: dict[int | None, Attainment] = {
        user_id: Attainment(user_id, bookings, quota, ramped_quota, is_explicit)
        for user_id, bookings, quota, ramped_quota, is_explicit in rows
    }
    return found if None in found else None


def attainment_by_user(*, period: Period, user_ids: Iterable[int]) -> dict[int, Attainment]:
    """Attainment of many people at once, each over their subtree, as last refreshed (1 query).

    Someone without a row (added since the last refresh) has no bookings or quota yet.
    """
    ids = list(user_ids)
    stored = _stored(period, ids)
    if stored is None:
        return attainment_compute_by_user(period=period, user_ids=ids)
    return {
        user_id: stored.get(user_id)
        or Attainment(user_id=user_id, bookings=ZERO, quota=ZERO, ramped_quota=ZERO)
        for user_id in ids
    }


def attainment_by_period(
    *, periods: Sequence[Period], user_ids: Iterable[int]
) -> dict[int, dict[int, Attainment]]:
    """``attainment_by_user`` of several periods at once, by period id: the stored figures of
    them all in 1 query; a period never refreshed is computed from the raw data (4 more)."""
    ids = list(user_ids)
    rows = AttainmentFigure.objects.filter(
        Q(user_id__in=ids) | Q(user__isnull=True), period_id__in=[p.pk for p in periods]
    ).values_list("period_id", "user_id", "bookings", "quota", "ramped_quota", "is_explicit")
    stored: dict[int, dict[int | None, Attainment]] = {}
    for period_id, user_id, bookings, quota, ramped_quota, is_explicit in rows:
        found = stored.setdefault(period_id, {})
        found[user_id] = Attainment(user_id, bookings, quota, ramped_quota, is_explicit)
    result = {}
    for period in periods:
        found = stored.get(period.pk, {})
        if None not in found:  # the company row is written with every refresh
            result[period.pk] = attainment_compute_by_user(period=period, user_ids=ids)
            continue
        result[period.pk] = {
            user_id: found.get(user_id)
            or Attainment(user_id=user_id, bookings=ZERO, quota=ZERO, ramped_quota=ZERO)
            for user_id in ids
        }
    return result


def attainment_for(*, user: User, period: Period) -> Attainment:
    """A person's attainment; for a manager, that of their whole subtree (1 query)."""
    return attainment_by_user(period=period, user_ids=[user.pk])[user.pk]


def attainment_for_subtree(*, manager: User, period: Period) -> Attainment:
    """The team's bookings against the manager's quota (explicit, or the team's sum)."""
    return attainment_for(user=manager, period=period)


def attainment_company(*, period: Period) -> Attainment:
    """Everyone's bookings against the sum of the top of the hierarchy's quotas (1 query)."""
    stored = _stored(period, [])
    if stored is None:
        return attainment_compute_company(period=period)
    return stored[None]
