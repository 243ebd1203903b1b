"""Staleness has one definition (accounts.querysets: ``held`` and ``two_way``): the deal page,
the API, the no-activity flag (and its reconciliation mirror), compliance and capture's deal
matching all read it. A meeting scheduled for later is not activity until its time passes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import selectors
from accounts.models import Activity
from coaching.compliance import Check, compliance_scores
from forecasting.models import InspectionFlag
from forecasting.services.flags import flags_refresh
from reconciliation.flags import expected_flags
from reconciliation.records import load_book
from tests.factories import AccountFactory, ActivityFactory, OpportunityFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)
Kind, Outcome, Direction = Activity.Kind, Activity.Outcome, Activity.Direction


@pytest.fixture
def deal(rep_a, process):
    account = AccountFactory(owner=rep_a, name="Initech")
    return OpportunityFactory(owner=rep_a, account=account, process=process, next_step="Demo")


def log(deal, *, hours: float, kind: str = Kind.MEETING, **fields) -> Activity:
    return ActivityFactory(
        owner=deal.owner,
        account=deal.account,
        opportunity=deal,
        kind=kind,
        occurred_at=NOW + dt.timedelta(hours=hours),
        **fields,
    )


def test_only_activity_the_customer_took_part_in_is_two_way_contact(deal):
    # given one of each, newest first: none of these is two-way contact...
    log(deal, hours=-1, kind=Kind.EMAIL, direction=Direction.OUTBOUND)  # sent, not answered
    log(deal, hours=-2, kind=Kind.TASK)
    log(deal, hours=-3, kind=Kind.CALL, outcome=Outcome.NO_ANSWER)
    log(deal, hours=-4, kind=Kind.CALL)  # no outcome recorded: nobody known to answer
    log(deal, hours=-5, kind=Kind.MEETING, outcome=Outcome.NO_ANSWER)  # a no-show
    # ...and these are, the latest being the reply received 6 hours ago
    log(deal, hours=-6, kind=Kind.EMAIL, direction=Direction.INBOUND)
    log(deal, hours=-7, kind=Kind.CALL, outcome=Outcome.CONNECTED)
    log(deal, hours=-8, kind=Kind.DEMO)

    two_way = Activity.objects.two_way(now=NOW).filter(opportunity=deal)
    assert sorted(two_way.values_list("kind", flat=True)) == ["call", "demo", "email"]
    assert selectors.last_two_way_contact(opportunity=deal, now=NOW) == NOW - dt.timedelta(hours=6)


def test_a_future_meeting_counts_only_once_its_time_has_passed(deal):
    log(deal, hours=-24 * 20, kind=Kind.CALL, outcome=Outcome.CONNECTED)  # 20 days ago
    meeting = log(deal, hours=2)  # a captured calendar event later today
    later = NOW + dt.timedelta(hours=3)

    # the page's date, the API annotation and the held activities ignore it until it starts
    assert selectors.last_two_way_contact(opportunity=deal, now=NOW) == NOW - dt.timedelta(days=20)
    assert selectors.last_two_way_contact(opportunity=deal, now=later) == meeting.occurred_at
    annotated = selectors.with_last_two_way_contact(
        type(deal).objects.filter(pk=deal.pk), now=NOW
    ).get()
    assert annotated.last_two_way_contact_at == NOW - dt.timedelta(days=20)
    assert not Activity.objects.held(now=NOW).filter(pk=meeting.pk).exists()

    # the no-activity flag: raised now (the meeting is ahead), cleared once it was held;
    # the reconciliation mirror agrees both times
    flags_refresh(now=NOW)
    assert InspectionFlag.objects.filter(opportunity=deal, kind="no_activity").exists()
    assert (deal.pk, "no_activity") in expected_flags(load_book(), NOW)
    flags_refresh(now=later)
    assert not InspectionFlag.objects.filter(opportunity=deal, kind="no_activity").exists()
    assert (deal.pk, "no_activity") not in expected_flags(load_book(), later)

    # compliance's recent-activity check: failing now, passing once the meeting was held
    scores = compliance_scores(user_ids=[deal.owner_id], as_of=timezone.localdate(NOW), now=NOW)
    assert scores[deal.owner_id].failing.get(Check.RECENT_ACTIVITY) == [deal]
    as_of = timezone.localdate(later)  # the meeting's day (it may be tomorrow)
    scores = compliance_scores(user_ids=[deal.owner_id], as_of=as_of, now=later)
    assert Check.RECENT_ACTIVITY not in scores[deal.owner_id].failing


def test_capture_files_on_the_deal_worked_most_recently_not_the_one_with_a_future_meeting(
    rep_a, process
):
    from capture.selectors import most_active_open_deal

    account = AccountFactory(owner=rep_a)
    worked = OpportunityFactory(owner=rep_a, account=account, process=process)
    scheduled = OpportunityFactory(owner=rep_a, account=account, process=process)
    log(worked, hours=-1, kind=Kind.CALL)
    log(scheduled, hours=-48, kind=Kind.CALL)
    log(scheduled, hours=24)  # next week's meeting is not activity yet

    assert most_active_open_deal(viewer=rep_a, account_ids=[account.pk]) == worked


def test_deal_page_shows_the_last_two_way_contact(client, rep_a, deal):
    client.force_login(rep_a)
    page = client.get(reverse("accounts:opportunity_detail", args=[deal.pk]))
    assert 'data-testid="last-two-way-contact">None yet' in page.content.decode()

    log(deal, hours=-30, kind=Kind.EMAIL, direction=Direction.INBOUND)
    log(deal, hours=5)  # scheduled: not shown
    page = client.get(reverse("accounts:opportunity_detail", args=[deal.pk]))

    assert page.context["last_two_way_contact"] == NOW - dt.timedelta(hours=30)
    shown = (NOW - dt.timedelta(hours=30)).isoformat()
    assert f'<time datetime="{shown}">' in page.content.decode()


@pytest.mark.parametrize(
    ("viewer", "sees"),
    [
        ("rep_a", True),
        ("manager_a", True),
        ("executive", True),
        ("admin", True),
        ("integrator", True),
        ("rep_b", False),
        ("manager_b", False),
    ],
)
def test_api_deal_detail_exposes_it_to_whoever_sees_the_deal(
    api_client_for, personas, deal, viewer, sees
):
    contact = log(deal, hours=-2, kind=Kind.CALL, outcome=Outcome.POSITIVE)
    response = api_client_for(personas[viewer]).get(f"/api/v1/opportunities/{deal.pk}/")

    assert response.status_code == (200 if sees else 404)
    if sees:
        expected = contact.occurred_at.astimezone(dt.UTC)
        got = dt.datetime.fromisoformat(response.json()["last_two_way_contact_at"])
        assert got == expected


# The API list as rep_a after a warm-up call: 1 the token with its user, 2 COUNT(*), 3 the
# page of deals, each with its last two-way contact as a subquery of that same query.
API_LIST_QUERIES = 3
# The API detail: 1 the token with its user, 2 the deal with the same subquery.
API_DETAIL_QUERIES = 2


@pytest.mark.parametrize("n", [3, 15])
def test_api_list_and_detail_cost_the_same_for_any_number_of_deals(
    api_client_for, django_assert_num_queries, rep_a, process, n
):
    account = AccountFactory(owner=rep_a)
    deals = OpportunityFactory.create_batch(n, owner=rep_a, account=account, process=process)
    for i, deal in enumerate(deals):
        log(deal, hours=-i - 1, kind=Kind.EMAIL, direction=Direction.INBOUND)
        log(deal, hours=i + 1)  # and one scheduled, ignored
    client = api_client_for(rep_a)
    client.get("/api/v1/opportunities/")  # warm-up: stamps the token's last use

    with django_assert_num_queries(API_LIST_QUERIES):
        rows = client.get("/api/v1/opportunities/?page=1").json()["results"]
    with django_assert_num_queries(API_DETAIL_QUERIES):
        detail = client.get(f"/api/v1/opportunities/{deals[-1].pk}/").json()

    assert len(rows) == n
    assert all(row["last_two_way_contact_at"] is not None for row in rows)
    latest = dt.datetime.fromisoformat(detail["last_two_way_contact_at"])
    assert latest == NOW - dt.timedelta(hours=n)
