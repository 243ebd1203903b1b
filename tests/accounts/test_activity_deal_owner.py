"""Activity.deal_owner equals the deal's owner after every service that writes either.

The activity list's visibility reads it ("logged on a deal a visible person owns"), so a
stale copy would show a manager another team's calls or hide their own team's. The services
keep it in their own transaction (no database triggers since migration 0013); a write that
bypasses them is reported by ``verify_figures --only activities``
(tests/reconciliation/test_verify_figures_command.py). Paths through other apps:
the API (tests/accounts/api/test_activity_deal_owner_api.py), territories
(tests/territories/test_assignments.py), the CSV import
(tests/csv_import/test_csv_import.py), the demo data
(tests/reconciliation/test_seeded_demo.py).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts import selectors, services
from accounts.models import Activity, Opportunity
from tests.factories import AccountFactory, ActivityFactory, OpportunityFactory, UserFactory


def deal_owner(activity: Activity) -> int | None:
    return Activity.objects.values_list("deal_owner_id", flat=True).get(pk=activity.pk)


def test_a_logged_activity_takes_its_deals_owner(rep_a, manager_a, process):
    deal = OpportunityFactory(owner=rep_a, process=process)

    call = services.activity_log(actor=manager_a, kind="call", opportunity=deal)
    note = services.activity_log(actor=manager_a, kind="call", account=deal.account)

    assert deal_owner(call) == rep_a.pk
    assert deal_owner(note) is None


def test_a_logged_activity_reads_the_owner_from_the_database(rep_a, rep_b, executive, process):
    # A deal object loaded before someone else reassigned the deal still names the old owner.
    deal = OpportunityFactory(owner=rep_a, process=process)
    stale = Opportunity.objects.get(pk=deal.pk)
    services.opportunity_update(actor=executive, opportunity=deal, owner=rep_b)

    call = services.activity_log(actor=executive, kind="call", opportunity=stale)

    assert stale.owner_id == rep_a.pk
    assert deal_owner(call) == rep_b.pk


def test_a_reassigned_deal_gives_its_activities_the_new_owner(
    rep_a, rep_b, manager_a, manager_b, executive, process
):
    deal = OpportunityFactory(owner=rep_a, process=process)
    other_deal = OpportunityFactory(owner=rep_a, process=process)
    # Logged by someone outside both teams: only the deal's owner makes it visible.
    outsider = UserFactory()
    call = services.activity_log(actor=executive, owner=outsider, kind="call", opportunity=deal)
    untouched = services.activity_log(actor=executive, kind="call", opportunity=other_deal)
    assert call in selectors.activity_list(viewer=manager_a)

    services.opportunity_update(actor=manager_a, opportunity=deal, owner=rep_a)  # no change
    assert deal_owner(call) == rep_a.pk
    services.opportunity_update(actor=executive, opportunity=deal, owner=rep_b)

    assert deal_owner(call) == rep_b.pk
    assert deal_owner(untouched) == rep_a.pk
    assert call not in selectors.activity_list(viewer=manager_a)
    assert call in selectors.activity_list(viewer=manager_b)


def test_an_activity_moved_to_another_deal_takes_that_deals_owner(rep_a, rep_b, executive, process):
    deal_a = OpportunityFactory(owner=rep_a, process=process)
    deal_b = OpportunityFactory(owner=rep_b, process=process)
    call = services.activity_log(actor=executive, kind="call", opportunity=deal_a)

    # A deal without an account brings its own account.
    services.activity_update(actor=executive, activity=call, opportunity=deal_b)
    assert deal_owner(call) == rep_b.pk
    assert Activity.objects.get(pk=call.pk).account_id == deal_b.account_id

    services.activity_update(
        actor=executive, activity=call, opportunity=None, account=deal_a.account
    )
    assert deal_owner(call) is None


def test_editing_an_activity_refreshes_a_copy_loaded_before_a_reassignment(
    rep_a, rep_b, executive, process
):
    deal = OpportunityFactory(owner=rep_a, process=process)
    call = services.activity_log(actor=executive, kind="call", opportunity=deal)
    loaded = Activity.objects.get(pk=call.pk)
    services.opportunity_update(actor=executive, opportunity=deal, owner=rep_b)

    services.activity_update(actor=executive, activity=loaded, notes="Called back")

    assert deal_owner(call) == rep_b.pk


def test_update_activity_checks_links_like_log_activity(rep_a, rep_b, process):
    mine = OpportunityFactory(owner=rep_a, process=process)
    theirs = OpportunityFactory(owner=rep_b, process=process)
    call = services.activity_log(actor=rep_a, kind="call", opportunity=mine)

    with pytest.raises(ValidationError) as refused:
        services.activity_update(actor=rep_a, activity=call, opportunity=theirs)
    assert refused.value.message_dict == {"opportunity": ["No such opportunity."]}
    with pytest.raises(ValidationError) as refused:
        services.activity_update(
            actor=rep_a, activity=call, occurred_at=dt.datetime(2025, 1, 1, 9, 0)
        )
    assert refused.value.message_dict == {"occurred_at": ["Give a time zone with the time."]}
    with pytest.raises(ValidationError) as refused:
        services.activity_update(actor=rep_a, activity=call, deal_owner=rep_b)
    assert refused.value.message_dict == {"deal_owner": ["This field cannot be changed here."]}
    with pytest.raises(ValidationError, match="No such activity"):
        services.activity_update(actor=rep_b, activity=call, notes="Not mine")
    assert deal_owner(call) == rep_a.pk


def test_the_admin_writes_activities_through_the_services(admin_user, rep_a, rep_b, process):
    from django.test import Client

    client = Client()
    client.force_login(admin_user)
    deal_a = OpportunityFactory(owner=rep_a, process=process)
    deal_b = OpportunityFactory(owner=rep_b, process=process)
    when = timezone.localtime().replace(microsecond=0)
    form = {
        "kind": "call",
        "owner": rep_a.pk,
        "account": deal_a.account_id,
        "opportunity": deal_a.pk,
        "occurred_at_0": when.date().isoformat(),
        "occurred_at_1": when.time().isoformat(),
        "duration_minutes": 10,
        "outcome": "",
        "notes": "",
        "next_step": "",
        "external_id": "",
    }

    added = client.post(reverse("admin:accounts_activity_add"), form)
    assert added.status_code == 302, added.content.decode()[:2000]
    call = Activity.objects.get()
    assert deal_owner(call) == rep_a.pk
    # Moved to a deal of another account without changing the account: shown on the form.
    refused = client.post(
        reverse("admin:accounts_activity_change", args=[call.pk]),
        {**form, "opportunity": deal_b.pk},
    )
    assert refused.status_code == 200
    assert "The opportunity belongs to another account." in refused.content.decode()
    changed = client.post(
        reverse("admin:accounts_activity_change", args=[call.pk]),
        {**form, "opportunity": deal_b.pk, "account": deal_b.account_id},
    )

    assert changed.status_code == 302, changed.content.decode()[:2000]
    assert deal_owner(call) == rep_b.pk


def test_the_opportunity_admin_reassigns_through_the_service(admin_user, rep_a, rep_b, process):
    from django.test import Client

    client = Client()
    client.force_login(admin_user)
    deal = OpportunityFactory(owner=rep_a, process=process)
    call = ActivityFactory(owner=rep_a, account=deal.account, opportunity=deal)
    form = {
        "account": deal.account_id,
        "owner": rep_b.pk,
        "process": deal.process_id,
        "name": deal.name,
        "amount": deal.amount,
        "currency": deal.currency,
        "expected_close_on": deal.expected_close_on.isoformat(),
        "forecast_category": deal.forecast_category,
        "next_step": deal.next_step,
        "lost_reason": deal.lost_reason,
        "external_id": deal.external_id,
        "team_members-TOTAL_FORMS": 0,
        "team_members-INITIAL_FORMS": 0,
    }

    response = client.post(reverse("admin:accounts_opportunity_change", args=[deal.pk]), form)

    assert response.status_code == 302, response.content.decode()[:3000]
    assert Opportunity.objects.get(pk=deal.pk).owner_id == rep_b.pk
    assert deal_owner(call) == rep_b.pk


def test_the_factory_copies_the_deals_owner_as_the_service_would(rep_a, process):
    deal = OpportunityFactory(owner=rep_a, process=process)

    assert deal_owner(ActivityFactory(owner=rep_a, opportunity=deal, account=deal.account)) == (
        rep_a.pk
    )
    assert deal_owner(ActivityFactory(owner=rep_a, account=AccountFactory(owner=rep_a))) is None


def test_no_trigger_keeps_it_any_more(rep_a, rep_b, process):
    """Migration 0013 dropped the triggers: a raw write is left alone (the reconciliation
    reports it instead)."""
    deal = OpportunityFactory(owner=rep_a, process=process)
    call = ActivityFactory(owner=rep_a, account=deal.account, opportunity=deal)

    Opportunity.objects.filter(pk=deal.pk).update(owner=rep_b)

    assert deal_owner(call) == rep_a.pk
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        assert cursor.fetchall() == []
