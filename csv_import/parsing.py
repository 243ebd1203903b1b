"""Read a CSV with pandas and check every cell against the kind's column spec.

Returns typed records (one dict per row, only the columns present) and every problem found as
``RowError(row, column, reason)``; ``row`` is the line in the file (the header is line 1), so
people can find it in a spreadsheet. Nothing here touches the database.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation

import pandas as pd
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone

from salesmgmt.money import is_money, money_range_message

from .mapping import targets
from .review import ReviewContext, columns_supplied, defaults_apply, suspicious_values
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
    # Gaps filled (or left) as the person chose, and values that look wrong (csv_import.review).
    defaulted: list[dict] = field(default_factory=list)
    suspicious: list[dict] = field(default_factory=list)


def _read(text: str, *, skip_bad_lines: bool = False) -> pd.DataFrame:
    # Everything as text: types are checked per column below, with a reason per cell.
    return pd.read_csv(
        io.StringIO(text),
        dtype=str,
        keep_default_na=False,
        skip_blank_lines=True,
        on_bad_lines="skip" if skip_bad_lines else "error",
        engine="c",
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
    headers: list[str],
    spec: Spec,
    column_map: dict[str, object] | None = None,
    supplied: set[str] | frozenset[str] = frozenset(),
) -> tuple[dict[str, tuple[str, ...]], list[str], list[RowError]]:
    """{file header: the spec columns it feeds}, the ignored headers, and mapping errors.

    A ``column_map`` value names one column or several ("Deal Stage" → stage and status);
    an empty one ignores the header. ``supplied``: columns the chosen defaults fill, so a
    file without them is not refused."""
    explicit = {normalize_header(k): targets(v) for k, v in (column_map or {}).items()}
    known = {c.name for c in spec.columns}
    spelled = {spelling: c.name for c in spec.columns for spelling in c.spellings()}
    mapping: dict[str, tuple[str, ...]] = {}
    ignored: list[str] = []
    errors: list[RowError] = []
    used: set[str] = set()
    for header in headers:
        key = normalize_header(header)
        wanted = explicit.get(key, (spelled[key],) if key in spelled else ())
        if not wanted:
            ignored.append(header)
            continue
        columns = []
        for target in wanted:
            if target not in known:
                errors.append(RowError(HEADER_LINE, header, f"Unknown target column {target!r}."))
            elif target in used:
                errors.append(RowError(HEADER_LINE, header, f"A second column maps to {target}."))
            else:
                used.add(target)
                columns.append(target)
        if columns:
            mapping[header] = tuple(columns)
    for column in spec.columns:
        if column.required and column.name not in used | supplied:
            errors.append(RowError(HEADER_LINE, column.name, "Required column is missing."))
    for group in spec.one_of:
        if not (used | supplied) & set(group):
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
    """(values, reasons): per cell the typed value (or None if empty) and the error, if any.

    Each distinct text is converted once (dates, stages and owners repeat on most rows)."""
    convert = CONVERTERS[column.type]

    def one(text: str) -> tuple[object, str]:
        if text == "":
            return None, ("Required." if column.required else "")
        try:
            return convert(text, column), ""
        except ValueError as exc:
            return None, str(exc)

    codes, uniques = pd.factorize(series, sort=False)
    pairs = [one(text) for text in uniques.tolist()]
    # dtype=object keeps Decimal, date and datetime values as they are (no pandas inference).
    values = pd.Series([p[0] for p in pairs], dtype=object).take(codes)
    reasons = pd.Series([p[1] for p in pairs], dtype=object).take(codes)
    values.index = reasons.index = series.index
    return values, reasons


def distinct_values(
    text: str, spec: Spec, column_map: dict[str, object] | None, column: str
) -> set[str]:
    """The non-empty values of one spec column in the file (empty if it has none)."""
    try:
        frame = _read(text, skip_bad_lines=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error, ValueError):
        return set()
    mapping, _, _ = map_headers([str(h) for h in frame.columns], spec, column_map)
    header = next((h for h, names in mapping.items() if column in names), None)
    if header is None:
        return set()
    return set(frame[header].str.strip()) - {""}


def _mapped_frame(frame: pd.DataFrame, mapping: dict[str, tuple[str, ...]]) -> pd.DataFrame:
    """One column per spec column, stripped; a header feeding two columns is copied."""
    columns = {
        column: frame[header].str.strip() for header, names in mapping.items() for column in names
    }
    return pd.DataFrame(columns, index=frame.index)


def values_mapped(frame: pd.DataFrame, value_map: dict[str, dict[str, str]]) -> pd.DataFrame:
    """The file's values replaced by the accepted ones the person chose (a vectorised
    ``Series.map``); values not in the map stay as they are."""
    for name, mapping in (value_map or {}).items():
        if name in frame.columns and mapping:
            series = frame[name]
            frame[name] = series.map(mapping).fillna(series)
    return frame


def parse(
    text: str,
    spec: Spec,
    column_map: dict[str, object] | None = None,
    *,
    value_map: dict[str, dict[str, str]] | None = None,
    options: dict[str, str] | None = None,
    context: ReviewContext | None = None,
) -> ParsedFile:
    """Read and type-check the whole file, mapping its values and filling its gaps as the
    person chose; never raises for bad input."""
    shape_errors = field_count_errors(text)
    try:
        # Rows of the wrong length are already reported (with their lines): read past them.
        frame = _read(text, skip_bad_lines=bool(shape_errors))
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error, ValueError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else "Unreadable file."
        return ParsedFile([], [RowError(None, "", f"Not a readable CSV file: {reason}")], [], [], 0)
    supplied = columns_supplied(spec.kind, options or {})
    headers = [str(h) for h in frame.columns]
    mapping, ignored, errors = map_headers(headers, spec, column_map, supplied)
    rows_total = len(frame)
    errors += shape_errors
    found = [name for names in mapping.values() for name in names]
    if errors:
        return ParsedFile([], errors, found, ignored, rows_total)
    raw = values_mapped(_mapped_frame(frame, mapping), value_map or {})
    lines = pd.Series(range(HEADER_LINE + 1, HEADER_LINE + 1 + rows_total), index=raw.index)
    typed = pd.DataFrame(index=raw.index)
    reasons: dict[str, pd.Series] = {}
    for name in raw.columns:
        typed[name], reasons[name] = _convert(raw[name], spec.column(name))
    context = context or ReviewContext(today=timezone.localdate())
    defaulted = defaults_apply(spec.kind, typed, reasons, options or {}, context, lines)
    parsed = ParsedFile(
        records=_records(typed, lines),
        errors=_problems(raw, reasons, lines),
        columns=list(typed.columns),
        ignored_columns=ignored,
        rows_total=rows_total,
    )
    parsed.defaulted = defaulted
    parsed.suspicious = suspicious_values(spec, raw, typed, context, lines)
    return parsed


def _problems(raw: pd.DataFrame, reasons: dict[str, pd.Series], lines: pd.Series) -> list[RowError]:
    problems: list[tuple[int, str, str]] = []
    for name, reason in reasons.items():
        bad = reason != ""
        problems += zip(
            lines[bad].tolist(), [name] * int(bad.sum()), reason[bad].tolist(), strict=True
        )
    if "external_id" in raw.columns:
        ids = raw["external_id"]
        duplicated = (ids != "") & ids.duplicated(keep="first")
        problems += [
            (lines[i], "external_id", f"Repeats an earlier row's external id {quote(ids[i])}.")
            for i in raw.index[duplicated]
        ]
    problems.sort(key=lambda p: (p[0], p[1]))
    return [RowError(int(r), c, reason) for r, c, reason in problems]


def _records(typed: pd.DataFrame, lines: pd.Series) -> list[dict]:
    names = ["_row", *typed.columns]
    # NaN (from a column the defaults added) is an empty cell like None.
    columns = [typed[n].astype(object).where(typed[n].notna(), None).tolist() for n in typed]
    return [
        dict(zip(names, row, strict=True)) for row in zip(lines.tolist(), *columns, strict=True)
    ]
