"""A job's problems grouped for the summary: one line per kind of problem (column and message
with the bad values left out), how many rows it hits and the first examples. Pure: the error
dicts in, plain data out, so the job, the page and the API share one reading."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from .parsing import HEADER_LINE

EXAMPLES = 5
# A value as ``parsing.quote`` writes it; it varies from row to row, the message around it not.
QUOTED_VALUE = re.compile(r'"[^"]*"')
# Counts in messages ("Has 3 fields but the header has 5") vary too; grouped as one.
NUMBER = re.compile(r"\b\d+\b")
PLACEHOLDER = '"…"'


@dataclass
class ProblemExample:
    row: int | None
    column: str
    value: str
    reason: str


@dataclass
class ProblemGroup:
    column: str
    message: str  # the first example's reason with its quoted values as "…"
    count: int = 0
    rows: int = 0  # distinct data rows affected
    every_row: bool = False  # on every data row of the file: reported once
    examples: list[ProblemExample] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def message_pattern(reason: str) -> str:
    """The message with every quoted value replaced by "…"."""
    return QUOTED_VALUE.sub(PLACEHOLDER, reason)


def quoted_value(reason: str) -> str:
    """The first value the message quotes (without its quotes), or ""."""
    match = QUOTED_VALUE.search(reason)
    return match.group(0)[1:-1] if match else ""


def is_data_row(row: int | None) -> bool:
    """A line after the header; None (the whole file) and the header itself are not."""
    return row is not None and row > HEADER_LINE


def problems_grouped(errors: list[dict], rows_total: int) -> list[ProblemGroup]:
    """Errors ({row, column, reason}) grouped by column and message pattern, most frequent
    first (then in file order); each group keeps its first ``EXAMPLES`` errors."""
    groups: dict[tuple[str, str], ProblemGroup] = {}
    rows: dict[tuple[str, str], set[int]] = {}
    for error in errors:
        reason, column = error.get("reason", ""), error.get("column", "") or ""
        pattern = message_pattern(reason)
        key = (column, NUMBER.sub("N", pattern))
        group = groups.get(key)
        if group is None:
            group = groups[key] = ProblemGroup(column=column, message=pattern)
            rows[key] = set()
        group.count += 1
        if is_data_row(error.get("row")):
            rows[key].add(error["row"])
        if len(group.examples) < EXAMPLES:
            example = ProblemExample(error.get("row"), column, quoted_value(reason), reason)
            group.examples.append(example)
    for key, group in groups.items():
        group.rows = len(rows[key])
        group.every_row = rows_total > 0 and group.rows >= rows_total
    return sorted(groups.values(), key=lambda group: -group.count)


def problem_summary(errors: list[dict], rows_total: int) -> dict:
    """What the job stores in its summary: rows ok, rows with problems and the groups. A
    problem of the file itself (no row, or the header) leaves no row importable."""
    bad_rows = {e["row"] for e in errors if is_data_row(e.get("row"))}
    file_level = any(not is_data_row(e.get("row")) for e in errors)
    return {
        "rows_ok": 0 if file_level else max(rows_total - len(bad_rows), 0),
        "rows_with_problems": len(bad_rows),
        "problems": [group.as_dict() for group in problems_grouped(errors, rows_total)],
    }


def summary_with_problems(summary: dict, errors: list[dict], rows_total: int) -> dict:
    """The stored summary, with the problems grouped now for a job finished before they were
    stored (its page and API then read the same fields)."""
    if "problems" in summary:
        return summary
    return {**summary, **problem_summary(errors, rows_total)}
