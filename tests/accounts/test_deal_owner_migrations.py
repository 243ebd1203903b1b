"""accounts 0013 and 0014: the deal-owner triggers go, and every copy is made right once."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounts.models import Activity, Opportunity
from tests.factories import ActivityFactory, OpportunityFactory

WITH_TRIGGERS = [("accounts", "0012_contact_activity_external_id_unique")]
DROPPED = [("accounts", "0013_activity_deal_owner_drop_triggers")]
LATEST = [("accounts", "0014_activity_deal_owner_resync")]


def _migrate(targets=None) -> None:
    """Migrate to ``targets``; None: the latest state of every app (what the next test needs)."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets or executor.loader.graph.leaf_nodes())


def _triggers() -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        return {row[0] for row in cursor.fetchall()}


def _copies() -> dict[int, int | None]:
    return dict(Activity.objects.values_list("pk", "deal_owner_id"))


@pytest.mark.django_db(transaction=True)
def test_the_triggers_are_dropped_and_stale_copies_fixed(rep_a, rep_b, process):
    deal = OpportunityFactory(owner=rep_a, process=process)
    call = ActivityFactory(owner=rep_a, account=deal.account, opportunity=deal)
    note = ActivityFactory(owner=rep_a, account=deal.account)
    try:
        # Given the triggers of 0006 again (0013 reversed)
        _migrate(WITH_TRIGGERS)
        assert "accounts_opportunity_give_owner" in _triggers()
        # When they are dropped, writes outside the services leave copies stale
        _migrate(DROPPED)
        assert _triggers() == set()
        Opportunity.objects.filter(pk=deal.pk).update(owner=rep_b)
        Activity.objects.filter(pk=note.pk).update(deal_owner=rep_a)
        assert _copies() == {call.pk: rep_a.pk, note.pk: rep_a.pk}
        # Then 0014 copies each deal's owner once more (none without a deal)
        _migrate(LATEST)
        assert _copies() == {call.pk: rep_b.pk, note.pk: None}
    finally:
        _migrate()
    assert _triggers() == set()
