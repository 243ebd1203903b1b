"""The columns each import kind understands, with the header spellings people use."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.db import models

from salesmgmt.models import ImportKind, Role, SalesRole


def normalize_header(header: str) -> str:
    """``"Manager's E-mail "`` → ``"manager_s_e_mail"``: case, spaces and punctuation ignored."""
    return re.sub(r"[^a-z0-9]+", "_", str(header).strip().lower()).strip("_")


@dataclass(frozen=True)
class Column:
    name: str
    type: str = "text"  # text, email, int, decimal, date, datetime, choice
    required: bool = False
    aliases: tuple[str, ...] = ()
    choices: tuple[tuple[str, str], ...] = ()
    max_length: int | None = None
    max_value: int | None = None

    def spellings(self) -> set[str]:
        return {normalize_header(self.name), *(normalize_header(a) for a in self.aliases)}


def _choices(choices: type[models.TextChoices]) -> tuple[tuple[str, str], ...]:
    return tuple((str(value), str(label)) for value, label in choices.choices)


@dataclass(frozen=True)
class Spec:
    kind: str
    columns: tuple[Column, ...]
    # At least one of these must be present (e.g. an account by external id or by name).
    one_of: tuple[tuple[str, ...], ...] = field(default=())

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _spec_for(kind: str) -> Spec:
    builders = {
        ImportKind.USERS: _users_spec,
        ImportKind.ACCOUNTS: _accounts_spec,
        ImportKind.CONTACTS: _contacts_spec,
        ImportKind.OPPORTUNITIES: _opportunities_spec,
        ImportKind.ACTIVITIES: _activities_spec,
    }
    return builders[kind]()


def _account_ref() -> tuple[Column, ...]:
    """How a contact, deal or activity row names its account."""
    return (
        Column(
            "account_external_id", aliases=("account external id", "account ext id"), max_length=64
        ),
        Column("account_name", aliases=("account", "company", "account name"), max_length=200),
    )


def _users_spec() -> Spec:
    return Spec(
        ImportKind.USERS,
        (
            Column(
                "email",
                "email",
                required=True,
                aliases=("e-mail", "email address", "work email"),
            ),
            Column("name", aliases=("full name",), max_length=300),
            Column("first_name", aliases=("first name", "given name"), max_length=150),
            Column("last_name", aliases=("last name", "surname", "family name"), max_length=150),
            Column("role", "choice", choices=_choices(Role)),
            Column(
                "manager_email",
                "email",
                aliases=("manager's email", "manager email", "manager", "reports to"),
            ),
            Column("region", max_length=80),
            Column("hire_date", "date", aliases=("hire date", "start date", "hired on")),
            Column("title", aliases=("job title",), max_length=120),
            Column("sales_role", "choice", aliases=("sales role",), choices=_choices(SalesRole)),
            Column("external_id", aliases=("external id", "employee id"), max_length=64),
        ),
        one_of=(("name", "first_name", "last_name"),),
    )


def _accounts_spec() -> Spec:
    return Spec(
        ImportKind.ACCOUNTS,
        (
            Column(
                "name",
                required=True,
                aliases=("account", "account name", "company"),
                max_length=200,
            ),
            Column("industry", max_length=80),
            Column("employee_count", "int", aliases=("employees",), max_value=2**31 - 1),
            Column("annual_revenue", "decimal", aliases=("revenue", "annual revenue")),
            Column("country", max_length=80),
            Column("region", max_length=80),
            Column("state", max_length=80),
            Column("owner_email", "email", aliases=("owner", "owner email")),
            Column("external_id", aliases=("external id",), max_length=64),
        ),
    )


def _contacts_spec() -> Spec:
    # Imported lazily: accounts depends on salesmgmt, not the other way round at import time.
    from accounts.models import Contact

    return Spec(
        ImportKind.CONTACTS,
        (
            *_account_ref(),
            Column("first_name", required=True, aliases=("first name",), max_length=80),
            Column("last_name", required=True, aliases=("last name", "surname"), max_length=80),
            Column("title", max_length=120),
            Column("email", "email", aliases=("e-mail",)),
            Column("phone", max_length=40),
            Column(
                "buying_role",
                "choice",
                aliases=("buying role", "role"),
                choices=_choices(Contact.BuyingRole),
            ),
            Column("external_id", aliases=("external id",), max_length=64),
        ),
        one_of=(("account_external_id", "account_name"),),
    )


def _opportunities_spec() -> Spec:
    # Imported lazily: accounts depends on salesmgmt, not the other way round at import time.
    from accounts.models import ForecastCategory, Opportunity

    return Spec(
        ImportKind.OPPORTUNITIES,
        (
            *_account_ref(),
            Column(
                "name",
                required=True,
                aliases=("opportunity", "deal", "opportunity name"),
                max_length=200,
            ),
            Column("owner_email", "email", aliases=("owner", "owner email")),
            Column("amount", "decimal", required=True),
            Column("currency", max_length=3),
            Column(
                "expected_close_on",
                "date",
                required=True,
                aliases=("close date", "expected close date", "expected close"),
            ),
            Column("status", "choice", choices=_choices(Opportunity.Status)),
            Column("closed_on", "date", aliases=("closed date", "close_date_actual")),
            Column("lost_reason", aliases=("lost reason", "loss reason"), max_length=200),
            Column(
                "forecast_category",
                "choice",
                aliases=("forecast category",),
                choices=_choices(ForecastCategory),
            ),
            Column("next_step", aliases=("next step",), max_length=255),
            Column("process", aliases=("sales process",), max_length=120),
            Column("created_at", "datetime", aliases=("created", "created on", "created date")),
            Column("external_id", aliases=("external id",), max_length=64),
        ),
        one_of=(("account_external_id", "account_name"),),
    )


def _activities_spec() -> Spec:
    # Imported lazily: accounts depends on salesmgmt, not the other way round at import time.
    from accounts.models import Activity

    return Spec(
        ImportKind.ACTIVITIES,
        (
            *_account_ref(),
            Column("opportunity_external_id", aliases=("opportunity external id",), max_length=64),
            Column("owner_email", "email", aliases=("owner", "owner email", "rep")),
            Column(
                "kind",
                "choice",
                required=True,
                aliases=("type", "activity type"),
                choices=_choices(Activity.Kind),
            ),
            Column("occurred_at", "datetime", aliases=("date", "occurred", "when")),
            Column(
                "duration_minutes",
                "int",
                aliases=("duration", "minutes"),
                max_value=60 * 24 * 31,
            ),
            Column("outcome", "choice", choices=_choices(Activity.Outcome)),
            Column("notes", aliases=("description", "note")),
            Column("next_step", aliases=("next step",), max_length=255),
            Column("external_id", aliases=("external id",), max_length=64),
        ),
        one_of=(("account_external_id", "account_name", "opportunity_external_id"),),
    )


def spec_for(kind: str) -> Spec:
    if kind not in ImportKind.values:
        raise KeyError(kind)
    return _spec_for(kind)
