"""After a run: is every write the server confirmed in the database, exactly once?"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from scripts.ops.stack import Stack

# kind -> (table, column holding the marker)
MARKED = {
    "activity": ("accounts_activity", "notes"),
    "completion": ("accounts_milestonecompletion", "evidence"),
    "deal_create": ("accounts_opportunity", "name"),  # duplicates only; presence by id below
}


@dataclass
class WriteCheck:
    confirmed: dict[str, int] = field(default_factory=dict)
    missing: dict[str, list[str]] = field(default_factory=dict)
    duplicated: dict[str, list[str]] = field(default_factory=dict)
    unconfirmed_applied: int = 0  # deals holding an edit whose answer was an error

    @property
    def ok(self) -> bool:
        return not any(self.missing.values()) and not any(self.duplicated.values())

    @property
    def total(self) -> int:
        return sum(self.confirmed.values())

    def summary(self) -> str:
        parts = []
        for kind, count in sorted(self.confirmed.items()):
            lost = len(self.missing.get(kind, []))
            twice = len(self.duplicated.get(kind, []))
            parts.append(f"{kind} {count - lost}/{count}" + (f" ({twice} twice)" if twice else ""))
        if self.unconfirmed_applied:
            parts.append(f"{self.unconfirmed_applied} deals hold an edit answered with an error")
        return ", ".join(parts) or "no writes confirmed"


def read_writes(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def verify_writes(stack: Stack, records: list[dict]) -> WriteCheck:
    check = WriteCheck()
    by_kind: dict[str, list[dict]] = {}
    for record in records:
        by_kind.setdefault(record["kind"], []).append(record)
    for kind, (table, column) in MARKED.items():
        markers = [r["marker"] for r in by_kind.get(kind, [])]
        check.confirmed[kind] = len(markers)
        counts = dict(
            stack.query(
                f"SELECT {column}, count(*) FROM {table} WHERE {column} = ANY(%s) "  # noqa: S608
                f"GROUP BY {column}",
                [markers],
            )
        )
        check.missing[kind] = [m for m in markers if m not in counts]
        check.duplicated[kind] = [m for m, n in counts.items() if n > 1]
    # A created deal may have been renamed by a later confirmed update: its id must exist.
    created = {r["opportunity"]: r["marker"] for r in by_kind.get("deal_create", [])}
    present = {
        pk
        for (pk,) in stack.query(
            "SELECT id FROM accounts_opportunity WHERE id = ANY(%s)", [list(created)]
        )
    }
    check.missing["deal_create"] = [m for pk, m in created.items() if pk not in present]
    # Updates: each deal holds its last confirmed update, or one sent after it whose answer
    # never came or was an error (it may have committed just before the failure: allowed,
    # as long as it is whole). Records are in the order sent; one client per deal.
    allowed: dict[int, set[tuple[str, str]]] = {}
    for record in records:
        value = (record.get("marker"), record.get("amount"))
        if record["kind"] == "deal_update":
            allowed[record["opportunity"]] = {value}
        elif record["kind"] == "deal_update_attempt" and record["opportunity"] in allowed:
            allowed[record["opportunity"]].add(value)
    check.confirmed["deal_update"] = len(by_kind.get("deal_update", []))
    rows = {
        pk: (name, str(amount))
        for pk, name, amount in stack.query(
            "SELECT id, name, amount FROM accounts_opportunity WHERE id = ANY(%s)",
            [list(allowed)],
        )
    }
    check.missing["deal_update"] = [
        f"deal {pk} holds {rows.get(pk)}"
        for pk, values in allowed.items()
        if rows.get(pk) not in values
    ]
    last = {r["opportunity"]: r for r in by_kind.get("deal_update", [])}
    check.unconfirmed_applied = sum(
        1 for pk, r in last.items() if rows.get(pk) not in (None, (r["marker"], r["amount"]))
    )
    return check


def change_log_gaps(stack: Stack) -> int:
    """Deals whose amount differs from the last amount in their change log.

    The service writes the deal and its change rows in one transaction, so a crash can lose
    both but never keep only one: any gap here is a half-written record.
    """
    return stack.query(
        """
        SELECT count(*) FROM accounts_opportunity o
        WHERE o.amount::text IS DISTINCT FROM (
            SELECT c.new_value FROM accounts_opportunitychange c
            WHERE c.opportunity_id = o.id AND c.field = 'amount'
            ORDER BY c.changed_at DESC, c.id DESC LIMIT 1
        )
        """
    )[0][0]
