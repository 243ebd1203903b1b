"""Writes of the mapping step: a confirmed mapping, saved per kind for the same headers."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from salesmgmt.models import ImportMapping, User

from .mapping import headers_key, targets
from .review import option_problems
from .specs import spec_for


def mapping_problems(
    *,
    kind: str,
    column_map: dict[str, object],
    value_map: dict[str, dict[str, str]],
    options: dict[str, str],
) -> dict[str, str]:
    """{field: message} for columns, value maps and options the kind does not have."""
    spec = spec_for(kind)
    known = {c.name for c in spec.columns}
    problems: dict[str, str] = {}
    named = [name for value in column_map.values() for name in targets(value)]
    unknown = sorted(set(named) - known)
    if unknown:
        problems["column_map"] = f"Unknown columns: {', '.join(unknown)}."
    twice = sorted({name for name in named if named.count(name) > 1})
    if twice and "column_map" not in problems:
        problems["column_map"] = f"Several headers map to: {', '.join(twice)}."
    if not isinstance(value_map, dict) or any(
        not isinstance(m, dict) or not all(isinstance(v, str) for v in m.values())
        for m in value_map.values()
    ):
        problems["value_map"] = "Give {column: {file value: accepted value}}."
    elif set(value_map) - known:
        problems["value_map"] = f"Unknown columns: {', '.join(sorted(set(value_map) - known))}."
    option_errors = option_problems(kind, options)
    if option_errors:
        problems["options"] = " ".join(f"{k}: {v}" for k, v in option_errors.items())
    return problems


@transaction.atomic
def import_mapping_save(
    *,
    actor: User,
    kind: str,
    headers: list[str],
    column_map: dict[str, object],
    value_map: dict[str, dict[str, str]] | None = None,
    options: dict[str, str] | None = None,
) -> ImportMapping:
    """Keep the mapping of these headers for the next file of the kind (company-wide)."""
    value_map, options = value_map or {}, options or {}
    problems = mapping_problems(
        kind=kind, column_map=column_map, value_map=value_map, options=options
    )
    if not headers:
        problems["headers"] = "Give the file's headers."
    if problems:
        raise ValidationError(problems)
    mapping, _ = ImportMapping.objects.update_or_create(
        kind=kind,
        headers_key=headers_key(headers),
        defaults={
            "headers": list(headers),
            "column_map": {h: list(targets(v)) for h, v in column_map.items()},
            "value_map": value_map,
            "options": options,
            "updated_by": actor,
        },
    )
    return mapping
