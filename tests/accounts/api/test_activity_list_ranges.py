"""A visible set's activities list read range by range (issue 21): one index range per visible
person (as owner and as deal owner) and per team deal, merged, instead of sorting every
activity the team can see. Walking the keyset pages must give exactly the plain visible
queryset in ``(-occurred_at, -id)`` order, ties on ``occurred_at`` across page ends included.

The ranges are read with PostgreSQL's ``LATERAL``; on SQLite the pages sort (skipped there).
"""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Activity, OpportunityTeamMember
from accounts.selectors import activity_list, listing
from salesmgmt.row_slices import IndexRange, VisibleRanges, narrow_slice
from salesmgmt.visibility import visible_user_ids
from tests.factories import ActivityFactory, OpportunityFactory, UserFactory
from tests.fixtures.services import require_postgresql

PAGE_SIZES = (1, 2, 3, 5, 7, 50)


@pytest.fixture(autouse=True)
def _postgresql(db):
    require_postgresql("The range reads are PostgreSQL's (set DATABASE_URL).")


@pytest.fixture
def history(rep_a, se_a, manager_a, rep_b, process):
    """Activities reaching manager_a's team every way (own, on a team member's deal, on a deal
    a team member is on but an outsider owns), others that do not, most on three instants."""
    outsider_deal = OpportunityFactory(owner=rep_b, process=process)  # rep_a on its team
    OpportunityTeamMember.objects.create(opportunity=outsider_deal, user=rep_a)
    OpportunityTeamMember.objects.create(opportunity=outsider_deal, user=se_a)  # twice: one range
    hidden_deal = OpportunityFactory(owner=rep_b, process=process)  # nobody of team a on it
    rep_a_deal = OpportunityFactory(owner=rep_a, process=process)
    OpportunityTeamMember.objects.create(opportunity=rep_a_deal, user=se_a)  # the team's own
    se_a_deal = OpportunityFactory(owner=se_a, process=process)
    # (owner, deal): every way a row is visible or not, several in more than one range.
    shapes = [
        (rep_a, rep_a_deal),  # owner and deal owner: two ranges of rep_a's
        (rep_a, None),
        (se_a, rep_a_deal),
        (rep_b, rep_a_deal),  # an outsider on a team deal: deal-owner range only
        (rep_b, outsider_deal),  # the team-deal range only
        (rep_a, outsider_deal),  # owner range and team-deal range
        (manager_a, se_a_deal),
        (rep_b, hidden_deal),  # seen by nobody of team a
        (rep_b, None),
    ]
    now = timezone.now().replace(microsecond=0)
    instants = [now - dt.timedelta(minutes=m) for m in (0, 0, 0, 7, 7, 30)]
    for (owner, deal), at in itertools.product(shapes, instants):
        _log(owner, deal, at)
    for days, (owner, deal) in enumerate(shapes, start=1):  # a few on instants of their own
        _log(owner, deal, now - dt.timedelta(days=days))


def _log(owner, deal, at: dt.datetime) -> Activity:
    on = {"opportunity": deal, "account": deal.account} if deal else {}
    return ActivityFactory(owner=owner, occurred_at=at, **on)


def _walk(client, url: str, link: str = "next") -> tuple[list[int], list[dict]]:
    ids, bodies = [], []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        bodies.append(body)
        ids += [row["id"] for row in body["results"]]
        url = body[link]
    return ids, bodies


def _expected(viewer) -> list[int]:
    rows = Activity.objects.visible_to(viewer).order_by("-occurred_at", "-id")
    return list(rows.values_list("pk", flat=True))


@pytest.mark.usefixtures("history")
@pytest.mark.parametrize("persona", ["rep_a", "manager_a", "rep_b", "executive"])
def test_keyset_pages_give_the_visible_rows_in_order_whatever_the_page_size(
    persona, request, api_client_for
):
    viewer = request.getfixturevalue(persona)
    client = api_client_for(viewer)
    expected = _expected(viewer)
    assert len(expected) > 10  # the fixture reaches every persona

    for size in PAGE_SIZES:
        # when: every page, following ``next`` to the end
        ids, bodies = _walk(client, f"/api/v1/activities/?page_size={size}")

        # then: each visible row once, in the plain queryset's order
        assert ids == expected, size
        assert len(bodies) == max(1, -(-len(expected) // size)), size


@pytest.mark.usefixtures("history")
@pytest.mark.parametrize("persona", ["rep_a", "manager_a"])
def test_previous_links_walk_back_through_the_same_pages(persona, request, api_client_for):
    viewer = request.getfixturevalue(persona)
    client = api_client_for(viewer)
    forward, bodies = _walk(client, "/api/v1/activities/?page_size=4")

    # when: from the last page back to the first (ascending ranges, reversed)
    backward_pages = []
    url = bodies[-1]["previous"]
    while url:
        body = client.get(url).json()
        backward_pages.append([row["id"] for row in body["results"]])
        url = body["previous"]

    # then: the same pages as forward, the last excepted
    pages = [[row["id"] for row in body["results"]] for body in bodies]
    assert list(reversed(backward_pages)) == pages[:-1]
    assert forward == _expected(viewer)


@pytest.mark.usefixtures("history")
@pytest.mark.parametrize("persona", ["rep_a", "manager_a"])
def test_numbered_pages_and_filters_keep_the_same_rows(persona, request, api_client_for):
    viewer = request.getfixturevalue(persona)
    client = api_client_for(viewer)

    numbered, _ = _walk(client, "/api/v1/activities/?page=1&page_size=4")
    kind_filtered, _ = _walk(client, "/api/v1/activities/?kind=call&page_size=4")
    oldest_first, _ = _walk(client, "/api/v1/activities/?ordering=occurred_at&page_size=4")

    assert numbered == _expected(viewer)
    assert oldest_first == list(
        Activity.objects.visible_to(viewer)
        .order_by("occurred_at", "id")
        .values_list("pk", flat=True)
    )
    calls = Activity.objects.visible_to(viewer).filter(kind="call")
    assert kind_filtered == list(calls.order_by("-occurred_at", "-id").values_list("pk", flat=True))


def _page_sql(client, url: str) -> str:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return " ".join(q["sql"] for q in captured.captured_queries if "accounts_activity" in q["sql"])


@pytest.mark.usefixtures("history")
def test_a_visible_set_reads_index_ranges_and_everyone_the_list_index(
    manager_a, executive, api_client_for
):
    manager, chief = api_client_for(manager_a), api_client_for(executive)
    first = manager.get("/api/v1/activities/?page_size=5").json()

    # a manager's pages: per-key ranges, merged
    assert "CROSS JOIN LATERAL" in _page_sql(manager, "/api/v1/activities/?page_size=5")
    assert "CROSS JOIN LATERAL" in _page_sql(manager, first["next"])
    # an executive's: the plain walk of (occurred_at, id); one deal's: its own index
    assert "LATERAL" not in _page_sql(chief, "/api/v1/activities/")
    deal = Activity.objects.visible_to(manager_a).exclude(opportunity=None).first().opportunity_id
    assert "LATERAL" not in _page_sql(manager, f"/api/v1/activities/?opportunity={deal}")


@pytest.mark.usefixtures("history")
def test_a_managers_page_costs_the_same_queries_however_large_the_team_and_its_deals(
    manager_a, rep_b, process, api_client_for, django_assert_num_queries
):
    client = api_client_for(manager_a)
    client.get("/api/v1/activities/")  # warm-up: stamps the token's last use
    url = "/api/v1/activities/?page_size=3&expand=owner,account,opportunity"
    second = client.get(url).json()["next"]

    def counts() -> list[int]:
        found = []
        for page in (url, second):
            with CaptureQueriesContext(connection) as captured:
                client.get(page)
            found.append(len(captured.captured_queries))
        return found

    # the token, the manager's people (a literal array), the page (ranges merged, then the
    # rows with their related rows joined)
    with django_assert_num_queries(3):
        client.get(url)
    before = counts()
    # given: five more people and ten more outsider deals the team works on, with activities
    for _ in range(5):
        person = UserFactory(manager=manager_a)
        deal = OpportunityFactory(owner=rep_b, process=process)
        OpportunityTeamMember.objects.create(opportunity=deal, user=person)
        other = OpportunityFactory(owner=rep_b, process=process)
        OpportunityTeamMember.objects.create(opportunity=other, user=person)
        for on in (deal, other):
            _log(rep_b, on, timezone.now())
        _log(person, None, timezone.now())

    assert counts() == before == [3, 3]
    assert _walk(client, "/api/v1/activities/?page_size=3")[0] == _expected(manager_a)


@pytest.mark.usefixtures("history")
def test_narrow_slice_from_ranges_is_the_plain_slice_at_any_bounds(manager_a):
    # given: the manager's list and its ranges, as the view builds them
    people = visible_user_ids(manager_a)
    listed = activity_list(viewer=manager_a, people=people)
    ranges = VisibleRanges(
        ranges=tuple(IndexRange(c, k) for c, k in listing.activity_ranges(people)),
        order=("occurred_at", "id"),
    )
    plain = [row.pk for row in listed]

    # then: any window (offsets inside a run of ties included) is the plain slice's rows
    for start, stop in ((0, 1), (0, 5), (2, 3), (4, 11), (10, 40), (50, 90)):
        page = narrow_slice(listed, slice(start, stop), ranges=ranges)
        assert [row.pk for row in page] == plain[start:stop], (start, stop)
        assert all("owner" in row._state.fields_cache for row in page)
    # an order the ranges' indexes do not serve is sorted as before, with the same rows
    by_update = listed.order_by("-updated_at", "-id")
    assert [r.pk for r in narrow_slice(by_update, slice(0, 7), ranges=ranges)] == [
        r.pk for r in by_update[:7]
    ]


@pytest.mark.usefixtures("history")
def test_a_range_is_read_without_the_visibility_its_rows_meet_already(manager_a, api_client_for):
    # Each range's rows are visible by construction (an owner or deal owner among the
    # people, a team deal's). Checked inside each range, the visibility condition made
    # PostgreSQL expect 9 of a person's 2,100 rows to pass it and read and sort the whole
    # range (27 ms a page at the 1 M tier) instead of walking its index to the page's end.
    client = api_client_for(manager_a)
    client.get("/api/v1/activities/")  # warm-up: stamps the token's last use

    sql = _page_sql(client, "/api/v1/activities/?page_size=5")

    assert "CROSS JOIN LATERAL" in sql
    assert '"deal_owner_id" = ANY' not in sql, sql
