"""Reads for the dashboards: every figure comes from a precomputed aggregate.

Forecast categories, weighted pipeline and P10/P50/P90 are forecasting's ``ForecastRollup``;
coverage and activity counts its ``KpiSnapshot``; pushed/stale/stuck deals its
``InspectionFlag``; attainment territories' bulk ``attainment_by_user``; compliance the
``ComplianceSummary`` rows (coaching.services.compliance). No page here reads the raw deal
history, except once for someone never computed.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TypeVar

import pandas as pd
from django.db.models import Count
from django.utils import timezone

from forecasting.models import FlagKind, ForecastRollup, InspectionFlag, KpiSnapshot, Scope
from forecasting.selectors.reads import NodeRow, forecast_view
from salesmgmt.models import Period, Role, User
from salesmgmt.visibility import visible_users
from territories.selectors import Attainment, attainment_by_user

from ..compliance import ComplianceScore, compliance_scores
from ..models import ComplianceSummary

SELLING_ROLES = (Role.REP, Role.MANAGER, Role.EXECUTIVE)
ZERO = Decimal(0)


_ScopedRow = TypeVar("_ScopedRow", ForecastRollup, KpiSnapshot)


def _by_scope(rows: Iterable[_ScopedRow], key: str = "person_id") -> dict[int, _ScopedRow]:
    """The subtree row of each person, else their own-scope row."""
    picked: dict[int, _ScopedRow] = {}
    for row in rows:
        person_id = getattr(row, key)
        if row.scope == Scope.SUBTREE or person_id not in picked:
            picked[person_id] = row
    return picked


@dataclass
class TeamRow:
    person: User
    attainment: Attainment
    rollup: ForecastRollup | None
    kpi: KpiSnapshot | None
    # The precomputed summary, or the live score of someone never computed (same ``score``).
    compliance: ComplianceSummary | ComplianceScore | None
    flags: dict[str, int] = field(default_factory=dict)

    @property
    def activity_count(self) -> int:
        return sum((self.kpi.activities_by_kind or {}).values()) if self.kpi else 0

    @property
    def flag_count(self) -> int:
        return sum(self.flags.values())


@dataclass
class TeamDashboard:
    manager: User
    period: Period
    rows: list[TeamRow]

    def frame(self) -> pd.DataFrame:
        """One row per member for the charts (floats, reporting currency)."""
        return pd.DataFrame(
            [
                {
                    "name": str(row.person),
                    "bookings": float(row.attainment.bookings),
                    "quota": float(row.attainment.quota),
                    "ramped_quota": float(row.attainment.ramped_quota),
                    "closed": float(row.rollup.closed_amount) if row.rollup else 0.0,
                    "commit": float(row.rollup.commit_amount) if row.rollup else 0.0,
                    "best_case": float(row.rollup.best_case_amount) if row.rollup else 0.0,
                    "pipeline": float(row.rollup.pipeline_amount) if row.rollup else 0.0,
                }
                for row in self.rows
            ],
            columns=[
                "name", "bookings", "quota", "ramped_quota", "closed", "commit", "best_case",
                "pipeline",
            ],
        )  # fmt: skip


# The inspection flags the team table shows: (kind, column heading); the kind's label is the tip.
FLAG_COLUMNS = [
    (FlagKind.PUSHED_TWICE, "Pushed"),
    (FlagKind.NO_ACTIVITY, "Stale"),
    (FlagKind.STUCK_IN_STAGE, "Stuck"),
]


ROLLUP_FIELDS = (
    "person_id", "period_id", "scope", "closed_amount", "commit_amount", "best_case_amount",
    "pipeline_amount", "cumulative_commit_amount", "cumulative_best_case_amount",
)  # fmt: skip
KPI_FIELDS = ("person_id", "period_id", "scope", "coverage", "activities_by_kind")


def team_members(*, manager: User) -> list[User]:
    """The manager's active direct reports; a person without reports is their own team."""
    members = list(
        User.objects.filter(manager=manager, is_active=True, role__in=SELLING_ROLES).order_by(
            "last_name", "first_name", "id"
        )
    )
    return members or [manager]


def team_dashboard(*, manager: User, period: Period, today: dt.date | None = None) -> TeamDashboard:
    """Each direct report's attainment, forecast, coverage, flags, activity and compliance.

    Queries, whatever the team size: members (1), attainment (4), rollups (1), KPIs (1),
    flags (1), compliance (1: the precomputed summaries; +3 once for people never computed).
    """
    today = today or timezone.localdate()
    members = team_members(manager=manager)
    ids = [m.pk for m in members]
    attainment = attainment_by_user(period=period, user_ids=ids)
    # Only the columns the page shows: the KPI rows' JSON breakdowns and the rollups' model
    # outputs would cost more to decode than the rest of the page's reads together.
    rollups = _by_scope(
        ForecastRollup.objects.filter(period=period, person_id__in=ids).only(*ROLLUP_FIELDS)
    )
    kpis = _by_scope(KpiSnapshot.objects.filter(period=period, person_id__in=ids).only(*KPI_FIELDS))
    member_ids = set(ids)
    flags: dict[int, dict[str, int]] = defaultdict(dict)
    counted = (
        InspectionFlag.objects.filter(owner__ancestor_path__startswith=manager.subtree_path)
        .values("owner_id", "owner__ancestor_path", "kind")
        .annotate(n=Count("id"))
    )
    for row in counted:
        # Credit the flag to the direct report whose subtree holds the deal's owner.
        chain = [int(part) for part in row["owner__ancestor_path"].strip("/").split("/") if part]
        holder = next((pk for pk in [*chain, row["owner_id"]] if pk in member_ids), None)
        if holder is not None:
            flags[holder][row["kind"]] = flags[holder].get(row["kind"], 0) + row["n"]
    scores = compliance_by_user(user_ids=ids, today=today)
    rows = [
        TeamRow(
            person=member,
            attainment=attainment[member.pk],
            rollup=rollups.get(member.pk),
            kpi=kpis.get(member.pk),
            compliance=scores.get(member.pk),
            flags=flags.get(member.pk, {}),
        )
        for member in members
    ]
    return TeamDashboard(manager=manager, period=period, rows=rows)


def compliance_by_user(
    *, user_ids: list[int], today: dt.date
) -> dict[int, ComplianceSummary | ComplianceScore]:
    """Each person's compliance as last refreshed (1 query); computed live for anyone
    without a summary yet (3 more queries). A read: their first summary comes from the
    write that created them (or the nightly run), never from here."""
    found: dict[int, ComplianceSummary | ComplianceScore] = {
        row.user_id: row for row in ComplianceSummary.objects.filter(user_id__in=user_ids)
    }
    missing = [uid for uid in user_ids if uid not in found]
    if missing:
        found |= compliance_scores(user_ids=missing, as_of=today)
    return found


# --- executive rollup -----------------------------------------------------------------------


@dataclass
class RollupNode:
    row: NodeRow
    attainment: Attainment
    has_children: bool
    depth: int = 0

    @property
    def person(self) -> User:
        return self.row.person

    @property
    def call(self) -> Decimal | None:
        return self.row.call_commit

    @property
    def last_week_call(self) -> Decimal | None:
        record = self.row.record
        if record is None:
            return None
        if record.manager_commit_amount is not None:
            return record.manager_commit_amount
        return record.commit_amount

    @property
    def change(self) -> Decimal | None:
        """The call now minus the call of record at the last weekly lock."""
        if self.call is None or self.last_week_call is None:
            return None
        return self.call - self.last_week_call


def rollup_roots(*, viewer: User) -> list[User]:
    """Where the tree starts: the viewer, or for admins without a team the top of the org."""
    if not viewer.sees_everyone or User.objects.filter(manager=viewer).exists():
        return [viewer]
    return list(
        User.objects.filter(manager__isnull=True, role__in=SELLING_ROLES, is_active=True).order_by(
            "last_name", "first_name", "id"
        )
    )


def rollup_children(
    *, viewer: User, person: User, period: Period, depth: int = 1
) -> tuple[RollupNode, list[RollupNode]]:
    """The person's node and one node per direct report (9 queries, whatever the team size).

    Queries: forecasting's forecast_view (people, rollups, calls, calls of record),
    attainment (4), who has reports (1).
    """
    view = forecast_view(viewer=viewer, person=person, period=period, whole_tree=False)
    ids = [person.pk, *[r.person.pk for r in view.rows]]
    attainment = attainment_by_user(period=period, user_ids=ids)
    # order_by(): the people's default order would join the DISTINCT, one row per report.
    with_reports = set(
        User.objects.filter(manager_id__in=ids)
        .order_by()
        .values_list("manager_id", flat=True)
        .distinct()
    )
    visible = [r for r in view.rows if r.person.role in SELLING_ROLES]
    node = RollupNode(view.self_row, attainment[person.pk], bool(visible), depth - 1)
    children = [
        RollupNode(r, attainment[r.person.pk], r.person.pk in with_reports, depth) for r in visible
    ]
    return node, children


def waterfall_frame(*, node: RollupNode, children: list[RollupNode]) -> tuple[str, pd.DataFrame]:
    """A bridge for the node: its call since last week, step by direct report; without any
    calls yet, what its forecast is made of (closed, commit, best case, pipeline)."""
    columns = ["label", "amount", "measure"]
    if any(c.call is not None or c.last_week_call is not None for c in children):
        start = sum((c.last_week_call or c.call or ZERO for c in children), ZERO)
        steps = [{"label": "Last week", "amount": float(start), "measure": "absolute"}]
        steps += [
            {"label": str(c.person), "amount": float(c.change or 0), "measure": "relative"}
            for c in children
        ]
        steps.append({"label": "This week", "amount": 0.0, "measure": "total"})
        return "Call: change since last week", pd.DataFrame(steps, columns=columns)
    rollup = node.row.rollup
    if rollup is None:
        return "", pd.DataFrame(columns=columns)
    steps = [
        {"label": "Closed", "amount": float(rollup.closed_amount), "measure": "relative"},
        {"label": "Commit", "amount": float(rollup.commit_amount), "measure": "relative"},
        {"label": "Best case", "amount": float(rollup.best_case_amount), "measure": "relative"},
        {"label": "Pipeline", "amount": float(rollup.pipeline_amount), "measure": "relative"},
        {"label": "Total", "amount": 0.0, "measure": "total"},
    ]
    return "Forecast by category (no calls yet)", pd.DataFrame(steps, columns=columns)


# --- ramp ---------------------------------------------------------------------------------------


def ramp_frame(*, viewer: User, today: dt.date | None = None) -> pd.DataFrame:
    """Per visible seller with a hire date: cohort, days since hire, to first win, to quota.

    Reads forecasting's KPI rows (own scope), the latest computed one per person (1 query).
    """
    today = today or timezone.localdate()
    rows = (
        KpiSnapshot.objects.filter(
            person__in=visible_users(viewer),
            scope=Scope.OWN,
            person__hire_date__isnull=False,
        )
        .exclude(hire_cohort="")
        .order_by("person_id", "period__start_on")
        .values_list(
            "person_id", "person__first_name", "person__last_name", "person__username",
            "person__hire_date", "hire_cohort", "days_to_first_win", "days_to_full_quota",
        )
    )  # fmt: skip
    latest: dict[int, dict] = {}
    for pid, first, last, username, hired, cohort, first_win, full_quota in rows:
        if hired is None:
            continue  # not in the query's result (hire_date__isnull=False); narrows the type
        latest[pid] = {
            "person_id": pid,
            "name": f"{first} {last}".strip() or username,
            "hire_cohort": cohort,
            "days_since_hire": (today - hired).days,
            "days_to_first_win": first_win,
            "days_to_full_quota": full_quota,
        }
    return pd.DataFrame(
        list(latest.values()),
        columns=[
            "person_id", "name", "hire_cohort", "days_since_hire", "days_to_first_win",
            "days_to_full_quota",
        ],
    )  # fmt: skip
