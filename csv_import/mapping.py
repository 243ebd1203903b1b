"""Suggest how a file's headers map to a kind's columns and its values to accepted values.

Pure: headers, values and the accepted choices in, suggestions out; the page, the API and the
tests share it. Headers: an exact spelling (the column's name or an alias) or a preset of a
known CRM export first, then the closest name by ``difflib`` similarity. Values: exact, then
case-insensitive, then known synonyms ("Closed Won" → won), then the closest by similarity.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from salesmgmt.models import ImportKind

from .specs import Column, Spec, normalize_header

IGNORE = ""
# Below this ``difflib`` ratio a header or value gets no suggestion (left for the person).
HEADER_CUTOFF = 0.72
VALUE_CUTOFF = 0.7

# Export headers of common CRMs, by kind: {preset: {normalised header: column(s)}}. Chosen
# when most of a file's headers are the preset's.
PRESETS: dict[str, dict[str, dict[str, tuple[str, ...]]]] = {
    ImportKind.OPPORTUNITIES: {
        "Salesforce": {
            "opportunity_name": ("name",),
            "account_name": ("account_name",),
            "amount": ("amount",),
            "close_date": ("expected_close_on",),
            "stage": ("stage", "status"),
            "opportunity_owner": ("owner_name",),
            "created_date": ("created_at",),
            "opportunity_id": ("external_id",),
            "next_step": ("next_step",),
            "lead_source": ("lead_source",),
            "forecast_category": ("forecast_category",),
            "currency": ("currency",),
            "opportunity_currency": ("currency",),
            "product_name": ("product",),
            "quantity": ("quantity",),
        },
        "HubSpot": {
            "deal_name": ("name",),
            "deal_stage": ("stage", "status"),
            "amount": ("amount",),
            "close_date": ("expected_close_on",),
            "deal_owner": ("owner_name",),
            "create_date": ("created_at",),
            "associated_company": ("account_name",),
            "record_id": ("external_id",),
            "pipeline": ("process",),
            "currency": ("currency",),
            "closed_lost_reason": ("lost_reason",),
            "original_source": ("lead_source",),
        },
        "Pipedrive": {
            "title": ("name",),
            "value": ("amount",),
            "currency": ("currency",),
            "stage": ("stage",),
            "owner": ("owner_name",),
            "organization": ("account_name",),
            "expected_close_date": ("expected_close_on",),
            "deal_created": ("created_at",),
            "status": ("status",),
            "won_time": ("closed_on",),
            "lost_time": ("closed_on",),
            "lost_reason": ("lost_reason",),
            "pipeline": ("process",),
            "id": ("external_id",),
            "product_name": ("product",),
        },
    },
    ImportKind.ACCOUNTS: {
        "Salesforce": {
            "account_name": ("name",),
            "industry": ("industry",),
            "employees": ("employee_count",),
            "annual_revenue": ("annual_revenue",),
            "billing_country": ("country",),
            "billing_state_province": ("state",),
            "account_owner": ("owner_email",),
            "account_id": ("external_id",),
            "website": ("domain",),
        },
        "HubSpot": {
            "company_name": ("name",),
            "industry": ("industry",),
            "number_of_employees": ("employee_count",),
            "annual_revenue": ("annual_revenue",),
            "country_region": ("country",),
            "state_region": ("state",),
            "company_owner": ("owner_email",),
            "record_id": ("external_id",),
            "company_domain_name": ("domain",),
        },
        "Pipedrive": {
            "name": ("name",),
            "industry": ("industry",),
            "number_of_employees": ("employee_count",),
            "annual_revenue": ("annual_revenue",),
            "address_country": ("country",),
            "owner": ("owner_email",),
            "id": ("external_id",),
        },
    },
    ImportKind.CONTACTS: {
        "Salesforce": {
            "first_name": ("first_name",),
            "last_name": ("last_name",),
            "title": ("title",),
            "email": ("email",),
            "phone": ("phone",),
            "account_name": ("account_name",),
            "contact_id": ("external_id",),
        },
        "HubSpot": {
            "first_name": ("first_name",),
            "last_name": ("last_name",),
            "job_title": ("title",),
            "email": ("email",),
            "phone_number": ("phone",),
            "associated_company": ("account_name",),
            "record_id": ("external_id",),
        },
        "Pipedrive": {
            "first_name": ("first_name",),
            "last_name": ("last_name",),
            "job_title": ("title",),
            "email": ("email",),
            "phone": ("phone",),
            "organization": ("account_name",),
            "id": ("external_id",),
        },
    },
}
# Headers common in exports, beyond the spec's own spellings, by kind (normalised).
EXTRA_SPELLINGS: dict[str, dict[str, str]] = {
    ImportKind.OPPORTUNITIES: {
        "opportunity_id": "external_id",
        "deal_id": "external_id",
        "id": "external_id",
        "record_id": "external_id",
        "close_value": "amount",
        "deal_value": "amount",
        "value": "amount",
        "deal_amount": "amount",
        "opportunity_amount": "amount",
        "sales_rep": "owner_name",
        "salesperson": "owner_name",
        "deal_name": "name",
        "title": "name",
        "organization": "account_name",
        "company_name": "account_name",
        "customer": "account_name",
        "won_time": "closed_on",
        "actual_close_date": "closed_on",
        "create_date": "created_at",
    },
    ImportKind.ACCOUNTS: {"account_id": "external_id", "id": "external_id", "sector": "industry"},
    ImportKind.CONTACTS: {"contact_id": "external_id", "id": "external_id"},
    ImportKind.ACTIVITIES: {"activity_id": "external_id", "id": "external_id"},
}
# The share of a file's headers a preset must know to be chosen.
PRESET_SHARE = 0.6

# Status synonyms of CRM stage names (a stage column can feed the status too).
STATUS_SYNONYMS = {
    "won": ("won", "closed won", "closed_won", "closedwon", "win", "signed", "booked"),
    "lost": ("lost", "closed lost", "closed_lost", "closedlost", "loss", "dead", "churned"),
    "open": (
        "open",
        "engaging",
        "prospecting",
        "qualification",
        "qualify",
        "needs analysis",
        "proposal",
        "negotiation",
        "discovery",
        "in progress",
        "active",
    ),
}


@dataclass(frozen=True)
class HeaderSuggestion:
    header: str
    columns: tuple[str, ...]  # empty: ignored
    how: str  # "saved", "preset", "spelling", "similar" or "" (nothing close)
    score: float

    def as_dict(self) -> dict:
        return {
            "header": self.header,
            "columns": list(self.columns),
            "how": self.how,
            "score": round(self.score, 2),
        }


def headers_key(headers: Iterable[str]) -> str:
    """One key for a set of headers: order, case and punctuation ignored."""
    names = sorted({normalize_header(h) for h in headers if str(h).strip()})
    return hashlib.sha256("\n".join(names).encode()).hexdigest()


def targets(value: object) -> tuple[str, ...]:
    """A column_map value as the columns it names: "a", ["a", "b"] or "a, b"."""
    if isinstance(value, str):
        items: list | tuple = value.split(",")
    elif isinstance(value, list | tuple):
        items = value
    else:
        return ()
    return tuple(dict.fromkeys(str(item).strip().lower() for item in items if str(item).strip()))


def preset_for(kind: str, headers: list[str]) -> str:
    """The CRM export the headers come from, or "" when none knows most of them."""
    keys = {normalize_header(h) for h in headers}
    best, best_share = "", 0.0
    for name, preset in PRESETS.get(kind, {}).items():
        share = len(keys & preset.keys()) / max(len(keys), 1)
        if share >= PRESET_SHARE and share > best_share:
            best, best_share = name, share
    return best


def _similar_column(header: str, spec: Spec) -> tuple[str, float]:
    key = normalize_header(header)
    best, best_score = "", 0.0
    for column in spec.columns:
        if key.endswith("_id") != column.name.endswith("_id"):
            continue  # an id is never a name or a date, however alike they are spelled
        for spelling in column.spellings():
            score = difflib.SequenceMatcher(None, key, spelling).ratio()
            if score > best_score:
                best, best_score = column.name, score
    return (best, best_score) if best_score >= HEADER_CUTOFF else ("", best_score)


def suggest_columns(
    headers: list[str], spec: Spec, saved: dict[str, object] | None = None
) -> tuple[list[HeaderSuggestion], str]:
    """A suggestion per header (each column used once) and the preset chosen ("" if none)."""
    preset_name = preset_for(spec.kind, headers)
    preset = PRESETS.get(spec.kind, {}).get(preset_name, {})
    saved_by_key = {normalize_header(k): targets(v) for k, v in (saved or {}).items()}
    spelled = {**EXTRA_SPELLINGS.get(spec.kind, {})}
    spelled.update({s: c.name for c in spec.columns for s in c.spellings()})
    known = {c.name for c in spec.columns}
    taken: set[str] = set()
    firm: dict[str, tuple[tuple[str, ...], str]] = {}
    for header in headers:  # exact answers first, so a near match cannot take their column
        key = normalize_header(header)
        if key in saved_by_key:
            firm[header] = (saved_by_key[key], "saved")
        elif key in preset:
            firm[header] = (preset[key], "preset")
        elif key in spelled:
            firm[header] = ((spelled[key],), "spelling")
        else:
            continue
        columns = tuple(c for c in firm[header][0] if c in known and c not in taken)
        firm[header] = (columns, firm[header][1])
        taken.update(columns)
    suggestions = []
    for header in headers:
        if header in firm:
            columns, how = firm[header]
            suggestions.append(HeaderSuggestion(header, columns, how, 1.0))
            continue
        column, score = _similar_column(header, spec)
        if column and column not in taken:
            taken.add(column)
            suggestions.append(HeaderSuggestion(header, (column,), "similar", score))
        else:
            suggestions.append(HeaderSuggestion(header, (), "", score))
    return suggestions, preset_name


def accepted_values(column: Column, source_values: list[str] | None = None) -> list[str]:
    """What a column takes: its choices, or the names from the database (stages, products)."""
    if column.choices:
        return [value for value, _ in column.choices if value]
    return list(source_values or [])


def suggest_value(value: str, column: Column, accepted: list[str]) -> str:
    """The accepted value a file's value most likely means, or "" (none close)."""
    text = value.strip()
    if not text or not accepted:
        return ""
    if text in accepted:
        return text
    lowered = {a.lower(): a for a in accepted}
    for label_value, label in column.choices:
        lowered.setdefault(label.lower(), label_value)
        lowered.setdefault(label_value.replace("_", " ").lower(), label_value)
    if text.lower() in lowered:
        return lowered[text.lower()]
    if column.name == "status":
        for status, synonyms in STATUS_SYNONYMS.items():
            if text.lower() in synonyms and status in accepted:
                return status
    squashed = {a.lower().replace(" ", ""): a for a in accepted}
    if text.lower().replace(" ", "") in squashed:
        return squashed[text.lower().replace(" ", "")]
    close = difflib.get_close_matches(text.lower(), list(lowered), n=1, cutoff=VALUE_CUTOFF)
    return lowered[close[0]] if close else ""


def suggest_values(values: list[str], column: Column, accepted: list[str]) -> dict[str, str]:
    """{file value: suggested accepted value or ""} for each distinct value."""
    return {value: suggest_value(value, column, accepted) for value in values}


def with_status_from_stage(
    suggestions: list[HeaderSuggestion], values_by_header: dict[str, list[str]]
) -> list[HeaderSuggestion]:
    """A stage header whose values include won or lost also feeds ``status`` when no header
    does (a text stage such as "Engaging"/"Won" carries both)."""
    if any("status" in s.columns for s in suggestions):
        return suggestions
    closed = set(STATUS_SYNONYMS["won"] + STATUS_SYNONYMS["lost"])
    result = []
    for suggestion in suggestions:
        values = {v.strip().lower() for v in values_by_header.get(suggestion.header, [])}
        if "stage" in suggestion.columns and values & closed:
            suggestion = HeaderSuggestion(
                suggestion.header, (*suggestion.columns, "status"), suggestion.how, suggestion.score
            )
        result.append(suggestion)
    return result
