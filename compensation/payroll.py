"""The payroll export: one CSV row per person for a period, amounts as 2-decimal strings."""

from __future__ import annotations

import csv
import io

from salesmgmt.csv_cells import safe_row
from salesmgmt.models import Period

from .selectors import PayrollRow

HEADER = [
    "period", "employee_id", "username", "name", "email", "statement_id", "status",
    "total_amount", "adjustments_amount", "payable_amount",
]  # fmt: skip


def payroll_filename(period: Period) -> str:
    return f"payroll-{period.name.replace(' ', '-').lower()}.csv"


def payroll_csv(*, period: Period, rows: list[PayrollRow]) -> str:
    """The export's text; a payroll system reads ``payable_amount`` (total + adjustments)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for row in rows:
        statement, rep = row.statement, row.statement.rep
        # Names, emails and ids are typed by people: made inert like every CSV export's cells.
        writer.writerow(
            safe_row(
                [
                    period.name,
                    rep.external_id or rep.pk,
                    rep.username,
                    rep.get_full_name() or rep.username,
                    rep.email,
                    statement.pk,
                    statement.status,
                    f"{statement.total_amount:.2f}",
                    f"{row.adjustments_amount:.2f}",
                    f"{row.payable_amount:.2f}",
                ]
            )
        )
    return out.getvalue()
