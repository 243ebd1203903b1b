"""What the dry run shows before anything is written, besides the problems: the gaps filled by
the defaults the person chose (``OPTIONS``) and values that look wrong though they parse.

Pure pandas: the typed frame (one column per spec column, ``None`` for an empty cell) and the
per-cell reasons in, the filled frame and plain report dicts out; no database.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass, field
from decimal import Decimal

import pandas as pd
from django.utils import timezone

from salesmgmt.models import ImportKind

from .specs import Spec

REQUIRED = "Required."
PLACEHOLDER_ACCOUNT = "(No account)"
LOST_REASON_UNKNOWN = "Not recorded (imported)"
EXAMPLES = 5
CLOSED = ("won", "lost")


@dataclass(frozen=True)
class Option:
    """A gap the person decides on: which column, the question, the answers, the default."""

    name: str
    column: str
    question: str  # "{count} rows …": the count is filled in from the file
    choices: tuple[tuple[str, str], ...]
    default: str  # when the person (or API client) says nothing: as before the options
    suggested: str = ""  # preselected on the mapping page when rows are affected


ERROR = ("error", "report them as problems")
OPTIONS: dict[str, tuple[Option, ...]] = {
    ImportKind.OPPORTUNITIES: (
        Option(
            "name",
            "name",
            "rows have no deal name",
            (
                ERROR,
                ("derived", "name them “account · product (external id)”"),
                ("external_id", "use the external id"),
            ),
            "error",
            "derived",
        ),
        Option(
            "created_at",
            "created_at",
            "rows have no engage date (created_at)",
            (
                ("import_time", "leave them at the time of the import"),
                ("close_date", "use the close date"),
            ),
            "import_time",
            "close_date",
        ),
        Option(
            "account",
            "account_name",
            "rows have no account",
            (ERROR, ("placeholder", f"attach them to an account named “{PLACEHOLDER_ACCOUNT}”")),
            "error",
            "placeholder",
        ),
        Option(
            "closed_on",
            "closed_on",
            "won or lost rows have no close date (closed_on)",
            (ERROR, ("expected_close_on", "use the expected close date")),
            "error",
            "expected_close_on",
        ),
        Option(
            "lost_reason",
            "lost_reason",
            "lost rows have no lost reason",
            (ERROR, ("not_recorded", f"use “{LOST_REASON_UNKNOWN}”")),
            "error",
            "not_recorded",
        ),
        Option(
            "amount",
            "amount",
            "open rows have no amount",
            (
                ERROR,
                ("list_price", "use the product's list price times quantity"),
                ("zero", "use 0"),
            ),
            "error",
            "list_price",
        ),
        Option(
            "expected_close_on",
            "expected_close_on",
            "rows have no expected close date",
            (
                ERROR,
                ("quarter_end", "the close date if closed, else the end of the current quarter"),
            ),
            "error",
            "quarter_end",
        ),
    ),
}


def options_for(kind: str) -> tuple[Option, ...]:
    return OPTIONS.get(kind, ())


def columns_supplied(kind: str, options: dict[str, str]) -> set[str]:
    """Columns the chosen defaults fill: a file may leave them out entirely."""
    return {
        option.column
        for option in options_for(kind)
        if options.get(option.name, option.default) not in ("error", "import_time")
    }


def option_problems(kind: str, options: dict[str, str]) -> dict[str, str]:
    """{option: message} for unknown options or answers (the API's 400)."""
    known = {option.name: option for option in options_for(kind)}
    problems = {}
    for name, answer in options.items():
        if name not in known:
            problems[name] = f"Unknown option (known: {', '.join(known) or 'none'})."
        elif answer not in dict(known[name].choices):
            allowed = ", ".join(value for value, _ in known[name].choices)
            problems[name] = f"Unknown answer “{answer}” (expected: {allowed})."
    return problems


@dataclass
class ReviewContext:
    """What the checks need from outside the file."""

    today: dt.date
    product_prices: dict[str, Decimal] = field(default_factory=dict)
    source_values: dict[str, list[str]] = field(default_factory=dict)  # "stage"/"product" names


def _quarter_end(day: dt.date) -> dt.date:
    month = ((day.month - 1) // 3 + 1) * 3
    next_month = dt.date(day.year + (month // 12), month % 12 + 1, 1)
    return next_month - dt.timedelta(days=1)


def _column(typed: pd.DataFrame, name: str) -> pd.Series:
    if name in typed.columns:
        return typed[name]
    return pd.Series([None] * len(typed), index=typed.index, dtype=object)


def rows_text(count: int) -> str:
    return "1 row" if count == 1 else f"{count:,} rows"


def option_message(option: Option, count: int) -> str:
    """ "500 rows have no engage date (created_at)" (the question, with its count)."""
    question = option.question
    if count == 1:
        question = question.replace("rows have", "row has", 1)
    return f"{count:,} {question}"


def _report(option: Option, answer: str, mask: pd.Series, lines: pd.Series) -> dict:
    count = int(mask.sum())
    return {
        "column": option.column,
        "option": option.name,
        "answer": answer,
        "count": count,
        "message": f"{option_message(option, count)}: {dict(option.choices)[answer]}.",
        "rows": [int(r) for r in lines[mask].head(EXAMPLES)],
    }


class Defaults:
    """Fill the gaps of one file as its ``options`` say; ``reports`` lists each gap."""

    def __init__(self, typed, reasons, options, context, lines) -> None:
        self.typed, self.reasons, self.lines = typed, reasons, lines
        self.options, self.context = options, context
        self.reports: list[dict] = []
        self.status = _column(typed, "status").fillna("open")
        self.closed = self.status.isin(CLOSED)

    def fill(self, column: str, mask: pd.Series, values: pd.Series) -> None:
        """Set ``column`` where ``mask`` (and a value exists); clear its "Required." reasons."""
        mask = mask & values.notna()
        if column not in self.typed.columns:
            self.typed[column] = _column(self.typed, column)
        self.typed.loc[mask, column] = values[mask]
        if column in self.reasons:
            reasons = self.reasons[column]
            self.reasons[column] = reasons.mask(mask & (reasons == REQUIRED), "")

    def empty(self, column: str) -> pd.Series:
        return _column(self.typed, column).isna()

    def run(self, kind: str) -> list[dict]:
        for option in options_for(kind):
            answer = self.options.get(option.name, option.default)
            absent = option.column not in self.typed.columns
            mask = getattr(self, f"_{option.name}")(answer)
            if absent and answer == option.default:
                continue  # no such column and nothing chosen: the file says nothing of it
            if mask is not None and mask.any():
                self.reports.append(_report(option, answer, mask, self.lines))
        return self.reports

    def _name(self, answer: str) -> pd.Series:
        mask = self.empty("name")
        external_id = _column(self.typed, "external_id")
        if answer == "external_id":
            self.fill("name", mask, external_id)
        elif answer == "derived":
            parts = [
                _column(self.typed, c).fillna("").astype(str) for c in ("account_name", "product")
            ]
            label = (parts[0] + " · " + parts[1]).str.strip(" ·")
            label = label.where(external_id.isna(), label + " (" + external_id.fillna("") + ")")
            label = label.str.strip().replace("", None).str.slice(0, 200)
            self.fill("name", mask, label)
        return mask

    def _created_at(self, answer: str) -> pd.Series:
        mask = self.empty("created_at")
        if answer == "close_date":
            day = _column(self.typed, "closed_on").where(
                ~self.empty("closed_on"), _column(self.typed, "expected_close_on")
            )
            starts = {d: _start_of_day(d) for d in day[mask].dropna().unique()}
            self.fill("created_at", mask, day.map(starts))
        return mask

    def _account(self, answer: str) -> pd.Series | None:
        no_column = "account_name" not in self.typed and "account_external_id" not in self.typed
        if no_column and answer != "placeholder":
            return None  # the header check already says the file names no account
        mask = self.empty("account_name") & self.empty("account_external_id")
        if answer == "placeholder":
            placeholder = pd.Series(PLACEHOLDER_ACCOUNT, index=self.typed.index, dtype=object)
            self.fill("account_name", mask, placeholder)
        return mask

    def _closed_on(self, answer: str) -> pd.Series:
        mask = self.closed & self.empty("closed_on")
        if answer == "expected_close_on":
            self.fill("closed_on", mask, _column(self.typed, "expected_close_on"))
        return mask

    def _lost_reason(self, answer: str) -> pd.Series:
        mask = (self.status == "lost") & self.empty("lost_reason")
        if answer == "not_recorded":
            reason = pd.Series(LOST_REASON_UNKNOWN, index=self.typed.index, dtype=object)
            self.fill("lost_reason", mask, reason)
        return mask

    def _amount(self, answer: str) -> pd.Series:
        mask = ~self.closed & self.empty("amount")
        if answer == "zero":
            self.fill("amount", mask, pd.Series(Decimal(0), index=self.typed.index, dtype=object))
        elif answer == "list_price":
            prices = {k.lower(): v for k, v in self.context.product_prices.items()}
            price = _column(self.typed, "product").map(
                lambda name: prices.get(str(name).lower()), na_action="ignore"
            )
            quantity = _column(self.typed, "quantity").fillna(Decimal(1))
            amount = pd.Series(
                [
                    p * q if p is not None and not pd.isna(p) else None
                    for p, q in zip(price, quantity, strict=True)
                ],
                index=self.typed.index,
                dtype=object,
            )
            self.fill("amount", mask, amount)
        return mask

    def _expected_close_on(self, answer: str) -> pd.Series:
        mask = self.empty("expected_close_on")
        if answer == "quarter_end":
            end = pd.Series(_quarter_end(self.context.today), index=self.typed.index, dtype=object)
            closed_on = _column(self.typed, "closed_on")
            self.fill("expected_close_on", mask, closed_on.where(closed_on.notna(), end))
        return mask


def _start_of_day(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time()))


def defaults_apply(
    kind: str,
    typed: pd.DataFrame,
    reasons: dict[str, pd.Series],
    options: dict[str, str],
    context: ReviewContext,
    lines: pd.Series,
) -> list[dict]:
    """Fill the gaps in ``typed`` (and clear their reasons) in place; one report per gap."""
    return Defaults(typed, reasons, options, context, lines).run(kind)


# --- suspicious values: parse fine, probably wrong -----------------------------------------

MAGNITUDE = re.compile(r"^\s*-?[\d.,]+\s*(k|m|mm|mn|bn|b)\s*$", re.IGNORECASE)
# A value this many times the column's median looks like a unit mix-up (cents, thousands).
MEDIAN_FACTOR = 1000
# Category typos: a rarer value this close to a more frequent one.
TYPO_RATIO = 0.85
MAX_CATEGORIES = 200
# Free text where every value differs: never compared as categories.
NOT_CATEGORIES = {"name", "external_id", "notes", "next_step", "lost_reason", "title", "phone"}
PAST_YEARS, FUTURE_YEARS = 30, 10
# Columns naming people: compared with the names of the people the importer sees
# (``ReviewContext.source_values["person"]``), so two colleagues with alike names are no typo.
PERSON_COLUMNS = {"owner_name": "person", "manager": "person"}


def _suspect(column: str, kind: str, message: str, mask: pd.Series, lines, values) -> dict:
    return {
        "column": column,
        "kind": kind,
        "message": message,
        "count": int(mask.sum()),
        "examples": [
            {"row": int(r), "value": str(v)}
            for r, v in zip(lines[mask].head(EXAMPLES), values[mask].head(EXAMPLES), strict=True)
        ],
    }


def _numbers(name, raw, values, lines) -> list[dict]:
    found = []
    suffixed = raw.str.match(MAGNITUDE)
    if suffixed.any():
        message = "written with a thousands or millions suffix (e.g. 48k, 1.2M): write the number"
        found.append(_suspect(name, "magnitude", message, suffixed, lines, raw))
    numbers = pd.to_numeric(values.map(float, na_action="ignore"), errors="coerce")
    median = numbers[numbers > 0].median()
    if pd.notna(median) and median > 0:
        huge = numbers >= median * MEDIAN_FACTOR
        if huge.any():
            message = f"{MEDIAN_FACTOR:,} times the column's median ({median:,.0f}) or more"
            found.append(_suspect(name, "magnitude", message, huge, lines, raw))
    return found


def _categories(name, raw, lines, known: list[str]) -> list[dict]:
    nonblank = raw[raw != ""]
    counts = nonblank.value_counts()
    if counts.empty or len(counts) > MAX_CATEGORIES:
        return []
    found = []
    frequent = [str(v) for v in counts.index]
    # A value may be a typo of one more frequent, or as frequent and seen earlier in the file
    # (4 "technology" and 4 "technolgy": the later spelling is the suspect, reported once).
    first_seen = {str(v): i for i, v in enumerate(nonblank.drop_duplicates())}
    rank = {v: (-int(counts[v]), first_seen[v]) for v in frequent}
    for value, count in counts.items():
        others = [
            v for v in frequent if rank[v] < rank[str(value)] and v.lower() != str(value).lower()
        ]
        others += [k for k in known if k.lower() != str(value).lower() and k not in others]
        if str(value) in known:
            continue
        match = difflib.get_close_matches(str(value), others, n=1, cutoff=TYPO_RATIO)
        if match:
            other_count = int(counts.get(match[0], 0))
            where = rows_text(other_count) if other_count else "already here"
            message = (
                f"“{value}” ({rows_text(int(count))}) looks like a typo of “{match[0]}” ({where})"
            )
            found.append(_suspect(name, "near_duplicate", message, raw == value, lines, raw))
    return found


def _dates(name, values, lines, today: dt.date) -> list[dict]:
    years = values.map(lambda v: v.year, na_action="ignore")
    found = []
    past = years < today.year - PAST_YEARS
    if past.any():
        message = f"more than {PAST_YEARS} years ago"
        found.append(_suspect(name, "far_date", message, past.fillna(False), lines, values))
    future = years > today.year + FUTURE_YEARS
    if future.any():
        message = f"more than {FUTURE_YEARS} years ahead"
        found.append(_suspect(name, "far_date", message, future.fillna(False), lines, values))
    return found


def suspicious_values(
    spec: Spec, raw: pd.DataFrame, typed: pd.DataFrame, context: ReviewContext, lines: pd.Series
) -> list[dict]:
    """Values that parse but look wrong: magnitudes, category typos, far dates."""
    found: list[dict] = []
    for name in raw.columns:
        column = spec.column(name)
        if column.type in ("decimal", "int"):
            found += _numbers(name, raw[name], typed[name], lines)
        elif column.type in ("date", "datetime"):
            found += _dates(name, typed[name], lines, context.today)
        elif column.type == "text" and name not in NOT_CATEGORIES:
            source = column.value_source or PERSON_COLUMNS.get(name, "")
            known = context.source_values.get(source, [])
            found += _categories(name, raw[name], lines, known)
    return found
