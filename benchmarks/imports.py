"""The CSV import of a generated file through the real import service, rolled back."""

from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass

from django.db import transaction

from csv_import import apply, parsing, specs
from salesmgmt.models import ImportKind, User

INDUSTRIES = ["Software", "Manufacturing", "Retail", "Finance", "Healthcare", "Logistics"]


class _RollBack(Exception):
    """Raised to leave the benchmark's transaction without keeping anything."""


@dataclass(frozen=True)
class ImportTiming:
    rows: int
    dry_run: bool
    seconds: float
    created: int
    errors: int

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def accounts_csv(*, rows: int, owner_emails: list[str]) -> str:
    """``rows`` new accounts, each with an owner from ``owner_emails`` and an external id."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["name", "industry", "employee_count", "country", "owner_email", "external_id"])
    for n in range(rows):
        writer.writerow(
            [
                f"Bench account {n:06d}",
                INDUSTRIES[n % len(INDUSTRIES)],
                10 + n % 5000,
                "US",
                owner_emails[n % len(owner_emails)],
                f"bench-{n:06d}",
            ]
        )
    return buffer.getvalue()


def time_import(*, actor: User, text: str, dry_run: bool) -> ImportTiming:
    """Parse and apply ``text`` as an accounts import; roll back even a real run."""
    started = time.perf_counter()
    parsed = parsing.parse(text, specs.spec_for(ImportKind.ACCOUNTS))
    try:
        with transaction.atomic():
            result = apply.apply(
                kind=ImportKind.ACCOUNTS,
                actor=actor,
                parsed=parsed,
                dry_run=dry_run,
                progress=lambda done: None,
            )
            elapsed = time.perf_counter() - started
            raise _RollBack
    except _RollBack:
        pass
    return ImportTiming(
        rows=parsed.rows_total,
        dry_run=dry_run,
        seconds=elapsed,
        created=result.created,
        errors=len(result.errors),
    )
