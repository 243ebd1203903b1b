"""The rows of a deals file as ``accounts.services_bulk.DealRow``: every reference (owner by
e-mail or name, account, process, stage, product) looked up in bulk, a few queries for the
whole file, only among what the importing person may see.

A reference that is not found is a row error quoting the value, except an account name: an
account of that name is created with the deal (its owner the deal's), and the summary says so.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Iterable, Iterator

from django.db.models.functions import Lower

from accounts.models import Account, Product, SalesProcess, Stage
from accounts.selectors import default_process
from accounts.services_bulk import DealRow
from salesmgmt.models import User
from salesmgmt.visibility import visible_users

from .parsing import RowError, quote

LOOKUP_CHUNK = 10_000  # values per IN (...) list


def _chunks(values: Iterable[str]) -> Iterator[list[str]]:
    ordered = sorted(set(values))
    for first in range(0, len(ordered), LOOKUP_CHUNK):
        yield ordered[first : first + LOOKUP_CHUNK]


def folded(text: str) -> str:
    """How names are compared: case and runs of spaces ignored."""
    return " ".join(text.split()).casefold()


def _did_you_mean(value: str, names: Iterable[str]) -> str:
    """' (did you mean "X"?)' for a close spelling among ``names``, else ""."""
    by_folded = {folded(name): name for name in names}
    close = difflib.get_close_matches(folded(value), list(by_folded), n=1, cutoff=0.75)
    return f" (did you mean {quote(by_folded[close[0]])}?)" if close else ""


class Owners:
    """Deal owners by e-mail or by full name, among the people the actor sees."""

    def __init__(self, actor: User, records: list[dict]) -> None:
        visible = visible_users(actor)
        self.by_email: dict[str, User] = {}
        for batch in _chunks(r["owner_email"] for r in records if r.get("owner_email")):
            found = visible.annotate(email_lower=Lower("email")).filter(email_lower__in=batch)
            self.by_email.update({user.email_lower: user for user in found})
        self.by_name: dict[str, list[User]] = defaultdict(list)
        if any(r.get("owner_name") for r in records):
            # Offices are nodes of the hierarchy, not people: they own no deals.
            for user in visible.filter(is_org_unit=False).order_by("pk"):
                self.by_name[folded(user.get_full_name())].append(user)

    def find(self, record: dict, errors: list[RowError]) -> User | None:
        row, email, name = record["_row"], record.get("owner_email"), record.get("owner_name")
        if email:
            if email not in self.by_email:
                reason = f"No one with the email {quote(email)} in your team."
                errors.append(RowError(row, "owner_email", reason))
            return self.by_email.get(email)
        if not name:
            return None
        matches = self.by_name.get(folded(name), [])
        if len(matches) > 1:
            reason = f"Several people in your team are named {quote(name)}; use owner_email."
            errors.append(RowError(row, "owner_name", reason))
            return None
        if not matches:
            names = [people[0].get_full_name() for people in self.by_name.values()]
            reason = f"No one named {quote(name)} in your team{_did_you_mean(name, names)}."
            errors.append(RowError(row, "owner_name", reason))
            return None
        return matches[0]


class Accounts:
    """Accounts by external id, or by name (exact first, then case aside) among those the
    actor sees; a name not found is an account to create."""

    def __init__(self, actor: User, records: list[dict]) -> None:
        visible = Account.objects.visible_to(actor)
        self.by_ext: dict[str, Account] = {}
        ext_ids = (r["account_external_id"] for r in records if r.get("account_external_id"))
        for batch in _chunks(ext_ids):
            for account in visible.filter(external_id__in=batch).order_by("pk"):
                self.by_ext.setdefault(account.external_id, account)
        self.by_name: dict[str, list[Account]] = defaultdict(list)
        names = {folded(r["account_name"]) for r in records if r.get("account_name")}
        for batch in _chunks(names):
            found = visible.annotate(name_folded=Lower("name")).filter(name_folded__in=batch)
            for account in found.order_by("pk"):
                self.by_name[folded(account.name)].append(account)

    def find(self, record: dict, errors: list[RowError]) -> tuple[Account | None, str]:
        """(account, name of an account to create); both empty after an error."""
        row = record["_row"]
        ext_id, name = record.get("account_external_id"), record.get("account_name")
        if ext_id:
            account = self.by_ext.get(ext_id)
            if account is None:
                reason = f"No account with external id {quote(ext_id)}."
                errors.append(RowError(row, "account_external_id", reason))
            return account, ""
        if not name:
            column = "account_external_id" if "account_external_id" in record else "account_name"
            errors.append(RowError(row, column, "Required."))
            return None, ""
        matches = self.by_name.get(folded(name), [])
        exact = [a for a in matches if a.name == name]
        if len(exact) == 1 or len(matches) == 1:
            return (exact or matches)[0], ""
        if matches:
            reason = f"Several accounts are named {quote(name)}; use account_external_id."
            errors.append(RowError(row, "account_name", reason))
            return None, ""
        return None, name


class Catalogue:
    """Processes, their stages and products, by name (case aside)."""

    def __init__(self, records: list[dict]) -> None:
        self.processes = {folded(p.name): p for p in SalesProcess.objects.all()}
        self.default = default_process()
        self.stages: dict[int, dict[str, Stage]] = defaultdict(dict)
        if any(r.get("stage") for r in records):
            for stage in Stage.objects.order_by("process_id", "order"):
                self.stages[stage.process_id].setdefault(folded(stage.name), stage)
        self.products: dict[str, Product] = {}
        if any(r.get("product") for r in records):
            self.products = {folded(p.name): p for p in Product.objects.all()}

    def process(self, record: dict, errors: list[RowError]) -> tuple[SalesProcess | None, bool]:
        """(the row's process, whether it was found); none named: the default."""
        name = record.get("process")
        if not name:
            return self.default, True
        process = self.processes.get(folded(name))
        if process is None:
            reason = f"No sales process named {quote(name)}."
            errors.append(RowError(record["_row"], "process", reason))
        return process, process is not None

    def stage(self, record: dict, process: SalesProcess | None, errors: list) -> Stage | None:
        name = record.get("stage")
        if not name or process is None:
            return None
        stages = self.stages.get(process.pk, {})
        stage = stages.get(folded(name))
        if stage is None:
            hint = _did_you_mean(name, [s.name for s in stages.values()]) or (
                f" (its stages: {', '.join(s.name for s in stages.values()) or 'none yet'})"
            )
            reason = f"No stage named {quote(name)} in the process {quote(process.name)}{hint}."
            errors.append(RowError(record["_row"], "stage", reason))
        return stage

    def product(self, record: dict, errors: list[RowError]) -> Product | None:
        name = record.get("product")
        if not name:
            return None
        product = self.products.get(folded(name))
        if product is None:
            hint = _did_you_mean(name, [p.name for p in self.products.values()])
            reason = f"No product named {quote(name)} in the catalogue{hint}."
            errors.append(RowError(record["_row"], "product", reason))
        return product


def _optional_text(record: dict, name: str) -> str | None:
    """A column's text; None when the file has no such column (the deal keeps its value)."""
    return (record.get(name) or "") if name in record else None


class DealReferences:
    """Every reference of a deals file, looked up once; ``row`` builds each row's DealRow."""

    def __init__(self, actor: User, records: list[dict]) -> None:
        self.owners = Owners(actor, records)
        self.accounts = Accounts(actor, records)
        self.catalogue = Catalogue(records)

    def row(self, record: dict, errors: list[RowError]) -> DealRow:
        """The record as a DealRow; references not found are reported to ``errors`` (and
        named in ``unresolved``, so the service does not check them again)."""
        before = len(errors)
        owner = self.owners.find(record, errors)
        owner_failed = len(errors) > before
        account, new_name = self.accounts.find(record, errors)
        account_failed = account is None and not new_name
        process, process_found = self.catalogue.process(record, errors)
        stage = self.catalogue.stage(record, process, errors)
        product = self.catalogue.product(record, errors)
        unresolved = {
            name
            for name, failed in (
                ("owner", owner_failed),
                ("account", account_failed),
                ("process", not process_found),
                ("product", bool(record.get("product")) and product is None),
            )
            if failed
        }
        return DealRow(
            row=record["_row"],
            name=record.get("name") or "",
            amount=record.get("amount"),  # type: ignore[arg-type]  # checked by the parser
            expected_close_on=record.get("expected_close_on"),  # type: ignore[arg-type]
            account=account,
            new_account_name=new_name,
            owner=owner,
            external_id=record.get("external_id") or "",
            currency=record.get("currency") or "",
            process=process,
            stage=stage,
            status=record.get("status") or "open",
            closed_on=record.get("closed_on"),
            lost_reason=record.get("lost_reason") or "",
            forecast_category=_optional_text(record, "forecast_category"),
            next_step=_optional_text(record, "next_step"),
            lead_source=_optional_text(record, "lead_source"),
            product=product,
            quantity=record.get("quantity"),
            created_at=record.get("created_at"),
            unresolved=frozenset(unresolved),
        )
