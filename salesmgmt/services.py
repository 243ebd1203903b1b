"""Writes for the organisation core: people, the hierarchy, periods, exchange rates."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import OperationalError, connection, transaction
from django.db.models import Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone
from django.utils.text import slugify

from . import refresh
from .audit import audit_record
from .errors import PermissionDeniedError
from .models import ApiToken, ExchangeRate, Period, Role, User
from .visibility import may_change_privileges

logger = logging.getLogger(__name__)

QUARTER_NAMES = {1: "Q1", 2: "Q2", 3: "Q3", 4: "Q4"}


# What makes someone more powerful: changed only by an administrator person in a session
# (salesmgmt.visibility.may_change_privileges), always audited with that person.
PRIVILEGE_FIELDS = frozenset({"role", "is_staff", "is_superuser", "groups", "user_permissions"})


def ensure_may_change_privileges(*, actor: User | None, in_session: bool) -> None:
    """Refuse a role or admin-rights change unless an administrator person signed in makes it."""
    if not may_change_privileges(actor, in_session=in_session):
        raise PermissionDeniedError(
            "Only an administrator signed in to salesmgmt (not an API token or an integration) "
            "can change roles and admin rights."
        )


def _privileges_follow_role(user: User) -> None:
    """Admin rights come with the admin role and go with it (as the demo data sets them)."""
    is_admin = user.role == Role.ADMIN
    user.is_staff = is_admin
    user.is_superuser = is_admin


def _drop_admin_grants(user: User) -> None:
    """Demoted: no group or permission of the admin site survives (after the row is saved)."""
    if user.role != Role.ADMIN:
        user.groups.clear()
        user.user_permissions.clear()


def username_for(*, first_name: str = "", last_name: str = "", email: str = "") -> str:
    """A username nobody has: the e-mail when given, else the name ("dana.reyes",
    "dana.reyes-2", …) for people imported by name, who sign in with it (reads only)."""
    if email:
        base = email.lower()[:150]
    else:
        parts = [slugify(part) for part in (first_name, last_name)]
        base = ".".join(part for part in parts if part)[:140] or "person"
    taken = {
        name.lower()
        for name in User.objects.filter(username__istartswith=base).values_list(
            "username", flat=True
        )
    }
    if base not in taken:
        return base
    return next(f"{base}-{n}" for n in range(2, len(taken) + 3) if f"{base}-{n}" not in taken)


@transaction.atomic
def user_create(
    *,
    username: str = "",
    email: str = "",
    password: str | None = None,
    first_name: str = "",
    last_name: str = "",
    role: str = Role.REP,
    manager: User | None = None,
    actor: User | None = None,
    in_session: bool = False,
    **fields,
) -> User:
    """Create a person in the hierarchy; ``manager`` sets their place in it.

    Without a username, one is made from the e-mail or, for people without one, the name
    (``username_for``). Anyone allowed to load people may create reps; any other role is a
    grant of rights, so only an administrator signed in may give it
    (``ensure_may_change_privileges``).
    """
    privileged = set(fields) & PRIVILEGE_FIELDS
    if privileged:
        raise ValidationError({name: "Set through the role." for name in privileged})
    if role != Role.REP:
        ensure_may_change_privileges(actor=actor, in_session=in_session)
    user = User(
        username=username or username_for(first_name=first_name, last_name=last_name, email=email),
        email=email,
        first_name=first_name,
        last_name=last_name,
        role=role,
        manager=manager,
        ancestor_path=manager.subtree_path if manager else "/",
        **fields,
    )
    _privileges_follow_role(user)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean()
    user.save()
    audit_record(action="user.created", actor=actor, target=user, details={"role": role})
    refresh.changed(people=[user.pk])  # their first stored figures (reads never ask)
    return user


@transaction.atomic
def org_unit_create(*, name: str, actor: User | None = None) -> User:
    """An office, region or team as a node of the hierarchy (``User.is_org_unit``).

    People and managers report to it as to a manager, so its subtree has rollups and KPIs
    like a manager's; it has no password, is never invited and cannot sign in. Its manager
    role gives no rights to anyone, so no administrator is needed to make one."""
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": "Give the office's name."})
    unit = User(
        username=username_for(first_name="office", last_name=name),
        first_name=name[:150],
        role=Role.MANAGER,
        is_org_unit=True,
    )
    unit.set_unusable_password()
    unit.full_clean()
    unit.save()
    audit_record(action="user.org_unit_created", actor=actor, target=unit, details={"name": name})
    refresh.changed(people=[unit.pk])
    return unit


USER_UPDATABLE_FIELDS = {
    "first_name",
    "last_name",
    "email",
    "role",
    "title",
    "sales_role",
    "region",
    "hire_date",
    "external_id",
    "is_active",
}


@transaction.atomic
def user_update(
    *, user: User, actor: User | None = None, in_session: bool = False, **changes: object
) -> User:
    """Change a person's own fields; their place in the hierarchy goes through user_set_manager.

    A new role needs an administrator signed in; it brings its admin rights or takes them all
    away (staff, superuser, groups, permissions)."""
    unknown = set(changes) - USER_UPDATABLE_FIELDS
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in unknown})
    old_role = user.role
    role_changes = "role" in changes and changes["role"] != old_role
    if role_changes:
        ensure_may_change_privileges(actor=actor, in_session=in_session)
    for name, value in changes.items():
        setattr(user, name, value)
    if role_changes:
        _privileges_follow_role(user)
    user.full_clean()
    user.save()
    details = dict(changes)
    if role_changes:
        _drop_admin_grants(user)
        details["role"] = {"from": old_role, "to": user.role}
    audit_record(action="user.updated", actor=actor, target=user, details=details)
    refresh.changed(people=[user.pk])  # role and activity decide whose figures are kept
    return user


@transaction.atomic
def user_privileges_sync(
    *, user: User, old_role: str, actor: User | None, in_session: bool
) -> User:
    """After a form saved ``user`` itself (the admin): re-check and re-derive their rights.

    Refuses (rolling the save back) unless an administrator person in a session made the
    change; then staff and superuser follow the role, and a demotion drops every grant."""
    ensure_may_change_privileges(actor=actor, in_session=in_session)
    user = User.objects.select_for_update().get(pk=user.pk)
    _privileges_follow_role(user)
    user.save(update_fields=["is_staff", "is_superuser", "updated_at"])
    _drop_admin_grants(user)
    audit_record(
        action="user.privileges_changed",
        actor=actor,
        target=user,
        details={"role": {"from": old_role, "to": user.role}},
    )
    return user


@transaction.atomic
def user_set_manager(*, user: User, manager: User | None, actor: User | None = None) -> User:
    """Move ``user`` (and everyone below them) under ``manager``; refuses cycles."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if manager is not None:
        manager.refresh_from_db(fields=["ancestor_path"])
        if manager.pk == user.pk or manager.ancestor_path.startswith(user.subtree_path):
            raise ValidationError(
                {"manager": f"{manager} reports to {user}; that would make a cycle."}
            )
    old_prefix = user.subtree_path
    # The subtree figures of the old chain and of the new one (user's ancestors, read anew).
    # The old manager from the stored path: the admin form saved the new manager already.
    old_manager = user.ancestor_path.rstrip("/").rpartition("/")[2]
    refresh.changed(people=[user.pk, int(old_manager) if old_manager else None])
    user.manager = manager
    user.ancestor_path = manager.subtree_path if manager else "/"
    user.save(update_fields=["manager", "ancestor_path", "updated_at"])
    # One UPDATE re-roots the whole subtree: swap the old prefix for the new one.
    User.objects.filter(ancestor_path__startswith=old_prefix).update(
        ancestor_path=Concat(Value(user.subtree_path), Substr("ancestor_path", len(old_prefix) + 1))
    )
    audit_record(
        action="user.manager_set",
        actor=actor,
        target=user,
        details={"manager": manager and manager.pk},
    )
    return user


def _quarter_bounds(year: int, quarter: int) -> tuple[dt.date, dt.date]:
    start = dt.date(year, 3 * (quarter - 1) + 1, 1)
    end_month = start.month + 2
    next_month = dt.date(year + (end_month == 12), end_month % 12 + 1, 1)
    return start, next_month - dt.timedelta(days=1)


@transaction.atomic
def periods_ensure(*, year: int) -> list[Period]:
    """Create the year, its quarters and months if missing (calendar fiscal year)."""
    wanted: list[tuple[str, str, dt.date, dt.date]] = [
        (Period.Kind.YEAR, f"FY{year}", dt.date(year, 1, 1), dt.date(year, 12, 31))
    ]
    for quarter in range(1, 5):
        start, end = _quarter_bounds(year, quarter)
        wanted.append((Period.Kind.QUARTER, f"FY{year} {QUARTER_NAMES[quarter]}", start, end))
    for month in range(1, 13):
        start = dt.date(year, month, 1)
        end = (dt.date(year + (month == 12), month % 12 + 1, 1)) - dt.timedelta(days=1)
        wanted.append((Period.Kind.MONTH, start.strftime("%b %Y"), start, end))
    periods, created = [], []
    for kind, name, start, end in wanted:
        period, made = Period.objects.get_or_create(
            kind=kind, start_on=start, defaults={"name": name, "end_on": end}
        )
        periods.append(period)
        created += [period.pk] if made else []
    refresh.changed(periods=created)  # a new period's first stored figures (reads never ask)
    return periods


@transaction.atomic
def exchange_rate_set(
    *, currency: str, rate_to_reporting: Decimal, effective_on: dt.date
) -> ExchangeRate:
    """Record (or correct) the rate in effect from ``effective_on``."""
    if rate_to_reporting <= 0:
        raise ValidationError({"rate_to_reporting": "A rate must be positive."})
    rate, _ = ExchangeRate.objects.update_or_create(
        currency=currency.upper(),
        effective_on=effective_on,
        defaults={"rate_to_reporting": rate_to_reporting},
    )
    # Every converted amount of every figure may move.
    refresh.changed(everything=True)
    return rate


# --- API tokens ---------------------------------------------------------------------------

API_KEY_PREFIX = "sm_"


def hash_api_key(key: str) -> str:
    """Only this digest is stored; a stolen database does not yield usable keys."""
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def api_token_create(
    *, user: User, name: str, scope: str = ApiToken.Scope.READ
) -> tuple[ApiToken, str]:
    """Issue a token; returns it with the plain key, which is never retrievable again."""
    key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user=user,
        name=name.strip(),
        scope=scope,
        key_prefix=key[: len(API_KEY_PREFIX) + 6],
        key_hash=hash_api_key(key),
    )
    token.full_clean()
    token.save()
    return token, key


@transaction.atomic
def api_token_revoke(*, token: ApiToken) -> ApiToken:
    """Stop a token from working at once; idempotent (the first revocation time is kept)."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at", "updated_at"])
    return token


def api_token_touch(*, token: ApiToken, at: dt.datetime | None = None) -> None:
    """Record use, at most once a minute, so authentication is not a write on every call.

    Bookkeeping, never a reason to refuse the call: on SQLite, while another connection holds
    the one write lock (a background CSV import), the timestamp waits for a later call
    instead of turning a read into a 503.
    """
    at = at or timezone.now()
    if token.last_used_at is None or at - token.last_used_at > dt.timedelta(minutes=1):
        try:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=at)
        except OperationalError:
            if connection.vendor != "sqlite" or connection.in_atomic_block:
                raise
            logger.info("API token %s: last use not recorded, the database is busy", token.pk)
            return
        token.last_used_at = at
