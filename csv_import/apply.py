"""Write parsed records through the services: all or nothing, upserting on ``external_id``.

Deals are set-based: ``OpportunityImporter`` resolves the file's references in bulk
(``deal_rows``) and hands every row to ``accounts.services_bulk``, which checks them all and
writes them in a few statements per 5,000 rows. The other kinds go row by row: every row
runs in its own savepoint inside one transaction, so one bad row reports its error and the
others still run (to report theirs). If any row failed, or this is a dry run, the whole
transaction is rolled back and nothing is imported. References (owners, managers,
accounts, deals) resolve in bulk, one query per kind, and only among what the importing
person may see — an import can never attach a record to something outside their visibility.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models.functions import Lower

from salesmgmt import invitations
from salesmgmt import services as org_services
from salesmgmt.errors import ApplicationError, PermissionDeniedError
from salesmgmt.models import ImportKind, Role, User
from salesmgmt.visibility import may_invite, visible_users

from . import people
from .parsing import ParsedFile, RowError, quote

Progress = Callable[[int], None]
PROGRESS_EVERY = 50
MISSING_ROW = "—"
NOTICE_EXAMPLES = 3  # names a notice quotes before "and N more"


@dataclass
class ApplyResult:
    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)
    # Facts worth reading before importing for real (e.g. the managers a users import creates).
    notices: list[str] = field(default_factory=list)
    # A users import: the invitations made for the people it created (links to copy).
    invitations: list[dict] = field(default_factory=list)

    def summary_extras(self) -> dict:
        """What the job's summary adds to created and updated (nothing when empty)."""
        extras: dict = {"notices": self.notices} if self.notices else {}
        return {**extras, "invitations": self.invitations} if self.invitations else extras


def can_import_users(actor: User) -> bool:
    """Only administrators and integrations (HR/payroll) load the sales organisation."""
    return actor.is_superuser or actor.role in (Role.ADMIN, Role.INTEGRATOR)


def _by_lower_email(queryset, emails: set[str]) -> dict[str, User]:
    if not emails:
        return {}
    found = queryset.annotate(email_lower=Lower("email")).filter(email_lower__in=emails)
    return {user.email_lower: user for user in found}


def _first_by(queryset, field_name: str, values: set[str]) -> dict[str, object]:
    if not values:
        return {}
    found: dict[str, object] = {}
    for record in queryset.filter(**{f"{field_name}__in": values}).order_by("pk"):
        found.setdefault(getattr(record, field_name), record)
    return found


class Importer:
    """One kind's rules; subclasses resolve references and write one row at a time."""

    # Where a service's error on a model field shows up in the file.
    field_columns: dict[str, str] = {}

    def __init__(
        self, actor: User, parsed: ParsedFile, *, in_session: bool = False, dry_run: bool = False
    ) -> None:
        self.actor = actor
        self.in_session = in_session  # signed in, not a token: may change roles (users)
        self.dry_run = dry_run
        self.parsed = parsed
        self.errors: list[RowError] = []
        self.notices: list[str] = []

    def error(self, record: dict, column: str, reason: str) -> None:
        self.errors.append(RowError(record["_row"], column, reason))

    def resolve(self, records: list[dict]) -> None:
        """Look up references in bulk; report unknown ones with ``self.error``."""

    def apply_row(self, record: dict) -> bool:
        """Write one row; True if it created a record, False if it updated one."""
        raise NotImplementedError

    def finish(self, records: list[dict]) -> None:
        """A second pass once every row exists (the user hierarchy needs one)."""

    def after_import(self, result: ApplyResult, *, dry_run: bool) -> None:
        """Once every row ran, before the transaction commits (or is rolled back)."""
        result.notices += self.notices

    def column_for(self, record: dict, field_name: str) -> str:
        column = self.field_columns.get(field_name, field_name)
        if column == "account" or field_name == "account":
            return "account_external_id" if "account_external_id" in record else "account_name"
        return "" if field_name == "__all__" else column

    def report(self, record: dict, exc: Exception) -> None:
        if isinstance(exc, ValidationError):
            if hasattr(exc, "error_dict"):
                for name, messages in exc.message_dict.items():
                    for message in messages:
                        self.error(record, self.column_for(record, name), message)
            else:
                for message in exc.messages:
                    self.error(record, "", message)
        elif isinstance(exc, ApplicationError) and exc.extra.get("field"):
            # A refusal about one field (e.g. a new owner the importer may not give): its column.
            self.error(record, self.column_for(record, exc.extra["field"]), exc.message)
        else:
            self.error(record, "", getattr(exc, "message", str(exc)))

    def run(self, progress: Progress) -> ApplyResult:
        result = ApplyResult()
        self.resolve(self.parsed.records)
        failed = {e.row for e in self.parsed.errors} | {e.row for e in self.errors}
        for done, record in enumerate(self.parsed.records, start=1):
            if record["_row"] not in failed:
                try:
                    with transaction.atomic():
                        created = self.apply_row(record)
                except (ValidationError, ApplicationError) as exc:
                    self.report(record, exc)
                else:
                    result.created += created
                    result.updated += not created
            if done % PROGRESS_EVERY == 0:
                progress(done)
        self.finish([r for r in self.parsed.records if r["_row"] not in failed])
        result.errors = sorted(
            self.parsed.errors + self.errors, key=lambda e: (e.row or 0, e.column)
        )
        progress(len(self.parsed.records))
        return result


def _present(record: dict, *names: str) -> dict:
    """The record's values for those of ``names`` the file has (None → blank text)."""
    return {name: record[name] for name in names if name in record}


def _blank_to_text(values: dict, text_fields: set[str]) -> dict:
    return {k: ("" if v is None and k in text_fields else v) for k, v in values.items()}


class _OwnedImporter(Importer):
    """Shared by kinds that have an owner (by email) and an account reference."""

    def resolve_owners(self, records: list[dict]) -> None:
        emails = {r["owner_email"] for r in records if r.get("owner_email")}
        self.owners = _by_lower_email(visible_users(self.actor), emails)
        for record in records:
            email = record.get("owner_email")
            if email and email not in self.owners:
                self.error(
                    record, "owner_email", f"No one with the email {quote(email)} in your team."
                )

    def resolve_accounts(self, records: list[dict]) -> None:
        from accounts.models import Account

        visible = Account.objects.visible_to(self.actor)
        ext_ids = {r["account_external_id"] for r in records if r.get("account_external_id")}
        self.accounts_by_ext = _first_by(visible, "external_id", ext_ids)
        names = {r["account_name"] for r in records if r.get("account_name")}
        by_name: dict[str, list] = defaultdict(list)
        if names:
            for account in visible.filter(name__in=names).order_by("pk"):
                by_name[account.name].append(account)
        self.accounts_by_name = by_name

    def account_for(self, record: dict, required: bool = True):
        if record.get("account_external_id"):
            account = self.accounts_by_ext.get(record["account_external_id"])
            if account is None:
                self.error(
                    record,
                    "account_external_id",
                    f"No account with external id {quote(record['account_external_id'])}.",
                )
            return account
        if record.get("account_name"):
            matches = self.accounts_by_name.get(record["account_name"], [])
            if len(matches) > 1:
                self.error(
                    record,
                    "account_name",
                    f"Several accounts are named {quote(record['account_name'])}; "
                    "use account_external_id.",
                )
                return None
            if not matches:
                self.error(
                    record, "account_name", f"No account named {quote(record['account_name'])}."
                )
                return None
            return matches[0]
        if required:
            column = "account_external_id" if "account_external_id" in record else "account_name"
            self.error(record, column, "Required.")
        return None

    def owner_for(self, record: dict) -> User | None:
        return self.owners.get(record.get("owner_email") or "")


class AccountImporter(_OwnedImporter):
    field_columns = {"owner": "owner_email"}
    fields = (
        "name",
        "industry",
        "employee_count",
        "annual_revenue",
        "country",
        "region",
        "state",
        "domain",
    )
    text_fields = {"name", "industry", "country", "region", "state", "domain"}

    def resolve(self, records):
        from accounts.models import Account
        from accounts.services_bulk import account_key

        self.resolve_owners(records)
        visible = Account.objects.visible_to(self.actor)
        ext_ids = {r["external_id"] for r in records if r.get("external_id")}
        self.existing = _first_by(visible, "external_id", ext_ids)
        # A row without an external id updates the one account of its name (case aside), e.g.
        # one a deals import created for its deals: a CRM export's accounts file has no ids.
        names = {
            account_key(r["name"]) for r in records if r.get("name") and not r.get("external_id")
        }
        by_name: dict[str, list] = {}
        folded = visible.annotate(name_folded=Lower("name"))
        for account in folded.filter(name_folded__in=names).order_by("pk") if names else ():
            by_name.setdefault(account_key(account.name), []).append(account)
        self.existing_by_name = {k: found[0] for k, found in by_name.items() if len(found) == 1}

    def apply_row(self, record):
        from accounts import services
        from accounts.services_bulk import account_key

        values = _blank_to_text(_present(record, *self.fields), self.text_fields)
        if self.owner_for(record) is not None:
            values["owner"] = self.owner_for(record)
        existing = self.existing.get(record.get("external_id") or "")
        if existing is None and not record.get("external_id") and record.get("name"):
            existing = self.existing_by_name.get(account_key(record["name"]))
            if existing is not None:
                values.pop("name")  # found by it: keep the spelling it has here
        if existing is not None:
            services.account_update(actor=self.actor, account=existing, **values)
            return False
        name = values.pop("name")
        services.account_create(
            actor=self.actor, name=name, external_id=record.get("external_id") or "", **values
        )
        return True


class ContactImporter(_OwnedImporter):
    fields = ("first_name", "last_name", "title", "email", "phone", "buying_role")
    text_fields = set(fields)

    def resolve(self, records):
        from accounts.models import Contact

        self.resolve_accounts(records)
        self.account_of = {r["_row"]: self.account_for(r) for r in records}
        ext_ids = {r["external_id"] for r in records if r.get("external_id")}
        self.existing = _first_by(Contact.objects.visible_to(self.actor), "external_id", ext_ids)

    def apply_row(self, record):
        from accounts import services

        values = _blank_to_text(_present(record, *self.fields), self.text_fields)
        account = self.account_of[record["_row"]]
        existing = self.existing.get(record.get("external_id") or "")
        if existing is not None:
            services.contact_update(actor=self.actor, contact=existing, account=account, **values)
            return False
        services.contact_create(
            actor=self.actor,
            account=account,
            first_name=values.pop("first_name"),
            last_name=values.pop("last_name"),
            external_id=record.get("external_id") or "",
            **values,
        )
        return True


class OpportunityImporter(Importer):
    """Deals, set-based: references resolved here in bulk (``deal_rows``), every row checked
    and written by ``accounts.services_bulk`` in a few statements per 5,000 rows."""

    def resolve(self, records):
        from .deal_rows import DealReferences

        references = DealReferences(self.actor, records)
        parse_failed = {e.row for e in self.parsed.errors}
        # A row the parser refused has no typed values to check further.
        self.rows = [
            references.row(record, self.errors)
            for record in records
            if record["_row"] not in parse_failed
        ]
        self.records_by_row = {record["_row"]: record for record in records}

    def column_for(self, record, field_name):
        if field_name == "owner":
            if record.get("owner_email") or "owner_name" not in record:
                return "owner_email"
            return "owner_name"
        return super().column_for(record, field_name)

    def run(self, progress: Progress) -> ApplyResult:
        from accounts import services_bulk

        result = ApplyResult()
        self.resolve(self.parsed.records)
        try:
            if self.parsed.errors or self.errors:
                # Nothing will be written: only say what else is wrong with the rows.
                problems = services_bulk.opportunity_bulk_problems(actor=self.actor, rows=self.rows)
            else:
                # A dry run checks every row as the import would and writes nothing.
                written = (
                    services_bulk.opportunity_bulk_preview(actor=self.actor, rows=self.rows)
                    if self.dry_run
                    else services_bulk.opportunity_bulk_import(
                        actor=self.actor, rows=self.rows, progress=progress
                    )
                )
                result.created, result.updated = written.created, written.updated
                problems = []
        except services_bulk.ImportRowsInvalid as exc:
            problems = exc.problems
        for problem in problems:
            record = self.records_by_row[problem.row]
            self.error(record, self.column_for(record, problem.field), problem.message)
        result.notices = self._notices()
        result.errors = sorted(
            self.parsed.errors + self.errors, key=lambda e: (e.row or 0, e.column)
        )
        progress(len(self.parsed.records))
        return result

    def _notices(self) -> list[str]:
        """What the import does beyond the rows themselves: accounts it creates."""
        from accounts import services_bulk

        names: dict[str, str] = {}
        for name in (row.new_account_name for row in self.rows if row.new_account_name):
            names.setdefault(services_bulk.account_key(name), name)
        if not names:
            return []
        shown = [quote(name) for name in list(names.values())[:NOTICE_EXAMPLES]]
        more = len(names) - len(shown)
        if more:
            listed = f"{', '.join(shown)} and {more} more"
        else:
            listed = (
                " and ".join([", ".join(shown[:-1]), shown[-1]]) if len(shown) > 1 else shown[0]
            )
        written = not (self.dry_run or self.parsed.errors or self.errors)
        count = f"{len(names)} account{'s' if len(names) > 1 else ''}"
        return [
            f"{count} {'were' if written else 'will be'} created, each owned by the owner of "
            f"its first deal: {listed}."
        ]


class ActivityImporter(_OwnedImporter):
    fields = ("kind", "occurred_at", "duration_minutes", "outcome", "notes", "next_step")

    def resolve(self, records):
        from accounts.models import Activity, Opportunity

        self.resolve_owners(records)
        self.resolve_accounts(records)
        visible_deals = Opportunity.objects.visible_to(self.actor).select_related(
            "account", "process"
        )
        ext_ids = {
            r["opportunity_external_id"] for r in records if r.get("opportunity_external_id")
        }
        self.deals = _first_by(visible_deals, "external_id", ext_ids)
        self.refs = {}
        for record in records:
            deal = None
            if record.get("opportunity_external_id"):
                deal = self.deals.get(record["opportunity_external_id"])
                if deal is None:
                    self.error(
                        record,
                        "opportunity_external_id",
                        "No opportunity with external id "
                        f"{quote(record['opportunity_external_id'])}.",
                    )
            account = self.account_for(record, required=deal is None)
            self.refs[record["_row"]] = (account, deal)
        own_ids = {r["external_id"] for r in records if r.get("external_id")}
        self.existing = _first_by(Activity.objects.visible_to(self.actor), "external_id", own_ids)

    def apply_row(self, record):
        from accounts import services

        account, deal = self.refs[record["_row"]]
        values = {k: v for k, v in _present(record, *self.fields).items() if v is not None}
        existing = self.existing.get(record.get("external_id") or "")
        if existing is not None:
            # Own fields only: a re-import does not move an activity to another record.
            services.activity_update(actor=self.actor, activity=existing, **values)
            return False
        services.activity_log(
            actor=self.actor,
            account=account,
            opportunity=deal,
            owner=self.owner_for(record),
            external_id=record.get("external_id") or "",
            **values,
        )
        return True


class UserImporter(Importer):
    """The sales organisation: people by external id, e-mail or name, then the hierarchy by
    manager (e-mail or name) and office (``csv_import.people``), then their invitations."""

    fields = ("first_name", "last_name", "role", "region", "hire_date", "title", "sales_role")
    text_fields = {"first_name", "last_name", "region", "title", "sales_role"}

    def resolve(self, records):
        if not can_import_users(self.actor):
            raise PermissionDeniedError("Only administrators and integrations import people.")
        emails = {r["email"] for r in records if r.get("email")}
        managers = {r["manager_email"] for r in records if r.get("manager_email")}
        self.known = _by_lower_email(User.objects.all(), emails | managers)
        ext_ids = {r["external_id"] for r in records if r.get("external_id")}
        self.by_ext = _first_by(User.objects.all(), "external_id", ext_ids)
        self.plan = people.plan_people(records)
        self.notices += self.plan.notices
        self.errors += self.plan.errors
        self.row_user: dict[int, User] = {}
        self.created: list[User] = []
        seen: set[str] = set()
        for record in records:
            email = record.get("email")
            if email and email in seen:
                self.error(record, "email", f"Repeats an earlier row's email {quote(email)}.")
            # Known by name only: a second row of that name would be a second person.
            name = people.name_key(people.record_name(record))
            if name and not email and not record.get("external_id") and f"name:{name}" in seen:
                self.error(
                    record,
                    "name" if "name" in record else "last_name",
                    f"Repeats an earlier row's name {quote(people.record_name(record))}; "
                    "give an e-mail or external_id to tell them apart.",
                )
            seen |= {email or "", f"name:{name}"}
            self._check_row(record, emails)

    def _check_row(self, record: dict, emails: set[str]) -> None:
        manager = record.get("manager_email")
        if manager and manager not in emails and manager not in self.known:
            self.error(
                record,
                "manager_email",
                f"No one with the email {quote(manager)} in the file or in salesmgmt.",
            )
        if manager and manager == record.get("email"):
            self.error(record, "manager_email", "A person cannot report to themselves.")
        if not record.get("email") and not people.record_name(record):
            column = "name" if "name" in record else "last_name"
            self.error(record, column, "Give the person's name or e-mail.")
        elif self._matched(record) is None:
            _user, problem = self.plan.name_match(record)
            if problem:
                self.error(record, "name" if "name" in record else "last_name", problem)

    def _matched(self, record: dict) -> User | None:
        """The person a row updates by external id or e-mail (names come after)."""
        return self.by_ext.get(record.get("external_id") or "") or self.known.get(
            record.get("email") or ""
        )

    def _names(self, record: dict) -> dict:
        names = _present(record, "first_name", "last_name")
        if record.get("name") and not (record.get("first_name") or record.get("last_name")):
            first, last = people.split_name(record["name"])
            names = {"first_name": first, "last_name": last}
        return names

    def apply_row(self, record):
        values = _blank_to_text(
            {**_present(record, *self.fields), **self._names(record)}, self.text_fields
        )
        if "role" in values and values["role"] is None:
            values.pop("role")
        if record.get("external_id"):
            values["external_id"] = record["external_id"]
        email = record.get("email") or ""
        user = self._matched(record) or self.plan.name_match(record)[0]
        if user is not None:
            if email and user.email.lower() != email:
                values["email"] = email
            user = org_services.user_update(
                user=user, actor=self.actor, in_session=self.in_session, **values
            )
        else:
            user = self._create(record, email, values)
        self.row_user[record["_row"]] = user
        if email:
            self.known[email] = user
        return user in self.created

    def _create(self, record: dict, email: str, values: dict) -> User:
        if email and User.objects.filter(username=email[:150]).exists():
            raise ValidationError({"email": "Another account already uses this as a username."})
        if "role" not in values and record["_row"] in self.plan.managing_rows:
            values["role"] = Role.MANAGER  # others report to them: they must see their team
        user = org_services.user_create(
            username=email[:150],
            email=email,
            actor=self.actor,
            in_session=self.in_session,
            **values,
        )
        self.created.append(user)
        return user

    def finish(self, records):
        managers = self._create_managers(records)
        self._note_reps_named_managers(managers)
        # Managers who go under their office: those whose own row names no manager.
        placed = {
            ref: (naming, office)
            for ref, office in self.plan.office_of_manager.items()
            if ref in managers
            and (naming := self._row_naming(ref, records)) is not None
            and not self._own_manager_named(ref, records)
        }
        rows = {r["_row"] for r in records}
        direct = {row: o for row, o in self.plan.office_of_row.items() if row in rows}
        offices = self._ensure_offices({o for _, o in placed.values()} | set(direct.values()))
        for ref, (naming, office) in placed.items():
            self._set_manager(naming, managers[ref], offices[office])
        for record in records:
            user = self.row_user.get(record["_row"])
            ref = self.plan.manager_ref(record)
            office = direct.get(record["_row"])
            target = managers.get(ref) if ref is not None else offices.get(office or "")
            if user is not None and target is not None:
                self._set_manager(record, user, target)

    def _note_reps_named_managers(self, managers: dict[people.Ref, User]) -> None:
        reps = sorted({str(m) for m in managers.values() if m.role == Role.REP})
        if reps:
            self.notices.append(
                f"{len(reps)} of the managers named have the role rep, so they will not see "
                f"their reports: {people.listed(reps)}. Give them the role manager (a role "
                "column in this file, or the admin)."
            )

    def _own_manager_named(self, ref: people.Ref, records: list[dict]) -> bool:
        """Whether the manager's own row names their manager (which beats their office)."""
        kind, value = ref
        return any(
            (r["_row"] == value if kind == "row" else kind == "email" and r.get("email") == value)
            and (r.get("manager") or r.get("manager_email"))
            for r in records
        )

    def _row_naming(self, ref: people.Ref, records: list[dict]) -> dict | None:
        """The first row that names this manager: where a problem with them is reported."""
        return next((r for r in records if self.plan.manager_ref(r) == ref), None)

    def _set_manager(self, record: dict, user: User, manager: User) -> None:
        if user.manager_id == manager.pk:
            return
        try:
            with transaction.atomic():
                moved = org_services.user_set_manager(user=user, manager=manager, actor=self.actor)
        except ValidationError as exc:
            self.report(record, exc)
            return
        user.manager, user.ancestor_path = moved.manager, moved.ancestor_path

    def _create_managers(self, records: list[dict]) -> dict[people.Ref, User]:
        """Every manager the rows name, as a person: rows, people here, and new ones."""
        refs = {ref for r in records if (ref := self.plan.manager_ref(r)) is not None}
        existing = User.objects.in_bulk([ref[1] for ref in refs if ref[0] == "user"])
        found: dict[people.Ref, User] = {}
        for ref in sorted(refs, key=str):
            kind, value = ref
            if kind == "row" and value in self.row_user:
                found[ref] = self.row_user[value]  # type: ignore[index]
            elif kind == "email" and value in self.known:
                found[ref] = self.known[value]  # type: ignore[index]
            elif kind == "user" and value in existing:
                found[ref] = existing[value]  # type: ignore[index]
            elif kind == "new":
                naming = self._row_naming(ref, records)
                manager = naming and self._create_manager(naming, str(value))
                if manager:
                    found[ref] = manager
        return found

    def _create_manager(self, record: dict, key: str) -> User | None:
        name = self.plan.new_managers[key]
        first, last = people.split_name(name)
        try:
            with transaction.atomic():
                manager = org_services.user_create(
                    first_name=first,
                    last_name=last,
                    role=Role.MANAGER,
                    actor=self.actor,
                    in_session=self.in_session,
                )
        except PermissionDeniedError as exc:
            self.error(record, "manager", f"{quote(name)} would be a new manager: {exc.message}")
            return None
        self.created.append(manager)
        return manager

    def _ensure_offices(self, wanted: set[str]) -> dict[str, User]:
        """The office nodes someone reports to: found by name, else created (once)."""
        offices = {k: v for k, v in self.plan.existing_offices.items() if k in wanted}
        for key in sorted(wanted - set(offices)):
            offices[key] = org_services.org_unit_create(
                name=self.plan.offices[key], actor=self.actor
            )
        return offices

    def after_import(self, result: ApplyResult, *, dry_run: bool) -> None:
        """The people created who can sign in get an invitation (a link when not e-mailed)."""
        super().after_import(result, dry_run=dry_run)
        new_people = [u for u in self.created if not u.is_org_unit]
        if result.errors or not new_people:
            return
        count = len(new_people)
        if dry_run:
            emailed = (
                sum(bool(u.email) for u in new_people) if settings.INVITATIONS_SEND_EMAIL else 0
            )
            result.notices.append(
                f"{count} new {'people' if count != 1 else 'person'} will get a sign-in "
                f"invitation: {emailed} by e-mail, {count - emailed} as a link to copy."
            )
        elif not may_invite(self.actor):
            result.notices.append(
                f"{count} new {'people' if count != 1 else 'person'} can sign in once an "
                "administrator invites them (People and invitations)."
            )
        else:
            sent = invitations.users_invite(
                actor=self.actor, users=new_people, base_url="", in_session=self.in_session
            )
            result.invitations = [_invitation_row(item) for item in sent]

    def column_for(self, record, field_name):
        if field_name == "manager":
            return "manager_email" if record.get("manager_email") else "manager"
        return {"username": "email" if record.get("email") else "name", "__all__": ""}.get(
            field_name, field_name
        )

    def report(self, record, exc):
        if isinstance(exc, PermissionDeniedError):
            # The only refusal a row of people meets: a role it may not give.
            self.error(record, "role", exc.message)
            return
        super().report(record, exc)


def _invitation_row(sent: invitations.InvitationSent) -> dict:
    """An invitation as the job keeps it: the link only when it was not e-mailed."""
    invitation = sent.invitation
    return {
        "user": invitation.user_id,
        "name": str(invitation.user),
        "username": invitation.user.username,
        "emailed_to": invitation.emailed_to,
        "expires_at": invitation.expires_at.isoformat(),
        "link": "" if sent.emailed else sent.link,
    }


IMPORTERS: dict[str, type[Importer]] = {
    ImportKind.USERS: UserImporter,
    ImportKind.ACCOUNTS: AccountImporter,
    ImportKind.CONTACTS: ContactImporter,
    ImportKind.OPPORTUNITIES: OpportunityImporter,
    ImportKind.ACTIVITIES: ActivityImporter,
}


def apply(
    *,
    kind: str,
    actor: User,
    parsed: ParsedFile,
    dry_run: bool,
    progress: Progress,
    in_session: bool = False,
) -> ApplyResult:
    """Run the import in one transaction; roll it back for a dry run or any error."""
    importer = IMPORTERS[kind](actor, parsed, in_session=in_session, dry_run=dry_run)
    with transaction.atomic():
        result = importer.run(progress)
        importer.after_import(result, dry_run=dry_run)
        if dry_run or result.errors:
            transaction.set_rollback(True)
    return result
