"""Territory and rule forms on the pages: executives and admins only, through the services."""

import pytest
from django.urls import reverse

from territories import selectors
from territories.models import (
    AssignmentRule,
    Territory,
    TerritoryOverlay,
    TerritoryOwnership,
)
from tests.factories import AccountFactory


def post(client, user, name, data, *args):
    client.force_login(user)
    return client.post(reverse(name, args=args), data)


@pytest.mark.parametrize("persona", ["manager_a", "rep_a"])
def test_only_executives_and_admins_edit_territories_and_rules(
    client, personas, territory_map, persona
):
    client.force_login(personas[persona])
    norcal = territory_map["norcal"]
    for name, args in (
        ("territories:territory_create", ()),
        ("territories:territory_edit", (norcal.pk,)),
        ("territories:rule_create", ()),
    ):
        assert client.get(reverse(name, args=args)).status_code == 403
    assert (
        post(client, personas[persona], "territories:territory_create", {"name": "X"}).status_code
        == 403
    )
    assert not Territory.objects.filter(name="X").exists()


def test_an_executive_creates_a_territory_with_an_overlay(
    client, executive, rep_a, se_a, territory_map
):
    response = post(
        client,
        executive,
        "territories:territory_create",
        {
            "name": "Oregon",
            "level": "territory",
            "parent": territory_map["west"].pk,
            "owner": rep_a.pk,
            "add_overlay": se_a.pk,
            "overlay_role": "Sales engineer",
        },
    )

    assert response.status_code == 302
    oregon = Territory.objects.get(name="Oregon")
    assert (oregon.parent, oregon.owner) == (territory_map["west"], rep_a)
    assert TerritoryOwnership.objects.filter(territory=oregon, owner=rep_a).exists()
    overlay = TerritoryOverlay.objects.get(territory=oregon)
    assert (overlay.user, overlay.overlay_role) == (se_a, "Sales engineer")
    # and the planning reports know a change happened
    assert selectors.planning_generation() >= 1


def test_editing_a_territory_changes_owner_with_history_and_ends_overlays(
    client, executive, rep_a, rep_b, se_a, territory_map
):
    norcal = territory_map["norcal"]
    overlay = TerritoryOverlay.objects.create(territory=norcal, user=se_a)
    client.force_login(executive)
    form = client.get(reverse("territories:territory_edit", args=[norcal.pk])).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}

    response = client.post(
        reverse("territories:territory_edit", args=[norcal.pk]),
        {**data, "name": "Northern California", "owner": rep_b.pk, "end_overlays": [overlay.pk]},
    )

    assert response.status_code == 302
    norcal.refresh_from_db()
    assert (norcal.name, norcal.owner) == ("Northern California", rep_b)
    owners = TerritoryOwnership.objects.filter(territory=norcal).order_by("effective_from", "id")
    assert [o.owner for o in owners] == [rep_a, rep_b]
    overlay.refresh_from_db()
    assert overlay.effective_to is not None


def test_a_bad_territory_edit_shows_the_error_and_changes_nothing(
    client, executive, rep_b, territory_map
):
    west = territory_map["west"]
    client.force_login(executive)

    # a region cannot sit under a territory's level, and the owner change must not half-apply
    response = client.post(
        reverse("territories:territory_edit", args=[west.pk]),
        {"name": "West", "level": "region", "parent": territory_map["east"].pk, "owner": rep_b.pk},
    )

    assert response.status_code == 200
    assert response.context["form"].errors["parent"]
    west.refresh_from_db()
    assert (west.parent, west.owner) == (None, territory_map["west"].owner)
    assert not TerritoryOwnership.objects.filter(territory=west, owner=rep_b).exists()


def test_an_executive_creates_and_edits_a_rule(client, executive, rep_a, territory_map):
    named = [AccountFactory(owner=rep_a), AccountFactory(owner=rep_a)]
    response = post(
        client,
        executive,
        "territories:rule_create",
        {
            "name": "West coast",
            "territory": territory_map["norcal"].pk,
            "priority": "20",
            "is_active": "on",
            "states": "CA, OR",
            "employee_count_min": "10",
            "named_account_ids": f"{named[0].pk}, {named[1].pk}",
        },
    )

    assert response.status_code == 302
    rule = AssignmentRule.objects.get(name="West coast")
    assert (rule.states, rule.priority, rule.employee_count_min) == (["CA", "OR"], 20, 10)
    assert set(rule.named_accounts.all()) == set(named)

    page = client.get(reverse("territories:rule_edit", args=[rule.pk]))
    data = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    assert data["states"] == "CA, OR"
    data.update({"states": "WA", "named_account_ids": "", "is_active": ""})
    response = client.post(reverse("territories:rule_edit", args=[rule.pk]), data)

    assert response.status_code == 302, response.context["form"].errors
    rule.refresh_from_db()
    assert (rule.states, rule.is_active, rule.named_accounts.count()) == (["WA"], False, 0)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"employee_count_min": "500", "employee_count_max": "100"}, "employee_count_max"),
        ({"named_account_ids": "12, abc"}, "named_account_ids"),
        ({"named_account_ids": "999999"}, "named_account_ids"),
        ({"territory": "west"}, "territory"),  # rules assign to the lowest level only
    ],
)
def test_bad_rule_input_is_shown_on_the_form(client, executive, territory_map, changes, field):
    data = {"name": "Bad", "territory": territory_map["norcal"].pk, "priority": "10"}
    if changes.get("territory") == "west":
        changes = {"territory": territory_map["west"].pk}
    response = post(client, executive, "territories:rule_create", {**data, **changes})

    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert not AssignmentRule.objects.filter(name="Bad").exists()


def test_the_overview_links_to_the_forms_for_executives_only(
    client, executive, manager_a, territory_map
):
    client.force_login(executive)
    assert (
        reverse("territories:territory_create")
        in client.get(reverse("territories:overview")).content.decode()
    )
    client.force_login(manager_a)
    assert (
        reverse("territories:territory_create")
        not in client.get(reverse("territories:overview")).content.decode()
    )
