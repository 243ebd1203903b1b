"""Compliance summaries rebuilt: every stored column (coaching.compliance's definitions).

As of the day the summary records (``as_of``): open deals (open now, created by the end of
``as_of``, local zone); those without a next step; with a completed milestone without
evidence (the latest record of each milestone is a completion with blank evidence); with no
activity from midnight 14 days before ``as_of`` to the end of ``as_of``; with a close date
before ``as_of``; the deals passing every check; and the undocumented completions.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.utils import timezone

from .flags import as_datetime
from .records import Book, as_date, fetch
from .report import Collector

ACTIVITY_WINDOW_DAYS = 14


def check_compliance(book: Book, collector: Collector, today: dt.date) -> None:
    """Each stored compliance summary against the records, as of its own ``as_of``."""
    rows = fetch(
        "SELECT user_id, as_of, open_deal_count, passing_count, failing_next_step,"
        " failing_evidence, failing_recent_activity, failing_close_date,"
        " missing_evidence_count FROM coaching_compliancesummary"
    )
    deals = fetch(
        "SELECT id, owner_id, next_step, expected_close_on, created_at"
        " FROM accounts_opportunity WHERE status = 'open'"
    )
    open_ids = {d[0] for d in deals}
    # Stale marks of the one refresh path (salesmgmt.refresh): pending or in flight.
    pending = {
        row[0]
        for row in fetch(
            "SELECT DISTINCT person_key FROM salesmgmt_stalemark WHERE kind = 'compliance'"
        )
    }
    # The latest milestone record per (deal, milestone), by completion time then id.
    latest: dict[tuple[int, int], tuple] = {}
    records = [
        (deal_id, milestone_id, record_id, action, evidence, as_datetime(at))
        for deal_id, milestone_id, record_id, action, evidence, at in fetch(
            "SELECT opportunity_id, milestone_id, id, action, evidence, completed_at"
            " FROM accounts_milestonecompletion"
        )
        if deal_id in open_ids
    ]
    for deal_id, milestone_id, record_id, action, evidence, _at in sorted(
        records, key=lambda r: (r[5], r[2])
    ):
        latest[(deal_id, milestone_id)] = (record_id, action, evidence)
    undocumented: dict[int, list[int]] = defaultdict(list)
    for (deal_id, _milestone_id), (record_id, action, evidence) in sorted(latest.items()):
        if action == "complete" and not (evidence or "").strip():
            undocumented[deal_id].append(record_id)
    activities: dict[int, list[dt.datetime]] = defaultdict(list)
    for deal_id, at in fetch(
        "SELECT opportunity_id, occurred_at FROM accounts_activity WHERE opportunity_id IS NOT NULL"
    ):
        if deal_id in open_ids:
            activities[deal_id].append(as_datetime(at))

    # An activity counts once held (coaching.compliance: ``Activity.objects.held``): a
    # meeting later today is not work done yet. By now, not by the summary's computed_at:
    # a call logged after the summary must still show it stale.
    held_by = timezone.now()
    for user_id, as_of, *stored in rows:
        person = book.people.get(user_id)
        as_of = as_date(as_of)
        window_start, day_end = _day_bounds(as_of)
        mine = [d for d in deals if d[1] == user_id and _created_by(d[4], as_of)]
        failing = {
            "failing_next_step": [d for d in mine if not (d[2] or "").strip()],
            "failing_evidence": [d for d in mine if undocumented.get(d[0])],
            "failing_recent_activity": [
                d
                for d in mine
                if not any(
                    window_start <= at < day_end and at <= held_by
                    for at in activities.get(d[0], [])
                )
            ],
            "failing_close_date": [d for d in mine if as_date(d[3]) < as_of],
        }
        failing_ids = {d[0] for chosen in failing.values() for d in chosen}
        missing = [r for d in mine for r in undocumented.get(d[0], [])]
        context = {
            "aggregate": "compliance summary",
            "person": person,
            "period": None,
            "note": f"as of {as_of}" + (" (a refresh is pending)" if user_id in pending else ""),
        }
        named = {
            figure: [f"deal {d[0]}" for d in sorted(chosen)] for figure, chosen in failing.items()
        }
        expected = [
            ("open_deal_count", [f"deal {d[0]}" for d in sorted(mine)]),
            ("passing_count", [f"deal {d[0]}" for d in sorted(mine) if d[0] not in failing_ids]),
            *named.items(),
            ("missing_evidence_count", [f"milestone record {r}" for r in sorted(missing)]),
        ]
        for (figure, records_named), value in zip(expected, stored, strict=True):
            collector.number(
                value, len(records_named), figure=figure, records=tuple(records_named), **context
            )


def _day_bounds(as_of: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Local midnight ``ACTIVITY_WINDOW_DAYS`` before ``as_of`` to the end of ``as_of``."""
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(as_of - dt.timedelta(days=ACTIVITY_WINDOW_DAYS), dt.time.min)
    end = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time.min)
    return timezone.make_aware(start, zone), timezone.make_aware(end, zone)


def _created_by(created_at: object, as_of: dt.date) -> bool:
    """Created by the end of ``as_of`` in the local zone."""
    if isinstance(created_at, str):
        created_at = dt.datetime.fromisoformat(created_at)
    if timezone.is_naive(created_at):
        created_at = timezone.make_aware(created_at, dt.UTC)
    return timezone.localtime(created_at).date() <= as_of
