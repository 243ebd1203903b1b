"""The upload form of the CSV import page."""

from __future__ import annotations

from django import forms
from django.conf import settings

from salesmgmt.models import ImportKind

from .specs import normalize_header, spec_for


def _quote(value: str) -> str:
    return f'"{value[:60]}…"' if len(value) > 60 else f'"{value}"'


def parse_column_map(text: str) -> tuple[dict[str, str], list[str]]:
    """``"File header = column"`` per line → ({file header: column}, problems per bad line).

    The column may be written in any case; blank lines are skipped."""
    mapping: dict[str, str] = {}
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
        mapping[header] = column.lower()
    return mapping, problems


class ImportForm(forms.Form):
    kind = forms.ChoiceField(choices=ImportKind.choices, label="The file contains")
    file = forms.FileField(label="CSV file (UTF-8)")
    dry_run = forms.BooleanField(
        required=False, initial=True, label="Dry run: check every row, import nothing"
    )
    column_map = forms.CharField(
        required=False,
        strip=False,
        max_length=10_000,
        label="Your headers (optional)",
        help_text=(
            "When your file's headers differ from the columns below: one per line, "
            "“file header = column”, e.g. “Sales Rep = owner_email”."
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
                for header, column in mapping.items()
                if column not in known
            ]
        if problems:
            self.add_error("column_map", problems)
        cleaned["column_map"] = mapping
        return cleaned
