"""Who sees what on every page: the visibility matrix over all personas.

Deals (conftest): "a" owned by rep_a, "se" by se_a (both under manager_a), "b" by rep_b (under
manager_b); each on its owner's account.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import OpportunityTeamMember
from tests.factories import ActivityFactory, ContactFactory, OpportunityFactory

# Which of the three deals each persona sees (the integrator sees everything, but only via API).
VISIBLE_DEALS = {
    "rep_a": {"a"},
    "se_a": {"se"},
    "rep_b": {"b"},
    "manager_a": {"a", "se"},
    "manager_b": {"b"},
    "executive": {"a", "se", "b"},
    "admin": {"a", "se", "b"},
}
PEOPLE = sorted(VISIBLE_DEALS)


def page_urls(deals) -> list[str]:
    deal = deals["a"]
    return [
        reverse("accounts:rep_home"),
        reverse("accounts:opportunity_list"),
        reverse("accounts:opportunity_detail", args=[deal.pk]),
        reverse("accounts:account_list"),
        reverse("accounts:account_detail", args=[deal.account_id]),
    ]


def action_urls(deals) -> list[str]:
    deal = deals["a"]
    milestone = deal.stage.milestones.first()
    return [
        reverse("accounts:opportunity_edit", args=[deal.pk]),
        reverse("accounts:opportunity_close_won", args=[deal.pk]),
        reverse("accounts:opportunity_close_lost", args=[deal.pk]),
        reverse("accounts:milestone_complete", args=[deal.pk, milestone.pk]),
        reverse("accounts:milestone_undo", args=[deal.pk, milestone.pk]),
        reverse("accounts:completion_verify", args=[1]),
        reverse("accounts:completion_reject", args=[1]),
        reverse("accounts:activity_log"),
    ]


# --- detail pages: visible is 200, anything else 404 -------------------------------------------


@pytest.mark.parametrize("who", PEOPLE)
def test_opportunity_detail_is_404_outside_visibility(client, personas, deals, who):
    client.force_login(personas[who])

    for key, deal in deals.items():
        response = client.get(reverse("accounts:opportunity_detail", args=[deal.pk]))

        expected = 200 if key in VISIBLE_DEALS[who] else 404
        assert response.status_code == expected, (who, key)


@pytest.mark.parametrize("who", PEOPLE)
def test_account_detail_is_404_outside_visibility(client, personas, deals, who):
    client.force_login(personas[who])

    for key, deal in deals.items():
        response = client.get(reverse("accounts:account_detail", args=[deal.account_id]))

        expected = 200 if key in VISIBLE_DEALS[who] else 404
        assert response.status_code == expected, (who, key)


# --- lists contain visible records only ---------------------------------------------------------


@pytest.mark.parametrize("who", PEOPLE)
def test_opportunity_list_shows_only_visible_deals(client, personas, deals, who):
    client.force_login(personas[who])

    response = client.get(reverse("accounts:opportunity_list"), {"status": ""})

    assert response.status_code == 200
    shown = {deal.pk for deal in response.context["deals"].page.object_list}
    assert shown == {deals[key].pk for key in VISIBLE_DEALS[who]}
    for key, deal in deals.items():
        assert (deal.name in response.text) == (key in VISIBLE_DEALS[who])


@pytest.mark.parametrize("who", PEOPLE)
def test_account_list_shows_only_visible_accounts(client, personas, deals, who):
    client.force_login(personas[who])

    response = client.get(reverse("accounts:account_list"))

    assert response.status_code == 200
    shown = {account.pk for account in response.context["accounts"].page.object_list}
    assert shown == {deals[key].account_id for key in VISIBLE_DEALS[who]}
    for key, deal in deals.items():
        assert (deal.account.name in response.text) == (key in VISIBLE_DEALS[who])


@pytest.mark.parametrize("who", PEOPLE)
def test_rep_home_lists_only_the_users_own_open_deals(client, personas, deals, who):
    user = personas[who]
    client.force_login(user)

    response = client.get(reverse("accounts:rep_home"))

    assert response.status_code == 200
    shown = {deal.pk for deal, *_ in response.context["rows"]}
    assert shown == {deal.pk for deal in deals.values() if deal.owner_id == user.pk}


def test_opportunity_list_owner_filter_offers_only_visible_people(
    client, rep_a, se_a, rep_b, manager_a, deals
):
    client.force_login(manager_a)

    response = client.get(reverse("accounts:opportunity_list"), {"owner": se_a.pk})
    offered = {pk for pk, _ in response.context["form"].fields["owner"].widget.choices if pk}

    assert offered == {manager_a.pk, rep_a.pk, se_a.pk}
    assert [deal.pk for deal in response.context["deals"].page.object_list] == [deals["se"].pk]

    # Naming someone outside the subtree is a form error, never their deals.
    response = client.get(reverse("accounts:opportunity_list"), {"owner": rep_b.pk})
    assert response.context["form"].errors["owner"]
    assert deals["b"].name not in response.text


# --- integrators and anonymous visitors ---------------------------------------------------------


def test_integrator_gets_403_on_every_page_and_action(client, integrator, deals):
    client.force_login(integrator)

    for url in page_urls(deals):
        assert client.get(url).status_code == 403, url
    for url in action_urls(deals):
        assert client.post(url, {}).status_code == 403, url


def test_anonymous_is_sent_to_login_from_every_page_and_action(client, deals):
    login = reverse("login")

    for url in page_urls(deals):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(f"{login}?next="), url
    for url in action_urls(deals):
        response = client.post(url, {})
        assert response.status_code == 302, url
        assert response.url.startswith(login), url


# --- team members and shared accounts -----------------------------------------------------------


def test_team_member_sees_the_deal_they_work_on_and_its_account(client, se_a, deals):
    # Given se_a is an overlay on rep_b's deal
    OpportunityTeamMember.objects.create(opportunity=deals["b"], user=se_a, team_role="SE")
    client.force_login(se_a)

    detail = client.get(reverse("accounts:opportunity_detail", args=[deals["b"].pk]))
    listing = client.get(reverse("accounts:opportunity_list"))
    account = client.get(reverse("accounts:account_detail", args=[deals["b"].account_id]))
    home = client.get(reverse("accounts:rep_home"))

    assert detail.status_code == 200
    assert deals["b"].name in listing.text
    assert account.status_code == 200
    # The rep home stays "my own deals": the overlay deal is not theirs.
    assert deals["b"].pk not in {deal.pk for deal, *_ in home.context["rows"]}


def test_account_detail_shows_only_the_viewers_deals_contacts_and_activities(
    client, process, rep_a, rep_b, account_a, deal_a
):
    # Given rep_b also has a deal on rep_a's account, and logged a call on it
    other = OpportunityFactory(owner=rep_b, account=account_a, name="Bravo side deal")
    ActivityFactory(owner=rep_b, account=account_a, opportunity=other, notes="Bravo's secret call")
    ActivityFactory(owner=rep_a, account=account_a, opportunity=deal_a, notes="Alpha's own call")
    ContactFactory(account=account_a, first_name="Carla", last_name="Contact", title="CFO")
    client.force_login(rep_a)

    response = client.get(reverse("accounts:account_detail", args=[account_a.pk]))

    assert response.status_code == 200
    assert deal_a.name in response.text
    assert "Carla Contact" in response.text
    assert "Alpha&#x27;s own call" in response.text
    assert other.name not in response.text
    assert "secret call" not in response.text
