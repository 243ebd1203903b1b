"""An edit's recompute reads one person's credited deals through the owner and split indexes,
not by scanning every deal (``ledger.credited_deals`` with ``person_ids``), checked with
EXPLAIN ANALYZE on its real SQL: no scan of the deals returns more rows than the person's.

Skipped only on SQLite without DATABASE_URL; it fails instead with a DATABASE_URL that is not
PostgreSQL or under SALESMGMT_REQUIRE_SERVICES=1 (CI), so CI cannot lose it quietly.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Opportunity
from compensation import ledger
from compensation.models import CreditSplit
from tests.compensation.factories import won_deal
from tests.factories import AccountFactory, OpportunityFactory
from tests.fixtures.services import require_postgresql

DEALS = 600
DAY = dt.date(2026, 2, 10)


def _deal_scans(plan: dict) -> list[int]:
    """Rows returned by each scan of the deals table in a JSON plan."""
    rows = []
    if plan.get("Relation Name") == Opportunity._meta.db_table:
        rows.append(int(plan["Actual Rows"]) * int(plan.get("Actual Loops", 1)))
    for child in plan.get("Plans", []):
        rows += _deal_scans(child)
    return rows


def test_one_persons_credited_deals_are_read_through_their_indexes(rep_a, rep_b, process):
    require_postgresql("The plan is PostgreSQL's (set DATABASE_URL).")
    account = AccountFactory(owner=rep_a)
    Opportunity.objects.bulk_create(  # won in the quarter too: only the person's are read
        OpportunityFactory.build(
            owner=rep_a, account=account, process=process, status="won", closed_on=DAY
        )
        for _ in range(DEALS)
    )
    own = won_deal(rep_b, "100.00", DAY)
    shared = won_deal(rep_a, "900.00", DAY)
    CreditSplit.objects.create(opportunity=shared, user=rep_a, percent=Decimal(50))
    CreditSplit.objects.create(opportunity=shared, user=rep_b, percent=Decimal(50))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    with CaptureQueriesContext(connection) as queries:
        deals = ledger.credited_deals(
            start_on=dt.date(2026, 1, 1), end_on=dt.date(2026, 3, 31), person_ids=[rep_b.pk]
        )
    assert {d.opportunity_id for d in deals} == {own.pk, shared.pk}
    (read,) = [q["sql"] for q in queries.captured_queries if "creditsplit" in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + read)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    scans = _deal_scans(plan[0]["Plan"])
    assert scans
    assert max(scans) < 50, scans
