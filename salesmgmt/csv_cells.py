"""The one rule for cells of every CSV export: text a spreadsheet would run is made inert.

A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read as a
formula by Excel, LibreOffice and Google Sheets (CSV injection, e.g. ``=HYPERLINK(...)``), so it
gets a leading ``'``. Numbers such as ``-12.50`` are left alone. ``None`` becomes empty.
"""

from __future__ import annotations

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """``value`` as a CSV cell that no spreadsheet evaluates."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        try:
            float(value)
        except ValueError:
            return "'" + value
    return "" if value is None else value


def safe_row(values: list[object]) -> list[object]:
    """Every cell of a row through ``spreadsheet_safe``."""
    return [spreadsheet_safe(value) for value in values]
