"""A past week's forecast figures, from that week's snapshot of every open deal.

``snapshot_take`` photographs each open deal once a week (amount in the reporting currency,
close date, stage, effective category, probability). The figures of a week are those rows
summed over a person's own deals or their subtree: what the pipeline looked like then, not
recomputed from today's data. Closed amounts are not in a snapshot (it holds open deals only).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, F, FloatField, Max, Q, Sum
from django.db.models.functions import Coalesce

from salesmgmt import fiscal_calendar
from salesmgmt.company_settings import company_settings_get
from salesmgmt.models import Period, User
from salesmgmt.money import quantize_money

from ..models import Category, OpportunitySnapshot, Scope

# The categories a snapshot holds (open deals: never closed), as their figure names.
CATEGORY_FIGURES = {
    Category.PIPELINE: "pipeline_amount",
    Category.BEST_CASE: "best_case_amount",
    Category.COMMIT: "commit_amount",
    Category.OMITTED: "omitted_amount",
}


@dataclass
class SnapshotFigures:
    """One person's figures in a snapshot: own deals or their whole subtree."""

    person: User
    scope: str
    depth: int = 0
    pipeline_amount: Decimal = Decimal(0)
    best_case_amount: Decimal = Decimal(0)
    commit_amount: Decimal = Decimal(0)
    omitted_amount: Decimal = Decimal(0)
    # The sum of amount * probability over the deals that had a probability then.
    weighted_amount: Decimal = Decimal(0)
    open_deal_count: int = 0

    def add(self, bucket: dict) -> None:
        name = CATEGORY_FIGURES.get(bucket["category"])
        if name is not None:
            setattr(self, name, getattr(self, name) + bucket["amount"])
        self.weighted_amount += bucket["weighted"]
        self.open_deal_count += bucket["count"]


@dataclass
class WeekSnapshot:
    """The week asked for, the snapshot taken in it (None: none was) and its figures."""

    week_start: dt.date
    taken_on: dt.date | None
    period: Period
    own: SnapshotFigures | None = None
    team: SnapshotFigures | None = None
    rows: list[SnapshotFigures] = field(default_factory=list)
    # Everyone's own-deal figures (the API lists them beside the subtree ones).
    own_by_person: dict[int, SnapshotFigures] = field(default_factory=dict)

    @property
    def week_end(self) -> dt.date:
        return self.week_start + dt.timedelta(days=6)


def week_start_of(day: dt.date) -> dt.date:
    """The first day of ``day``'s week, as the company counts weeks (1 query, memoized)."""
    first_weekday = company_settings_get().first_weekday
    if day < dt.date.min + dt.timedelta(days=6):
        return dt.date.min  # the first week of the calendar has no day before it
    return fiscal_calendar.week_start_of(day, first_weekday=first_weekday)


def snapshot_day_in_week(*, week_start: dt.date) -> dt.date | None:
    """The day of the week's snapshot (the latest if it was taken twice), or None (1 query)."""
    return OpportunitySnapshot.objects.filter(
        taken_on__gte=week_start, taken_on__lte=week_start + dt.timedelta(days=6)
    ).aggregate(day=Max("taken_on"))["day"]


def _buckets(*, taken_on: dt.date, period: Period, person: User) -> list[dict]:
    """The snapshot's deals closing in the period owned in ``person``'s subtree (``person``
    included), summed per owner and category (1 query)."""
    weighted = Sum(F("amount") * F("probability"), output_field=FloatField())
    rows = (
        OpportunitySnapshot.objects.filter(
            taken_on=taken_on,
            expected_close_on__gte=period.start_on,
            expected_close_on__lte=period.end_on,
        )
        .filter(Q(owner=person) | Q(owner__ancestor_path__startswith=person.subtree_path))
        .order_by()
        .values("owner_id", "category")
        # Named apart from the columns: an annotation called "amount" would shadow it.
        .annotate(total=Sum("amount"), deals=Count("id"), weighted_total=Coalesce(weighted, 0.0))
    )
    return [
        {
            "owner_id": row["owner_id"],
            "category": row["category"],
            "amount": quantize_money(row["total"] or 0),
            "count": row["deals"],
            "weighted": quantize_money(Decimal(str(row["weighted_total"]))),
        }
        for row in rows
    ]


def week_snapshot(
    *, person: User, period: Period, day: dt.date, whole_tree: bool = False
) -> WeekSnapshot:
    """The figures of the snapshot taken in ``day``'s week for the person (own and subtree)
    and each direct report (or everyone below, ``whole_tree``), subtree totals each.

    Queries: the snapshot's day (1); then the subtree (1) and the sums per owner (1) —
    whatever the number of deals or people. The caller has checked the viewer sees ``person``.
    """
    week_start = week_start_of(day)
    taken_on = snapshot_day_in_week(week_start=week_start)
    result = WeekSnapshot(week_start=week_start, taken_on=taken_on, period=period)
    if taken_on is None:
        return result
    below = list(
        User.objects.filter(ancestor_path__startswith=person.subtree_path).order_by(
            "ancestor_path", "last_name", "first_name", "id"
        )
    )
    base_depth = person.ancestor_path.count("/")
    team = {p.pk: SnapshotFigures(p, Scope.SUBTREE) for p in [person, *below]}
    for p in below:
        team[p.pk].depth = p.ancestor_path.count("/") - base_depth
    owns = {
        pk: SnapshotFigures(figures.person, Scope.OWN, figures.depth)
        for pk, figures in team.items()
    }
    paths = {p.pk: p.ancestor_path for p in below}
    for bucket in _buckets(taken_on=taken_on, period=period, person=person):
        owner_id = bucket["owner_id"]
        owns[owner_id].add(bucket)
        # The owner's subtree total and that of each manager up to ``person``.
        for node in _chain(owner_id, paths.get(owner_id, ""), team):
            team[node].add(bucket)
    result.own, result.team, result.own_by_person = owns[person.pk], team[person.pk], owns
    reports = below if whole_tree else [p for p in below if p.manager_id == person.pk]
    result.rows = [team[p.pk] for p in reports]
    return result


def _chain(owner_id: int, ancestor_path: str, team: dict) -> list[int]:
    """The owner and their managers (``ancestor_path`` ids) that are in ``team``."""
    ancestors = [int(part) for part in ancestor_path.strip("/").split("/") if part]
    return [pk for pk in [owner_id, *ancestors] if pk in team]


def snapshot_week_figures(
    *, person: User, period: Period, day: dt.date
) -> tuple[WeekSnapshot, list[SnapshotFigures]]:
    """The API's rows: the person's own and subtree figures, then each direct report's."""
    week = week_snapshot(person=person, period=period, day=day)
    if week.own is None or week.team is None:
        return week, []
    rows = [week.own, week.team]
    for row in week.rows:
        rows += [week.own_by_person[row.person.pk], row]
    return week, rows


def snapshot_days(*, limit: int = 12) -> list[dt.date]:
    """The latest days a snapshot was taken, newest first (1 query): the week picker's hint."""
    days = (
        OpportunitySnapshot.objects.order_by("-taken_on")
        .values_list("taken_on", flat=True)
        .distinct()
    )
    return list(days[:limit])
