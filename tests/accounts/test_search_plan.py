"""The global search's SQL can use the trigram and prefix indexes (migration accounts.0018)
on PostgreSQL, checked with EXPLAIN on its real SQL. A few thousand rows is still a table
the planner rightly scans (70 pages), so the plan is taken with sequential scans priced out
(``enable_seqscan = off``): an expression the indexes cannot serve (say ``name LIKE`` without
the ``UPPER(...)`` they index) would still scan, and fail here.

Skipped only on SQLite without DATABASE_URL (no trigram indexes there); it fails instead with
a DATABASE_URL that is not PostgreSQL or under SALESMGMT_REQUIRE_SERVICES=1 (CI), so CI
cannot lose it quietly.
"""

from __future__ import annotations

import random

import pytest
from django.db import connection

from accounts.models import Account, Activity, Contact, Opportunity
from accounts.selectors import search
from tests.factories import AccountFactory, ActivityFactory, ContactFactory, OpportunityFactory
from tests.fixtures.services import require_postgresql

ROWS = 2000
WORDS = ["acme", "globex", "initech", "umbrella", "stark", "wayne", "hooli", "vandelay", "soylent"]


@pytest.fixture
def many(process, rep_a, executive):
    """ROWS accounts, contacts, deals and calls of made-up words: a scan would read them all."""
    require_postgresql("The trigram indexes are PostgreSQL's (set DATABASE_URL).")
    rng = random.Random(5)

    def words(n: int) -> str:
        return " ".join(rng.choice(WORDS) + str(rng.randrange(1000)) for _ in range(n))

    accounts = Account.objects.bulk_create(
        AccountFactory.build(owner=rep_a, name=f"{words(2)} Holdings") for _ in range(ROWS)
    )
    Contact.objects.bulk_create(
        ContactFactory.build(
            account=rng.choice(accounts),
            first_name=rng.choice(WORDS).title(),
            last_name=f"Smith{i}",
            email=f"{rng.choice(WORDS)}.{i}@example{i % 50}.com",
        )
        for i in range(ROWS)
    )
    Opportunity.objects.bulk_create(
        OpportunityFactory.build(owner=rep_a, account=rng.choice(accounts), name=f"{words(2)} deal")
        for _ in range(ROWS)
    )
    Activity.objects.bulk_create(
        ActivityFactory.build(owner=rep_a, account=rng.choice(accounts), notes=f"Call: {words(8)}")
        for _ in range(ROWS)
    )
    with connection.cursor() as cursor:
        for model in (Account, Contact, Opportunity, Activity):
            cursor.execute(f'ANALYZE "{model._meta.db_table}"')
    return {"executive": executive, "rep_a": rep_a, "manager": rep_a.manager}


def _plan(viewer, kind: str, query: str) -> str:
    people = None if viewer.sees_everyone else search.visible_user_ids(viewer)
    queryset = search._ranked(search.SPECS[kind], viewer, people, query)
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:  # the test's transaction: SET LOCAL ends with it
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.parametrize(
    ("kind", "query", "index"),
    [
        ("account", "initech12", "search_account_name_trgm"),  # a word inside the name
        ("account", "vandelay", "search_account_name_prefix"),  # also the start of the name
        ("contact", "example17", "search_contact_trgm"),  # a fragment of an e-mail
        ("opportunity", "soylent44", "search_opportunity_name_trgm"),  # a word of a deal
        ("activity", "hooli707", "search_activity_notes_trgm"),
        ("account", "initexh12", "search_account_name_trgm"),  # a typo: found nothing, fast
    ],
)
def test_search_sql_uses_the_search_indexes(many, kind, query, index):
    # The executive: every row visible, so only the text indexes can narrow the match (a
    # rep's search starts as well from the few rows they see, through the owner indexes).
    plan = _plan(many["executive"], kind, query)

    assert index in plan, plan
    assert f"Seq Scan on accounts_{kind}" not in plan, plan


def test_a_managers_notes_search_starts_from_the_teams_activities(many):
    # A common word is in most notes: a manager's candidates come from the team's own
    # activities (owner, deal owner, team deals: index ranges), not from the text index with
    # each match's visibility checked (449 ms at the largest tier).
    plan = _plan(many["manager"], "activity", "call")

    assert "Seq Scan on accounts_activity" not in plan, plan
    assert plan.count("Index") >= 3, plan


@pytest.mark.parametrize("kind", ["account", "contact", "opportunity"])
def test_a_managers_name_search_starts_from_the_teams_rows(many, kind):
    # A name matches thousands of rows at the largest tier ("maplebri": 2,000 deals): found
    # through the text index and each checked against the team's rows, it took 867 ms. The
    # candidates come from each of the team's ways to see a row (owner, their deals, team
    # deals), each a condition of its own: an index range, or a filter on the text index's
    # rows where those are fewer (as here, where the team owns everything).
    plan = _plan(many["manager"], kind, "initech12")

    assert "Seq Scan" not in plan, plan
    assert "hashed SubPlan" not in plan, plan
    assert "owner_id = ANY ('{" in plan, plan


def test_a_managers_notes_search_reads_each_persons_activities_apart(many):
    # The team's people all at once (owner_id = ANY(...)) let PostgreSQL intersect their rows
    # with a common word's whole trigram bitmap: 928,481 notes for "steps" at the largest
    # tier, 240 ms for each of the owner and deal-owner branches. One person at a time
    # (listing.keyed_ids), each is their own index range, read until their share is found.
    plan = _plan(many["manager"], "activity", "call")

    assert "Function Scan on unnest" in plan, plan
    assert "owner_id = keys.key" in plan, plan
    assert "deal_owner_id = keys" in plan, plan
    assert "owner_id = ANY" not in plan, plan
