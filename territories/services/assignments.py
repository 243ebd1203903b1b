"""Writes that move accounts between territories: rules, rebalancing, manual moves.

Each apply recomputes its preview inside the transaction, so what is applied is exactly what
a fresh preview shows; with ``expected_fingerprint`` (from the preview the actor saw) any
difference is refused instead of applied. Account moves are effective-dated: the old
assignment closes on the move day and the new one opens then, so bookings won before the move
stay credited to the old territory.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Account, Opportunity
from salesmgmt.errors import ConflictError, PermissionDeniedError
from salesmgmt.models import User

from .. import locks, selectors
from ..batching import in_batches
from ..models import AccountTerritoryAssignment, AssignmentRun, Territory
from ..permissions import can_plan_assignments
from .planning import planning_mark_changed
from .territories import ensure_seller

# Keyed by the run kind as stored on a plan (a str; the Kind choices are str too).
SOURCE_BY_KIND: dict[str, str] = {
    AssignmentRun.Kind.RULES: AccountTerritoryAssignment.Source.RULE,
    AssignmentRun.Kind.REBALANCE: AccountTerritoryAssignment.Source.REBALANCE,
    AssignmentRun.Kind.MANUAL: AccountTerritoryAssignment.Source.MANUAL,
}


def account_owners_move(
    *,
    actor: User,
    owner_by_account: dict[int, User],
    move_open_opportunities: bool = False,
) -> int:
    """Give each account its new owner; optionally the previous owner's open deals too.

    Returns how many deals moved. Runs inside the caller's transaction.
    """
    previous: dict[int, int] = {}
    for batch in in_batches(sorted(owner_by_account)):
        previous.update(Account.objects.filter(pk__in=batch).values_list("pk", "owner_id"))
    accounts_by_owner: dict[User, list[int]] = defaultdict(list)
    for account_id, owner in owner_by_account.items():
        accounts_by_owner[owner].append(account_id)
    for owner, account_ids in accounts_by_owner.items():
        # One UPDATE per new owner (and batch) inside this transaction rather than
        # accounts.services.account_update per account: the checks it makes (the owner is an
        # active seller the actor sees, the account is in the actor's reach) were made once
        # for the whole batch by the preview and _apply_plan.
        for batch in in_batches(account_ids):
            Account.objects.filter(pk__in=batch).update(owner=owner, updated_at=timezone.now())
    if not move_open_opportunities:
        return 0
    moved = 0
    deals = [
        deal
        for batch in in_batches(sorted(owner_by_account))
        for deal in Opportunity.objects.open().filter(account_id__in=batch).order_by("pk")
    ]
    for deal in sorted(deals, key=lambda d: d.pk):
        new_owner = owner_by_account[deal.account_id]
        # Only the deals the old account owner was working move; overlays' deals stay.
        if deal.owner_id != previous.get(deal.account_id) or deal.owner_id == new_owner.pk:
            continue
        # Through the deal service, so the owner change lands in the deal's history.
        account_services.opportunity_update(actor=actor, opportunity=deal, owner=new_owner)
        moved += 1
    return moved


def _apply_plan(
    *,
    actor: User,
    plan: selectors.AssignmentPlan,
    expected_fingerprint: str | None,
    move_open_opportunities: bool,
    note: str = "",
) -> AssignmentRun:
    if expected_fingerprint and expected_fingerprint != plan.fingerprint:
        raise ConflictError(
            "The accounts or rules changed since the preview; look at the new preview and "
            "apply again."
        )
    if not plan.moves:
        raise ValidationError("Nothing to move: every account is already where it belongs.")
    open_rows = _lock_unmoved(plan)
    owners = _new_owners(plan)
    run = AssignmentRun.objects.create(
        kind=plan.kind,
        applied_by=actor,
        effective_on=plan.effective_on,
        move_open_opportunities=move_open_opportunities,
        fingerprint=plan.fingerprint,
        note=note[:255],
    )
    _assignments_replace(plan, run=run, actor=actor, open_rows=open_rows)
    run.moved_count = len(plan.moves)
    run.opportunities_moved_count = account_owners_move(
        actor=actor,
        owner_by_account={m.account_id: owners[m.to_territory_id] for m in plan.moves},
        move_open_opportunities=move_open_opportunities,
    )
    run.save(update_fields=["moved_count", "opportunities_moved_count", "updated_at"])
    return run


def _lock_unmoved(plan: selectors.AssignmentPlan) -> dict[int, AccountTerritoryAssignment]:
    """Lock the plan's accounts and their open assignments; refuse if any moved meanwhile."""
    account_ids = [move.account_id for move in plan.moves]
    locks.lock_accounts(account_ids)
    open_rows = {row.account_id: row for row in locks.lock_open_assignments(account_ids)}
    for move in plan.moves:
        row = open_rows.get(move.account_id)
        if (row.territory_id if row else None) != move.from_territory_id:
            raise ConflictError(f"{move.account_name} was moved meanwhile; preview again.")
        if row is not None and row.effective_from > plan.effective_on:
            raise ValidationError(
                {
                    "effective_on": f"{move.account_name} only joined its territory on "
                    f"{row.effective_from}; moves cannot predate that."
                }
            )
    return open_rows


def _new_owners(plan: selectors.AssignmentPlan) -> dict[int, User]:
    """The owner of each territory accounts move to; each must be an active seller."""
    owners = {
        t.pk: t.owner
        for t in Territory.objects.filter(
            pk__in={m.to_territory_id for m in plan.moves}
        ).select_related("owner")
    }
    for owner in owners.values():
        ensure_seller(owner, "territory")
    return owners


def _assignments_replace(
    plan: selectors.AssignmentPlan,
    *,
    run: AssignmentRun,
    actor: User,
    open_rows: dict[int, AccountTerritoryAssignment],
) -> None:
    """Close the moved accounts' open assignments on the move day and open the new ones."""
    now = timezone.now()
    for batch in in_batches(sorted(r.pk for r in open_rows.values())):
        AccountTerritoryAssignment.objects.filter(pk__in=batch).update(
            effective_to=plan.effective_on, updated_at=now
        )
    # bulk_create splits its INSERTs by itself to stay within the database's parameter limit.
    AccountTerritoryAssignment.objects.bulk_create(
        [
            AccountTerritoryAssignment(
                account_id=move.account_id,
                territory_id=move.to_territory_id,
                effective_from=plan.effective_on,
                source=SOURCE_BY_KIND[plan.kind],
                rule_id=move.rule_id,
                run=run,
                assigned_by=actor,
            )
            for move in plan.moves
        ]
    )


def _ensure_can_plan(actor: User) -> None:
    if not can_plan_assignments(actor):
        raise PermissionDeniedError("Only managers, executives and admins move accounts.")


@transaction.atomic
def assignment_apply(
    *,
    actor: User,
    include_pinned: bool = False,
    move_open_opportunities: bool = False,
    effective_on: dt.date | None = None,
    expected_fingerprint: str | None = None,
) -> AssignmentRun:
    """Apply the rules: exactly the moves ``selectors.assignment_preview`` shows."""
    _ensure_can_plan(actor)
    planning_mark_changed()
    plan = selectors.assignment_preview(
        actor=actor, include_pinned=include_pinned, effective_on=effective_on
    )
    return _apply_plan(
        actor=actor,
        plan=plan,
        expected_fingerprint=expected_fingerprint,
        move_open_opportunities=move_open_opportunities,
    )


@transaction.atomic
def rebalance_apply(
    *,
    actor: User,
    band: Decimal | None = None,
    move_open_opportunities: bool = False,
    effective_on: dt.date | None = None,
    expected_fingerprint: str | None = None,
) -> AssignmentRun:
    """Apply the rebalancing proposal ``selectors.rebalance_preview`` shows."""
    _ensure_can_plan(actor)
    planning_mark_changed()
    plan = selectors.rebalance_preview(actor=actor, band=band, effective_on=effective_on)
    return _apply_plan(
        actor=actor,
        plan=plan,
        expected_fingerprint=expected_fingerprint,
        move_open_opportunities=move_open_opportunities,
        note=f"band ±{(plan.band or 0) * 100:g}%, CV {plan.cv_before:.3f} → {plan.cv_after:.3f}",
    )


@transaction.atomic
def account_move(
    *,
    actor: User,
    account: Account,
    territory: Territory,
    effective_on: dt.date | None = None,
    move_open_opportunities: bool = False,
) -> AssignmentRun:
    """Move one account by hand; the rules leave it there until forced (it is pinned)."""
    _ensure_can_plan(actor)
    plannable = {t.pk for t in selectors.plannable_territories(actor=actor, day=effective_on)}
    here = selectors.current_assignments(account_ids=[account.pk]).get(account.pk)
    if not Account.objects.visible_to(actor).filter(pk=account.pk).exists():
        raise ValidationError({"account": "No such account."})
    if territory.pk not in plannable or (here and here["territory_id"] not in plannable):
        raise PermissionDeniedError("You can only move accounts between your team's territories.")
    plan = selectors.account_plan(
        actor=actor, account=account, territory=territory, effective_on=effective_on
    )
    planning_mark_changed()
    return _apply_plan(
        actor=actor,
        plan=plan,
        expected_fingerprint=None,
        move_open_opportunities=move_open_opportunities,
    )
