"""Inspection flags rebuilt: the set of (deal, kind) each open deal should carry.

Each rule of forecasting.analytics.flags is restated here over plain SQL rows in plain
Python, at the moment the stored flags were computed (their ``computed_at``; the rules
read "now": the activity window, days in stage, the close date). Rules:

- pushed_twice: the close date moved later (new > old in the change log) 2+ times;
- no_activity: no two-way contact on the deal from ``now - 14 days`` to ``now`` (one
  scheduled later has not happened yet): mail received (direction inbound), a meeting or
  demo not marked no-answer, a call whose outcome is connected, positive or negative;
- stuck_in_stage: days since ``stage_entered_at`` above the 80th percentile (linear) of the
  completed stays in that stage (from the stage change log) of the open deals of the owner's
  team (same manager); of every deal when the team has fewer than 5 stays; none with fewer;
- close_date_past: the expected close date before ``now``'s UTC day;
- milestone_skipped: the latest record of a milestone of a later stage is a counting
  completion (complete, verified or not requiring it);
- single_contact: amount (reporting currency at the expected close date) at or above the
  75th percentile of open deals, with at most one contact in the deal's buying group (the
  distinct participants of its activities) or, when it has none, at the account;
- no_decision_maker: no decision-maker contact at the account;
- late_amount_change: an amount change of more than 20 % at or after 30 days before the end
  of the quarter the expected close date falls in;
- imported_unworked: a deal with ``imported_at`` and, after it, no activity (``occurred_at``
  up to ``now``)
  and no milestone record other than an imported one carries, instead of its pushed_twice,
  no_activity, stuck_in_stage and close_date_past flags, one flag whose detail names them
  ("imported, not worked here since; would be: " and the kinds in alphabetical order).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from decimal import Decimal, InvalidOperation

from django.utils import timezone

from .records import Book, as_date, fetch
from .report import Collector, Difference

NO_ACTIVITY_DAYS = 14


def _is_two_way(kind: str, direction: str, outcome: str) -> bool:
    """The customer took part: a reply received, a meeting held, a call answered."""
    if kind == "email":
        return direction == "inbound"
    if kind in ("meeting", "demo"):
        return outcome != "no_answer"
    return kind == "call" and outcome in ("connected", "positive", "negative")


STUCK_PERCENTILE = 0.8
MIN_SAMPLES = 5
LARGE_DEAL_QUANTILE = 0.75
LATE_DAYS = 30
LATE_CHANGE = Decimal("0.2")
COUNTING = ("not_required", "verified", "imported")


def as_datetime(value: object) -> dt.datetime | None:
    """An aware UTC datetime (SQLite hands back naive UTC text)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time.min)
    if timezone.is_naive(value):
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def quantile(values: list[float], q: float) -> float | None:
    """Linear interpolation between the closest ranks (numpy's default)."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    t = position - low
    a, b = ordered[low], ordered[high]
    return b - (b - a) * (1 - t) if t >= 0.5 else a + (b - a) * t


def _days(delta: dt.timedelta) -> float:
    return delta.total_seconds() / 86400


def stored_flags() -> tuple[dict[tuple[int, str], tuple[int, str]], set[dt.datetime]]:
    """(deal, kind) -> (owner, detail), and the distinct times they were computed at."""
    flags, times = {}, set()
    for deal_id, owner_id, kind, detail, computed_at in fetch(
        "SELECT opportunity_id, owner_id, kind, detail, computed_at FROM forecasting_inspectionflag"
    ):
        flags[(deal_id, kind)] = (owner_id, detail)
        times.add(as_datetime(computed_at))
    return flags, times


def expected_flags(book: Book, now: dt.datetime) -> dict[tuple[int, str], tuple[str, list[str]]]:
    """(deal, kind) -> (detail, the raw facts behind it), for every open deal as of ``now``."""
    now = as_datetime(now)
    today = now.date()
    deals = {
        row[0]: row
        for row in fetch(
            'SELECT o.id, o.owner_id, u.manager_id, o.stage_id, s."order", o.stage_entered_at,'
            " o.account_id, o.expected_close_on FROM accounts_opportunity o"
            " JOIN salesmgmt_user u ON u.id = o.owner_id"
            " LEFT JOIN accounts_stage s ON s.id = o.stage_id WHERE o.status = 'open'"
        )
    }
    out: dict[tuple[int, str], tuple[str, list[str]]] = {}
    if not deals:
        return out

    changes: dict[str, list[tuple]] = defaultdict(list)
    for change_id, deal_id, field, old, new, at in fetch(
        "SELECT id, opportunity_id, field, old_value, new_value, changed_at"
        " FROM accounts_opportunitychange"
        " WHERE field IN ('expected_close_on', 'amount', 'stage')"
    ):
        changes[field].append((deal_id, as_datetime(at), change_id, old, new))
    for rows in changes.values():
        rows.sort(key=lambda r: (r[0], r[1], r[2]))

    # pushed_twice
    pushes: dict[int, list[str]] = defaultdict(list)
    for deal_id, at, _id, old, new in changes["expected_close_on"]:
        if deal_id in deals and old and new and as_date(new) > as_date(old):
            pushes[deal_id].append(f"close date {old} -> {new} on {at:%Y-%m-%d}")
    for deal_id, facts in pushes.items():
        if len(facts) >= 2:
            out[(deal_id, "pushed_twice")] = (f"{len(facts)} pushes", facts)

    # no_activity
    since = now - dt.timedelta(days=NO_ACTIVITY_DAYS)
    touched = {
        deal_id
        for deal_id, at, kind, direction, outcome in fetch(
            "SELECT opportunity_id, occurred_at, kind, direction, outcome FROM accounts_activity"
            " WHERE opportunity_id IS NOT NULL"
        )
        if since <= as_datetime(at) <= now and _is_two_way(kind, direction, outcome)
    }
    for deal_id in deals:
        if deal_id not in touched:
            out[(deal_id, "no_activity")] = (
                f"no two-way contact in {NO_ACTIVITY_DAYS} days",
                [f"no two-way contact since {since:%Y-%m-%d %H:%M} UTC"],
            )

    # stuck_in_stage
    stays: list[tuple[int, int, float]] = []  # (deal, stage, days)
    stage_rows = changes["stage"]
    for index, (deal_id, at, _id, _old, new) in enumerate(stage_rows):
        following = stage_rows[index + 1] if index + 1 < len(stage_rows) else None
        if following is None or following[0] != deal_id:
            continue
        try:
            stage_id = int(new)
        except (TypeError, ValueError):
            continue
        stays.append((deal_id, stage_id, _days(following[1] - at)))
    if stays:
        by_team: dict[tuple[int, int], list[float]] = defaultdict(list)
        by_stage: dict[int, list[float]] = defaultdict(list)
        for deal_id, stage_id, days in stays:
            by_stage[stage_id].append(days)
            manager_id = deals[deal_id][2] if deal_id in deals else None
            if manager_id is not None:
                by_team[(manager_id, stage_id)].append(days)
        for deal_id, (_, _, manager_id, stage_id, _, entered, _, _) in deals.items():
            entered = as_datetime(entered)
            if stage_id is None or entered is None:
                continue
            sample = by_team.get((manager_id, stage_id), [])
            source = "team"
            if len(sample) < MIN_SAMPLES:
                sample, source = by_stage.get(stage_id, []), "company"
            if len(sample) < MIN_SAMPLES:
                continue
            limit = quantile(sample, STUCK_PERCENTILE)
            days_in = _days(now - entered)
            if days_in > limit:
                out[(deal_id, "stuck_in_stage")] = (
                    f"{round(days_in)} days in stage",
                    [
                        f"in stage {stage_id} since {entered:%Y-%m-%d %H:%M}",
                        f"{source} 80th percentile {limit:.1f} days of {len(sample)} stays",
                    ],
                )

    # close_date_past
    for deal_id, row in deals.items():
        close_on = as_date(row[7])
        if close_on < today:
            out[(deal_id, "close_date_past")] = (
                "close date passed",
                [f"expected close {close_on}"],
            )

    # milestone_skipped
    records = [
        (deal_id, milestone_id, action, state, as_datetime(at), record_id, order)
        for deal_id, milestone_id, action, state, order, at, record_id in fetch(
            'SELECT c.opportunity_id, c.milestone_id, c.action, c.verification_state, s."order",'
            " c.completed_at, c.id FROM accounts_milestonecompletion c"
            " JOIN accounts_milestone m ON m.id = c.milestone_id"
            " JOIN accounts_stage s ON s.id = m.stage_id"
        )
        if deal_id in deals
    ]
    latest: dict[tuple[int, int], tuple] = {}
    for deal_id, milestone_id, action, state, at, record_id, order in sorted(
        records, key=lambda r: (r[4], r[5])
    ):
        latest[(deal_id, milestone_id)] = (action, state, at, record_id, order)
    for (deal_id, milestone_id), (action, state, at, record_id, order) in sorted(latest.items()):
        current = deals[deal_id][4]
        if action == "complete" and state in COUNTING and current is not None and order > current:
            key = (deal_id, "milestone_skipped")
            facts = out.get(key, ("", []))[1]
            facts.append(
                f"milestone {milestone_id} of stage order {order} completed "
                f"(record {record_id}, {at:%Y-%m-%d}) while in stage order {current}"
            )
            out[key] = ("a later stage's milestone is done", facts)

    # single_contact and no_decision_maker
    contacts: dict[int, int] = defaultdict(int)
    deciders: set[int] = set()
    for account_id, role in fetch("SELECT account_id, buying_role FROM accounts_contact"):
        contacts[account_id] += 1
        if role == "decision_maker":
            deciders.add(account_id)
    group: dict[int, set[int]] = defaultdict(set)
    for deal_id, contact_id in fetch(
        "SELECT a.opportunity_id, p.contact_id FROM accounts_activity_participants p"
        " JOIN accounts_activity a ON a.id = p.activity_id WHERE a.opportunity_id IS NOT NULL"
    ):
        group[deal_id].add(contact_id)
    amounts: dict[int, float] = {}
    for deal_id in deals:
        deal = book.deals[deal_id]
        converted = book.rates.convert(deal.amount, deal.currency, deal.expected_close_on)
        amounts[deal_id] = float(converted) if converted is not None else math.nan
    large = quantile([a for a in amounts.values() if not math.isnan(a)], LARGE_DEAL_QUANTILE)
    for deal_id, row in deals.items():
        account_id = row[6]
        count = contacts.get(account_id, 0)
        engaged = len(group[deal_id]) if group.get(deal_id) else count
        if large is not None and amounts[deal_id] >= large and engaged <= 1:
            out[(deal_id, "single_contact")] = (
                f"{engaged} contact(s)",
                [
                    f"amount {amounts[deal_id]:.2f} >= 75th percentile {large:.2f}",
                    f"buying group of {len(group[deal_id])}, account {account_id} has "
                    f"{count} contact(s)",
                ],
            )
        if account_id not in deciders:
            out[(deal_id, "no_decision_maker")] = (
                "no decision maker among contacts",
                [f"account {account_id}: no decision-maker contact among {count}"],
            )

    # late_amount_change
    quarters = sorted(
        (as_date(start), as_date(end))
        for start, end in fetch(
            "SELECT start_on, end_on FROM salesmgmt_period WHERE kind = 'quarter'"
        )
    )
    if quarters:
        for deal_id, at, _id, old, new in changes["amount"]:
            if deal_id not in deals:
                continue
            try:
                old_amount, new_amount = Decimal(old), Decimal(new)
            except (InvalidOperation, TypeError):
                continue
            if not old_amount.is_finite() or not new_amount.is_finite() or old_amount <= 0:
                continue
            close_on = as_date(deals[deal_id][7])
            starting = [q for q in quarters if q[0] <= close_on]
            end_on = (starting[-1] if starting else quarters[0])[1]
            window = dt.datetime.combine(end_on, dt.time.min, dt.UTC) - dt.timedelta(days=LATE_DAYS)
            if abs(new_amount - old_amount) / old_amount > LATE_CHANGE and at >= window:
                key = (deal_id, "late_amount_change")
                facts = out.get(key, ("", []))[1]
                facts.append(f"amount {old} -> {new} on {at:%Y-%m-%d} (quarter ends {end_on})")
                out[key] = ("amount moved > 20% near period end", facts)
    return _imported_apart(out, set(deals), now)


NEGLECT = ("pushed_twice", "no_activity", "stuck_in_stage", "close_date_past")


def _imported_apart(
    out: dict[tuple[int, str], tuple[str, list[str]]], open_ids: set[int], now: dt.datetime
) -> dict[tuple[int, str], tuple[str, list[str]]]:
    """Move the neglect flags of imported deals not worked here since into one flag each."""
    imported = {
        deal_id: as_datetime(at)
        for deal_id, at in fetch(
            "SELECT id, imported_at FROM accounts_opportunity WHERE imported_at IS NOT NULL"
        )
        if deal_id in open_ids
    }
    worked = {
        deal_id
        for deal_id, at in fetch(
            "SELECT opportunity_id, occurred_at FROM accounts_activity"
            " WHERE opportunity_id IS NOT NULL"
        )
        if deal_id in imported and imported[deal_id] < as_datetime(at) <= now
    }
    worked |= {
        deal_id
        for deal_id, at, state in fetch(
            "SELECT opportunity_id, completed_at, verification_state"
            " FROM accounts_milestonecompletion"
        )
        if deal_id in imported and state != "imported" and as_datetime(at) > imported[deal_id]
    }
    for deal_id in sorted(set(imported) - worked):
        kinds = sorted(kind for kind in NEGLECT if (deal_id, kind) in out)
        if not kinds:
            continue
        facts = [f"imported {imported[deal_id]:%Y-%m-%d}, no activity or milestone since"]
        for kind in kinds:
            facts += out.pop((deal_id, kind))[1]
        detail = "imported, not worked here since; would be: " + ", ".join(kinds)
        out[(deal_id, "imported_unworked")] = (detail, facts)
    return out


def check_flags(book: Book, collector: Collector) -> None:
    """Stored flags against the rebuilt ones, as of the time they were computed."""
    stored, times = stored_flags()
    if len(times) > 1:
        collector.add(
            Difference(
                aggregate="inspection flags",
                figure="computed_at",
                stored=", ".join(sorted(f"{t:%Y-%m-%d %H:%M:%S}" for t in times)),
                expected="one refresh time",
                note="the flags were not written by one refresh",
            )
        )
    now = max(times) if times else timezone.now()
    note = f"as of {now:%Y-%m-%d %H:%M:%S} UTC" + ("" if times else " (no flags stored)")
    expected = expected_flags(book, now)
    owners = {deal_id: deal.owner_id for deal_id, deal in book.deals.items()}
    for key in sorted(set(stored) | set(expected)):
        deal_id, kind = key
        owner_id = owners.get(deal_id)
        context = {
            "aggregate": "inspection flags",
            "person": book.people.get(owner_id),
            "records": (f"deal {deal_id}", *expected.get(key, ("", []))[1]),
            "note": note,
        }
        if key not in stored:
            collector.add(
                Difference(figure=kind, stored="missing", expected=expected[key][0], **context)
            )
        elif key not in expected:
            collector.add(
                Difference(
                    figure=kind,
                    stored=stored[key][1] or "raised",
                    expected="no flag",
                    **{**context, "records": (f"deal {deal_id}", "the rule does not hold")},
                )
            )
        else:
            stored_owner, stored_detail = stored[key]
            if stored_owner != owner_id:
                collector.add(
                    Difference(
                        figure=f"{kind} owner", stored=stored_owner, expected=owner_id, **context
                    )
                )
            if stored_detail != expected[key][0]:
                collector.add(
                    Difference(
                        figure=f"{kind} detail",
                        stored=stored_detail,
                        expected=expected[key][0],
                        **context,
                    )
                )
