"""The hot queries of the growing tables (benchmarks.plans, ``bench --plans``) can each be
answered from an index, checked with EXPLAIN on the SQL the real code runs.

A small seed is a table the planner rightly scans, so the plans are taken with sequential
scans priced out (``enable_seqscan = off``, the ``strict`` check, as in
tests/accounts/test_search_plan.py): a scan that remains is one no index can replace, at any
size. Needs PostgreSQL; skipped on SQLite without DATABASE_URL, failing under CI's
SALESMGMT_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from accounts.models import Activity
from benchmarks import personas, plans
from capture.models import CapturedItem
from notifications.models import EmailSend, Notification
from tests.fixtures.services import require_postgresql


@pytest.fixture
def seeded(db):
    require_postgresql("Plans are PostgreSQL's (set DATABASE_URL).")
    call_command("seed_demo", reps=6, opportunities=120, stdout=io.StringIO())
    people = personas.pick_personas()
    now = timezone.now()
    for days in (1, 40, 400):
        at = now - dt.timedelta(days=days)
        note = Notification.objects.create(
            recipient=people.rep, kind="deal_stale", title="t", dedupe_key=f"t:{days}"
        )
        Notification.objects.filter(pk=note.pk).update(created_at=at)
        send = EmailSend.objects.create(
            recipient=people.rep, dedupe_key=f"t:{days}", kind="deal_stale", status="sent"
        )
        EmailSend.objects.filter(pk=send.pk).update(created_at=at)
        CapturedItem.objects.create(
            owner=people.rep, kind="email", status="unfiled", message_key=f"k{days}",
            occurred_at=at, created_at=at,
        )  # fmt: skip
    # An inbox of a few hundred: with three rows the planner may loop over the whole table.
    Notification.objects.bulk_create(
        Notification(recipient=people.rep, kind="deal_stale", title="t", dedupe_key=f"b:{i}")
        for i in range(300)
    )
    with connection.cursor() as cursor:
        for table in plans.GROWING_TABLES:
            cursor.execute(f'ANALYZE "{table}"')
    return plans.Subjects(
        executive=people.executive,
        manager=people.manager,
        rep=people.rep,
        opportunity=people.opportunity,
    )


def test_every_hot_query_of_a_growing_table_is_answered_from_an_index(seeded):
    queries = plans.hot_queries(seeded)

    found = plans.check(queries, strict=True)

    failing = [f"{p.name}: {p.problems}\n{plans.compact(p)}\n{p.sql}" for p in found if not p.ok]
    assert not failing, "\n\n".join(failing)
    # Each hot query was run and explained (a name that recorded nothing checks nothing).
    explained = {p.name.split(" #")[0] for p in found}
    assert explained == {query.name for query in queries}
    assert all(p.nodes for p in found)


def test_the_check_fails_a_query_no_index_can_answer(seeded):
    # notes compared as written (the trigram index is on UPPER(notes)): only a scan answers.
    unindexed = plans.HotQuery(
        "activities by exact notes",
        lambda: list(Activity.objects.filter(notes="no such note").values_list("pk")),
    )

    (found,) = plans.check([unindexed], strict=True)

    assert not found.ok
    assert "whole-index scan of accounts_activity" in found.problems


def test_bench_plans_prints_each_hot_querys_plan(seeded):
    out = io.StringIO()

    call_command("bench", "--plans", "--no-fail", stdout=out, stderr=io.StringIO())

    report = out.getvalue()
    assert "API activities page 2, manager" in report
    assert "as-of replay, the rep's deals 90 days ago" in report
    assert "indexes: " in report
    assert "plans failing the check:" in report


def test_a_managers_activities_page_reads_one_index_range_per_person_and_deal(seeded):
    # The whole visible set (a BitmapOr of the owner, deal-owner and deal indexes, then a
    # sort of every row) passes the check on a small seed; at 10 M activities it sorted
    # 385,938 rows. Each range read is stopped by its own Limit whatever the team's history.
    queries = [q for q in plans.hot_queries(seeded) if q.name.startswith("API activities")]

    found = {p.name: p for p in plans.check(queries, strict=True)}

    for name in ("API activities, manager", "API activities page 2, manager #2"):
        page = found[name]
        assert page.ok, page.problems
        assert "Bitmap Heap Scan accounts_activity" not in page.nodes, plans.compact(page)
        # Which index serves each range is the planner's choice on a seed this small (walking
        # (occurred_at, id) with the key as a filter is as cheap as the key's own range); at
        # 10 M rows `bench --plans` shows the per-key indexes (docs/benchmarks.md).
        range_indexes = {"activity_owner_at_id", "activity_deal_owner_at_id", "activity_opp_at_id"}
        assert set(page.indexes) & (range_indexes | {"activity_at_id"}), page.indexes
        assert "CROSS JOIN LATERAL" in page.sql
