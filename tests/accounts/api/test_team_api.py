"""``/api/v1/opportunities/{id}/team/``: list for whoever sees the deal; add, change and
remove for those who may reassign it; 400 with field messages; a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from accounts import services
from accounts.models import OpportunityTeamMember
from salesmgmt.models import AuditEvent, SalesRole
from tests.factories import AccountFactory, UserFactory


@pytest.fixture
def deal(process, rep_a):
    return services.opportunity_create(
        actor=rep_a,
        account=AccountFactory(owner=rep_a, name="Acme"),
        name="Acme rollout",
        amount=Decimal("50000"),
        expected_close_on=dt.date(2030, 3, 31),
    )


def _url(deal, member=None):
    base = f"/api/v1/opportunities/{deal.pk}/team/"
    return f"{base}{member.pk}/" if member else base


def test_the_owners_manager_adds_changes_and_removes_members(api_client_for, manager_a, se_a, deal):
    client = api_client_for(manager_a)

    created = client.post(_url(deal), {"user": se_a.pk, "team_role": "SE overlay"})
    member = OpportunityTeamMember.objects.get(opportunity=deal)
    changed = client.patch(_url(deal, member), {"team_role": "Partner rep"})
    listed = client.get(_url(deal))
    removed = client.delete(_url(deal, member))

    assert created.status_code == 201, created.json()
    assert created.json()["user"]["id"] == se_a.pk
    assert changed.json()["team_role"] == "Partner rep"
    assert [row["team_role"] for row in listed.json()["results"]] == ["Partner rep"]
    assert removed.status_code == 204
    assert not OpportunityTeamMember.objects.exists()
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions[-3:] == [
        "opportunity.team_member_added",
        "opportunity.team_member_changed",
        "opportunity.team_member_removed",
    ]


def test_the_owner_reads_the_team_but_may_not_change_it(
    api_client_for, rep_a, manager_a, se_a, deal
):
    member = services.opportunity_team_member_add(actor=manager_a, opportunity=deal, user=se_a)
    client = api_client_for(rep_a)

    assert client.get(_url(deal)).status_code == 200
    assert client.post(_url(deal), {"user": rep_a.pk}).status_code in (400, 403)
    assert client.patch(_url(deal, member), {"team_role": "x"}).status_code == 403
    assert client.delete(_url(deal, member)).status_code == 403
    assert OpportunityTeamMember.objects.get().team_role == ""


def test_a_rep_cannot_add_themselves_to_another_teams_deal(api_client_for, rep_b, deal):
    response = api_client_for(rep_b).post(_url(deal), {"user": rep_b.pk})

    assert response.status_code == 404
    assert not OpportunityTeamMember.objects.exists()


def test_bad_members_are_400_with_field_messages(
    api_client_for, manager_a, rep_a, rep_b, se_a, deal
):
    client = api_client_for(manager_a)
    owner = client.post(_url(deal), {"user": rep_a.pk})
    outsider = client.post(_url(deal), {"user": rep_b.pk})
    too_long = client.post(_url(deal), {"user": se_a.pk, "team_role": "x" * 41})
    client.post(_url(deal), {"user": se_a.pk})
    twice = client.post(_url(deal), {"user": se_a.pk})
    member = OpportunityTeamMember.objects.get()
    other_person = client.patch(_url(deal, member), {"user": rep_a.pk})

    for response in (owner, outsider, too_long, twice, other_person):
        assert response.status_code == 400, response.json()
    assert "user" in owner.json()["fields"]
    assert "user" in outsider.json()["fields"]
    assert "team_role" in too_long.json()["fields"]
    assert "already" in " ".join(twice.json()["fields"]["user"])
    assert "user" in other_person.json()["fields"]


def test_an_integrator_sets_the_team_as_sales_ops_sync(api_client_for, integrator, se_a, deal):
    response = api_client_for(integrator).post(_url(deal), {"user": se_a.pk, "team_role": "SE"})

    assert response.status_code == 201


# The team list through a token, after a warm-up call: 1 the token with its user, 2 the deal
# (visibility), 3 COUNT(*) of the page, 4 the page of members with their people joined.
TEAM_LIST_QUERIES = 4


@pytest.mark.parametrize("members", [3, 30])
def test_the_team_list_costs_the_same_queries_for_3_or_30_members(
    api_client_for, manager_a, deal, members, django_assert_max_num_queries
):
    for _ in range(members):
        OpportunityTeamMember.objects.create(
            opportunity=deal, user=UserFactory(manager=manager_a, sales_role=SalesRole.SE)
        )
    client = api_client_for(manager_a)
    client.get(_url(deal))  # warm-up: stamps the token's last_used_at

    with django_assert_max_num_queries(TEAM_LIST_QUERIES):
        response = client.get(_url(deal) + "?page_size=100")

    assert len(response.json()["results"]) == members
