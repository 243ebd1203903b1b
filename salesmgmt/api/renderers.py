"""CSV export: any list endpoint with ``?format=csv`` or ``Accept: text/csv``.

Nested values (``{"id", "name"}`` references) become ``owner.id``, ``owner.name`` columns.
Text that a spreadsheet would run as a formula is prefixed with ``'`` (CSV injection), by
``salesmgmt.csv_cells``, the rule every CSV export shares.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from rest_framework.renderers import BaseRenderer

from salesmgmt.csv_cells import spreadsheet_safe


def flatten(row: dict, prefix: str = "") -> dict[str, object]:
    flat: dict[str, object] = {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        elif isinstance(value, list):
            flat[name] = "; ".join(str(item) for item in value)
        else:
            flat[name] = value
    return flat


def iter_csv(rows: Iterable[dict]) -> Iterator[str]:
    """CSV text line by line (for streaming); the header comes from the first row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    header: list[str] | None = None
    for row in rows:
        flat = flatten(row)
        if header is None:
            header = list(flat)
            writer.writerow(header)
        writer.writerow([spreadsheet_safe(flat.get(name)) for name in header])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


class CSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if isinstance(data, dict):
            data = data.get("results", [data])
        return "".join(iter_csv(data or [])).encode(self.charset)
