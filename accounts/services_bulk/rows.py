"""What a bulk import of deals takes and gives: typed rows in, problems or counts out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from salesmgmt.errors import ApplicationError

if TYPE_CHECKING:
    from salesmgmt.models import User

    from ..models import Account, Product, SalesProcess, Stage

Progress = Callable[[int], None]


def account_key(name: str) -> str:
    """Names of accounts to create compare with case and runs of spaces aside."""
    return " ".join(name.split()).casefold()


@dataclass
class DealRow:
    """One deal of an import, its references resolved (``row``: its line in the file).

    ``None`` in an optional field means "not given": a new deal takes the default, a deal
    found by ``external_id`` keeps what it has. ``account`` None with ``new_account_name``: an
    account of that name is created, owned by the deal's owner.
    """

    row: int
    name: str
    amount: Decimal
    expected_close_on: dt.date
    account: Account | None = None
    new_account_name: str = ""
    owner: User | None = None  # None: the actor for a new deal
    external_id: str = ""
    currency: str = ""  # "": the reporting currency (a new deal) or unchanged
    process: SalesProcess | None = None  # None: the default process
    stage: Stage | None = None  # None: the first stage (new), unchanged (found)
    status: str = "open"
    closed_on: dt.date | None = None
    lost_reason: str = ""
    forecast_category: str | None = None  # "" clears the rep's choice
    next_step: str | None = None
    lead_source: str | None = None
    product: Product | None = None
    quantity: Decimal | None = None  # None: 1 (with a product)
    created_at: dt.datetime | None = None  # None: the time of the import
    # Fields whose value the caller could not resolve (and has reported): not checked again.
    unresolved: frozenset[str] = frozenset()


@dataclass(frozen=True)
class RowProblem:
    """Why a row cannot be imported: ``field`` is the deal's field ("" for the whole row)."""

    row: int
    field: str
    message: str


@dataclass
class BulkImportResult:
    created: int = 0
    updated: int = 0
    deal_ids: list[int] = field(default_factory=list)
    accounts_created: list[str] = field(default_factory=list)


class ImportRowsInvalid(ApplicationError):
    """Some rows break a rule: nothing was written; ``problems`` says which and why."""

    def __init__(self, problems: list[RowProblem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the rows; nothing was imported.")
        self.problems = problems
