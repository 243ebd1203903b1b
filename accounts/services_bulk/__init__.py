"""Writes of many deals at once (the CSV import): the per-deal services' rules, checked for
every row in a few queries, then bulk inserts and updates in one transaction.

``opportunity_bulk_import`` (``deals``) takes typed rows (``rows.DealRow``, references already
resolved) and creates or updates each deal with the history the per-deal services would have
written (``history``); ``opportunity_bulk_problems`` says what it would refuse.
"""

from .deals import opportunity_bulk_import, opportunity_bulk_preview, opportunity_bulk_problems
from .rows import BulkImportResult, DealRow, ImportRowsInvalid, RowProblem, account_key

__all__ = [
    "BulkImportResult",
    "DealRow",
    "ImportRowsInvalid",
    "RowProblem",
    "account_key",
    "opportunity_bulk_import",
    "opportunity_bulk_preview",
    "opportunity_bulk_problems",
]
