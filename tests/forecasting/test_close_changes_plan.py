"""A quarter's close-date changes are read through their partial index (accounts 0025,
``change_close_opp``), not by scanning the whole change log, checked with EXPLAIN ANALYZE on
the real SQL of ``frames.close_date_changes_frame``: the change table is read only through
that index and returns only the asked deals' rows.

Skipped only on SQLite without DATABASE_URL; it fails instead with a DATABASE_URL that is not
PostgreSQL or under SALESMGMT_REQUIRE_SERVICES=1 (CI), so CI cannot lose it quietly.
"""

from __future__ import annotations

import datetime as dt
import json

from django.db import connection
from django.utils import timezone

from accounts.models import Opportunity, OpportunityChange
from forecasting.selectors import frames
from tests.factories import AccountFactory, OpportunityFactory
from tests.fixtures.services import require_postgresql

DEALS = 300
# Rows of other fields per deal: the log is mostly not close dates (a seventh at 1 M deals).
OTHER_ROWS = 12
AT = dt.datetime(2026, 2, 10, 9, tzinfo=dt.UTC)


def _change_scans(plan: dict) -> list[tuple[str, int]]:
    """(node type, rows returned) of each scan of the change table in a JSON plan."""
    scans = []
    if plan.get("Relation Name") == OpportunityChange._meta.db_table:
        scans.append(
            (plan["Node Type"], int(plan["Actual Rows"]) * int(plan.get("Actual Loops", 1)))
        )
    for child in plan.get("Plans", []):
        scans += _change_scans(child)
    return scans


def _indexes(plan: dict) -> set[str]:
    """Every index a JSON plan reads."""
    names = {plan["Index Name"]} if "Index Name" in plan else set()
    for child in plan.get("Plans", []):
        names |= _indexes(child)
    return names


def test_a_few_deals_close_date_changes_are_read_through_their_index(rep_a, process, monkeypatch):
    require_postgresql("The plan is PostgreSQL's (set DATABASE_URL).")
    account = AccountFactory(owner=rep_a)
    deals = Opportunity.objects.bulk_create(
        OpportunityFactory.build(owner=rep_a, account=account, process=process)
        for _ in range(DEALS)
    )
    close = OpportunityChange.Field.EXPECTED_CLOSE_ON
    others = [f for f in OpportunityChange.Field if f != close]
    OpportunityChange.objects.bulk_create(
        [
            OpportunityChange(
                opportunity=deal,
                field=close,
                old_value="2026-03-01",
                new_value="2026-04-01",
                changed_at=AT,
            )
            for deal in deals
        ]
        + [
            OpportunityChange(
                opportunity=deal,
                field=others[i % len(others)],
                new_value=str(i),
                changed_at=AT + dt.timedelta(minutes=i),
            )
            for deal in deals
            for i in range(OTHER_ROWS)
        ]
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    asked = [deals[0].pk, deals[1].pk, deals[2].pk]
    # The frame is read with COPY, which the query log does not see: keep its query.
    copied = frames._copied_parts
    queries = []

    def kept(rows, columns, parsers):
        queries.append(rows.query.sql_with_params())
        return copied(rows, columns, parsers)

    monkeypatch.setattr(frames, "_copied_parts", kept)

    changes = frames.close_date_changes_frame(opportunity_ids=asked)

    assert sorted(changes["opportunity_id"]) == asked
    assert (changes["at"] == timezone.localtime(AT)).all()
    ((sql, params),) = queries
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    scans = _change_scans(plan[0]["Plan"])
    assert scans
    assert "Seq Scan" not in {kind for kind, _ in scans}, scans
    assert _indexes(plan[0]["Plan"]) == {"change_close_opp"}, plan
    assert max(rows for _, rows in scans) == len(asked), scans
