"""Writes for territories, their owners and overlays, and assignment rules."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from salesmgmt.errors import PermissionDeniedError
from salesmgmt.models import Role, User

from .. import locks
from ..models import AssignmentRule, Territory, TerritoryOverlay, TerritoryOwnership
from ..permissions import can_manage_territories
from .planning import planning_mark_changed

SELLING_ROLES = (Role.REP, Role.MANAGER, Role.EXECUTIVE)
TERRITORY_FIELDS = {"name", "level", "parent", "description", "effective_from", "effective_to"}
RULE_FIELDS = {
    "name", "territory", "priority", "is_active", "countries", "regions", "states", "industries",
    "employee_count_min", "employee_count_max", "annual_revenue_min", "annual_revenue_max",
}  # fmt: skip


def ensure_can_manage(actor: User) -> None:
    if not can_manage_territories(actor):
        raise PermissionDeniedError("Only executives and admins change territories and rules.")


def ensure_seller(owner: User, field: str = "owner") -> None:
    if not owner.is_active or owner.role not in SELLING_ROLES or owner.is_org_unit:
        raise ValidationError({field: f"{owner} is not an active seller."})


@transaction.atomic
def territory_create(
    *,
    actor: User,
    name: str,
    owner: User,
    level: str = Territory.Level.TERRITORY,
    parent: Territory | None = None,
    effective_from: dt.date | None = None,
    description: str = "",
) -> Territory:
    """Create a territory and the first line of its ownership history."""
    ensure_can_manage(actor)
    ensure_seller(owner)
    territory = Territory(
        name=name.strip(),
        owner=owner,
        level=level,
        parent=parent,
        effective_from=effective_from or timezone.localdate(),
        description=description,
    )
    territory.full_clean()
    territory.save()
    TerritoryOwnership.objects.create(
        territory=territory,
        owner=owner,
        effective_from=territory.effective_from,
        changed_by=actor,
    )
    planning_mark_changed()
    return territory


@transaction.atomic
def territory_update(*, actor: User, territory: Territory, **changes: object) -> Territory:
    """Edit a territory's name, place in the hierarchy, dates or description."""
    ensure_can_manage(actor)
    unknown = set(changes) - TERRITORY_FIELDS
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in unknown})
    territory = locks.lock_territory(territory.pk)
    for name, value in changes.items():
        setattr(territory, name, value)
    parent = territory.parent
    while parent is not None:
        if parent.pk == territory.pk:
            raise ValidationError({"parent": "That would put the territory inside itself."})
        parent = parent.parent
    territory.full_clean()
    territory.save()
    planning_mark_changed()
    return territory


@transaction.atomic
def territory_change_owner(
    *,
    actor: User,
    territory: Territory,
    owner: User,
    effective_on: dt.date | None = None,
    move_accounts: bool = True,
    move_open_opportunities: bool = False,
) -> Territory:
    """Hand a territory to a new owner from ``effective_on``; history keeps the old one.

    With ``move_accounts`` its current accounts change owner too (and, optionally, the open
    deals the previous account owner had on them).
    """
    from .assignments import account_owners_move

    ensure_can_manage(actor)
    ensure_seller(owner)
    effective_on = effective_on or timezone.localdate()
    territory = locks.lock_territory(territory.pk)
    if territory.owner_id == owner.pk:
        return territory
    current = TerritoryOwnership.objects.filter(territory=territory, effective_to__isnull=True)
    if current.filter(effective_from__gt=effective_on).exists():
        raise ValidationError({"effective_on": "The current owner started after that day."})
    current.update(effective_to=effective_on, updated_at=timezone.now())
    TerritoryOwnership.objects.create(
        territory=territory, owner=owner, effective_from=effective_on, changed_by=actor
    )
    territory.owner = owner
    territory.save(update_fields=["owner", "updated_at"])
    if move_accounts:
        account_ids = list(
            territory.account_assignments.current().values_list("account_id", flat=True)
        )
        account_owners_move(
            actor=actor,
            owner_by_account={pk: owner for pk in account_ids},
            move_open_opportunities=move_open_opportunities,
        )
    planning_mark_changed()
    return territory


@transaction.atomic
def overlay_add(
    *,
    actor: User,
    territory: Territory,
    user: User,
    overlay_role: str = "",
    effective_from: dt.date | None = None,
) -> TerritoryOverlay:
    """Add an overlay seller (e.g. a sales engineer) to a territory."""
    ensure_can_manage(actor)
    ensure_seller(user, "user")
    existing = TerritoryOverlay.objects.filter(
        territory=territory, user=user, effective_to__isnull=True
    ).first()
    if existing is not None:
        return existing
    overlay = TerritoryOverlay(
        territory=territory,
        user=user,
        overlay_role=overlay_role,
        effective_from=effective_from or timezone.localdate(),
    )
    overlay.full_clean()
    overlay.save()
    return overlay


@transaction.atomic
def overlay_end(
    *, actor: User, overlay: TerritoryOverlay, effective_on: dt.date | None = None
) -> TerritoryOverlay:
    ensure_can_manage(actor)
    overlay.effective_to = effective_on or timezone.localdate()
    overlay.full_clean()
    overlay.save(update_fields=["effective_to", "updated_at"])
    return overlay


def _clean_lists(changes: dict[str, object]) -> None:
    for name in ("countries", "regions", "states", "industries"):
        value = changes.get(name)
        if isinstance(value, str):
            changes[name] = [part.strip() for part in value.split(",") if part.strip()]


def _set_named_accounts(rule: AssignmentRule, accounts: list[Account] | None) -> None:
    if accounts is not None:
        rule.named_accounts.set(accounts)


@transaction.atomic
def rule_create(
    *,
    actor: User,
    name: str,
    territory: Territory,
    priority: int = 100,
    named_accounts: list[Account] | None = None,
    **criteria: object,
) -> AssignmentRule:
    """Add an assignment rule; lists may be given as comma-separated text."""
    ensure_can_manage(actor)
    unknown = set(criteria) - RULE_FIELDS
    if unknown:
        raise ValidationError({key: "Unknown rule criterion." for key in unknown})
    _clean_lists(criteria)
    for key in ("annual_revenue_min", "annual_revenue_max"):
        if criteria.get(key) is not None:
            criteria[key] = Decimal(str(criteria[key]))
    rule = AssignmentRule(name=name.strip(), territory=territory, priority=priority, **criteria)
    rule.full_clean()
    rule.save()
    _set_named_accounts(rule, named_accounts)
    planning_mark_changed()
    return rule


@transaction.atomic
def rule_update(
    *,
    actor: User,
    rule: AssignmentRule,
    named_accounts: list[Account] | None = None,
    **changes: object,
) -> AssignmentRule:
    ensure_can_manage(actor)
    unknown = set(changes) - RULE_FIELDS
    if unknown:
        raise ValidationError({key: "This field cannot be changed here." for key in unknown})
    _clean_lists(changes)
    rule = locks.lock_rule(rule.pk)
    for name, value in changes.items():
        setattr(rule, name, value)
    rule.full_clean()
    rule.save()
    _set_named_accounts(rule, named_accounts)
    planning_mark_changed()
    return rule


@transaction.atomic
def territory_edit(
    *,
    actor: User,
    territory: Territory,
    owner: User | None = None,
    add_overlay: User | None = None,
    overlay_role: str = "",
    end_overlays: Iterable[TerritoryOverlay] = (),
    **changes: object,
) -> Territory:
    """One edit from the territory page, all or nothing: fields, a new owner (kept in the
    ownership history, the accounts following), an overlay added, overlays ended."""
    ensure_can_manage(actor)
    if changes:
        territory = territory_update(actor=actor, territory=territory, **changes)
    if owner is not None and owner.pk != territory.owner_id:
        territory = territory_change_owner(actor=actor, territory=territory, owner=owner)
    if add_overlay is not None:
        overlay_add(actor=actor, territory=territory, user=add_overlay, overlay_role=overlay_role)
    for overlay in end_overlays:
        if overlay.territory_id != territory.pk:
            raise ValidationError({"end_overlays": "That overlay is not on this territory."})
        overlay_end(actor=actor, overlay=overlay)
    return territory
