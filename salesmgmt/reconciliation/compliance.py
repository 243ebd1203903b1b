"""Compliance summaries rebuilt: open deals, and those without a next step or with a close
date in the past (coaching.compliance's definitions; the activity and evidence checks are
not rebuilt here)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from .records import Book, as_date, fetch
from .report import Collector


def check_compliance(book: Book, collector: Collector, today: dt.date) -> None:
    """Compliance summaries: open deals, and those failing the next-step and close-date checks
    (open: open now and created by the end of ``as_of``)."""
    rows = fetch(
        "SELECT user_id, as_of, open_deal_count, failing_next_step, failing_close_date"
        " FROM coaching_compliancesummary"
    )
    deals = fetch(
        "SELECT id, owner_id, next_step, expected_close_on, created_at"
        " FROM accounts_opportunity WHERE status = 'open'"
    )
    pending = {row[0] for row in fetch("SELECT DISTINCT user_id FROM coaching_compliancechange")}
    for user_id, as_of, open_count, no_next_step, past_close in rows:
        person = book.people.get(user_id)
        as_of = as_date(as_of)
        mine = [d for d in deals if d[1] == user_id and _created_by(d[4], as_of)]
        context = {
            "aggregate": "compliance summary",
            "person": person,
            "period": None,
            "note": f"as of {as_of}" + (" (a refresh is pending)" if user_id in pending else ""),
        }
        for figure, stored, chosen in (
            ("open_deal_count", open_count, mine),
            ("failing_next_step", no_next_step, [d for d in mine if not (d[2] or "").strip()]),
            ("failing_close_date", past_close, [d for d in mine if as_date(d[3]) < as_of]),
        ):
            collector.number(
                stored,
                len(chosen),
                figure=figure,
                records=tuple(f"deal {d[0]}" for d in sorted(chosen)),
                **context,
            )


def _created_by(created_at: object, as_of: dt.date) -> bool:
    """Created by the end of ``as_of`` in the local zone."""
    if isinstance(created_at, str):
        created_at = dt.datetime.fromisoformat(created_at)
    if timezone.is_naive(created_at):
        created_at = timezone.make_aware(created_at, dt.UTC)
    return timezone.localtime(created_at).date() <= as_of
