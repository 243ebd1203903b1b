"""Read a CSV with pandas and check every cell against the kind's column spec.

Returns typed records (one dict per row, only the columns present) and every problem found as
``RowError(row, column, reason)``; ``row`` is the line in the file (the header is line 1), so
people can find it in a spreadsheet. Nothing here touches the database.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation

import pandas as pd
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone

from salesmgmt.money import is_money, money_range_message

from .specs import Column, Spec, normalize_header

HEADER_LINE = 1
MISSING = object()


@dataclass(frozen=True)
class RowError:
    row: int | None
    column: str
    reason: str

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class ParsedFile:
    records: list[dict]  # each has "_row" (its line) and the typed values of present columns
    errors: list[RowError]
    columns: list[str]  # the spec columns found
    ignored_columns: list[str]
    rows_total: int


def _read(text: str, *, skip_bad_lines: bool = False) -> pd.DataFrame:
    # Everything as text: types are checked per column below, with a reason per cell.
    return pd.read_csv(
        io.StringIO(text),
        dtype=str,
        keep_default_na=False,
        skip_blank_lines=True,
        on_bad_lines="skip" if skip_bad_lines else "error",
        engine="python",
    )


def _fields(count: int) -> str:
    return "1 field" if count == 1 else f"{count} fields"


def quote(value: str) -> str:
    """A value as a message quotes it: in double quotes, cut after 40 characters."""
    return f'"{value[:40]}…"' if len(value) > 40 else f'"{value}"'


def _quoted(values: list[str]) -> str:
    shown = [quote(v) for v in values[:5]]
    return ", ".join(shown) + (f" and {len(values) - 5} more" if len(values) > 5 else "")


def field_count_errors(text: str) -> list[RowError]:
    """A row per record whose number of fields differs from the header's, named by its line.

    pandas either stops at the first such record or fills the gap with NaN; people need every
    short or long row, what is missing and what is extra.
    """
    errors: list[RowError] = []
    header: list[str] | None = None
    reader = csv.reader(io.StringIO(text))
    line = 1  # where the next record starts (a quoted field may span lines)
    try:
        for record in reader:
            start, line = line, reader.line_num + 1
            if not record or record == [""]:
                continue  # a blank line, skipped as pandas does
            if header is None:
                header = record
                continue
            if len(record) < len(header):
                missing = header[len(record) :]
                errors.append(
                    RowError(
                        start,
                        missing[0],
                        f"Has {_fields(len(record))} but the header has {len(header)}; "
                        f"no value for: {_quoted(missing)}.",
                    )
                )
            elif len(record) > len(header):
                extra = record[len(header) :]
                errors.append(
                    RowError(
                        start,
                        "",
                        f"Has {_fields(len(record))} but the header has {len(header)}; "
                        f"extra values: {_quoted(extra)}.",
                    )
                )
    except csv.Error:
        return []  # unreadable: pandas says why, for the whole file
    return errors


def map_headers(
    headers: list[str], spec: Spec, column_map: dict[str, str] | None = None
) -> tuple[dict[str, str], list[str], list[RowError]]:
    """{file header: spec column}, the ignored headers, and mapping errors."""
    explicit = {normalize_header(k): v for k, v in (column_map or {}).items()}
    known = {c.name for c in spec.columns}
    spelled = {spelling: c.name for c in spec.columns for spelling in c.spellings()}
    mapping: dict[str, str] = {}
    ignored: list[str] = []
    errors: list[RowError] = []
    for header in headers:
        key = normalize_header(header)
        target = explicit.get(key) or spelled.get(key)
        if target is None:
            ignored.append(header)
            continue
        if target not in known:
            errors.append(RowError(HEADER_LINE, header, f"Unknown target column {target!r}."))
            continue
        if target in mapping.values():
            errors.append(RowError(HEADER_LINE, header, f"A second column maps to {target}."))
            continue
        mapping[header] = target
    present = set(mapping.values())
    for column in spec.columns:
        if column.required and column.name not in present:
            errors.append(RowError(HEADER_LINE, column.name, "Required column is missing."))
    for group in spec.one_of:
        if not present & set(group):
            errors.append(RowError(HEADER_LINE, group[0], f"Give one of: {', '.join(group)}."))
    return mapping, ignored, errors


# --- one converter per column type: text in, value out, ValueError(reason) if bad -----------


def _decimal(text: str, column: Column) -> Decimal:
    """An amount of money: the one range of salesmgmt.money, as the API and the pages take it."""
    try:
        value = Decimal(text.replace(",", "").replace(" ", ""))
    except InvalidOperation:
        raise ValueError(f"Not a number: {quote(text)}.") from None
    if not value.is_finite():
        raise ValueError(f"Not a number: {quote(text)}.")
    if not is_money(value):
        raise ValueError(f"{quote(text)}: {money_range_message(signed=False)}")
    return value


def _int(text: str, column: Column) -> int:
    try:
        value = int(text.replace(",", ""))
    except ValueError:
        raise ValueError(f"Not a whole number: {quote(text)}.") from None
    if value < 0 or (column.max_value is not None and value > column.max_value):
        raise ValueError(f"{quote(text)}: must be between 0 and {column.max_value}.")
    return value


def _date(text: str, column: Column) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"Not a date: {quote(text)} (use YYYY-MM-DD).") from None


def _datetime(text: str, column: Column) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        try:
            value = dt.datetime.combine(dt.date.fromisoformat(text), dt.time())
        except ValueError:
            raise ValueError(f"Not a date and time: {quote(text)} (use ISO 8601).") from None
    # A time without an offset is read in the company's time zone (settings.TIME_ZONE).
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def _email(text: str, column: Column) -> str:
    try:
        validate_email(text)
    except ValidationError:
        raise ValueError(f"Not an email address: {quote(text)}.") from None
    return text.lower()


def _choice(text: str, column: Column) -> str:
    lookup = {}
    for value, label in column.choices:
        lookup[value.lower()] = value
        lookup[label.lower()] = value
        lookup[value.lower().replace("_", " ")] = value
    try:
        return lookup[text.lower()]
    except KeyError:
        allowed = ", ".join(v for v, _ in column.choices if v)
        raise ValueError(f"Unknown {column.name} {quote(text)} (expected: {allowed}).") from None


def _text(text: str, column: Column) -> str:
    if column.max_length is not None and len(text) > column.max_length:
        raise ValueError(
            f"Longer than {column.max_length} characters ({len(text)}): {quote(text)}."
        )
    return text


CONVERTERS = {
    "text": _text,
    "email": _email,
    "int": _int,
    "decimal": _decimal,
    "date": _date,
    "datetime": _datetime,
    "choice": _choice,
}


def _convert(series: pd.Series, column: Column) -> tuple[pd.Series, pd.Series]:
    """(values, reasons): per cell the typed value (or None if empty) and the error, if any."""
    convert = CONVERTERS[column.type]

    def one(text: str) -> tuple[object, str]:
        if text == "":
            return None, ("Required." if column.required else "")
        try:
            return convert(text, column), ""
        except ValueError as exc:
            return None, str(exc)

    # Each distinct cell converted once: dates, owners, stages and products repeat.
    converted: dict[str, tuple[object, str]] = {}
    pairs = [
        converted[text] if text in converted else converted.setdefault(text, one(text))
        for text in series.tolist()
    ]
    # dtype=object keeps Decimal, date and datetime values as they are (no pandas inference).
    values = pd.Series([p[0] for p in pairs], index=series.index, dtype=object)
    reasons = pd.Series([p[1] for p in pairs], index=series.index, dtype=object)
    return values, reasons


def parse(text: str, spec: Spec, column_map: dict[str, str] | None = None) -> ParsedFile:
    """Read and type-check the whole file; never raises for bad input."""
    shape_errors = field_count_errors(text)
    try:
        # Rows of the wrong length are already reported (with their lines): read past them.
        frame = _read(text, skip_bad_lines=bool(shape_errors))
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error, ValueError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else "Unreadable file."
        return ParsedFile([], [RowError(None, "", f"Not a readable CSV file: {reason}")], [], [], 0)
    mapping, ignored, errors = map_headers([str(h) for h in frame.columns], spec, column_map)
    rows_total = len(frame)
    errors += shape_errors
    if errors:
        return ParsedFile([], errors, list(mapping.values()), ignored, rows_total)
    frame = frame[list(mapping)].rename(columns=mapping)
    frame = frame.apply(lambda s: s.str.strip())
    lines = pd.Series(range(HEADER_LINE + 1, HEADER_LINE + 1 + rows_total), index=frame.index)
    typed = pd.DataFrame(index=frame.index)
    problems: list[tuple[int, str, str]] = []
    for name in frame.columns:
        column = spec.column(name)
        values, reasons = _convert(frame[name], column)
        typed[name] = values
        bad = reasons != ""
        problems += [(lines[i], name, reasons[i]) for i in frame.index[bad]]
    if "external_id" in frame.columns:
        ids = frame["external_id"]
        duplicated = (ids != "") & ids.duplicated(keep="first")
        problems += [
            (lines[i], "external_id", f"Repeats an earlier row's external id {quote(ids[i])}.")
            for i in frame.index[duplicated]
        ]
    problems.sort(key=lambda p: (p[0], p[1]))
    # Column lists zipped, not ``to_dict("records")`` nor ``lines[index]``: both box every
    # value through pandas, a third of the parse of a 100,000-row file.
    names = list(typed.columns)
    records = [
        {"_row": int(line), **dict(zip(names, values, strict=True))}
        for line, *values in zip(lines.tolist(), *(typed[n].tolist() for n in names), strict=True)
    ]
    return ParsedFile(
        records=records,
        errors=[RowError(int(r), c, reason) for r, c, reason in problems],
        columns=list(frame.columns),
        ignored_columns=ignored,
        rows_total=rows_total,
    )
