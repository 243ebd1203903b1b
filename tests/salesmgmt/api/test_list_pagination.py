"""Keyset pages on the long lists (accounts, deals, activities) and numbered pages on request."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from accounts.models import Account, Activity, Opportunity, OpportunityTeamMember
from accounts.selectors import (
    activity_list,
    opportunity_list,
    with_last_two_way_contact,
    with_won_override,
)
from salesmgmt.row_slices import narrow_slice
from tests.factories import AccountFactory, ActivityFactory, OpportunityFactory

LONG_LISTS = ("accounts", "opportunities", "activities")
MODELS = {"accounts": Account, "opportunities": Opportunity, "activities": Activity}


@pytest.fixture
def rows(rep_a, rep_b, se_a, manager_a, process):
    """Rows across both teams, with ties on every list's first sort key (dates, names)."""
    moment = timezone.now().replace(microsecond=0)
    close_on = dt.date(2026, 12, 31)
    for i, owner in enumerate((rep_a, se_a, manager_a, rep_b) * 4):
        # Two names and two close dates only: the keyset must step through equal keys.
        account = AccountFactory(owner=owner, name=f"Acme {i % 2}")
        deal = OpportunityFactory(
            owner=owner,
            account=account,
            process=process,
            expected_close_on=close_on + dt.timedelta(days=i % 2),
            amount=Decimal(1000 + i),
        )
        for minutes in (0, 0, 5):
            ActivityFactory(
                owner=owner,
                account=account,
                opportunity=deal,
                occurred_at=moment - dt.timedelta(minutes=minutes),
            )
    # A deal of the other team that rep_a sees through its deal team only.
    foreign = OpportunityFactory(owner=rep_b, process=process, expected_close_on=close_on)
    OpportunityTeamMember.objects.create(opportunity=foreign, user=rep_a)
    ActivityFactory(owner=rep_b, account=foreign.account, opportunity=foreign)


def _walk(client, url: str) -> tuple[list[int], list[dict]]:
    """Every id by following ``next`` to the end; and each page's body."""
    ids, bodies = [], []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        bodies.append(body)
        ids += [row["id"] for row in body["results"]]
        url = body["next"]
    return ids, bodies


@pytest.mark.usefixtures("rows")
@pytest.mark.parametrize("persona", ["rep_a", "manager_a", "executive"])
@pytest.mark.parametrize("kind", LONG_LISTS)
def test_keyset_pages_list_every_visible_row_once_in_the_list_order(
    kind, persona, request, api_client_for
):
    viewer = request.getfixturevalue(persona)
    client = api_client_for(viewer)

    # when: the default list, 4 rows a page, followed through ``next``
    ids, bodies = _walk(client, f"/api/v1/{kind}/?page_size=3")

    # then: keyset pages (no count, an ``after`` position), the rows visible_to keeps,
    # each once, in the selector's order (as the numbered pages give them)
    expected = list(
        MODELS[kind].objects.visible_to(viewer).order_by(*_order(kind)).values_list("pk", flat=True)
    )
    assert len(bodies) >= 2
    assert all("count" not in body for body in bodies)
    assert "after" in parse_qs(urlsplit(bodies[0]["next"]).query)
    assert ids == expected
    numbered, _ = _walk(client, f"/api/v1/{kind}/?page=1&page_size=3")
    assert numbered == expected


def _order(kind: str) -> tuple[str, ...]:
    return {
        "accounts": ("name", "id"),
        "opportunities": ("expected_close_on", "id"),
        "activities": ("-occurred_at", "-id"),
    }[kind]


@pytest.mark.usefixtures("rows")
@pytest.mark.parametrize("kind", LONG_LISTS)
def test_page_parameter_keeps_numbered_pages_with_a_count(kind, manager_a, api_client_for):
    response = api_client_for(manager_a).get(f"/api/v1/{kind}/?page=2&page_size=3")

    body = response.json()
    assert response.status_code == 200
    assert body["count"] == MODELS[kind].objects.visible_to(manager_a).count()
    assert "page=3" in body["next"]
    assert len(body["results"]) == 3


@pytest.mark.usefixtures("rows")
def test_keyset_pages_follow_the_ordering_parameter(manager_a, api_client_for):
    ids, _ = _walk(api_client_for(manager_a), "/api/v1/opportunities/?ordering=-amount&page_size=5")

    visible = Opportunity.objects.visible_to(manager_a)
    assert ids == list(visible.order_by("-amount", "-id").values_list("pk", flat=True))


@pytest.mark.usefixtures("rows")
def test_ordering_on_a_nullable_field_falls_back_to_numbered_pages(manager_a, api_client_for):
    # A keyset cannot step past NULL: such an order is paged by number (with the count).
    Account.objects.filter(pk=Account.objects.first().pk).update(annual_revenue=None)

    response = api_client_for(manager_a).get("/api/v1/accounts/?ordering=annual_revenue")

    assert response.status_code == 200
    assert response.json()["count"] == Account.objects.visible_to(manager_a).count()


@pytest.mark.usefixtures("rows")
def test_sync_parameters_still_page_by_updated_at(manager_a, api_client_for):
    since = (timezone.now() - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")

    ids, bodies = _walk(
        api_client_for(manager_a), f"/api/v1/activities/?updated_since={since}&page_size=10"
    )

    assert "cursor" in parse_qs(urlsplit(bodies[0]["next"]).query)
    visible = Activity.objects.visible_to(manager_a)
    assert ids == list(visible.order_by("updated_at", "id").values_list("pk", flat=True))


@pytest.mark.usefixtures("rows")
@pytest.mark.parametrize("kind", LONG_LISTS)
def test_a_garbled_keyset_position_is_a_404_not_a_500(kind, rep_a, api_client_for):
    response = api_client_for(rep_a).get(f"/api/v1/{kind}/?after=not-a-cursor")

    assert response.status_code == 404


@pytest.mark.usefixtures("rows")
@pytest.mark.parametrize("kind", LONG_LISTS)
def test_keyset_page_costs_two_queries_and_numbered_page_three(
    kind, rep_a, api_client_for, django_assert_num_queries
):
    client = api_client_for(rep_a)
    client.get(f"/api/v1/{kind}/")  # warm-up: stamps the token's last_used_at

    # 1 the token with its user, 2 the page (ids sorted, then joined to their related rows)
    with django_assert_num_queries(2):
        client.get(f"/api/v1/{kind}/?expand=owner,account,opportunity,stage")
    # ... and numbered pages add 3: the COUNT(*)
    with django_assert_num_queries(3):
        client.get(f"/api/v1/{kind}/?page=1")


@pytest.mark.usefixtures("rows")
@pytest.mark.parametrize("kind", LONG_LISTS)
def test_a_managers_keyset_page_reads_their_people_first(
    kind, manager_a, api_client_for, django_assert_num_queries
):
    client = api_client_for(manager_a)
    client.get(f"/api/v1/{kind}/")

    # the token, the ids of the people the manager sees (a literal array in the page's
    # query), the page
    with django_assert_num_queries(3):
        client.get(f"/api/v1/{kind}/?expand=owner,account,opportunity,stage")


@pytest.mark.usefixtures("rows")
@pytest.mark.parametrize("sort_visible", [False, True])
def test_narrow_slice_returns_the_same_rows_as_a_plain_slice(sort_visible, manager_a):
    listed = activity_list(viewer=manager_a)

    for bounds in (slice(0, 5), slice(5, 12), slice(40, 60)):
        page = narrow_slice(listed, bounds, sort_visible=sort_visible)
        assert [row.pk for row in page] == [row.pk for row in listed[bounds]]
        # related rows come joined, as the selector asks
        assert all("owner" in row._state.fields_cache for row in page)


@pytest.mark.usefixtures("rows")
@pytest.mark.parametrize("sort_visible", [False, True])
def test_narrow_slice_computes_a_lists_annotations_for_the_page(
    sort_visible, manager_a, rep_a, django_assert_num_queries
):
    # Given deals annotated per row (the API's list: its last two-way contact, a won override)
    ActivityFactory(
        owner=rep_a,
        opportunity=Opportunity.objects.filter(owner=rep_a).first(),
        kind=Activity.Kind.MEETING,
        occurred_at=timezone.now() - dt.timedelta(days=1),
    )
    listed = with_last_two_way_contact(with_won_override(opportunity_list(viewer=manager_a)))

    def seen(rows):
        return [(row.pk, row.last_two_way_contact_at, row.won_override_at) for row in rows]

    for bounds in (slice(0, 5), slice(5, 12), slice(10, 60)):
        # When a page is read narrowly, then the rows and their figures are the plain slice's
        with django_assert_num_queries(1) as captured:
            page = narrow_slice(listed, bounds, sort_visible=sort_visible)
        assert seen(page) == seen(listed[bounds])
        # ... the ids sorted first, the figures computed for the page's rows only
        assert '"accounts_opportunity"."id" IN (SELECT' in captured.captured_queries[0]["sql"]
    assert any(row.last_two_way_contact_at for row in narrow_slice(listed, slice(0, 60)))
