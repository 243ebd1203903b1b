"""People named in a users import: who each name means, which managers and offices to create.

A file exported from a CRM often knows people by name only ("sales_agent, manager,
regional_office"). Names are compared as ``name_key`` does (case and spacing ignored). A
manager's name means, in this order: the one row of the file with that name, the one person
of salesmgmt with that name, or a manager to create. An office value becomes a node of the
hierarchy (``User.is_org_unit``): the managers of its people report to it, and people of the
office without a manager report to it directly. Reads only; ``apply.UserImporter`` writes.
"""

from __future__ import annotations

import difflib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import cast

from django.db.models import Value
from django.db.models.functions import Concat, Lower, Trim

from salesmgmt.models import User

from .parsing import RowError, quote

# A manager: ("row", line) a row of the file, ("user", pk) someone already here,
# ("new", name key) a manager to create, ("email", address) by manager_email.
Ref = tuple[str, object]
# How alike two names must be to be reported as a possible typo (difflib's ratio), and how
# many distinct names are compared at most (pairwise: a larger file is not checked).
LOOK_ALIKE_RATIO = 0.85
LOOK_ALIKE_MAX_NAMES = 500


def name_key(text: str | None) -> str:
    """The form names are compared in: "  Dana  REYES" → "dana reyes"."""
    return " ".join((text or "").split()).lower()


def record_name(record: dict) -> str:
    """The row's full name, from ``name`` or ``first_name`` and ``last_name``."""
    if record.get("name"):
        return " ".join(record["name"].split())
    return " ".join(f"{record.get('first_name') or ''} {record.get('last_name') or ''}".split())


def split_name(name: str) -> tuple[str, str]:
    """ "Dana de la Reyes" → ("Dana", "de la Reyes"): the first word is the given name."""
    first, _, last = " ".join(name.split()).partition(" ")
    return first, last


def _full_name_lower():
    return Lower(Trim(Concat("first_name", Value(" "), "last_name")))


def people_by_name(keys: set[str]) -> dict[str, list[User]]:
    """People (not office nodes) whose full name has one of ``keys`` (one query)."""
    found: dict[str, list[User]] = defaultdict(list)
    if keys:
        queryset = User.objects.filter(is_org_unit=False).annotate(name_lower=_full_name_lower())
        for user in queryset.filter(name_lower__in=keys).order_by("pk"):
            found[user.name_lower].append(user)
    return found


def org_units_by_name(keys: set[str]) -> dict[str, User]:
    """The office nodes named by ``keys`` (the first made, if an admin made twins)."""
    found: dict[str, User] = {}
    if keys:
        queryset = User.objects.filter(is_org_unit=True).annotate(name_lower=_full_name_lower())
        for unit in queryset.filter(name_lower__in=keys).order_by("pk"):
            found.setdefault(unit.name_lower, unit)
    return found


def preferred_spellings(values: list[str]) -> dict[str, str]:
    """For each name key, its most frequent spelling in the file (the first one on a tie)."""
    counts = Counter(" ".join(v.split()) for v in values if v and v.strip())
    best: dict[str, str] = {}
    for spelling, _count in counts.most_common():
        best.setdefault(name_key(spelling), spelling)
    return best


def listed(names: list[str]) -> str:
    shown = ", ".join(quote(n) for n in names[:10])
    return shown + (f" and {len(names) - 10} more" if len(names) > 10 else "")


def look_alikes(counts: Counter, spellings: dict[str, str], what: str) -> list[str]:
    """A notice for each rarer name that looks like a more frequent one: a typo, perhaps."""
    notices: list[str] = []
    if len(counts) > LOOK_ALIKE_MAX_NAMES:
        return notices
    for key, count in sorted(counts.items(), key=lambda item: (item[1], item[0])):
        bigger = [other for other, n in counts.items() if other != key and n > count]
        match = difflib.get_close_matches(key, bigger, n=1, cutoff=LOOK_ALIKE_RATIO)
        if match:
            rows, other_rows = count, counts[match[0]]
            notices.append(
                f"The {what} {quote(spellings[key])} ({rows} row{'s' * (rows != 1)}) looks like "
                f"{quote(spellings[match[0]])} ({other_rows} rows): a typo? Each becomes "
                "a separate node."
            )
    return notices


@dataclass
class PeoplePlan:
    """What the names of a file mean; built once before any row is written."""

    existing_by_name: dict[str, list[User]]
    rows_by_name: dict[str, list[int]]
    manager_of_row: dict[int, Ref] = field(default_factory=dict)
    # Managers to create: name key → name as the file spells it most often.
    new_managers: dict[str, str] = field(default_factory=dict)
    offices: dict[str, str] = field(default_factory=dict)
    existing_offices: dict[str, User] = field(default_factory=dict)
    office_of_manager: dict[Ref, str] = field(default_factory=dict)
    office_of_row: dict[int, str] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    @property
    def managing_rows(self) -> set[int]:
        """Lines whose person other rows name as their manager."""
        return {cast(int, ref[1]) for ref in self.manager_of_row.values() if ref[0] == "row"}

    def name_match(self, record: dict) -> tuple[User | None, str]:
        """The one person already here with the row's name, or why there is none to use."""
        name = record_name(record)
        found = [
            u
            for u in self.existing_by_name.get(name_key(name), [])
            if not (record.get("email") and u.email)  # two addresses: two people
        ]
        if len(found) > 1:
            return None, (
                f"Several people are named {quote(name)}; add their e-mail or external_id "
                "to say which."
            )
        return (found[0] if found else None), ""

    def manager_ref(self, record: dict) -> Ref | None:
        return self.manager_of_row.get(record["_row"])


def _manager_ref(plan: PeoplePlan, record: dict) -> Ref | None:
    """Whom the row's ``manager`` names; None (with an error added) when it cannot tell."""
    name = " ".join(record["manager"].split())
    key = name_key(name)
    if key == name_key(record_name(record)):
        plan.errors.append(
            RowError(record["_row"], "manager", "A person cannot report to themselves.")
        )
        return None
    rows = plan.rows_by_name.get(key, [])
    found = plan.existing_by_name.get(key, [])
    if len(rows) > 1 or (not rows and len(found) > 1):
        where = "rows of the file" if len(rows) > 1 else "people in salesmgmt"
        plan.errors.append(
            RowError(
                record["_row"],
                "manager",
                f"Several {where} are named {quote(name)}; use manager_email to say which.",
            )
        )
        return None
    if rows:
        return ("row", rows[0])
    return ("user", found[0].pk) if found else ("new", key)


def _manager_label(record: dict) -> str:
    return record.get("manager_email") or " ".join(record["manager"].split())


def _plan_offices(plan: PeoplePlan, records: list[dict]) -> None:
    """Each office value: the managers named on its rows, or the row's person, report to it."""
    for record in records:
        office = name_key(record.get("office"))
        if not office:
            continue
        ref = plan.manager_of_row.get(record["_row"])
        if ref is None and not record.get("manager"):
            plan.office_of_row[record["_row"]] = office
            continue
        if ref is None:
            continue  # a manager the file cannot name: reported already
        earlier = plan.office_of_manager.setdefault(ref, office)
        if earlier != office:
            plan.errors.append(
                RowError(
                    record["_row"],
                    "office",
                    f"The manager {quote(_manager_label(record))} is in the office "
                    f"{quote(plan.offices[earlier])} on an earlier row, "
                    f"{quote(plan.offices[office])} here.",
                )
            )


def plan_people(records: list[dict]) -> PeoplePlan:
    """Resolve every name of the file at once (two queries: people and offices by name)."""
    rows_by_name: dict[str, list[int]] = defaultdict(list)
    for record in records:
        if record_name(record):
            rows_by_name[name_key(record_name(record))].append(record["_row"])
    managers = [r["manager"] for r in records if r.get("manager") and not r.get("manager_email")]
    plan = PeoplePlan(
        existing_by_name=people_by_name(set(rows_by_name) | {name_key(m) for m in managers}),
        rows_by_name=rows_by_name,
    )
    offices = [r["office"] for r in records if r.get("office")]
    plan.offices = preferred_spellings(offices)
    plan.existing_offices = org_units_by_name(set(plan.offices))
    spellings = preferred_spellings(managers)
    for record in records:
        if record.get("manager_email"):
            plan.manager_of_row[record["_row"]] = ("email", record["manager_email"])
        elif record.get("manager"):
            ref = _manager_ref(plan, record)
            if ref is not None:
                plan.manager_of_row[record["_row"]] = ref
                if ref[0] == "new":
                    plan.new_managers[str(ref[1])] = spellings[str(ref[1])]
    _plan_offices(plan, records)
    plan.notices = _notices(plan, managers, offices)
    return plan


def _notices(plan: PeoplePlan, managers: list[str], offices: list[str]) -> list[str]:
    notices = []
    count = len(plan.new_managers)
    if count:
        notices.append(
            f"{count} manager{'s' * (count != 1)} named in the file {'are' if count != 1 else 'is'}"
            " neither a row of it nor in salesmgmt and will be created (role manager, no "
            f"e-mail): {listed(sorted(plan.new_managers.values()))}."
        )
    new_offices = sorted(v for k, v in plan.offices.items() if k not in plan.existing_offices)
    if new_offices:
        count = len(new_offices)
        notices.append(
            f"{count} office{'s' * (count != 1)} will become {'nodes' if count != 1 else 'a node'}"
            f" of the hierarchy (their managers report to them): {listed(new_offices)}."
        )
    manager_spellings = preferred_spellings(managers)
    notices += look_alikes(Counter(name_key(m) for m in managers), manager_spellings, "manager")
    office_spellings = plan.offices
    notices += look_alikes(Counter(name_key(o) for o in offices), office_spellings, "office")
    return notices
