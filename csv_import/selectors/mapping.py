"""Reads of the mapping step: what a file's headers and values most likely mean, the mapping
saved for the same headers, and the names the database accepts (stages, products)."""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import pandas as pd
from django.utils import timezone

from salesmgmt.models import ImportMapping, User
from salesmgmt.visibility import visible_users

from ..mapping import (
    accepted_values,
    headers_key,
    suggest_columns,
    suggest_values,
    targets,
    with_status_from_stage,
)
from ..review import ReviewContext, option_message, options_for
from ..specs import Spec, normalize_header, spec_for

# The values of a column listed for mapping, most frequent first; rarer ones pass unchanged.
MAX_VALUES = 60


def import_mapping_saved(*, kind: str, headers: list[str]) -> ImportMapping | None:
    """The mapping confirmed last for the same set of headers (company-wide)."""
    return ImportMapping.objects.filter(kind=kind, headers_key=headers_key(headers)).first()


def _stage_names(processes: set[str]) -> list[str]:
    from accounts.models import Stage

    stages = Stage.objects.all()
    if processes:
        stages = stages.filter(process__name__in=processes)
    else:
        stages = stages.filter(process__is_default=True)
    return list(
        dict.fromkeys(stages.order_by("process_id", "order").values_list("name", flat=True))
    )


def import_review_context(
    *, processes: set[str] | None = None, viewer: User | None = None
) -> ReviewContext:
    """Today, the catalogue (names and list prices), the stage names the rows may use and,
    given the importer, the names of the people they see (a name of one of them is no typo)."""
    from accounts.models import Product

    prices = dict(Product.objects.filter(is_active=True).values_list("name", "list_price"))
    source_values = {"stage": _stage_names(processes or set()), "product": list(prices)}
    if viewer is not None:
        people = visible_users(viewer).filter(is_org_unit=False, is_active=True)
        names = people.values_list("first_name", "last_name")
        source_values["person"] = sorted({f"{first} {last}".strip() for first, last in names})
    return ReviewContext(
        today=timezone.localdate(), product_prices=prices, source_values=source_values
    )


@dataclass
class Suggestions:
    """Everything the mapping step shows for one file."""

    kind: str
    headers: list[dict]  # {header, columns, how, score, examples}
    preset: str
    saved: bool  # a saved mapping of the same headers was used
    values: list[dict] = field(default_factory=list)  # {column, accepted, values: [...]}
    options: list[dict] = field(default_factory=list)  # {name, question, count, choices, ...}
    error: str = ""  # an unreadable file: nothing else is filled


def _read_text(text: str) -> pd.DataFrame:
    return pd.read_csv(
        io.StringIO(text),
        dtype=str,
        keep_default_na=False,
        on_bad_lines="skip",
        engine="python",
    )


def file_headers(text: str) -> list[str]:
    """The header row of a file, as pandas reads it (empty for an unreadable file)."""
    try:
        return [str(h) for h in pd.read_csv(io.StringIO(text), dtype=str, nrows=0).columns]
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError):
        return []


def _column_values(frame: pd.DataFrame, header: str) -> pd.Series:
    return frame[header].str.strip().value_counts()


def _values(spec, frame, column_map, value_map, context) -> list[dict]:
    """Per mapped column with accepted values: the file's values and a suggestion each."""
    result = []
    known = {c.name for c in spec.columns}
    for header, names in column_map.items():
        if header not in frame.columns:
            continue  # a header of another file (a saved or sent mapping)
        counts = _column_values(frame, header)
        counts = counts[counts.index != ""].head(MAX_VALUES)
        for name in targets(names):
            if name not in known:
                continue  # refused when the mapping is confirmed
            column = spec.column(name)
            if not (column.choices or column.value_source):
                continue
            accepted = accepted_values(column, context.source_values.get(column.value_source))
            chosen = (value_map or {}).get(name, {})
            suggested = suggest_values([str(v) for v in counts.index], column, accepted)
            values = [
                {
                    "value": value,
                    "count": int(count),
                    "suggested": suggested[value],
                    "chosen": chosen.get(value, suggested[value]),
                }
                for value, count in counts.items()
            ]
            result.append(
                {"column": name, "header": header, "accepted": accepted, "values": values}
            )
    return result


def _rows_with_status(
    frame: pd.DataFrame, header_of: dict[str, str], values: list[dict], statuses: list[str]
) -> pd.Series:
    """Rows whose status, as the values are mapped, is one of ``statuses``."""
    if "status" not in header_of:
        return pd.Series(False, index=frame.index)
    entry: dict = next((e for e in values if e["column"] == "status"), {"values": []})
    status = frame[header_of["status"]].str.strip()
    mapped = status.map({v["value"]: v["chosen"] for v in entry["values"]}).fillna(status)
    return mapped.str.lower().isin(statuses)


def _gap_count(option, frame, header_of, values) -> int:
    """Rows with the option's cell empty (for closed_on: won or lost rows without it)."""
    headers = [header_of[c] for c in (option.column, "account_external_id") if c in header_of]
    if option.name != "account":
        headers = headers[:1]
    if headers:
        empty = (frame[headers].apply(lambda s: s.str.strip()) == "").all(axis=1)
    else:
        absent_is_empty = option.name in ("created_at", "name", "closed_on", "lost_reason")
        empty = pd.Series(absent_is_empty, index=frame.index)
    if option.name in ("closed_on", "lost_reason"):
        statuses = ["won", "lost"] if option.name == "closed_on" else ["lost"]
        empty &= _rows_with_status(frame, header_of, values, statuses)
    return int(empty.sum())


def _options(kind, frame, column_map, options, values) -> list[dict]:
    """The gap questions of the kind, with how many rows have the column's cell empty."""
    header_of = {
        name: header
        for header, names in column_map.items()
        if header in frame.columns
        for name in targets(names)
    }
    result = []
    for option in options_for(kind):
        count = _gap_count(option, frame, header_of, values)
        result.append(
            {
                "name": option.name,
                "column": option.column,
                "question": option_message(option, count),
                "count": count,
                "choices": [{"value": v, "label": label} for v, label in option.choices],
                "default": option.default,
                "suggested": option.suggested or option.default,
                "chosen": (options or {}).get(
                    option.name, (option.suggested or option.default) if count else option.default
                ),
            }
        )
    return result


def _chosen(suggested: tuple[str, ...], chosen: object) -> dict:
    columns = targets(chosen)
    return {} if columns == suggested else {"columns": list(columns), "how": "chosen"}


def import_suggestions(
    *,
    kind: str,
    text: str,
    column_map: dict[str, object] | None = None,
    value_map: dict[str, dict[str, str]] | None = None,
    options: dict[str, str] | None = None,
) -> Suggestions:
    """Suggested header and value mapping of a file; ``column_map`` etc. (the person's
    choices so far, for some headers or all) take precedence over the suggestions and the
    saved mapping."""
    spec: Spec = spec_for(kind)
    try:
        frame = _read_text(text)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        return Suggestions(kind, [], "", False, error=f"Not a readable CSV file: {exc}")
    headers = [str(h) for h in frame.columns]
    saved = import_mapping_saved(kind=kind, headers=headers)
    suggested, preset = suggest_columns(headers, spec, saved.column_map if saved else None)
    values_by_header = {h: list(_column_values(frame, h).index[:MAX_VALUES]) for h in headers}
    suggested = with_status_from_stage(suggested, values_by_header)
    # The headers ``column_map`` names, as it names them; the others as suggested.
    named = {normalize_header(h): v for h, v in (column_map or {}).items()}
    column_map = {
        s.header: named.get(normalize_header(s.header), list(s.columns)) for s in suggested
    }
    if saved is not None:
        value_map = {**saved.value_map, **(value_map or {})}
        options = {**saved.options, **(options or {})}
    processes = set()
    process_header = next((h for h, n in column_map.items() if "process" in targets(n)), None)
    if process_header:
        processes = set(frame[process_header].str.strip()) - {""}
    context = import_review_context(processes=processes)
    rows = [
        {
            **s.as_dict(),
            # The person's choice so far, where it differs from the suggestion.
            **_chosen(s.columns, column_map.get(s.header)),
            "examples": [str(v) for v in values_by_header[s.header][:3]],
        }
        for s in suggested
    ]
    values = _values(spec, frame, column_map, value_map, context)
    return Suggestions(
        kind,
        rows,
        preset,
        saved is not None,
        values=values,
        options=_options(kind, frame, column_map, options, values),
    )
