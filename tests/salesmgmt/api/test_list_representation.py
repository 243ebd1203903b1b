"""A list row is exactly its record's detail, however cheaply the list reads it.

Lists load only the related columns their serializer shows (salesmgmt/api/columns.py) and
skip the filter set when no filter is asked for (salesmgmt/api/filters.py); the detail
endpoints read whole records. Equal bodies prove the narrowing left nothing out.
"""

from __future__ import annotations

import copy

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.api.serializers import ActivitySerializer, OpportunitySerializer
from accounts.models import Activity, OpportunityTeamMember
from accounts.selectors import activity_list
from salesmgmt.api.columns import related_columns, related_only
from salesmgmt.visibility import visible_user_ids, visible_users
from tests.coaching.factories import (
    AccountReviewFactory,
    CallDebriefFactory,
    DevelopmentPlanFactory,
    ResourceRequestFactory,
)
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    ContactFactory,
    MilestoneCompletionFactory,
    OpportunityFactory,
)

RESOURCES = [
    "accounts",
    "contacts",
    "opportunities",
    "activities",
    "milestone-completions",
    "account-reviews",
    "debriefs",
    "development-plans",
    "resource-requests",
    "users",
]
EXPAND = "owner,account,opportunity,stage,manager,rep,milestone"


@pytest.fixture
def records(process, rep_a, se_a, manager_a, rep_b):
    for owner in (rep_a, se_a, rep_b) * 2:
        account = AccountFactory(owner=owner)
        ContactFactory(account=account)
        deal = OpportunityFactory(owner=owner, account=account, process=process)
        ActivityFactory(owner=owner, account=account, opportunity=deal)
        MilestoneCompletionFactory(opportunity=deal, completed_by=owner)
        AccountReviewFactory(account=account, created_by=owner)
        ResourceRequestFactory(opportunity=deal, requested_by=owner)
        CallDebriefFactory(rep=owner)
        DevelopmentPlanFactory(rep=owner)
    ActivityFactory(owner=rep_a, account=account, opportunity=None)  # no deal: a null relation


@pytest.mark.usefixtures("records")
@pytest.mark.parametrize("expand", ["", EXPAND])
@pytest.mark.parametrize("persona", ["rep_a", "manager_a", "executive"])
@pytest.mark.parametrize("resource", RESOURCES)
def test_every_list_row_equals_its_detail(resource, persona, expand, request, api_client_for):
    client = api_client_for(request.getfixturevalue(persona))
    query = f"?expand={expand}&" if expand else "?"
    client.get("/api/v1/users/")  # warm-up: the first call stamps the token's last use

    with CaptureQueriesContext(connection) as one_row:
        client.get(f"/api/v1/{resource}/{query}page_size=1")
    with CaptureQueriesContext(connection) as all_rows:
        rows = client.get(f"/api/v1/{resource}/{query}").json()["results"]

    assert rows, f"{persona} should see some {resource}"
    # A column the list did not load would be read row by row, one query each.
    assert len(all_rows) == len(one_row)
    for row in rows:
        detail = client.get(f"/api/v1/{resource}/{row['id']}/{query}")
        assert detail.status_code == 200
        assert row == detail.json()


@pytest.mark.usefixtures("records")
def test_a_list_loads_only_the_related_columns_it_shows(manager_a):
    rows = list(related_only(activity_list(viewer=manager_a), ActivitySerializer))

    owner = rows[0].owner
    assert {"password", "last_login", "ancestor_path"} <= owner.get_deferred_fields()
    assert not {"first_name", "last_name", "username", "email"} & owner.get_deferred_fields()
    assert rows[0].get_deferred_fields() == set()  # the listed rows themselves stay whole
    assert {"account__name", "opportunity__amount"} <= set(related_columns(ActivitySerializer))
    assert "owner__password" not in related_columns(OpportunitySerializer)


@pytest.mark.usefixtures("records")
def test_filters_still_filter_and_refuse_bad_values(rep_a, se_a, manager_a, api_client_for):
    client = api_client_for(manager_a)

    everyone = {row["owner"]["id"] for row in client.get("/api/v1/accounts/").json()["results"]}
    only_rep = client.get(f"/api/v1/accounts/?owner={rep_a.pk}&page_size=10").json()["results"]
    bad = client.get("/api/v1/accounts/?owner=-3")

    assert everyone == {rep_a.pk, se_a.pk}
    assert {row["owner"]["id"] for row in only_rep} == {rep_a.pk}
    assert bad.status_code == 400
    assert "owner" in bad.json()["fields"]


def test_related_fields_share_their_queryset_when_copied():
    field = ActivitySerializer._declared_fields["account"]

    copied = copy.deepcopy(field)

    assert copied.queryset is field.queryset
    assert copied.visible is field.visible
    assert copied.expanded is field.expanded
    assert copied is not field


@pytest.mark.parametrize("persona", ["rep_a", "se_a", "manager_a", "manager_b"])
def test_visible_user_ids_are_visible_users(persona, personas, request, django_assert_num_queries):
    viewer = request.getfixturevalue(persona)
    expected = sorted(visible_users(viewer).values_list("pk", flat=True))

    with django_assert_num_queries(1 if persona.startswith("manager") else 0):
        ids = visible_user_ids(viewer)

    assert sorted(ids) == expected


@pytest.mark.usefixtures("records")
def test_a_deal_team_member_still_sees_the_deals_activities(rep_a, rep_b, api_client_for):
    foreign = Activity.objects.filter(owner=rep_b).first()
    OpportunityTeamMember.objects.create(opportunity=foreign.opportunity, user=rep_a)

    ids = {row["id"] for row in api_client_for(rep_a).get("/api/v1/activities/").json()["results"]}

    assert foreign.pk in ids
