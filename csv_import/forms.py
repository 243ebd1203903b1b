"""The upload form of the CSV import page."""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.http import QueryDict

from salesmgmt.models import ImportKind

from .mapping import targets
from .specs import normalize_header, spec_for


def _quote(value: str) -> str:
    return f'"{value[:60]}…"' if len(value) > 60 else f'"{value}"'


def one_or_several(columns: tuple[str, ...] | list[str]) -> str | list[str]:
    """A column_map value as stored: one column as its name, several as a list, none as ""."""
    return columns[0] if len(columns) == 1 else list(columns) if columns else ""


def parse_column_map(text: str) -> tuple[dict[str, str | list[str]], list[str]]:
    """``"File header = column"`` per line → ({file header: columns}, problems per bad line).

    The column may be written in any case; several, comma-separated, take the same header
    ("Deal Stage = stage, status"); blank lines are skipped."""
    mapping: dict[str, str | list[str]] = {}
    seen: dict[str, str] = {}
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        header, sep, column = (part.strip() for part in line.partition("="))
        if not sep or not header or not column:
            problems.append(
                f"Line {number}: write it as “file header = column”, not {_quote(line)}."
            )
            continue
        key = normalize_header(header)
        if key in seen:
            problems.append(f"Line {number}: the header {_quote(header)} is mapped twice.")
            continue
        seen[key] = header
        mapping[header] = one_or_several(targets(column))
    return mapping, problems


class ImportForm(forms.Form):
    kind = forms.ChoiceField(choices=ImportKind.choices, label="The file contains")
    file = forms.FileField(label="CSV file (UTF-8)")
    dry_run = forms.BooleanField(
        required=False, initial=True, label="Dry run: check every row, import nothing"
    )
    map_first = forms.BooleanField(
        required=False,
        initial=True,
        label="Show me how the headers and values are read first (the mapping step)",
    )
    column_map = forms.CharField(
        required=False,
        strip=False,
        max_length=10_000,
        label="Your headers (optional)",
        help_text=(
            "When your file's headers differ from the columns below: one per line, "
            "“file header = column”, e.g. “Sales Rep = owner_email”; a header may feed "
            "several columns: “Deal Stage = stage, status”. The mapping step suggests them."
        ),
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                f"The file is larger than {settings.IMPORT_MAX_BYTES // 2**20} MB."
            )
        return upload

    def clean(self):
        cleaned = super().clean()
        mapping, problems = parse_column_map(cleaned.get("column_map") or "")
        kind = cleaned.get("kind")
        if kind:
            spec = spec_for(kind)
            known = {column.name for column in spec.columns}
            label = ImportKind(kind).label
            problems += [
                f"{_quote(header)} = {_quote(column)}: {_quote(column)} is not a column of "
                f"{label} (see the columns below)."
                for header, columns in mapping.items()
                for column in targets(columns)
                if column not in known
            ]
        if problems:
            self.add_error("column_map", problems)
        cleaned["column_map"] = mapping
        return cleaned


class ImportMappingForm(forms.Form):
    """The mapping step: its fields depend on the file (see ``mapping_choices``); this form
    carries the service's refusal back to the page."""


@dataclass
class MappingChoices:
    """What the person chose on the mapping step (read from the posted form)."""

    column_map: dict[str, str | list[str]]
    value_map: dict[str, dict[str, str]]
    options: dict[str, str]
    remember: bool
    run: bool  # "Check the file" (else: show the values of the columns as now mapped)


def mapping_choices(post: QueryDict, headers: list[str]) -> MappingChoices:
    """The mapping page's fields: ``column-<i>``/``also-<i>`` per header (by position),
    ``value-<column>-<k>`` with its file value in ``value-<column>-<k>-text``, and
    ``option-<name>``. Unknown columns and answers are refused by the service."""
    column_map = {}
    for index, header in enumerate(headers):
        picked = [post.get(f"{prefix}-{index}", "").strip() for prefix in ("column", "also")]
        column_map[header] = one_or_several(list(dict.fromkeys(p for p in picked if p)))
    value_map: dict[str, dict[str, str]] = {}
    options: dict[str, str] = {}
    for key, chosen in post.items():
        if key.startswith("value-") and not key.endswith("-text"):
            column = key[len("value-") :].rsplit("-", 1)[0]
            text = post.get(f"{key}-text")
            if text is not None:
                value_map.setdefault(column, {})[text] = chosen
        elif key.startswith("option-"):
            options[key[len("option-") :]] = chosen
    return MappingChoices(
        column_map=column_map,
        value_map=value_map,
        options=options,
        remember=post.get("remember") == "on",
        run=post.get("action") == "run",
    )
