"""The manager's own time: joint calls and reviews book hours of the manager's week; approving
past the week's capacity is refused unless approved over capacity with a reason; the requests
page shows the weeks and the allocation criteria. Figures worked by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from coaching import selectors, services
from coaching.capacity import week_of
from coaching.models import ManagerCapacity, ResourcePolicy, ResourceRequest
from salesmgmt.errors import PermissionDeniedError
from tests.factories import OpportunityFactory

BASE = "/api/v1"


@pytest.fixture
def deals(process, rep_a):
    return [OpportunityFactory(owner=rep_a, name=f"Deal {i}") for i in range(6)]


@pytest.fixture
def five_hours(executive, manager_a):
    """manager_a has 5 h a week (the default is 8); a joint call books 2 h, a review 1 h."""
    services.manager_capacity_set(actor=executive, manager=manager_a, weekly_hours=Decimal(5))


def ask(rep, deal, kind, needed_by=None):
    return services.resource_request_create(
        actor=rep, opportunity=deal, kind=kind, needed_by=needed_by
    )


def booked(manager) -> list[tuple[Decimal, Decimal]]:
    loads = selectors.week_loads(manager_id=manager.pk, first_week=timezone.localdate())
    return [(load.booked, load.capacity) for load in loads]


def test_bookings_fill_the_week_and_past_capacity_are_refused(deals, rep_a, manager_a, five_hours):
    this_week = week_of(timezone.localdate())
    # 2 + 2 + 1 = 5 h: exactly the capacity, allowed.
    for deal, kind in ((deals[0], "joint"), (deals[1], "joint"), (deals[2], "review")):
        approved = services.resource_request_decide(
            actor=manager_a, request=ask(rep_a, deal, kind), approve=True
        )
        assert (approved.booked_manager, approved.booked_week) == (manager_a, this_week)
    assert booked(manager_a)[0] == (Decimal(5), Decimal(5))

    # A fourth (2 h more: 7 of 5) is refused, saying what is booked and what to do.
    fourth = ask(rep_a, deals[3], "joint")
    with pytest.raises(ValidationError) as refused:
        services.resource_request_decide(actor=manager_a, request=fourth, approve=True)
    message = refused.value.messages[0]
    assert f"has 0 h left in the week of {this_week:%b} {this_week.day}" in message
    assert "(5 of 5 h booked)" in message
    assert "needs 2 h" in message
    assert "approve over capacity" in message
    fourth.refresh_from_db()
    assert fourth.status == ResourceRequest.Status.PENDING

    # Over capacity needs a reason; with one, it is booked and marked.
    with pytest.raises(ValidationError, match="over capacity"):
        services.resource_request_decide(
            actor=manager_a, request=fourth, approve=True, over_capacity=True
        )
    forced = services.resource_request_decide(
        actor=manager_a, request=fourth, approve=True, over_capacity=True, note="Board deal"
    )
    assert (forced.booked_hours, forced.is_over_capacity) == (Decimal(2), True)
    assert booked(manager_a)[0] == (Decimal(7), Decimal(5))

    # Needed next week: books next week, which is free.
    later = ask(rep_a, deals[4], "joint", needed_by=timezone.localdate() + dt.timedelta(days=7))
    services.resource_request_decide(actor=manager_a, request=later, approve=True)
    assert booked(manager_a) == [
        (Decimal(7), Decimal(5)),
        (Decimal(2), Decimal(5)),
        (Decimal(0), Decimal(5)),
        (Decimal(0), Decimal(5)),
    ]


def test_a_past_needed_by_books_this_week(deals, rep_a, manager_a):
    request = ask(rep_a, deals[0], "review", needed_by=timezone.localdate() - dt.timedelta(30))
    decided = services.resource_request_decide(actor=manager_a, request=request, approve=True)
    assert decided.booked_week == week_of(timezone.localdate())
    # The defaults: 8 h a week, a review 1 h.
    assert booked(manager_a)[0] == (Decimal(1), Decimal(8))


def test_the_policy_sets_the_hours_and_other_kinds_book_nothing(deals, rep_a, manager_a):
    ResourcePolicy.objects.create(kind="review", manager_hours=Decimal("1.5"))
    review = ask(rep_a, deals[0], "review")
    assert services.resource_request_decide(
        actor=manager_a, request=review, approve=True
    ).booked_hours == Decimal("1.5")
    ResourcePolicy.objects.filter(kind="se_time").update(min_amount=0, min_stage_order=0,
                                                         min_qualification=0)  # fmt: skip
    se_time = services.resource_request_decide(
        actor=manager_a, request=ask(rep_a, deals[1], "se_time"), approve=True
    )
    assert se_time.booked_week is None
    declined = services.resource_request_decide(
        actor=manager_a, request=ask(rep_a, deals[2], "joint"), approve=False, note="Not yet"
    )
    assert declined.booked_hours is None
    assert booked(manager_a)[0] == (Decimal("1.5"), Decimal(8))


def test_the_criteria_still_apply_to_the_managers_kinds(deals, rep_a, manager_a):
    ResourcePolicy.objects.create(kind="joint", min_amount=Decimal(50000))
    request = ask(rep_a, deals[0], "joint")  # a 10,000 deal
    with pytest.raises(ValidationError, match="Deal size"):
        services.resource_request_decide(actor=manager_a, request=request, approve=True)


def test_an_executive_approving_books_the_reps_manager(deals, rep_a, manager_a, executive):
    decided = services.resource_request_decide(
        actor=executive, request=ask(rep_a, deals[0], "joint"), approve=True
    )
    assert decided.booked_manager == manager_a


def test_who_sets_a_managers_capacity(personas):
    manager_a = personas["manager_a"]
    for persona in ("rep_a", "manager_b", "manager_a"):
        with pytest.raises(PermissionDeniedError):
            services.manager_capacity_set(
                actor=personas[persona], manager=manager_a, weekly_hours=Decimal(3)
            )
    for persona, hours in (("executive", 3), ("admin", 4)):
        services.manager_capacity_set(
            actor=personas[persona], manager=manager_a, weekly_hours=Decimal(hours)
        )
    assert ManagerCapacity.objects.get(manager=manager_a).weekly_hours == Decimal(4)
    with pytest.raises(ValidationError):
        services.manager_capacity_set(
            actor=personas["admin"], manager=personas["rep_a"], weekly_hours=Decimal(3)
        )
    with pytest.raises(ValidationError):
        services.manager_capacity_set(
            actor=personas["admin"], manager=manager_a, weekly_hours=Decimal(200)
        )


def test_the_page_shows_the_weeks_and_the_criteria(client, deals, rep_a, manager_a, five_hours):
    ResourcePolicy.objects.create(kind="joint", min_amount=Decimal(5000), manager_hours=3)
    services.resource_request_decide(
        actor=manager_a, request=ask(rep_a, deals[0], "joint"), approve=True
    )

    client.force_login(manager_a)
    html = client.get(reverse("coaching:request_list")).text
    assert 'id="capacity-weeks"' in html
    assert "3 h" in html  # booked this week, and the joint call's hours in the criteria
    assert "2 h" in html  # free this week: 5 - 3
    assert "Joint call with the manager" in html

    # A rep sees the criteria and whether their deal meets them, not anyone's weeks.
    client.force_login(rep_a)
    html = client.get(reverse("coaching:request_list"), {"opportunity": deals[1].pk}).text
    assert 'id="capacity-weeks"' not in html
    assert 'id="policies"' in html
    assert "Qualifies" in html  # joint call: 10,000 of 5,000 required
    assert "Qualification score %: 0 of 40" in html  # the demo needs 40 %


def test_the_page_refuses_then_approves_over_capacity(client, deals, rep_a, manager_a):
    services.manager_capacity_set(actor=manager_a.manager, manager=manager_a, weekly_hours=1)
    request = ask(rep_a, deals[0], "joint")
    client.force_login(manager_a)
    url = reverse("coaching:request_decide", args=[request.pk])

    refused = client.post(url, {"decision": "approve"})
    assert refused.status_code == 400
    assert "has 1 h left in the week of" in refused.text
    approved = client.post(url, {"decision": "approve", "over_capacity": "on", "note": "Q4"})
    assert approved.status_code == 302
    request.refresh_from_db()
    assert (request.status, request.is_over_capacity) == ("approved", True)


def test_the_api_decides_over_capacity(api_client_for, deals, rep_a, manager_a):
    services.manager_capacity_set(actor=manager_a.manager, manager=manager_a, weekly_hours=0)
    request = ask(rep_a, deals[0], "review")
    api = api_client_for(manager_a)
    url = f"{BASE}/resource-requests/{request.pk}/decide/"

    refused = api.post(url, {"approve": True}, format="json")
    assert refused.status_code == 400
    assert "0 of 0 h booked" in str(refused.json())
    done = api.post(url, {"approve": True, "over_capacity": True, "note": "Renewal"}, format="json")
    assert done.status_code == 200, done.content
    body = done.json()
    assert (body["booked_hours"], body["is_over_capacity"]) == ("1.00", True)
    assert body["booked_week"] == week_of(timezone.localdate()).isoformat()


def test_page_queries_do_not_grow_with_bookings(client, process, rep_a, manager_a):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("coaching:request_list")).status_code == 200
        return len(queries)

    def approve_one(i: int) -> None:
        deal = OpportunityFactory(owner=rep_a, name=f"More {i}")
        services.resource_request_decide(
            actor=manager_a, request=ask(rep_a, deal, "review"), approve=True
        )

    # Session, user, bell; rows, policies, rates, templates, criteria, scores; the criteria
    # table's policies; the viewer's capacity and booked weeks: at most 13 (test_pages' budget),
    # the same for 1 booking as for 6.
    client.force_login(manager_a)
    approve_one(0)
    first = count()
    for i in range(1, 6):
        approve_one(i)
    assert count() == first
    assert first <= 13


def test_the_api_shows_a_managers_weeks_to_who_sees_them(
    api_client_for, deals, rep_a, manager_a, manager_b, five_hours
):
    services.resource_request_decide(
        actor=manager_a, request=ask(rep_a, deals[0], "joint"), approve=True
    )
    url = f"{BASE}/resource-requests/manager-time/"
    own = api_client_for(manager_a).get(url).json()
    assert own["manager"] == manager_a.pk
    assert [(w["booked"], w["capacity"], w["free"]) for w in own["weeks"]] == [
        ("2.00", "5.00", "3.00"),
        ("0.00", "5.00", "5.00"),
        ("0.00", "5.00", "5.00"),
        ("0.00", "5.00", "5.00"),
    ]
    # rep_a sees themselves only; their manager's weeks are a 404, as another team's.
    assert api_client_for(rep_a).get(url, {"manager": manager_a.pk}).status_code == 404
    assert api_client_for(manager_b).get(url, {"manager": manager_a.pk}).status_code == 404
    assert api_client_for(manager_a.manager).get(url, {"manager": manager_a.pk}).status_code == 200
    assert api_client_for(manager_a).get(url, {"manager": "x"}).status_code == 400
