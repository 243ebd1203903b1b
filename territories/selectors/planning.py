"""The precomputed planning reports: what the refresh computes, and what the page reads.

``planning_compute`` is the expensive scan (every account against every rule, every territory's
accounts for the rebalancing); only the refresh task runs it (services.planning_refresh). The
page reads the stored result with a fixed number of queries, whatever the size of the book.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

import pandas as pd
from django.db.models import Count, Q, Subquery

from accounts.models import Account
from salesmgmt.models import Role, User

from .. import analytics
from ..models import (
    BalanceFigure,
    CoverageFinding,
    PlanningSnapshot,
    PlanningState,
    RebalanceMove,
    RebalanceProposal,
    Territory,
)
from ..permissions import can_plan_assignments, is_planner
from ..rule_engine import RuleSpec, match_accounts
from .assignments import AssignmentPlan, Move, named_account_ids, rebalance_plan
from .balance import BalanceReport, balance_for, current_potential, last_four_quarters
from .territories import (
    CoverageProblem,
    CoverageReport,
    account_rows,
    active_rule_specs,
    facts_of,
    plannable_territories,
)

INDEX_COLUMNS = ("balance_index", "is_outside_band")
# The newest snapshot is the one computed from the latest changes: a slow run that started
# before a faster one and finished after it must not hide the faster one's newer result.
NEWEST_FIRST = ("-generation", "-created_at", "-id")

# --- computing (the refresh task only) ----------------------------------------------------------


@dataclass(frozen=True)
class PlannerScope:
    """Whose rebalancing: ``planner_id`` None for executives and admins (every territory)."""

    planner_id: int | None
    territories: list[Territory]


@dataclass
class PlanningResult:
    effective_on: dt.date
    band: Decimal
    balance: BalanceReport
    coverage: CoverageReport
    plans: list[tuple[PlannerScope, AssignmentPlan]] = field(default_factory=list)


def planner_scopes(*, day: dt.date) -> list[PlannerScope]:
    """Every territory for executives and admins, and each active manager's plannable ones.

    Mirrors plannable_territories: a manager plans the active lowest-level territories owned
    by themselves or anyone below them (2 queries).
    """
    leaves = list(
        Territory.objects.active_on(day).leaves().select_related("owner").order_by("name", "id")
    )
    scopes = [PlannerScope(None, leaves)]
    managers = User.objects.filter(role=Role.MANAGER, is_active=True, is_superuser=False)
    for manager in managers.order_by("pk"):
        below = manager.subtree_path
        mine = [
            t for t in leaves if t.owner_id == manager.pk or t.owner.ancestor_path.startswith(below)
        ]
        scopes.append(PlannerScope(manager.pk, mine))
    return scopes


def coverage_of_everyone(*, day: dt.date) -> CoverageReport:
    """Every account against every active rule: gaps and overlaps (3 queries)."""
    specs = active_rule_specs(day=day)
    rows = account_rows(Account.objects.all())
    report = CoverageReport(checked_count=len(rows))
    names = {row["id"]: row["name"] for row in rows}
    for match in match_accounts([facts_of(row) for row in rows], specs):
        if match.is_gap:
            report.gaps.append(CoverageProblem(match.account_id, names[match.account_id]))
        elif match.is_overlap:
            report.overlaps.append(
                CoverageProblem(match.account_id, names[match.account_id], match.winners)
            )
    return report


def planning_compute(*, day: dt.date, band: Decimal) -> PlanningResult:
    """Balance figures of every active territory, coverage of every account, and a
    rebalancing per planner scope (about 15 queries)."""
    scopes = planner_scopes(day=day)
    result = PlanningResult(
        effective_on=day,
        band=band,
        balance=balance_for(territories=scopes[0].territories, as_of=day, band=band),
        coverage=coverage_of_everyone(day=day),
    )
    accounts = current_potential(territory_ids=[t.pk for t in scopes[0].territories])
    named = named_account_ids()
    for scope in scopes:
        plan = rebalance_plan(
            territories=scope.territories,
            accounts=accounts,
            named_account_ids=named,
            band=band,
            effective_on=day,
        )
        result.plans.append((scope, plan))
    return result


# --- reading (the page) -------------------------------------------------------------------------


def planning_generation() -> int:
    """The number of committed changes the reports depend on (1 query)."""
    return PlanningState.objects.filter(pk=1).values_list("generation", flat=True).first() or 0


def latest_snapshot() -> PlanningSnapshot | None:
    """The newest snapshot, annotated with the current generation (1 query)."""
    current = PlanningState.objects.filter(pk=1).values("generation")[:1]
    snapshot = (
        PlanningSnapshot.objects.annotate(current_generation=Subquery(current))
        .order_by(*NEWEST_FIRST)
        .first()
    )
    if snapshot is not None:
        snapshot.is_current = snapshot.generation >= (snapshot.current_generation or 0)
    return snapshot


def _rule_specs(rules: list[dict]) -> tuple[RuleSpec, ...]:
    return tuple(
        RuleSpec(
            rule_id=r["id"], name=r["name"], territory_id=r["territory_id"], priority=r["priority"]
        )
        for r in rules
    )


def stored_balance(
    *, viewer: User, snapshot: PlanningSnapshot, band: Decimal | None = None
) -> BalanceReport:
    """The stored figures of the territories ``viewer`` sees, indexed against their own mean
    (1 query)."""
    band = band if band is not None else snapshot.band
    figures = BalanceFigure.objects.filter(snapshot=snapshot).select_related("territory__owner")
    if not viewer.sees_everyone:
        figures = figures.filter(territory__in=Territory.objects.visible_to(viewer).values("pk"))
    rows = list(figures.order_by("territory__name", "territory_id"))
    frame = pd.DataFrame(
        [
            {
                "territory_id": f.territory_id,
                "name": f.territory.name,
                "owner": str(f.territory.owner),
                "account_count": f.account_count,
                "potential": f.potential_amount,
                "pipeline": f.pipeline_amount,
                "bookings": f.bookings_amount,
                "activity_count": f.activity_count,
            }
            for f in rows
        ],
        columns=[c for c in analytics.BALANCE_COLUMNS if c not in INDEX_COLUMNS],
    )
    table = analytics.with_balance_index(frame, band=float(band))
    cv = analytics.coefficient_of_variation(table["potential"]) if len(table) else 0.0
    start, end = last_four_quarters(snapshot.effective_on)
    return BalanceReport(
        table, cv, band, snapshot.effective_on, start, end, [f.territory for f in rows]
    )


@dataclass
class StoredCoverage(CoverageReport):
    """The coverage check as stored, limited to the accounts the viewer sees."""

    gap_count: int = 0
    overlap_count: int = 0

    @property
    def more_gap_count(self) -> int:
        """Gaps beyond those listed."""
        return self.gap_count - len(self.gaps)

    @property
    def more_overlap_count(self) -> int:
        return self.overlap_count - len(self.overlaps)


def stored_coverage(*, viewer: User, snapshot: PlanningSnapshot, limit: int = 50) -> StoredCoverage:
    """The first ``limit`` gaps and overlaps among the accounts ``viewer`` sees (3 queries).

    The counts are of the same accounts; "checked" is every account at the snapshot, since
    every active rule and every account take part in finding an overlap.
    """
    findings = CoverageFinding.objects.filter(snapshot=snapshot)
    if not viewer.sees_everyone:
        findings = findings.filter(account__in=Account.objects.visible_to(viewer).values("pk"))
    counts = findings.aggregate(
        gaps=Count("pk", filter=Q(kind=CoverageFinding.Kind.GAP)),
        overlaps=Count("pk", filter=Q(kind=CoverageFinding.Kind.OVERLAP)),
    )
    report = StoredCoverage(
        checked_count=snapshot.checked_count,
        gap_count=counts["gaps"],
        overlap_count=counts["overlaps"],
    )
    columns = ("account_id", "account__name", "rules")
    for row in findings.filter(kind=CoverageFinding.Kind.GAP).values(*columns)[:limit]:
        report.gaps.append(CoverageProblem(row["account_id"], row["account__name"]))
    for row in findings.filter(kind=CoverageFinding.Kind.OVERLAP).values(*columns)[:limit]:
        report.overlaps.append(
            CoverageProblem(row["account_id"], row["account__name"], _rule_specs(row["rules"]))
        )
    return report


@dataclass
class StoredRebalance:
    """A stored proposal as a plan, and whether it may still be applied as it stands."""

    proposal: RebalanceProposal
    plan: AssignmentPlan
    # The generation its snapshot was computed from.
    generation: int
    # Whether the planner's territories are still the ones it compared.
    is_in_scope: bool
    # False when territories, rules or assignments changed since it was computed, or it is
    # out of scope: shown, but not applicable.
    is_current: bool


def proposal_for(*, actor: User, snapshot: PlanningSnapshot) -> StoredRebalance | None:
    """The stored rebalancing of the territories ``actor`` plans (3-4 queries).

    None for those who plan nothing, and for a manager the snapshot predates.
    """
    if not can_plan_assignments(actor):
        return None
    planner = None if is_planner(actor) else actor.pk
    proposal = RebalanceProposal.objects.filter(snapshot=snapshot, planner_id=planner).first()
    if proposal is None:
        return None
    moves = (
        RebalanceMove.objects.filter(proposal=proposal)
        .select_related("account", "from_territory", "to_territory__owner")
        .order_by("position")
    )
    plan = AssignmentPlan(
        kind="rebalance",
        effective_on=snapshot.effective_on,
        moves=[
            Move(
                account_id=m.account_id,
                account_name=m.account.name,
                from_territory_id=m.from_territory_id,
                to_territory_id=m.to_territory_id,
                to_owner_id=m.to_territory.owner_id,
                potential=m.potential_amount,
                from_territory_name=m.from_territory.name,
                to_territory_name=m.to_territory.name,
                to_owner_name=str(m.to_territory.owner),
            )
            for m in moves
        ],
        cv_before=proposal.cv_before,
        cv_after=proposal.cv_after,
        band=snapshot.band,
        is_within_band_after=proposal.is_within_band_after,
    )
    # The planner's territories today, against the ones the proposal compared.
    territory_ids = sorted(t.pk for t in plannable_territories(actor=actor))
    is_in_scope = (
        territory_ids == proposal.territory_ids and plan.fingerprint == proposal.fingerprint
    )
    return StoredRebalance(
        proposal=proposal,
        plan=plan,
        generation=snapshot.generation,
        is_in_scope=is_in_scope,
        is_current=is_in_scope and bool(getattr(snapshot, "is_current", False)),
    )


def proposal_get(*, actor: User, pk: int) -> StoredRebalance | None:
    """The stored proposal ``pk`` if it is the one for ``actor``'s territories (5 queries)."""
    snapshot = (
        PlanningSnapshot.objects.annotate(
            current_generation=Subquery(PlanningState.objects.filter(pk=1).values("generation")[:1])
        )
        .filter(proposals__pk=pk)
        .first()
    )
    if snapshot is None:
        return None
    snapshot.is_current = snapshot.generation >= (snapshot.current_generation or 0)
    stored = proposal_for(actor=actor, snapshot=snapshot)
    return stored if stored is not None and stored.proposal.pk == pk else None
