"""Previews of account moves. Applying (territories.services) recomputes the same preview
inside its transaction and refuses to go on if it differs from what the actor saw."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal

import pandas as pd
from django.utils import timezone

from accounts.models import Account
from salesmgmt.models import User
from salesmgmt.visibility import visible_users

from .. import analytics
from ..models import AccountTerritoryAssignment, AssignmentRule, Territory
from ..permissions import is_planner
from .balance import balance_band, current_potential
from .territories import current_assignments, match_all_accounts, plannable_territories


@dataclass(frozen=True)
class Move:
    account_id: int
    account_name: str
    from_territory_id: int | None
    to_territory_id: int
    to_owner_id: int
    potential: Decimal = Decimal(0)
    rule_id: int | None = None
    rule_name: str = ""
    from_territory_name: str = ""
    to_territory_name: str = ""
    to_owner_name: str = ""


@dataclass(frozen=True)
class HeldAccount:
    """An account the rules would move but the preview keeps where it is, and why."""

    account_id: int
    account_name: str
    reason: str


@dataclass
class AssignmentPlan:
    kind: str
    effective_on: dt.date
    moves: list[Move] = field(default_factory=list)
    held: list[HeldAccount] = field(default_factory=list)
    # Rebalancing only: the coefficient of variation of potential before and after.
    cv_before: float | None = None
    cv_after: float | None = None
    band: Decimal | None = None
    is_within_band_after: bool | None = None

    @property
    def fingerprint(self) -> str:
        """Identifies the exact set of moves, so apply can check it matches the preview."""
        text = ";".join(
            f"{m.account_id}:{m.from_territory_id}>{m.to_territory_id}"
            for m in sorted(self.moves, key=lambda m: m.account_id)
        )
        return hashlib.sha256(f"{self.kind}|{text}".encode()).hexdigest()[:16]


def _names(territories: list[Territory]) -> dict[int, Territory]:
    return {t.pk: t for t in territories}


def assignment_preview(
    *, actor: User, include_pinned: bool = False, effective_on: dt.date | None = None
) -> AssignmentPlan:
    """What applying the rules would move, limited to what ``actor`` may plan (≤8 queries).

    A move is in the actor's reach when its destination is one of their plannable
    territories and the account comes from one too — or is unassigned and owned by someone
    they see. Accounts whose open assignment came from a rebalancing or a manual move stay
    put unless ``include_pinned``; conflicting overlaps stay put until the rules are fixed.
    """
    effective_on = effective_on or timezone.localdate()
    plan = AssignmentPlan(kind="rules", effective_on=effective_on)
    territories = _names(plannable_territories(actor=actor, day=effective_on))
    if not territories:
        return plan
    everyone = is_planner(actor)
    seen_owners = None if everyone else set(visible_users(actor).values_list("pk", flat=True))
    rows, matches = match_all_accounts(day=effective_on)
    current = current_assignments()
    every_name = dict(Territory.objects.values_list("pk", "name"))
    for row, match in zip(rows, matches, strict=True):
        here = current.get(row["id"])
        from_id = here["territory_id"] if here else None
        if match.is_conflict:
            if everyone or from_id in territories:
                rules = _conflicting_rules(match.winners, None if everyone else territories)
                plan.held.append(HeldAccount(row["id"], row["name"], f"rules disagree ({rules})"))
            continue
        target, rule = match.territory_id, match.rule  # both set unless a gap or a conflict
        if target is None or rule is None:
            continue
        if not _in_reach(row, from_id, target, territories=territories, seen_owners=seen_owners):
            continue
        if here and here["source"] != AccountTerritoryAssignment.Source.RULE and not include_pinned:
            plan.held.append(
                HeldAccount(
                    row["id"],
                    row["name"],
                    f"placed by {here['source']} on {here['effective_from']:%Y-%m-%d}",
                )
            )
            continue
        destination = territories[target]
        plan.moves.append(
            Move(
                account_id=row["id"],
                account_name=row["name"],
                from_territory_id=from_id,
                to_territory_id=target,
                to_owner_id=destination.owner_id,
                potential=row["annual_revenue"] or Decimal(0),
                rule_id=rule.rule_id,
                rule_name=rule.name,
                from_territory_name=every_name.get(from_id, "") if from_id else "",
                to_territory_name=destination.name,
                to_owner_name=str(destination.owner),
            )
        )
    return plan


def _in_reach(
    row: dict,
    from_id: int | None,
    target: int | None,
    *,
    territories: dict[int, Territory],
    seen_owners: set[int] | None,
) -> bool:
    """A real move into one of the actor's territories, from one (or unassigned and owned by
    someone they see: ``seen_owners``, None for everyone)."""
    if target is None or target == from_id or target not in territories:
        return False
    if from_id is None:
        return seen_owners is None or row["owner_id"] in seen_owners
    return from_id in territories


def _conflicting_rules(winners, territories: dict[int, Territory] | None) -> str:
    """The disagreeing rules' names, naming only rules of ``territories`` (None: all): a
    rule of a territory the actor may not plan is another team's, counted but not named."""
    named = [r.name for r in winners if territories is None or r.territory_id in territories]
    others = len(winners) - len(named)
    if others:
        named.append(f"{others} rule{'s' if others > 1 else ''} of other territories")
    return ", ".join(named)


def named_account_ids() -> set[int]:
    through = AssignmentRule.named_accounts.through
    return set(
        through.objects.filter(assignmentrule__is_active=True).values_list("account_id", flat=True)
    )


def rebalance_preview(
    *,
    actor: User,
    band: Decimal | None = None,
    effective_on: dt.date | None = None,
) -> AssignmentPlan:
    """The fewest moves found that bring the actor's territories within the band (≤4 queries).

    Named accounts and accounts placed by hand stay put; everything else may move. The
    territory page reads this from the precomputed proposals (selectors.planning) instead.
    """
    effective_on = effective_on or timezone.localdate()
    territories = plannable_territories(actor=actor, day=effective_on)
    accounts = current_potential(territory_ids=[t.pk for t in territories])
    return rebalance_plan(
        territories=territories,
        accounts=accounts,
        named_account_ids=named_account_ids() if len(territories) >= 2 else set(),
        band=band if band is not None else balance_band(),
        effective_on=effective_on,
    )


def rebalance_plan(
    *,
    territories: list[Territory],
    accounts: pd.DataFrame,
    named_account_ids: set[int],
    band: Decimal,
    effective_on: dt.date,
) -> AssignmentPlan:
    """The rebalancing of ``territories`` from loaded data (no queries).

    ``accounts``: current_potential's frame; rows of other territories are ignored.
    """
    plan = AssignmentPlan(kind="rebalance", effective_on=effective_on, band=band)
    by_pk = _names(territories)
    ids = list(by_pk)
    if len(accounts):
        accounts = accounts[accounts["territory_id"].isin(ids)].reset_index(drop=True)
    before = analytics.potential_by_territory(accounts, ids)
    plan.cv_before = analytics.coefficient_of_variation(before) if ids else 0.0
    if len(ids) < 2:
        plan.cv_after, plan.is_within_band_after = plan.cv_before, True
        return plan
    hand_placed = accounts.loc[
        accounts["source"] == AccountTerritoryAssignment.Source.MANUAL, "account_id"
    ]
    fixed = frozenset(named_account_ids | {int(pk) for pk in hand_placed})
    moves = analytics.propose_rebalance(accounts, ids, band=float(band), fixed_account_ids=fixed)
    after = analytics.potential_by_territory(analytics.apply_moves(accounts, moves), ids)
    plan.cv_after = analytics.coefficient_of_variation(after)
    plan.is_within_band_after = analytics.within_band(after, float(band))
    names = dict(zip(accounts["account_id"], accounts["name"], strict=True))
    potentials = dict(zip(accounts["account_id"], accounts["potential"], strict=True))
    for move in moves.itertuples(index=False):
        destination = by_pk[int(move.to_territory_id)]
        plan.moves.append(
            Move(
                account_id=int(move.account_id),
                account_name=names[move.account_id],
                from_territory_id=int(move.from_territory_id),
                to_territory_id=destination.pk,
                to_owner_id=destination.owner_id,
                potential=potentials[move.account_id],
                from_territory_name=by_pk[int(move.from_territory_id)].name,
                to_territory_name=destination.name,
                to_owner_name=str(destination.owner),
            )
        )
    return plan


def account_plan(
    *, actor: User, account: Account, territory: Territory, effective_on: dt.date | None = None
) -> AssignmentPlan:
    """A single manual move of ``account`` into ``territory`` (2 queries)."""
    effective_on = effective_on or timezone.localdate()
    plan = AssignmentPlan(kind="manual", effective_on=effective_on)
    here = current_assignments(account_ids=[account.pk]).get(account.pk)
    from_id = here["territory_id"] if here else None
    if from_id == territory.pk:
        return plan
    plan.moves.append(
        Move(
            account_id=account.pk,
            account_name=account.name,
            from_territory_id=from_id,
            to_territory_id=territory.pk,
            to_owner_id=territory.owner_id,
            potential=account.annual_revenue or Decimal(0),
            to_territory_name=territory.name,
            to_owner_name=str(territory.owner),
        )
    )
    return plan
