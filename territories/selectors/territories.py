"""Reads for territories, rules, assignments and coverage; all scoped by visibility."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Prefetch, QuerySet
from django.http import Http404
from django.utils import timezone

from accounts.models import Account
from salesmgmt.models import User
from salesmgmt.visibility import visible_users

from ..batching import in_batches
from ..models import (
    AccountTerritoryAssignment,
    AssignmentRule,
    Territory,
    TerritoryOverlay,
)
from ..permissions import can_plan_assignments, is_planner
from ..rule_engine import AccountFacts, Match, RuleSpec, match_accounts

ACCOUNT_FACT_FIELDS = (
    "id", "name", "country", "region", "state", "industry", "employee_count", "annual_revenue",
    "owner_id",
)  # fmt: skip


def _open_overlays() -> Prefetch:
    return Prefetch(
        "overlays",
        queryset=TerritoryOverlay.objects.filter(effective_to__isnull=True).select_related("user"),
        to_attr="open_overlays",
    )


def territory_list(*, viewer: User) -> QuerySet[Territory]:
    """Territories ``viewer`` sees, with owner, parent and open overlays (3 queries)."""
    return (
        Territory.objects.visible_to(viewer)
        .select_related("owner", "parent")
        .prefetch_related(_open_overlays())
        .order_by("name", "id")
    )


def territory_get(*, viewer: User, pk: int) -> Territory:
    try:
        return (
            Territory.objects.visible_to(viewer)
            .select_related("owner", "parent")
            .prefetch_related(_open_overlays())
            .get(pk=pk)
        )
    except Territory.DoesNotExist:
        raise Http404("No such territory.") from None


@dataclass(frozen=True)
class TerritoryRow:
    territory: Territory
    depth: int
    # Shown only to place a visible territory in the hierarchy (the viewer cannot open it).
    is_context: bool


def territory_tree(*, viewer: User) -> list[TerritoryRow]:
    """Visible territories in hierarchy order, with their ancestors as context (3 queries)."""
    everything = {
        t.pk: t
        for t in Territory.objects.select_related("owner")
        .prefetch_related(_open_overlays())
        .order_by("name", "id")
    }
    visible = set(Territory.objects.visible_to(viewer).values_list("pk", flat=True))
    shown = set()
    for pk in visible:
        current: int | None = pk
        while current is not None and current not in shown and current in everything:
            shown.add(current)
            current = everything[current].parent_id
    children: dict[int | None, list[Territory]] = {}
    for territory in everything.values():
        if territory.pk in shown:
            parent = territory.parent_id if territory.parent_id in shown else None
            children.setdefault(parent, []).append(territory)
    rows: list[TerritoryRow] = []
    stack = [(t, 0) for t in reversed(children.get(None, []))]
    while stack:
        territory, depth = stack.pop()
        rows.append(TerritoryRow(territory, depth, territory.pk not in visible))
        stack.extend((child, depth + 1) for child in reversed(children.get(territory.pk, [])))
    return rows


def rule_list(*, viewer: User) -> QuerySet[AssignmentRule]:
    """Rules of visible territories in evaluation order, with named accounts (2 queries)."""
    return (
        AssignmentRule.objects.visible_to(viewer)
        .select_related("territory")
        .prefetch_related(Prefetch("named_accounts", queryset=Account.objects.only("id", "name")))
        .order_by("priority", "id")
    )


def named_accounts_get(*, viewer: User, ids: list[int]) -> tuple[list[Account], list[int]]:
    """The accounts ``viewer`` sees among ``ids``, and the ids that are missing (batched)."""
    found: list[Account] = []
    for batch in in_batches(ids):
        found.extend(Account.objects.visible_to(viewer).filter(pk__in=batch).only("id", "name"))
    missing = sorted(set(ids) - {a.pk for a in found})
    return found, missing


def rule_table(*, viewer: User) -> QuerySet[AssignmentRule]:
    """Rules of visible territories for the page: named accounts counted, not listed, since a
    rule may name thousands (1 query)."""
    return (
        AssignmentRule.objects.visible_to(viewer)
        .select_related("territory")
        .annotate(named_count=Count("named_accounts"))
        .order_by("priority", "id")
    )


def rule_get(*, viewer: User, pk: int) -> AssignmentRule:
    try:
        return rule_list(viewer=viewer).get(pk=pk)
    except AssignmentRule.DoesNotExist:
        raise Http404("No such rule.") from None


def assignment_list(*, viewer: User, current_only: bool = True) -> QuerySet:
    qs = AccountTerritoryAssignment.objects.visible_to(viewer).select_related(
        "account", "territory", "rule", "assigned_by"
    )
    if current_only:
        qs = qs.current()
    return qs.order_by("account__name", "account_id", "effective_from", "id")


def active_rule_specs(*, day: dt.date | None = None) -> list[RuleSpec]:
    """Every active rule of a territory in effect on ``day``, ready to match (2 queries)."""
    day = day or timezone.localdate()
    rules = (
        AssignmentRule.objects.active()
        .filter(territory__in=Territory.objects.active_on(day).values("pk"))
        .prefetch_related(Prefetch("named_accounts", queryset=Account.objects.only("id")))
    )
    return [
        RuleSpec.build(
            rule_id=rule.pk,
            name=rule.name,
            territory_id=rule.territory_id,
            priority=rule.priority,
            countries=rule.countries,
            regions=rule.regions,
            states=rule.states,
            industries=rule.industries,
            employee_count_min=rule.employee_count_min,
            employee_count_max=rule.employee_count_max,
            annual_revenue_min=rule.annual_revenue_min,
            annual_revenue_max=rule.annual_revenue_max,
            named_account_ids=frozenset(a.pk for a in rule.named_accounts.all()),
        )
        for rule in rules
    ]


def account_rows(accounts: QuerySet[Account]) -> list[dict]:
    return list(accounts.values(*ACCOUNT_FACT_FIELDS).order_by("id"))


def facts_of(row: dict) -> AccountFacts:
    return AccountFacts(
        account_id=row["id"],
        country=row["country"],
        region=row["region"],
        state=row["state"],
        industry=row["industry"],
        employee_count=row["employee_count"],
        annual_revenue=row["annual_revenue"],
    )


@dataclass(frozen=True)
class CoverageProblem:
    account_id: int
    account_name: str
    rules: tuple[RuleSpec, ...] = ()

    @property
    def is_conflict(self) -> bool:
        return len({rule.territory_id for rule in self.rules}) > 1


@dataclass
class CoverageReport:
    checked_count: int
    gaps: list[CoverageProblem] = field(default_factory=list)
    overlaps: list[CoverageProblem] = field(default_factory=list)
    territory_names: dict[int, str] = field(default_factory=dict)


def coverage_report(*, viewer: User, day: dt.date | None = None) -> CoverageReport:
    """Accounts the rules leave out (gaps) or claim twice at one priority (overlaps).

    Every active rule takes part, so an overlap with a rule of a territory the viewer cannot
    see is still found; the accounts checked are those the viewer sees (5 queries).
    """
    specs = active_rule_specs(day=day)
    rows = account_rows(Account.objects.visible_to(viewer))
    report = CoverageReport(checked_count=len(rows))
    names = {row["id"]: row["name"] for row in rows}
    for match in match_accounts([facts_of(row) for row in rows], specs):
        if match.is_gap:
            report.gaps.append(CoverageProblem(match.account_id, names[match.account_id]))
        elif match.is_overlap:
            report.overlaps.append(
                CoverageProblem(match.account_id, names[match.account_id], match.winners)
            )
    territory_ids = {rule.territory_id for p in report.overlaps for rule in p.rules}
    if territory_ids:
        report.territory_names = dict(
            Territory.objects.filter(pk__in=territory_ids).values_list("pk", "name")
        )
    return report


def plannable_territories(*, actor: User, day: dt.date | None = None) -> list[Territory]:
    """Active lowest-level territories ``actor`` may move accounts between (1-2 queries)."""
    if not can_plan_assignments(actor):
        return []
    day = day or timezone.localdate()
    territories = Territory.objects.active_on(day).leaves().select_related("owner")
    if not is_planner(actor):
        territories = territories.filter(owner__in=visible_users(actor).values("pk"))
    return list(territories.order_by("name", "id"))


def current_assignments(*, account_ids: list[int] | None = None) -> dict[int, dict]:
    """The open assignment of each account: territory_id, source, effective_from (1 query)."""
    qs = AccountTerritoryAssignment.objects.current()
    if account_ids is not None:
        qs = qs.filter(account_id__in=account_ids)
    return {
        row["account_id"]: row
        for row in qs.values("account_id", "territory_id", "source", "effective_from")
    }


def match_all_accounts(*, day: dt.date | None = None) -> tuple[list[dict], list[Match]]:
    """Every account with the rules' verdict on it (3 queries)."""
    specs = active_rule_specs(day=day)
    rows = account_rows(Account.objects.all())
    return rows, match_accounts([facts_of(row) for row in rows], specs)
