"""The columns each import kind understands, with the header spellings people use."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.db import models

from salesmgmt.models import ImportKind, Role, SalesRole


def normalize_header(header: str) -> str:
    """``"Manager's E-mail "`` → ``"manager_s_e_mail"``: case, spaces and punctuation ignored."""
    return re.sub(r"[^a-z0-9]+", "_", str(header).strip().lower()).strip("_")


TYPE_LABELS = {
    "text": "text",
    "email": "e-mail address",
    "int": "whole number",
    "decimal": "number (amount)",
    "date": "date (YYYY-MM-DD)",
    "datetime": "date and time (ISO 8601, e.g. 2026-01-15T09:30)",
    "choice": "one of the accepted values",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str = "text"  # text, email, int, decimal, date, datetime, choice
    required: bool = False
    aliases: tuple[str, ...] = ()
    choices: tuple[tuple[str, str], ...] = ()
    max_length: int | None = None
    max_value: int | None = None
    # For people: what the column means and a value it accepts (the page's column table and
    # the template CSV are built from these, so the documentation cannot drift from the parser).
    description: str = ""
    example: str = ""
    # Choices that live in the database rather than in code: "stage" (the stage names of the
    # row's sales process), "product" (the catalogue). The mapping step maps a file's values to
    # them as it does to ``choices``.
    value_source: str = ""

    @property
    def type_label(self) -> str:
        return TYPE_LABELS[self.type]

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
        ImportKind.PRODUCTS: _products_spec,
    }
    return builders[kind]()


def _account_ref() -> tuple[Column, ...]:
    """How a contact, deal or activity row names its account."""
    return (
        Column(
            "account_external_id",
            aliases=("account external id", "account ext id"),
            max_length=64,
            description="The account's external_id from an earlier accounts import.",
            example="ACC-1001",
        ),
        Column(
            "account_name",
            aliases=("account", "company", "account name"),
            max_length=200,
            description="The account's name, when there is no external id (must be unique).",
            example="Acme Manufacturing",
        ),
    )


def _external_id(example: str) -> Column:
    return Column(
        "external_id",
        aliases=("external id",),
        max_length=64,
        description="Your system's id for the row: importing it again updates, not duplicates.",
        example=example,
    )


def _users_spec() -> Spec:
    return Spec(
        ImportKind.USERS,
        (
            Column(
                "email",
                "email",
                aliases=("e-mail", "email address", "work email"),
                description=(
                    "The person's work e-mail (their username). Optional: without one the "
                    "person is known by name (matched case-insensitively) and signs in with a "
                    "username made from it, e.g. dana.reyes."
                ),
                example="dana.reyes@example.com",
            ),
            Column(
                "name",
                aliases=("full name", "sales agent", "sales_agent", "agent", "rep", "person"),
                max_length=300,
                description="Full name (or give first_name and last_name).",
                example="Dana Reyes",
            ),
            Column(
                "first_name",
                aliases=("first name", "given name"),
                max_length=150,
                description="Given name.",
                example="Dana",
            ),
            Column(
                "last_name",
                aliases=("last name", "surname", "family name"),
                max_length=150,
                description="Family name.",
                example="Reyes",
            ),
            *_user_org_columns(),
        ),
        one_of=(("name", "first_name", "last_name"),),
    )


def _user_hierarchy_columns() -> tuple[Column, ...]:
    """Whom the person reports to: a manager by e-mail or name, and an office node."""
    return (
        Column(
            "manager_email",
            "email",
            aliases=("manager's email", "manager email", "reports to"),
            description="E-mail of the person they report to (in the file or already here).",
            example="sam.okafor@example.com",
        ),
        Column(
            "manager",
            aliases=("manager name", "manager full name", "manager's name"),
            max_length=300,
            description=(
                "Full name of the person they report to, when there is no manager_email: a row "
                "of the file, someone already here, or else a new manager (no e-mail)."
            ),
            example="Sam Okafor",
        ),
        Column(
            "office",
            aliases=(
                "regional office",
                "regional_office",
                "team",
                "region office",
                "sales office",
                "branch",
            ),
            max_length=150,
            description=(
                "Office, region or team: it becomes a node of the hierarchy that the row's "
                "manager reports to (or the person, without a manager), with its own figures."
            ),
            example="Central",
        ),
    )


def _user_org_columns() -> tuple[Column, ...]:
    """Where a person sits in the sales organisation."""
    return (
        Column(
            "role",
            "choice",
            choices=_choices(Role),
            description="What the person may see and do in salesmgmt (default: rep).",
            example="rep",
        ),
        *_user_hierarchy_columns(),
        Column(
            "region",
            max_length=80,
            description="The person's region, free text.",
            example="EMEA",
        ),
        Column(
            "hire_date",
            "date",
            aliases=("hire date", "start date", "hired on"),
            description="First day in the job (ramping quotas start from it).",
            example="2024-03-01",
        ),
        Column(
            "title",
            aliases=("job title",),
            max_length=120,
            description="Job title, free text.",
            example="Account Executive",
        ),
        Column(
            "sales_role",
            "choice",
            aliases=("sales role",),
            choices=_choices(SalesRole),
            description="The selling role (SDR, AE, AM, SE); blank if none.",
            example="ae",
        ),
        Column(
            "external_id",
            aliases=("external id", "employee id"),
            max_length=64,
            description="Your HR system's id for the person.",
            example="EMP-0042",
        ),
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
                description="The company's name.",
                example="Acme Manufacturing",
            ),
            Column(
                "industry",
                max_length=80,
                description="Industry, free text.",
                example="Manufacturing",
            ),
            Column(
                "employee_count",
                "int",
                aliases=("employees",),
                max_value=2**31 - 1,
                description="Number of employees.",
                example="1200",
            ),
            Column(
                "annual_revenue",
                "decimal",
                aliases=("revenue", "annual revenue"),
                description="Yearly revenue, in the reporting currency.",
                example="250000000",
            ),
            Column("country", max_length=80, description="Country.", example="Germany"),
            Column("region", max_length=80, description="Region, free text.", example="EMEA"),
            Column("state", max_length=80, description="State or province.", example="Bavaria"),
            Column(
                "domain",
                aliases=("website", "web site", "url", "mail domain", "email domain"),
                max_length=2000,
                description=(
                    "The company's mail domain, or its website (https://www.acme.com/ is read "
                    "as acme.com): captured mail from an address there is matched to the account."
                ),
                example="acme.com",
            ),
            Column(
                "owner_email",
                "email",
                aliases=("owner", "owner email"),
                description="E-mail of the account owner, someone in your team (default: you).",
                example="dana.reyes@example.com",
            ),
            _external_id("ACC-1001"),
        ),
    )


def _contacts_spec() -> Spec:
    # Imported lazily: accounts depends on salesmgmt, not the other way round at import time.
    from accounts.models import Contact

    return Spec(
        ImportKind.CONTACTS,
        (
            *_account_ref(),
            Column(
                "first_name",
                required=True,
                aliases=("first name",),
                max_length=80,
                description="Given name.",
                example="Lee",
            ),
            Column(
                "last_name",
                required=True,
                aliases=("last name", "surname"),
                max_length=80,
                description="Family name.",
                example="Chen",
            ),
            Column(
                "title",
                max_length=120,
                description="Job title, free text.",
                example="VP Operations",
            ),
            Column(
                "email",
                "email",
                aliases=("e-mail",),
                description="The contact's e-mail.",
                example="lee.chen@acme.example",
            ),
            Column("phone", max_length=40, description="Phone number.", example="089 1234567"),
            Column(
                "buying_role",
                "choice",
                aliases=("buying role", "role"),
                choices=_choices(Contact.BuyingRole),
                description="The contact's part in buying decisions; blank if unknown.",
                example="decision_maker",
            ),
            _external_id("CON-2001"),
        ),
        one_of=(("account_external_id", "account_name"),),
    )


def _opportunities_spec() -> Spec:
    return Spec(
        ImportKind.OPPORTUNITIES,
        (
            *_account_ref(),
            Column(
                "name",
                required=True,
                aliases=("opportunity", "deal", "opportunity name"),
                max_length=200,
                description="The deal's name.",
                example="Acme - plant rollout",
            ),
            Column(
                "owner_email",
                "email",
                aliases=("owner", "owner email"),
                description="E-mail of the deal owner, someone in your team (default: you).",
                example="dana.reyes@example.com",
            ),
            Column(
                "owner_name",
                aliases=("owner name", "sales agent", "sales_agent", "deal owner", "rep"),
                max_length=300,
                description="The deal owner's full name, when the file has no e-mails.",
                example="Dana Reyes",
            ),
            Column(
                "amount",
                "decimal",
                required=True,
                description="The deal's value in its currency (no thousands separators needed).",
                example="48000.00",
            ),
            Column(
                "currency",
                max_length=3,
                description="ISO currency code (default: the reporting currency).",
                example="EUR",
            ),
            Column(
                "expected_close_on",
                "date",
                required=True,
                aliases=("close date", "expected close date", "expected close"),
                description="When the deal is expected to close.",
                example="2026-06-30",
            ),
            *_opportunity_state_columns(),
            *_opportunity_history_columns(),
            _external_id("OPP-3001"),
        ),
        one_of=(("account_external_id", "account_name"),),
    )


def _opportunity_state_columns() -> tuple[Column, ...]:
    """Where a deal stands: status, close, forecast category, process, history."""
    # Imported lazily: accounts depends on salesmgmt, not the other way round at import time.
    from accounts.models import ForecastCategory, Opportunity

    return (
        Column(
            "status",
            "choice",
            choices=_choices(Opportunity.Status),
            description="Whether the deal is still open, won or lost (default: open).",
            example="open",
        ),
        Column(
            "closed_on",
            "date",
            aliases=("closed date", "close_date_actual"),
            description="The day a won or lost deal closed (required for those).",
            example="2026-05-15",
        ),
        Column(
            "lost_reason",
            aliases=("lost reason", "loss reason"),
            max_length=200,
            description="Why a lost deal was lost.",
            example="Chose a competitor",
        ),
        Column(
            "forecast_category",
            "choice",
            aliases=("forecast category",),
            choices=_choices(ForecastCategory),
            description="An open deal's forecast category (default: from its stage).",
            example="pipeline",
        ),
        Column(
            "next_step",
            aliases=("next step",),
            max_length=255,
            description="The next thing to do on the deal.",
            example="Send proposal",
        ),
        Column(
            "process",
            aliases=("sales process",),
            max_length=120,
            description="Name of the sales process (default: the default process).",
            example="New business",
        ),
        Column(
            "created_at",
            "datetime",
            aliases=("created", "created on", "created date", "engage date", "engaged on"),
            description="When the deal was opened (default: the time of the import).",
            example="2026-01-15T09:30:00",
        ),
    )


def _opportunity_history_columns() -> tuple[Column, ...]:
    """What an export from another CRM carries about a deal's past: where it came from, stage
    and product."""
    return (
        Column(
            "lead_source",
            aliases=("lead source", "original source"),
            max_length=80,
            description="Where the deal came from (blank: kept on re-import; '(none)' in reports).",
            example="Webinar",
        ),
        Column(
            "stage",
            aliases=("deal stage", "deal_stage", "opportunity stage", "pipeline stage"),
            max_length=80,
            value_source="stage",
            description=(
                "The stage the deal is in (a stage of its process): the milestones before it "
                "are recorded as imported."
            ),
            example="Qualify",
        ),
        Column(
            "product",
            aliases=("product name", "item"),
            max_length=120,
            value_source="product",
            description="The product sold (a product of the catalogue): one line item.",
            example="GTX Pro",
        ),
        Column(
            "quantity",
            "decimal",
            aliases=("qty", "units"),
            description="How many of the product (default: 1).",
            example="2",
        ),
    )


def _activities_spec() -> Spec:
    # Imported lazily: accounts depends on salesmgmt, not the other way round at import time.
    from accounts.models import Activity

    return Spec(
        ImportKind.ACTIVITIES,
        (
            *_account_ref(),
            Column(
                "opportunity_external_id",
                aliases=("opportunity external id",),
                max_length=64,
                description="The deal's external_id from an earlier opportunities import.",
                example="OPP-3001",
            ),
            Column(
                "owner_email",
                "email",
                aliases=("owner", "owner email", "rep"),
                description="E-mail of who did it, someone in your team (default: you).",
                example="dana.reyes@example.com",
            ),
            Column(
                "kind",
                "choice",
                required=True,
                aliases=("type", "activity type"),
                choices=_choices(Activity.Kind),
                description="What kind of activity it was.",
                example="meeting",
            ),
            Column(
                "occurred_at",
                "datetime",
                aliases=("date", "occurred", "when"),
                description="When it happened (default: the time of the import).",
                example="2026-02-03T14:00:00",
            ),
            Column(
                "duration_minutes",
                "int",
                aliases=("duration", "minutes"),
                max_value=60 * 24 * 31,
                description="How long it took, in minutes.",
                example="45",
            ),
            *_activity_result_columns(),
            _external_id("ACT-4001"),
        ),
        one_of=(("account_external_id", "account_name", "opportunity_external_id"),),
    )


def _activity_result_columns() -> tuple[Column, ...]:
    """How an activity went and what comes next."""
    # Imported lazily: accounts depends on salesmgmt, not the other way round at import time.
    from accounts.models import Activity

    return (
        Column(
            "outcome",
            "choice",
            choices=_choices(Activity.Outcome),
            description="How it went; blank if not recorded.",
            example="positive",
        ),
        Column(
            "notes",
            aliases=("description", "note"),
            description="Free notes.",
            example="Walked through the pilot plan",
        ),
        Column(
            "next_step",
            aliases=("next step",),
            max_length=255,
            description="The next thing to do.",
            example="Book the demo",
        ),
    )


def _products_spec() -> Spec:
    """The catalogue: a row per product, matched by external_id, then by name."""
    return Spec(
        ImportKind.PRODUCTS,
        (
            Column(
                "name",
                required=True,
                aliases=("product", "product name", "item"),
                max_length=120,
                description="The product's name (unique): deals' product column names it.",
                example="GTX Pro",
            ),
            Column(
                "family",
                aliases=("series", "product family", "product line", "category"),
                max_length=80,
                description="The family or series it belongs to.",
                example="GTX",
            ),
            Column(
                "list_price",
                "decimal",
                aliases=("sales_price", "price", "list price", "unit price"),
                description="The list price (default: 0): a line item's default unit price.",
                example="4821",
            ),
            Column(
                "currency",
                aliases=("currency code",),
                max_length=3,
                description="ISO code of the list price (default: the reporting currency).",
                example="USD",
            ),
            _external_id("PRD-17"),
        ),
    )


def spec_for(kind: str) -> Spec:
    if kind not in ImportKind.values:
        raise KeyError(kind)
    return _spec_for(kind)
