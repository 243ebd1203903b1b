"""The documentation of each import kind's columns and its template CSV, both read from the one
source the parser uses (``csv_import.specs``), so what the page says is what the import does."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from salesmgmt.csv_cells import safe_row
from salesmgmt.models import ImportKind

from ..specs import Spec, spec_for


@dataclass(frozen=True)
class ColumnDoc:
    name: str
    spellings: tuple[str, ...]  # other headers read as this column (case and spaces ignored)
    type: str  # the parser's type: text, email, int, decimal, date, datetime, choice
    type_label: str
    required: bool
    example: str
    description: str
    choices: tuple[tuple[str, str], ...]  # (value, label) of a choice column; blank excluded
    max_length: int | None


@dataclass(frozen=True)
class KindDoc:
    kind: str
    label: str
    columns: tuple[ColumnDoc, ...]
    one_of: tuple[tuple[str, ...], ...]  # give at least one column of each group

    @property
    def template_name(self) -> str:
        return f"{self.kind}-template.csv"


def import_columns(*, kind: str) -> KindDoc:
    """Every column of ``kind``, in the order of its template. KeyError for an unknown kind."""
    spec: Spec = spec_for(kind)
    columns = tuple(
        ColumnDoc(
            name=column.name,
            spellings=column.aliases,
            type=column.type,
            type_label=column.type_label,
            required=column.required,
            example=column.example,
            description=column.description,
            choices=tuple((value, label) for value, label in column.choices if value),
            max_length=column.max_length,
        )
        for column in spec.columns
    )
    return KindDoc(kind, str(ImportKind(kind).label), columns, spec.one_of)


def import_columns_all() -> list[KindDoc]:
    """The documentation of every kind, in the order of the upload form's choices."""
    return [import_columns(kind=kind) for kind in ImportKind.values]


def import_template_csv(*, kind: str) -> str:
    """A CSV with every column of ``kind`` as its header and one example row."""
    doc = import_columns(kind=kind)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([column.name for column in doc.columns])
    # Examples are ours, but every CSV this app hands out goes through the one cell rule.
    writer.writerow(safe_row([column.example for column in doc.columns]))
    return out.getvalue()
