"""The one sanitation point for text that comes from outside: JSON depth, lone surrogates, NUL.

Used by the API's parsers (``salesmgmt.api.parsers``), the middleware that checks query strings
and form posts (``salesmgmt.middleware.InputSanitationMiddleware``) and the CSV import. Why:

- JSON nested tens of thousands of levels deep makes Python's decoder (and anything walking the
  result) raise RecursionError: a 500. The depth is measured on the raw text, without recursion.
- A lone surrogate (``"\\ud800"`` in JSON) is not Unicode: SQLite, psycopg2 and the UTF-8 encoders
  fail on it with a 500. A NUL character is refused by PostgreSQL text columns the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Deeper than any payload of ours (the deepest is a list of objects in an object): generous.
MAX_JSON_DEPTH = 64

INVALID_UNICODE = "Invalid unicode: lone surrogate characters are not allowed."
NUL_CHARACTER = "Null characters are not allowed."

# A JSON string literal, unrolled so long strings cost no backtracking.
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_BAD_CHARACTER = re.compile("[\x00\ud800-\udfff]")


def json_too_deep(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text nests arrays/objects deeper than ``limit`` (brackets in strings
    do not count). A flat scan, so it cannot itself run out of stack."""
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    depth = 0
    for bracket in brackets:
        if bracket in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be stored (a lone surrogate or a NUL), or None if it can."""
    found = _BAD_CHARACTER.search(text)
    if found is None:
        return None
    return NUL_CHARACTER if found.group() == "\x00" else INVALID_UNICODE


def find_text_problem(data: object) -> tuple[str, str] | None:
    """The first (path, reason) of a bad string in parsed data (keys included), or None.

    ``path`` names the field as the API's error shape does: ``deals.0.name``. The walk is
    iterative: parsed data is bounded by MAX_JSON_DEPTH, but this must not rely on it.
    """
    stack: list[tuple[str, object]] = [("", data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            reason = text_problem(value)
            if reason:
                return path or "non_field_errors", reason
        elif isinstance(value, dict):
            for key, item in value.items():
                key_text = str(key)
                reason = text_problem(key_text)
                if reason:
                    return path or "non_field_errors", reason
                stack.append((_join(path, key_text), item))
        elif isinstance(value, list | tuple):
            stack.extend((_join(path, str(i)), item) for i, item in enumerate(value))
    return None


def find_pair_problem(pairs: Iterable[tuple[str, object]]) -> tuple[str, str] | None:
    """The first (name, reason) of a bad name or value among query or form pairs (a name
    without a value reads as ``[]``, which has no text to refuse)."""
    for name, value in pairs:
        reason = text_problem(name) or (text_problem(value) if isinstance(value, str) else None)
        if reason:
            return name if not text_problem(name) else "non_field_errors", reason
    return None


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
