"""Writes for accounts and deals: each validates, runs in a transaction and keeps history."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Model
from django.utils import timezone

from salesmgmt import refresh, webhooks
from salesmgmt.audit import audit_record
from salesmgmt.errors import ConflictError, PermissionDeniedError
from salesmgmt.models import Role, User, WebhookEvent
from salesmgmt.money import RateTable, quantize_money, reporting_currency
from salesmgmt.visibility import can_see_user, manages, may_reassign

from . import locks
from .domains import normalize_domain
from .models import (
    Account,
    Activity,
    Contact,
    ForecastCategory,
    Milestone,
    MilestoneCompletion,
    Opportunity,
    OpportunityChange,
    OpportunityLineItem,
    OpportunityTeamMember,
    Product,
    SalesProcess,
    Stage,
)
from .selectors import (
    closing_milestones_missing,
    completed_milestone_ids,
    default_process,
    process_stage_specs,
)
from .selectors.history import TEAM_AUDIT_ACTIONS, WON_OVERRIDE_ACTION
from .selectors.products import line_items_total
from .stages import derive_stage_id

TRACKED_FIELDS = [choice.value for choice in OpportunityChange.Field]
EDITABLE_FIELDS = {
    "name",
    "amount",
    "currency",
    "expected_close_on",
    "forecast_category",
    "next_step",
    "lead_source",
    "owner",
    "account",
    "external_id",
}
SELLING_ROLES = {Role.REP, Role.MANAGER, Role.EXECUTIVE}
ACCOUNT_FIELDS = {
    "name",
    "industry",
    "employee_count",
    "annual_revenue",
    "country",
    "region",
    "state",
    "owner",
    "external_id",
    "domain",
}
CONTACT_FIELDS = {
    "account",
    "first_name",
    "last_name",
    "title",
    "email",
    "phone",
    "buying_role",
    "external_id",
}

# --- helpers private to this module --------------------------------------------------------


def _as_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Model):
        return str(value.pk)
    if isinstance(value, Decimal):
        return str(quantize_money(value))
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _tracked_state(deal: Opportunity) -> dict[str, str]:
    return {
        name: _as_text(getattr(deal, f"{name}_id" if name in ("stage", "owner") else name))
        for name in TRACKED_FIELDS
    }


def _record_changes(
    deal: Opportunity, before: dict[str, str], actor: User | None, at: dt.datetime
) -> list[OpportunityChange]:
    after = _tracked_state(deal)
    rows = [
        OpportunityChange(
            opportunity=deal,
            field=name,
            old_value=before.get(name, ""),
            new_value=after[name],
            changed_by=actor,
            changed_at=at,
        )
        for name in TRACKED_FIELDS
        # Creation (no "before") logs every field that has a value, so replays know each one
        # from the start; a field with no row yet is empty (``opportunities_as_of``).
        if (after[name] if not before else before[name] != after[name])
    ]
    OpportunityChange.objects.bulk_create(rows)
    return rows


def _ensure_can_work_on(actor: User, deal: Opportunity) -> None:
    """Owner, team members, the owner's managers, executives, admins and integrators."""
    if actor.sees_everyone or actor.pk == deal.owner_id:
        return
    if manages(actor, deal.owner):
        return
    if OpportunityTeamMember.objects.filter(opportunity=deal, user=actor).exists():
        return
    raise PermissionDeniedError("You do not work on this opportunity.")


def _ensure_can_choose_category(actor: User, deal: Opportunity, category: str) -> None:
    """The rep's category: chosen by the owner, their managers, executives, admins and
    integrators (not the deal team); only for an open deal ("" clears it anywhere)."""
    if not (actor.sees_everyone or actor.pk == deal.owner_id or manages(actor, deal.owner)):
        raise PermissionDeniedError(
            "Only the deal's owner, their managers and executives choose its forecast category."
        )
    if category and not deal.is_open:
        raise ValidationError(
            {
                "forecast_category": (
                    f"Only an open deal gets a forecast category; this one is "
                    f"{deal.get_status_display().lower()}."
                )
            }
        )


def ensure_assignable_owner(actor: User, owner: User, *, current_owner: User | None) -> None:
    """The one check before a deal or account gets ``owner`` (``current_owner``: who holds it
    now; None for a new record): only those ``may_reassign`` allows take a record from its
    owner, and the new owner is an active seller the actor can see (so a rep creates records
    only for themselves)."""
    if current_owner is not None and not may_reassign(actor, current_owner):
        raise PermissionDeniedError(
            "Only the owner's managers, executives and admins can give this record to someone "
            "else.",
            extra={"field": "owner"},
        )
    if not owner.is_active or owner.role not in SELLING_ROLES or owner.is_org_unit:
        # An office node (User.is_org_unit) has reports and figures, never deals of its own.
        raise ValidationError({"owner": f"{owner} is not an active seller."})
    if not can_see_user(actor, owner):
        raise ValidationError({"owner": "You can only assign records to people in your team."})


def _account_visible(actor: User, account: Account) -> bool:
    return Account.objects.visible_to(actor).filter(pk=account.pk).exists()


def _ensure_known_currency(currency: str) -> None:
    if not RateTable.load().knows(currency):
        raise ValidationError({"currency": f"No exchange rate for {currency}; add one first."})


def _clean_amount(amount: object) -> Decimal:
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        raise ValidationError({"amount": "Enter a number."}) from None
    if not value.is_finite() or value < 0:
        raise ValidationError({"amount": "The amount must be zero or more."})
    return quantize_money(value)


WithExternalId = Account | Contact | Opportunity | Activity


def _external_id_taken(record: WithExternalId) -> ValidationError | None:
    """The field error when another record of the same type already has ``record``'s id."""
    if not record.external_id:
        return None
    others = type(record).objects.filter(external_id=record.external_id).exclude(pk=record.pk)
    if not others.exists():
        return None
    kind = type(record)._meta.verbose_name
    return ValidationError({"external_id": f"Another {kind} already has this external id."})


def _ensure_unique_external_id(record: WithExternalId) -> None:
    """An external id names one account (contact, deal, activity) in the whole company, not
    per team: it is the key integrations and CSV re-imports find records by (the database
    enforces it too, see ``_save_with_external_id``)."""
    error = _external_id_taken(record)
    if error is not None:
        raise error


def _save_with_external_id(record: WithExternalId) -> None:
    """Save ``record``; a concurrent write that took the same external id between our check
    and this insert/update (the unique constraint's IntegrityError) becomes the same field
    error. The savepoint keeps the caller's transaction usable after the failed statement."""
    try:
        with transaction.atomic():
            record.save()
    except IntegrityError:
        error = _external_id_taken(record)
        if error is None:
            raise
        raise error from None


def _ensure_open(deal: Opportunity) -> None:
    if not deal.is_open:
        raise ValidationError(f"{deal} is already {deal.get_status_display().lower()}.")


def _bump(deal: Opportunity, expected_version: int | None) -> None:
    """Optimistic lock: refuse a write based on a version someone else has replaced."""
    if expected_version is not None and expected_version != deal.version:
        raise ConflictError(
            f"{deal} was changed by someone else (version {deal.version}, you had "
            f"{expected_version}). Reload and try again."
        )
    deal.version += 1


# --- accounts and contacts ----------------------------------------------------------------


@transaction.atomic
def account_create(*, actor: User, name: str, owner: User | None = None, **fields) -> Account:
    owner = owner or actor
    ensure_assignable_owner(actor, owner, current_owner=None)
    if "domain" in fields:
        fields["domain"] = normalize_domain(fields["domain"])
    account = Account(name=name, owner=owner, **fields)
    _ensure_unique_external_id(account)
    account.full_clean()
    _save_with_external_id(account)
    return account


@transaction.atomic
def contact_create(
    *, actor: User, account: Account, first_name: str, last_name: str, **fields
) -> Contact:
    if not _account_visible(actor, account):
        raise ValidationError({"account": "No such account."})
    contact = Contact(account=account, first_name=first_name, last_name=last_name, **fields)
    _ensure_unique_external_id(contact)
    contact.full_clean()
    _save_with_external_id(contact)
    return contact


def _ensure_unchanged(record: Account | Contact, expected_updated_at: dt.datetime | None) -> None:
    """Optimistic lock for records without a version: ``updated_at`` is their ETag.

    Checked on the row locked for the write, so of two edits based on the same read exactly
    one is applied and the other is refused (the API answers 412).
    """
    if expected_updated_at is not None and record.updated_at != expected_updated_at:
        raise ConflictError(
            f"{record} was changed by someone else since you read it. Reload and try again."
        )


@transaction.atomic
def account_update(
    *,
    actor: User,
    account: Account,
    expected_updated_at: dt.datetime | None = None,
    **changes: Any,  # field values of several types, checked here and by full_clean
) -> Account:
    """Edit an account the actor can see; only the owner's managers (and executives, admins,
    integrators) give it to someone else, an active seller they can see.

    The changes are applied to the row as locked now, not to the caller's copy, so fields
    someone else changed meanwhile are kept.
    """
    unknown = set(changes) - ACCOUNT_FIELDS
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in unknown})
    if not Account.objects.visible_to(actor).filter(pk=account.pk).exists():
        raise PermissionDeniedError("You cannot edit this account.")
    account = locks.lock_account(account.pk)
    _ensure_unchanged(account, expected_updated_at)
    if "owner" in changes and changes["owner"].pk != account.owner_id:
        ensure_assignable_owner(actor, changes["owner"], current_owner=account.owner)
    if "domain" in changes:
        changes["domain"] = normalize_domain(changes["domain"])
    for name, value in changes.items():
        setattr(account, name, value)
    _ensure_unique_external_id(account)
    account.full_clean()
    _save_with_external_id(account)
    return account


@transaction.atomic
def contact_update(
    *,
    actor: User,
    contact: Contact,
    expected_updated_at: dt.datetime | None = None,
    **changes: Any,  # field values of several types, checked here and by full_clean
) -> Contact:
    """Edit a contact of an account the actor can see; it can only move to such an account.

    Like ``account_update``: checked and applied on the locked row.
    """
    unknown = set(changes) - CONTACT_FIELDS
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in unknown})
    visible_accounts = Account.objects.visible_to(actor)
    if not visible_accounts.filter(pk=contact.account_id).exists():
        raise PermissionDeniedError("You cannot edit this contact.")
    contact = locks.lock_contact(contact.pk)
    _ensure_unchanged(contact, expected_updated_at)
    moves = "account" in changes and changes["account"].pk != contact.account_id
    if moves and not visible_accounts.filter(pk=changes["account"].pk).exists():
        raise ValidationError({"account": "No such account."})
    for name, value in changes.items():
        setattr(contact, name, value)
    _ensure_unique_external_id(contact)
    contact.full_clean()
    _save_with_external_id(contact)
    return contact


# --- opportunities ------------------------------------------------------------------------


@transaction.atomic
def opportunity_create(
    *,
    actor: User,
    account: Account,
    name: str,
    amount: Decimal,
    expected_close_on: dt.date,
    currency: str = "",
    owner: User | None = None,
    process: SalesProcess | None = None,
    forecast_category: str = "",
    next_step: str = "",
    lead_source: str = "",
    external_id: str = "",
    at: dt.datetime | None = None,
) -> Opportunity:
    """Open a deal; its first stage follows from the process, its history starts now.

    ``external_id`` is the deal's id in the integrator's system (what CSV re-imports and
    ``?external_id=`` find it by)."""
    at = at or timezone.now()
    owner = owner or actor
    ensure_assignable_owner(actor, owner, current_owner=None)
    if not _account_visible(actor, account):
        raise ValidationError({"account": "No such account."})
    currency = (currency or reporting_currency()).upper()
    _ensure_known_currency(currency)
    process = process or default_process()
    if process is None:
        raise ValidationError({"process": "Define a sales process first."})
    specs = process_stage_specs(process_id=process.pk)
    deal = Opportunity(
        account=account,
        owner=owner,
        process=process,
        stage_id=derive_stage_id(specs, set()),
        stage_entered_at=at,
        name=name,
        amount=_clean_amount(amount),
        currency=currency,
        expected_close_on=expected_close_on,
        forecast_category=forecast_category,
        next_step=next_step,
        lead_source=lead_source.strip(),
        external_id=external_id,
        created_at=at,
    )
    _ensure_unique_external_id(deal)
    deal.full_clean()
    _save_with_external_id(deal)
    refresh.changed(deals=[deal.pk])
    _record_changes(deal, {}, actor, at)
    webhooks.emit(WebhookEvent.OPPORTUNITY_CREATED, subject=deal)
    return deal


@transaction.atomic
def opportunity_update(
    *,
    actor: User,
    opportunity: Opportunity,
    expected_version: int | None = None,
    at: dt.datetime | None = None,
    **changes: Any,  # field values of several types, checked here and by full_clean
) -> Opportunity:
    """Edit a deal's fields; every tracked change is logged with who and when.

    ``expected_version`` makes the edit conditional on nobody having changed the deal since
    the actor read it (the loser of a race gets a ConflictError, never a lost update).
    ``forecast_category`` is the one way to choose the rep's category ("" clears the choice;
    see ``_ensure_can_choose_category``); the save asks for the forecast refresh like any edit.
    """
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in unknown})
    deal = locks.lock_opportunity(opportunity.pk)
    _ensure_can_work_on(actor, deal)
    _bump(deal, expected_version)
    before = _tracked_state(deal)
    if "owner" in changes and changes["owner"].pk != deal.owner_id:
        ensure_assignable_owner(actor, changes["owner"], current_owner=deal.owner)
    if changes.get("forecast_category", deal.forecast_category) != deal.forecast_category:
        _ensure_can_choose_category(actor, deal, str(changes["forecast_category"]))
    moves_account = "account" in changes and changes["account"].pk != deal.account_id
    if moves_account and not _account_visible(actor, changes["account"]):
        raise ValidationError({"account": "No such account."})
    if "amount" in changes:
        changes["amount"] = _clean_amount(changes["amount"])
        _ensure_amount_follows_line_items(deal, changes["amount"])
    if "currency" in changes:
        changes["currency"] = str(changes["currency"]).upper()
        _ensure_known_currency(changes["currency"])
    previous_owner_id = deal.owner_id
    # Where the deal counted before the edit: its old owner and close dates.
    previous_days = [deal.expected_close_on, deal.closed_on]
    for name, value in changes.items():
        setattr(deal, name, value)
    _ensure_unique_external_id(deal)
    deal.full_clean()
    _save_with_external_id(deal)
    if deal.owner_id != previous_owner_id:
        # The copy of the owner on the deal's activities (Activity.deal_owner, what the
        # activities list's visibility reads), in this transaction, the deal locked above.
        Activity.objects.filter(opportunity_id=deal.pk).update(deal_owner_id=deal.owner_id)
    _record_changes(deal, before, actor, at or timezone.now())
    # Every figure the deal is in, where it counts now and where it counted before (its old
    # dates, and its old owner if it changed hands): rollups, KPIs, attainment, compliance
    # (salesmgmt.refresh). An owner who keeps the deal is its input already; named as a person
    # as well, every edit marked attainment in every computed period (a person's change): a
    # hundred periods recomputed for an amount edit, most of issue 21's load's worker CPU.
    previous_owner = [previous_owner_id] if deal.owner_id != previous_owner_id else []
    refresh.changed(deals=[deal.pk], people=previous_owner, days=previous_days)
    return deal


def _ensure_closing_evidence(actor: User, deal: Opportunity, override_reason: str) -> list[str]:
    """Closing won needs the closing stage's exit milestones (``closing_milestones``), or a
    manager override with a reason. Returns the names of the milestones overridden."""
    missing = [str(m) for m in closing_milestones_missing(opportunity=deal)]
    if not missing:
        return []
    names = ", ".join(f"“{name}”" for name in missing)
    if not manages(actor, deal.owner):
        if override_reason.strip():
            message = "Only the owner's managers, executives and admins can override them."
        else:
            message = "Complete them, or ask the owner's manager to close it won with a reason."
        raise ValidationError(
            {"override_reason": f"Closing won needs the closing milestones {names}. {message}"}
        )
    if not override_reason.strip():
        raise ValidationError(
            {
                "override_reason": f"The closing milestones {names} are not complete: to close "
                "it won anyway, give the reason for your override."
            }
        )
    return missing


@transaction.atomic
def opportunity_close_won(
    *,
    actor: User,
    opportunity: Opportunity,
    closed_on: dt.date | None = None,
    expected_version: int | None = None,
    override_reason: str = "",
) -> Opportunity:
    """Close a deal won: its closing milestones must count as complete, or the owner's
    manager overrides them with a reason (kept in the audit log, shown on the deal).

    Imports of deals already won elsewhere (accounts.services_bulk) do not come here: they
    are history, not a close made now."""
    deal = locks.lock_opportunity(opportunity.pk)
    _ensure_can_work_on(actor, deal)
    _ensure_open(deal)
    _bump(deal, expected_version)
    overridden = _ensure_closing_evidence(actor, deal, override_reason)
    before = _tracked_state(deal)
    before_close_on = deal.expected_close_on
    deal.status = Opportunity.Status.WON
    deal.closed_on = closed_on or timezone.localdate()
    deal.save()
    refresh.changed(deals=[deal.pk], days=[before_close_on])
    _record_changes(deal, before, actor, timezone.now())
    if overridden:
        details = {"reason": override_reason.strip(), "missing_milestones": overridden}
        audit_record(action=WON_OVERRIDE_ACTION, actor=actor, target=deal, details=details)
    webhooks.emit(WebhookEvent.OPPORTUNITY_WON, subject=deal)
    return deal


@transaction.atomic
def opportunity_close_lost(
    *,
    actor: User,
    opportunity: Opportunity,
    lost_reason: str,
    closed_on: dt.date | None = None,
    expected_version: int | None = None,
) -> Opportunity:
    if not lost_reason.strip():
        raise ValidationError({"lost_reason": "Say why the deal was lost."})
    deal = locks.lock_opportunity(opportunity.pk)
    _ensure_can_work_on(actor, deal)
    _ensure_open(deal)
    _bump(deal, expected_version)
    before = _tracked_state(deal)
    before_close_on = deal.expected_close_on
    deal.status = Opportunity.Status.LOST
    deal.lost_reason = lost_reason.strip()
    deal.closed_on = closed_on or timezone.localdate()
    deal.save()
    refresh.changed(deals=[deal.pk], days=[before_close_on])
    _record_changes(deal, before, actor, timezone.now())
    webhooks.emit(WebhookEvent.OPPORTUNITY_LOST, subject=deal)
    return deal


# --- the deal team -------------------------------------------------------------------------
#
# The people working a deal with its owner (a sales engineer overlay, a partner rep). Who may
# change the team is who may reassign the deal (``salesmgmt.visibility.may_reassign``): the
# owner's managers, executives, admins and integrators; a team decides who sees the deal and
# who is paid alongside its owner, which is the owner's manager's call. Credit is not kept
# here: a member's credit share is the deal's credit split (``compensation.CreditSplit``, set
# with ``compensation.services.credit_splits_set``), the one place the ledger reads.


def may_change_team(actor: User, deal: Opportunity) -> bool:
    """Whether ``actor`` may add, change or remove the deal's team members."""
    return may_reassign(actor, deal.owner)


def _ensure_may_change_team(actor: User, deal: Opportunity) -> None:
    if not may_change_team(actor, deal):
        raise PermissionDeniedError(
            "Only the owner's managers, executives and admins can change a deal's team."
        )


def _ensure_team_candidate(actor: User, deal: Opportunity, user: User) -> None:
    if user.pk == deal.owner_id:
        raise ValidationError({"user": f"{user} owns this deal already."})
    if not user.is_active or user.role not in SELLING_ROLES or user.is_org_unit:
        raise ValidationError({"user": f"{user} is not an active seller."})
    if not can_see_user(actor, user):
        raise ValidationError({"user": "You can only add people in your team."})
    if OpportunityTeamMember.objects.filter(opportunity=deal, user=user).exists():
        raise ValidationError({"user": f"{user} is on this deal's team already."})


def _team_changed(
    actor: User, deal: Opportunity, member: OpportunityTeamMember, what: str, **details: str
) -> None:
    """The deal's history (the audit log, shown on the deal page) and the refresh path: the
    team decides who sees the deal, so the figures built on it are marked stale."""
    audit_record(
        action=TEAM_AUDIT_ACTIONS[what],
        actor=actor,
        target=deal,
        details={"user_id": member.user_id, "user": str(member.user), **details},
    )
    refresh.changed(deals=[deal.pk], people=[member.user_id])


@transaction.atomic
def opportunity_team_member_add(
    *, actor: User, opportunity: Opportunity, user: User, team_role: str = ""
) -> OpportunityTeamMember:
    """Put ``user`` on the deal's team with a role (e.g. "Sales engineer")."""
    deal = locks.lock_opportunity(opportunity.pk)
    _ensure_may_change_team(actor, deal)
    _ensure_team_candidate(actor, deal, user)
    member = OpportunityTeamMember(opportunity=deal, user=user, team_role=team_role.strip())
    member.full_clean()
    member.save()
    _team_changed(actor, deal, member, "added", team_role=member.team_role)
    return member


@transaction.atomic
def opportunity_team_member_update(
    *, actor: User, member: OpportunityTeamMember, team_role: str
) -> OpportunityTeamMember:
    """Change a team member's role on the deal."""
    deal = locks.lock_opportunity(member.opportunity_id)
    _ensure_may_change_team(actor, deal)
    member = OpportunityTeamMember.objects.select_related("user").get(pk=member.pk)
    old_role, member.team_role = member.team_role, team_role.strip()
    member.full_clean()
    if member.team_role != old_role:
        member.save()
        _team_changed(
            actor, deal, member, "changed", team_role=member.team_role, old_team_role=old_role
        )
    return member


@transaction.atomic
def opportunity_team_member_remove(*, actor: User, member: OpportunityTeamMember) -> None:
    """Take a member off the deal's team (they stop seeing it unless they see it otherwise)."""
    deal = locks.lock_opportunity(member.opportunity_id)
    _ensure_may_change_team(actor, deal)
    member = OpportunityTeamMember.objects.select_related("user").get(pk=member.pk)
    _team_changed(actor, deal, member, "removed", team_role=member.team_role)
    member.delete()


# --- the product catalogue and deals' line items --------------------------------------------
#
# A deal's amount and its line items: a deal without line items keeps the amount people (or
# imports) give it. Once it has line items, its amount follows them: the sum of the line
# totals, each quantity * unit price * (1 - discount / 100) rounded to cents. Every line item
# write sets the new total through ``opportunity_update`` (the normal amount path: version
# bump, change history, refresh), and ``opportunity_update`` refuses any other amount while
# line items exist. Removing the last line item leaves the amount as it was, editable again.

PRODUCT_FIELDS = {"name", "family", "list_price", "currency", "is_active", "external_id"}
LINE_ITEM_FIELDS = {"product", "quantity", "unit_price", "discount_percent"}


def may_manage_products(user: User) -> bool:
    """Administrators (sales operations) on pages and in the API, and integrations in the API,
    keep the catalogue; everyone reads it."""
    return user.is_superuser or user.role in (Role.ADMIN, Role.INTEGRATOR)


def may_work_on(actor: User, deal: Opportunity) -> bool:
    """Whether ``actor`` may change the deal (its line items, its fields): the owner, the deal
    team, the owner's managers, executives, admins and integrators."""
    try:
        _ensure_can_work_on(actor, deal)
    except PermissionDeniedError:
        return False
    return True


def _ensure_may_manage_products(actor: User) -> None:
    if not may_manage_products(actor):
        raise PermissionDeniedError("Only an administrator can change the product catalogue.")


def _save_product(product: Product) -> Product:
    product.name = product.name.strip()
    product.family = product.family.strip()
    product.currency = (product.currency or reporting_currency()).upper()
    _ensure_known_currency(product.currency)
    product.list_price = _clean_money(product.list_price, field="list_price")
    taken = (
        Product.objects.filter(external_id=product.external_id).exclude(pk=product.pk).exists()
        if product.external_id
        else False
    )
    if taken:
        raise ValidationError({"external_id": "Another product already has this external id."})
    product.full_clean()
    product.save()
    return product


@transaction.atomic
def product_create(
    *,
    actor: User,
    name: str,
    family: str = "",
    list_price: Decimal = Decimal(0),
    currency: str = "",
    external_id: str = "",
    is_active: bool = True,
) -> Product:
    """Add a product to the catalogue (its name is unique, case as typed)."""
    _ensure_may_manage_products(actor)
    product = Product(
        name=name,
        family=family,
        list_price=list_price,
        currency=currency,
        external_id=external_id,
        is_active=is_active,
    )
    _save_product(product)
    audit_record(action="product.created", actor=actor, target=product, details={})
    return product


@transaction.atomic
def product_update(*, actor: User, product: Product, **changes: object) -> Product:
    """Rename, re-price or re-family a product; deals keep the prices they agreed."""
    _ensure_may_manage_products(actor)
    unknown = set(changes) - PRODUCT_FIELDS
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in unknown})
    product = locks.lock_product(product.pk)
    for name, value in changes.items():
        setattr(product, name, value)
    _save_product(product)
    audit_record(action="product.updated", actor=actor, target=product, details=_audit(changes))
    return product


@transaction.atomic
def product_archive(*, actor: User, product: Product) -> Product:
    """Take a product out of the choices for new line items; deals keep theirs (and the
    figures by product still count them)."""
    return product_update(actor=actor, product=product, is_active=False)


def _clean_money(value: object, *, field: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError({field: "Enter a number."}) from None
    if not amount.is_finite() or amount < 0:
        raise ValidationError({field: "Enter zero or more."})
    return quantize_money(amount)


def _unit_price(product: Product, deal: Opportunity, unit_price: object) -> Decimal:
    """The price agreed, or (none given) the product's list price when it is in the deal's
    currency."""
    if unit_price is not None:
        return _clean_money(unit_price, field="unit_price")
    if product.currency != deal.currency:
        raise ValidationError(
            {
                "unit_price": f"Enter the unit price in {deal.currency}: the list price of "
                f"{product} is in {product.currency}."
            }
        )
    return product.list_price


def _clean_line_item(item: OpportunityLineItem) -> None:
    errors: dict[str, str] = {}
    quantity = Decimal(item.quantity)
    if not quantity.is_finite() or quantity <= 0:
        errors["quantity"] = "The quantity must be more than zero."
    discount = Decimal(item.discount_percent)
    if not discount.is_finite() or not 0 <= discount <= 100:
        errors["discount_percent"] = "The discount is a percentage from 0 to 100."
    if errors:
        raise ValidationError(errors)
    item.full_clean()


def _amount_follows_line_items(
    actor: User, deal: Opportunity, expected_version: int | None
) -> Opportunity:
    """Set the deal's amount to its line items' total through the normal amount path (a new
    version, a change-history row when it moved, and ``refresh.changed`` for its figures)."""
    count, total = line_items_total(opportunity_id=deal.pk)
    amount = total if count else deal.amount
    return opportunity_update(
        actor=actor, opportunity=deal, expected_version=expected_version, amount=amount
    )


def _ensure_amount_follows_line_items(deal: Opportunity, amount: Decimal) -> None:
    """With line items, the amount is their total: any other amount is refused."""
    count, total = line_items_total(opportunity_id=deal.pk)
    if count and amount != total:
        raise ValidationError(
            {"amount": f"This deal's amount follows its line items ({total}): change them instead."}
        )


@transaction.atomic
def line_item_add(
    *,
    actor: User,
    opportunity: Opportunity,
    product: Product,
    quantity: Decimal = Decimal(1),
    unit_price: Decimal | None = None,
    discount_percent: Decimal = Decimal(0),
    expected_version: int | None = None,
) -> OpportunityLineItem:
    """Put a product on a deal (default price: its list price, when in the deal's currency);
    the deal's amount becomes its line items' total."""
    deal = locks.lock_opportunity(opportunity.pk)
    _ensure_can_work_on(actor, deal)
    product = Product.objects.get(pk=product.pk)  # as stored now: archived meanwhile?
    if not product.is_active:
        raise ValidationError({"product": f"{product} is archived: choose an active product."})
    item = OpportunityLineItem(
        opportunity=deal,
        product=product,
        quantity=quantity,
        unit_price=_unit_price(product, deal, unit_price),
        discount_percent=discount_percent,
    )
    _clean_line_item(item)
    item.save()
    _amount_follows_line_items(actor, deal, expected_version)
    return item


@transaction.atomic
def line_item_update(
    *,
    actor: User,
    line_item: OpportunityLineItem,
    expected_version: int | None = None,
    **changes: Any,  # product, quantity, unit_price, discount_percent
) -> OpportunityLineItem:
    """Change a line item's product, quantity, price or discount; the amount follows."""
    unknown = set(changes) - LINE_ITEM_FIELDS
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in unknown})
    deal = locks.lock_opportunity(line_item.opportunity_id)
    _ensure_can_work_on(actor, deal)
    item = OpportunityLineItem.objects.select_related("product").get(pk=line_item.pk)
    new_product = changes.get("product")
    if new_product is not None:
        new_product = changes["product"] = Product.objects.get(pk=new_product.pk)
    if new_product is not None and new_product.pk != item.product_id and not new_product.is_active:
        raise ValidationError({"product": f"{new_product} is archived: choose an active product."})
    if "unit_price" in changes:  # None: back to the product's list price
        changes["unit_price"] = _unit_price(
            changes.get("product") or item.product, deal, changes["unit_price"]
        )
    for name, value in changes.items():
        setattr(item, name, value)
    _clean_line_item(item)
    item.save()
    _amount_follows_line_items(actor, deal, expected_version)
    return item


@transaction.atomic
def line_item_remove(
    *, actor: User, line_item: OpportunityLineItem, expected_version: int | None = None
) -> None:
    """Take a line item off its deal; the amount follows the rest (none left: it stays)."""
    deal = locks.lock_opportunity(line_item.opportunity_id)
    _ensure_can_work_on(actor, deal)
    OpportunityLineItem.objects.filter(pk=line_item.pk).delete()
    _amount_follows_line_items(actor, deal, expected_version)


# --- milestones and stage derivation -------------------------------------------------------


def _refresh_stage_locked(deal: Opportunity, actor: User | None, at: dt.datetime) -> Opportunity:
    specs = process_stage_specs(process_id=deal.process_id)
    done = completed_milestone_ids(opportunity_ids=[deal.pk]).get(deal.pk, set())
    stage_id = derive_stage_id(specs, done)
    if stage_id != deal.stage_id:
        before = _tracked_state(deal)
        previous_stage_id = deal.stage_id
        deal.stage_id = stage_id
        deal.stage_entered_at = at
        deal.version += 1
        deal.save(update_fields=["stage", "stage_entered_at", "version", "updated_at"])
        refresh.changed(deals=[deal.pk])
        _record_changes(deal, before, actor, at)
        webhooks.emit(
            WebhookEvent.OPPORTUNITY_STAGE_CHANGED,
            subject=deal,
            data={"previous_stage_id": previous_stage_id},
        )
    return deal


def _latest_record(deal: Opportunity, milestone: Milestone) -> MilestoneCompletion | None:
    return (
        MilestoneCompletion.objects.filter(opportunity=deal, milestone=milestone)
        .order_by("-completed_at", "-id")
        .first()
    )


@transaction.atomic
def milestone_complete(
    *,
    actor: User,
    opportunity: Opportunity,
    milestone: Milestone,
    evidence: str = "",
    note: str = "",
    at: dt.datetime | None = None,
) -> MilestoneCompletion:
    """Record that an exit criterion was met; evidence is mandatory where the milestone says."""
    at = at or timezone.now()
    deal = locks.lock_opportunity(opportunity.pk)
    _ensure_can_work_on(actor, deal)
    _ensure_open(deal)
    if milestone.stage.process_id != deal.process_id:
        raise ValidationError({"milestone": "This milestone belongs to another sales process."})
    evidence = evidence.strip()
    if milestone.evidence_required and not evidence:
        raise ValidationError({"evidence": f"“{milestone}” needs evidence (a note or a link)."})
    latest = _latest_record(deal, milestone)
    if (
        latest
        and latest.action == MilestoneCompletion.Action.COMPLETE
        and latest.verification_state != MilestoneCompletion.Verification.REJECTED
    ):
        raise ValidationError({"milestone": f"“{milestone}” is already completed."})
    record = MilestoneCompletion.objects.create(
        opportunity=deal,
        milestone=milestone,
        action=MilestoneCompletion.Action.COMPLETE,
        completed_by=actor,
        completed_at=at,
        evidence=evidence,
        note=note,
        verification_state=(
            MilestoneCompletion.Verification.PENDING
            if deal.process.requires_verification
            else MilestoneCompletion.Verification.NOT_REQUIRED
        ),
    )
    # Milestones done (and the stage they derive) move the deal's probability.
    refresh.changed(deals=[deal.pk])
    _refresh_stage_locked(deal, actor, at)
    webhooks.emit(
        WebhookEvent.MILESTONE_COMPLETED,
        subject=record,
        data={"opportunity_id": deal.pk, "verification_state": record.verification_state},
    )
    return record


@transaction.atomic
def milestone_undo(
    *, actor: User, opportunity: Opportunity, milestone: Milestone, note: str = ""
) -> MilestoneCompletion:
    """Withdraw a completion with a new audit record (the original stays)."""
    at = timezone.now()
    deal = locks.lock_opportunity(opportunity.pk)
    _ensure_can_work_on(actor, deal)
    _ensure_open(deal)
    latest = _latest_record(deal, milestone)
    if latest is None or latest.action != MilestoneCompletion.Action.COMPLETE:
        raise ValidationError({"milestone": f"“{milestone}” is not completed."})
    record = MilestoneCompletion.objects.create(
        opportunity=deal,
        milestone=milestone,
        action=MilestoneCompletion.Action.UNDO,
        completed_by=actor,
        completed_at=at,
        note=note,
    )
    # Milestones done (and the stage they derive) move the deal's probability.
    refresh.changed(deals=[deal.pk])
    _refresh_stage_locked(deal, actor, at)
    return record


def _review_completion(
    *, actor: User, completion: MilestoneCompletion, state: str, reason: str = ""
) -> MilestoneCompletion:
    deal = locks.lock_opportunity(completion.opportunity_id)
    if not manages(actor, deal.owner):
        raise PermissionDeniedError("Only the owner's manager can verify milestones.")
    if actor.pk == completion.completed_by_id:
        raise PermissionDeniedError("Nobody verifies their own evidence.")
    completion.refresh_from_db()
    if completion.verification_state != MilestoneCompletion.Verification.PENDING:
        raise ValidationError("This completion is not waiting for verification.")
    latest = _latest_record(deal, completion.milestone)  # at least this completion
    if latest is None or latest.pk != completion.pk:
        raise ValidationError("This completion has been superseded.")
    at = timezone.now()
    completion.verification_state = state
    completion.verified_by = actor
    completion.verified_at = at
    completion.rejection_reason = reason
    completion.save()
    # A rejected completion no longer counts as done: the probability moves.
    refresh.changed(deals=[deal.pk])
    _refresh_stage_locked(deal, actor, at)
    verified = state == MilestoneCompletion.Verification.VERIFIED
    webhooks.emit(
        WebhookEvent.MILESTONE_VERIFIED if verified else WebhookEvent.MILESTONE_REJECTED,
        subject=completion,
        data={"opportunity_id": deal.pk, "reason": reason},
    )
    return completion


@transaction.atomic
def milestone_verify(*, actor: User, completion: MilestoneCompletion) -> MilestoneCompletion:
    return _review_completion(
        actor=actor, completion=completion, state=MilestoneCompletion.Verification.VERIFIED
    )


@transaction.atomic
def milestone_reject(
    *, actor: User, completion: MilestoneCompletion, reason: str
) -> MilestoneCompletion:
    if not reason.strip():
        raise ValidationError({"reason": "Say what is wrong with the evidence."})
    return _review_completion(
        actor=actor,
        completion=completion,
        state=MilestoneCompletion.Verification.REJECTED,
        reason=reason.strip(),
    )


@transaction.atomic
def opportunity_stage_refresh(
    *, opportunity: Opportunity, actor: User | None = None
) -> Opportunity:
    """Re-derive one deal's stage (after milestone definitions changed). Idempotent."""
    deal = locks.lock_opportunity(opportunity.pk)
    return _refresh_stage_locked(deal, actor, timezone.now())


def open_opportunity_stages_refresh(*, process_id: int | None = None) -> int:
    """Re-derive the stage of every open deal (of one process); returns how many moved."""
    deals = Opportunity.objects.open()
    if process_id is not None:
        deals = deals.filter(process_id=process_id)
    moved = 0
    for pk, stage_id in deals.values_list("pk", "stage_id").iterator(chunk_size=2000):
        with transaction.atomic():
            deal = locks.lock_opportunity(pk)
            moved += _refresh_stage_locked(deal, None, timezone.now()).stage_id != stage_id
    return moved


# --- activities ---------------------------------------------------------------------------


ACTIVITY_FIELDS = {
    "kind",
    "owner",
    "account",
    "opportunity",
    "milestone",
    "occurred_at",
    "duration_minutes",
    "outcome",
    "notes",
    "next_step",
    "external_id",
}


def check_activity_links(
    *,
    actor: User,
    owner: User,
    account: Account | None,
    opportunity: Opportunity | None,
    milestone: Milestone | None,
) -> Account:
    """Refuse an owner, account, deal or milestone the actor may not log against; returns
    the activity's account (its deal's when it has one)."""
    if owner.pk != actor.pk and not can_see_user(actor, owner):
        raise ValidationError({"owner": "You can only log activities for people in your team."})
    if opportunity is not None:
        if not Opportunity.objects.visible_to(actor).filter(pk=opportunity.pk).exists():
            raise ValidationError({"opportunity": "No such opportunity."})
        if account is not None and account.pk != opportunity.account_id:
            raise ValidationError({"account": "The opportunity belongs to another account."})
        account = opportunity.account
    if account is None:
        raise ValidationError({"account": "Choose an account or an opportunity."})
    if not _account_visible(actor, account):
        raise ValidationError({"account": "No such account."})
    if milestone is not None and (
        opportunity is None or milestone.stage.process_id != opportunity.process_id
    ):
        raise ValidationError({"milestone": "The milestone must belong to the opportunity."})
    return account


def _take_deal_owner(activity: Activity) -> None:
    """Copy the deal's owner onto ``activity`` (``Activity.deal_owner``, for visibility).

    The deal stays locked until commit: ``opportunity_update`` locks it too before giving
    its activities a new owner, so neither write can slip between the other's read and write.
    """
    if activity.opportunity_id is None:
        activity.deal_owner_id = None
    else:
        activity.deal_owner_id = locks.lock_opportunity(activity.opportunity_id).owner_id


@transaction.atomic
def activity_log(
    *,
    actor: User,
    kind: str,
    account: Account | None = None,
    opportunity: Opportunity | None = None,
    milestone: Milestone | None = None,
    occurred_at: dt.datetime | None = None,
    duration_minutes: int = 0,
    outcome: str = "",
    notes: str = "",
    next_step: str = "",
    owner: User | None = None,
    external_id: str = "",
    source: str = Activity.Source.MANUAL,
    direction: str = "",
    participants: list[Contact] | None = None,
) -> Activity:
    """Log a call, meeting, email, demo or task against an account (and optionally a deal).

    The actor logs for themselves unless ``owner`` names someone in their part of the
    organisation (a manager or an integration recording a rep's call). ``external_id`` is its
    id in the integrator's system (what CSV re-imports find it by), unique like a deal's.
    """
    owner = owner or actor
    account = check_activity_links(
        actor=actor, owner=owner, account=account, opportunity=opportunity, milestone=milestone
    )
    if occurred_at is not None and timezone.is_naive(occurred_at):
        raise ValidationError({"occurred_at": "Give a time zone with the time."})
    activity = Activity(
        kind=kind,
        owner=owner,
        account=account,
        opportunity=opportunity,
        milestone=milestone,
        occurred_at=occurred_at or timezone.now(),
        duration_minutes=duration_minutes,
        outcome=outcome,
        notes=notes,
        next_step=next_step,
        external_id=external_id,
        source=source,
        direction=direction,
    )
    _take_deal_owner(activity)
    _ensure_unique_external_id(activity)
    activity.full_clean()
    _save_with_external_id(activity)
    if participants:
        activity.participants.set(participants)
    refresh.changed(activities=[activity.pk])
    if opportunity is not None and next_step:
        # The deal's next step is the latest one agreed with the buyer. The same step again
        # (the call form offers the current one) changes nothing: no write, no new version, so
        # an integration holding the deal's ETag is not sent back for a change that is none.
        Opportunity.objects.filter(pk=opportunity.pk).exclude(next_step=next_step).update(
            next_step=next_step, version=F("version") + 1, updated_at=timezone.now()
        )
    return activity


@transaction.atomic
def activity_update(*, actor: User, activity: Activity, **changes: object) -> Activity:
    """Edit an activity; moved to another deal, it takes that deal's owner (``deal_owner``).

    The links (owner, account, deal, milestone) are checked like ``activity_log``'s; a deal
    given without an account brings its own account.
    """
    unknown = set(changes) - ACTIVITY_FIELDS
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in unknown})
    if not Activity.objects.visible_to(actor).filter(pk=activity.pk).exists():
        raise ValidationError("No such activity.")
    # Where it counted before the edit (its day's KPIs, its deal owner's compliance).
    refresh.changed(activities=[activity.pk])
    for name, value in changes.items():
        setattr(activity, name, value)
    if changes.keys() & {"owner", "account", "opportunity", "milestone"}:
        activity.account = check_activity_links(
            actor=actor,
            owner=activity.owner,
            account=activity.account if "account" in changes or not activity.opportunity else None,
            opportunity=activity.opportunity,
            milestone=activity.milestone,
        )
    occurred_at = changes.get("occurred_at")
    if isinstance(occurred_at, dt.datetime) and timezone.is_naive(occurred_at):
        raise ValidationError({"occurred_at": "Give a time zone with the time."})
    # Whatever changed: the copy loaded with ``activity`` may predate a reassignment of its deal.
    _take_deal_owner(activity)
    _ensure_unique_external_id(activity)
    activity.full_clean()
    _save_with_external_id(activity)
    refresh.changed(activities=[activity.pk])  # and where it counts now
    return activity


@transaction.atomic
def activity_delete(*, actor: User, activity: Activity) -> None:
    """Remove an activity (a captured item its owner deleted); its figures are recounted."""
    if not Activity.objects.visible_to(actor).filter(pk=activity.pk).exists():
        raise ValidationError("No such activity.")
    # Marks the day's KPIs and the deal owner's compliance while the row still says where.
    refresh.changed(activities=[activity.pk])
    activity.delete()


# --- sales processes: stages, exit milestones, default categories (first-run setup) -----------


def may_configure_processes(user: User) -> bool:
    """Administrators (pages and API) and integrations (API: they load the organisation, as
    for people imports) define sales processes; everyone else reads them."""
    return user.is_superuser or user.role in (Role.ADMIN, Role.INTEGRATOR)


def _ensure_may_configure(actor: User) -> None:
    if not may_configure_processes(actor):
        raise PermissionDeniedError("Only an administrator can change sales processes.")


def _stages_rederived_on_commit(process_id: int) -> None:
    """Exit criteria changed: re-derive the process's open deals' stages after commit, off the
    request (as the admin does); the nightly re-derivation catches a lost message."""
    from . import tasks  # tasks call services: imported where used

    transaction.on_commit(lambda: tasks.refresh_process_stages.delay(process_id))


def _process_fields(fields: dict[str, object]) -> dict[str, object]:
    unknown = set(fields) - PROCESS_FIELDS
    if unknown:
        raise ValidationError({name: "This field cannot be set here." for name in unknown})
    return fields


PROCESS_FIELDS = {"name", "description", "requires_verification", "is_default"}


def _save_process(process: SalesProcess) -> SalesProcess:
    process.full_clean()
    process.save()
    if process.is_default:  # one default process: the one new deals and imports fall back to
        SalesProcess.objects.exclude(pk=process.pk).filter(is_default=True).update(is_default=False)
    return process


@transaction.atomic
def sales_process_create(*, actor: User, name: str, **fields: object) -> SalesProcess:
    """A new, empty process (stages and milestones are added one by one)."""
    _ensure_may_configure(actor)
    first = not SalesProcess.objects.exists()
    process = SalesProcess(name=name.strip(), **_process_fields(fields))
    process.is_default = process.is_default or first
    _save_process(process)
    audit_record(action="sales_process.created", actor=actor, target=process, details={})
    return process


@transaction.atomic
def sales_process_update(*, actor: User, process: SalesProcess, **changes: object) -> SalesProcess:
    """Rename or describe a process, make it the default, or require verified evidence (which
    decides what counts as complete, so the open deals' stages are re-derived)."""
    _ensure_may_configure(actor)
    process = SalesProcess.objects.select_for_update().get(pk=process.pk)
    old_verification = process.requires_verification
    for name, value in _process_fields(changes).items():
        setattr(process, name, value.strip() if isinstance(value, str) else value)
    _save_process(process)
    if process.requires_verification != old_verification:
        _stages_rederived_on_commit(process.pk)
    audit_record(
        action="sales_process.updated", actor=actor, target=process, details=_audit(changes)
    )
    return process


def _audit(changes: dict[str, object]) -> dict[str, str]:
    return {name: _as_text(value) for name, value in changes.items()}


def _ensure_category(category: str) -> None:
    if category not in ForecastCategory.values:
        raise ValidationError(
            {"default_forecast_category": f"{category!r} is not a forecast category."}
        )


@transaction.atomic
def stage_create(
    *,
    actor: User,
    process: SalesProcess,
    name: str,
    default_forecast_category: str = "pipeline",
) -> Stage:
    """Add a stage at the end of the process (move it with ``stage_reorder``)."""
    _ensure_may_configure(actor)
    _ensure_category(default_forecast_category)
    last = Stage.objects.filter(process=process).order_by("-order").first()
    stage = Stage(
        process=process,
        name=name.strip(),
        order=(last.order + 1) if last else 1,
        default_forecast_category=default_forecast_category,
    )
    stage.full_clean()
    stage.save()
    _stages_rederived_on_commit(process.pk)  # a stage without milestones is passed at once
    audit_record(action="stage.created", actor=actor, target=stage, details={"process": process.pk})
    return stage


@transaction.atomic
def stage_update(
    *,
    actor: User,
    stage: Stage,
    name: str | None = None,
    default_forecast_category: str | None = None,
) -> Stage:
    """Rename a stage or change its default category; the deals that follow the default (open,
    no category chosen by the rep) count in the new one, so their figures are marked stale."""
    _ensure_may_configure(actor)
    stage = Stage.objects.select_for_update().get(pk=stage.pk)
    changes: dict[str, object] = {}
    if name is not None and name.strip() != stage.name:
        changes["name"] = stage.name = name.strip()
    if default_forecast_category is not None:
        _ensure_category(default_forecast_category)
        if default_forecast_category != stage.default_forecast_category:
            changes["default_forecast_category"] = default_forecast_category
            stage.default_forecast_category = default_forecast_category
    stage.full_clean()
    stage.save()
    if "default_forecast_category" in changes:
        following = Opportunity.objects.open().filter(stage=stage, forecast_category="")
        refresh.changed(deals=following.values_list("pk", flat=True))
    audit_record(action="stage.updated", actor=actor, target=stage, details=_audit(changes))
    return stage


def _renumber(model: type[Stage] | type[Milestone], rows: list, ids: list[int]) -> None:
    """Give ``rows`` the orders 1..n in the order of ``ids`` (every row, each once)."""
    if sorted(ids) != sorted(row.pk for row in rows) or len(set(ids)) != len(ids):
        raise ValidationError({"order": "List every one of them exactly once."})
    # Two steps: stage orders are unique per process, so no order may be taken mid-way.
    model.objects.filter(pk__in=ids).update(order=F("order") + 10000)
    for position, pk in enumerate(ids, start=1):
        model.objects.filter(pk=pk).update(order=position)


@transaction.atomic
def stage_reorder(*, actor: User, process: SalesProcess, stage_ids: list[int]) -> list[Stage]:
    """Put the process's stages in the order of ``stage_ids`` (the deals' stages follow)."""
    _ensure_may_configure(actor)
    SalesProcess.objects.select_for_update().get(pk=process.pk)
    _renumber(Stage, list(Stage.objects.filter(process=process)), stage_ids)
    _stages_rederived_on_commit(process.pk)
    audit_record(
        action="stage.reordered", actor=actor, target=process, details={"stages": stage_ids}
    )
    return list(Stage.objects.filter(process=process).order_by("order"))


def _milestones_completed(milestone_ids: list[int]) -> int:
    return (
        MilestoneCompletion.objects.filter(milestone_id__in=milestone_ids)
        .values("opportunity_id")
        .distinct()
        .count()
    )


@transaction.atomic
def stage_delete(*, actor: User, stage: Stage) -> None:
    """Remove a stage no deal stands in and none of whose milestones was ever completed (the
    completions are an audit trail that is never deleted)."""
    _ensure_may_configure(actor)
    stage = Stage.objects.select_for_update().get(pk=stage.pk)
    deals = Opportunity.objects.filter(stage=stage).count()
    if deals:
        raise ValidationError(
            f"{deals} deal(s) stand in the stage “{stage.name}”; it cannot be deleted. "
            "Rename it instead, or move those deals on first."
        )
    completed = _milestones_completed(list(stage.milestones.values_list("pk", flat=True)))
    if completed:
        raise ValidationError(
            f"Milestones of the stage “{stage.name}” were completed on {completed} deal(s); "
            "their history keeps it. Rename it instead."
        )
    process_id = stage.process_id
    audit_record(action="stage.deleted", actor=actor, target=stage, details={"name": stage.name})
    stage.delete()
    _stages_rederived_on_commit(process_id)


MILESTONE_FIELDS = {"name", "description", "evidence_required"}


@transaction.atomic
def milestone_create(
    *, actor: User, stage: Stage, name: str, description: str = "", evidence_required: bool = False
) -> Milestone:
    """Add an exit milestone at the end of the stage's list."""
    _ensure_may_configure(actor)
    last = Milestone.objects.filter(stage=stage).order_by("-order").first()
    milestone = Milestone(
        stage=stage,
        name=name.strip(),
        description=description,
        evidence_required=evidence_required,
        order=(last.order + 1) if last else 1,
    )
    milestone.full_clean()
    milestone.save()
    _stages_rederived_on_commit(stage.process_id)  # a new exit criterion holds deals back
    audit_record(
        action="milestone.created", actor=actor, target=milestone, details={"stage": stage.pk}
    )
    return milestone


@transaction.atomic
def milestone_update(*, actor: User, milestone: Milestone, **changes: object) -> Milestone:
    """Rename or describe an exit milestone, or require evidence for it."""
    _ensure_may_configure(actor)
    unknown = set(changes) - MILESTONE_FIELDS
    if unknown:
        raise ValidationError({name: "This field cannot be set here." for name in unknown})
    milestone = Milestone.objects.select_for_update().get(pk=milestone.pk)
    for name, value in changes.items():
        setattr(milestone, name, value.strip() if isinstance(value, str) else value)
    milestone.full_clean()
    milestone.save()
    audit_record(action="milestone.updated", actor=actor, target=milestone, details=_audit(changes))
    return milestone


@transaction.atomic
def milestone_reorder(*, actor: User, stage: Stage, milestone_ids: list[int]) -> list[Milestone]:
    """Put the stage's exit milestones in the order of ``milestone_ids``."""
    _ensure_may_configure(actor)
    Stage.objects.select_for_update().get(pk=stage.pk)
    _renumber(Milestone, list(Milestone.objects.filter(stage=stage)), milestone_ids)
    audit_record(
        action="milestone.reordered", actor=actor, target=stage, details={"order": milestone_ids}
    )
    return list(Milestone.objects.filter(stage=stage).order_by("order", "id"))


@transaction.atomic
def milestone_delete(*, actor: User, milestone: Milestone) -> None:
    """Remove an exit milestone no deal ever completed (completions are never deleted)."""
    _ensure_may_configure(actor)
    milestone = Milestone.objects.select_for_update().get(pk=milestone.pk)
    completed = _milestones_completed([milestone.pk])
    if completed:
        raise ValidationError(
            f"The milestone “{milestone.name}” was completed on {completed} deal(s); their "
            "history keeps it, so it cannot be deleted. Rename it instead."
        )
    process_id = milestone.stage.process_id
    audit_record(
        action="milestone.deleted", actor=actor, target=milestone, details={"name": milestone.name}
    )
    milestone.delete()
    _stages_rederived_on_commit(process_id)
