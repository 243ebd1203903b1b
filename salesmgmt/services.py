"""Writes for the organisation core: people, the hierarchy, periods, exchange rates."""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import logging
import secrets
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import OperationalError, connection, transaction
from django.db.models import Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone
from django.utils.text import slugify

from . import fiscal_calendar, refresh, webhooks
from .audit import audit_record
from .company_settings import (
    company_settings_default,
    company_settings_forget,
    company_settings_get,
)
from .errors import PermissionDeniedError
from .models import ApiToken, CompanySettings, ExchangeRate, Period, Role, User, WebhookEvent
from .visibility import may_change_privileges

logger = logging.getLogger(__name__)


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
    # After commit: the apps above the core hear of the new person (a new hire joins their
    # onboarding programme) without the core importing them.
    webhooks.emit(WebhookEvent.USER_CREATED, subject=user)
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


# --- Company settings and the fiscal calendar -------------------------------------------------


def may_configure_company(user: User) -> bool:
    """Administrators (pages and API) and integrations (API) set the company up; everyone
    else reads the settings."""
    return user.is_superuser or user.role in (Role.ADMIN, Role.INTEGRATOR)


def _ensure_may_configure_company(actor: User) -> None:
    if not may_configure_company(actor):
        raise PermissionDeniedError("Only an administrator can change the company settings.")


COMPANY_SETTINGS_FIELDS = frozenset(
    {"name", "reporting_currency", "fiscal_year_start_month", "time_zone", "week_start"}
)


def fiscal_calendar_conflict(*, start_month: int) -> str:
    """Why the fiscal year cannot start in ``start_month`` now ("" if it can): fiscal years
    or quarters exist on another calendar (2 queries)."""
    years = Period.objects.filter(kind=Period.Kind.YEAR).exclude(start_on__month=start_month)
    quarter_months = [(start_month - 1 + 3 * k) % 12 + 1 for k in range(4)]
    quarters = Period.objects.filter(kind=Period.Kind.QUARTER).exclude(
        start_on__month__in=quarter_months
    )
    clash = years.order_by("start_on").first() or quarters.order_by("start_on").first()
    if clash is None:
        return ""
    month = calendar.month_name[clash.start_on.month]
    return (
        f"Fiscal periods already exist on another calendar ({clash.name} starts in {month}). "
        "The fiscal year start month can only be changed before fiscal periods exist on "
        "another calendar: quotas, forecast calls and every stored figure are kept per period."
    )


def _check_company_changes(before: dict[str, object], row: CompanySettings) -> None:
    """Refuse changes that would silently reinterpret stored periods or amounts."""
    month = row.fiscal_year_start_month
    if "fiscal_year_start_month" in before and before["fiscal_year_start_month"] != month:
        conflict = fiscal_calendar_conflict(start_month=month)
        if conflict:
            raise ValidationError({"fiscal_year_start_month": conflict})
    old_currency = before.get("reporting_currency", row.reporting_currency)
    if old_currency != row.reporting_currency:
        rates = ExchangeRate.objects.count()
        if rates:
            raise ValidationError(
                {
                    "reporting_currency": (
                        f"{rates} exchange rate(s) are stated in {old_currency}; the "
                        "reporting currency can only be changed while there are no "
                        "exchange rates."
                    )
                }
            )


@transaction.atomic
def company_settings_update(*, actor: User, **changes: object) -> CompanySettings:
    """Save the company settings (any of ``COMPANY_SETTINGS_FIELDS``); administrators only.

    The fiscal year start month is fixed once fiscal periods exist on that calendar, and the
    reporting currency once exchange rates are stated in it (``_check_company_changes``).
    """
    _ensure_may_configure_company(actor)
    unknown = set(changes) - COMPANY_SETTINGS_FIELDS
    if unknown:
        raise ValidationError({name: "Not a company setting." for name in sorted(unknown)})
    if isinstance(changes.get("reporting_currency"), str):
        changes["reporting_currency"] = str(changes["reporting_currency"]).strip().upper()
    row = (
        CompanySettings.objects.select_for_update().filter(pk=CompanySettings.SINGLETON_PK).first()
        or company_settings_default()
    )
    before = {name: getattr(row, name) for name in changes}
    for name, value in changes.items():
        setattr(row, name, value)
    row.full_clean()  # types and choices first: the checks below compare clean values
    _check_company_changes(before, row)
    row.save()
    company_settings_forget()
    changed = {n: {"from": before[n], "to": getattr(row, n)} for n in changes}
    audit_record(action="company_settings.updated", actor=actor, target=row, details=changed)
    if "reporting_currency" in changed and before["reporting_currency"] != row.reporting_currency:
        refresh.changed(everything=True)  # every converted amount is stated anew
    return row


def _period_clash(wanted: fiscal_calendar.PeriodBounds, existing: list[Period]) -> str:
    for period in existing:
        same = period.start_on == wanted.start_on and period.end_on == wanted.end_on
        overlaps = period.start_on <= wanted.end_on and wanted.start_on <= period.end_on
        if period.kind == wanted.kind and overlaps and not same:
            return (
                f"{wanted.name} ({wanted.start_on} to {wanted.end_on}) would overlap the "
                f"existing {period.get_kind_display().lower()} {period.name} "
                f"({period.start_on} to {period.end_on}): the existing periods follow another "
                "fiscal calendar. Nothing was created."
            )
    return ""


@dataclass(frozen=True)
class EnsuredPeriods:
    periods: list[Period]  # for each fiscal year in turn: the year, its quarters, its months
    created: list[int]  # ids of the periods that were new


@transaction.atomic
def periods_ensure_covering(
    *, first: dt.date, last: dt.date, start_month: int | None = None
) -> list[Period]:
    """Create every fiscal year [first, last] touches, with its quarters and months, if missing.

    The calendar is the company's (``fiscal_year_start_month``) unless ``start_month`` is
    given. Idempotent; periods that exist with the same bounds are kept. Refuses
    (``ValidationError``, nothing created) when a wanted period would overlap an existing one
    of the same kind with other bounds: a second fiscal calendar would count deals twice.
    Returns, for each fiscal year in turn, its year, quarters and months (3 queries).
    """
    return _periods_ensure(first=first, last=last, start_month=start_month).periods


def _periods_ensure(*, first: dt.date, last: dt.date, start_month: int | None) -> EnsuredPeriods:
    if last < first:
        raise ValidationError({"last": "The last day must not be before the first."})
    if start_month is None:
        start_month = company_settings_get().fiscal_year_start_month
    years = fiscal_calendar.fiscal_years_covering(first, last, start_month=start_month)
    _check_fiscal_years(years.start, years.stop - 1)
    wanted = [
        bounds
        for year in years
        for bounds in fiscal_calendar.fiscal_year_periods(year, start_month=start_month)
    ]
    low, high = wanted[0].start_on, wanted[-1].end_on
    window = Period.objects.filter(start_on__lte=high, end_on__gte=low)
    existing = list(window)
    for bounds in wanted:
        clash = _period_clash(bounds, existing)
        if clash:
            raise ValidationError(clash)
    known = {(p.kind, p.start_on) for p in existing}
    missing = [b for b in wanted if (b.kind, b.start_on) not in known]
    Period.objects.bulk_create(
        [Period(kind=b.kind, name=b.name, start_on=b.start_on, end_on=b.end_on) for b in missing],
        ignore_conflicts=True,  # a concurrent call made them: same bounds, kept
    )
    found = {(p.kind, p.start_on): p for p in window.all()}  # read anew, with the new rows
    periods = [found[(b.kind, b.start_on)] for b in wanted]
    created = [p.pk for p in periods if (p.kind, p.start_on) not in known]
    refresh.changed(periods=created)  # a new period's first stored figures (reads never ask)
    return EnsuredPeriods(periods=periods, created=created)


def _check_fiscal_years(first_year: int, last_year: int) -> None:
    low, high = fiscal_calendar.FIRST_FISCAL_YEAR, fiscal_calendar.LAST_FISCAL_YEAR
    if first_year < low or last_year > high:
        raise ValidationError(f"Fiscal years must lie between FY{low} and FY{high}.")
    if last_year - first_year + 1 > fiscal_calendar.MAX_FISCAL_YEARS:
        raise ValidationError(
            f"At most {fiscal_calendar.MAX_FISCAL_YEARS} fiscal years at a time "
            f"(asked for FY{first_year} to FY{last_year})."
        )


def periods_ensure(*, year: int) -> list[Period]:
    """The fiscal periods covering the calendar year ``year`` (see periods_ensure_covering):
    with a fiscal year starting in January, FY``year``, its quarters and its months."""
    return periods_ensure_covering(first=dt.date(year, 1, 1), last=dt.date(year, 12, 31))


@transaction.atomic
def periods_generate(*, actor: User, first_year: int, last_year: int) -> EnsuredPeriods:
    """Create the fiscal years FY``first_year`` to FY``last_year`` (named by the calendar year
    they end in) with their quarters and months, on the company's calendar; admins only."""
    _ensure_may_configure_company(actor)
    if last_year < first_year:
        raise ValidationError({"last_year": "The last year must not be before the first."})
    _check_fiscal_years(first_year, last_year)
    start_month = company_settings_get().fiscal_year_start_month
    first, _ = fiscal_calendar.fiscal_year_bounds(first_year, start_month=start_month)
    _, last = fiscal_calendar.fiscal_year_bounds(last_year, start_month=start_month)
    ensured = _periods_ensure(first=first, last=last, start_month=start_month)
    audit_record(
        action="periods.generated",
        actor=actor,
        details={"first_year": first_year, "last_year": last_year, "created": len(ensured.created)},
    )
    return ensured


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
