"""Activity.deal_owner follows the deal's owner whatever writes the rows (database triggers).

The activity list's visibility reads it ("logged on a deal a visible person owns"), so a
stale copy would show a manager another team's calls or hide their own team's.
"""

from __future__ import annotations

import pytest
from django.db import connection

from accounts import selectors, services
from accounts.models import Activity
from tests.factories import AccountFactory, ActivityFactory, OpportunityFactory, UserFactory


def deal_owner(activity: Activity) -> int | None:
    return Activity.objects.values_list("deal_owner_id", flat=True).get(pk=activity.pk)


def test_a_logged_activity_takes_its_deals_owner(rep_a, manager_a, process):
    deal = OpportunityFactory(owner=rep_a, process=process)

    call = services.activity_log(actor=manager_a, kind="call", opportunity=deal)
    note = services.activity_log(actor=manager_a, kind="call", account=deal.account)

    assert deal_owner(call) == rep_a.pk
    assert deal_owner(note) is None


def test_bulk_and_direct_writes_take_it_too(rep_a, rep_b, process):
    """Writes that bypass the services: bulk loads (the demo seed) and the admin's save()."""
    deal_a = OpportunityFactory(owner=rep_a, process=process)
    deal_b = OpportunityFactory(owner=rep_b, process=process)
    (bulk,) = Activity.objects.bulk_create(
        [Activity(kind="call", owner=rep_b, account=deal_a.account, opportunity=deal_a)]
    )
    moved = ActivityFactory(owner=rep_a, account=deal_a.account, opportunity=deal_a)

    moved.opportunity, moved.account = deal_b, deal_b.account
    moved.save()

    assert deal_owner(bulk) == rep_a.pk
    assert deal_owner(moved) == rep_b.pk


def test_a_reassigned_deal_gives_its_activities_the_new_owner(
    rep_a, rep_b, manager_a, manager_b, executive, process
):
    deal = OpportunityFactory(owner=rep_a, process=process)
    # Logged by someone outside both teams: only the deal's owner makes it visible.
    outsider = UserFactory()
    call = ActivityFactory(owner=outsider, account=deal.account, opportunity=deal)
    assert call in selectors.activity_list(viewer=manager_a)

    services.opportunity_update(actor=manager_a, opportunity=deal, owner=rep_a)  # no change
    services.opportunity_update(actor=executive, opportunity=deal, owner=rep_b)

    assert deal_owner(call) == rep_b.pk
    assert call not in selectors.activity_list(viewer=manager_a)
    assert call in selectors.activity_list(viewer=manager_b)


def test_a_raw_update_of_the_owner_moves_it_as_well(rep_a, rep_b, process):
    deal = OpportunityFactory(owner=rep_a, process=process)
    calls = ActivityFactory.create_batch(3, owner=rep_a, account=deal.account, opportunity=deal)
    other = ActivityFactory(owner=rep_a, account=AccountFactory(owner=rep_a), opportunity=None)

    type(deal).objects.filter(pk=deal.pk).update(owner=rep_b)

    assert {deal_owner(call) for call in calls} == {rep_b.pk}
    assert deal_owner(other) is None


def test_nobody_can_set_it_by_hand(rep_a, rep_b, process):
    deal = OpportunityFactory(owner=rep_a, process=process)
    call = ActivityFactory(owner=rep_a, account=deal.account, opportunity=deal)

    Activity.objects.filter(pk=call.pk).update(deal_owner=rep_b)

    assert deal_owner(call) == rep_a.pk


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's trigger functions")
def test_the_postgresql_triggers_are_installed(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE tgname LIKE 'accounts_%%' AND NOT tgisinternal"
        )
        names = {row[0] for row in cursor.fetchall()}
    assert names == {"accounts_activity_take_deal_owner", "accounts_opportunity_give_owner"}
