"""The deal team on the deal page and in the services: who may change it (who may reassign
the deal), the history it leaves, and the refresh it asks for."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts import selectors, services
from accounts.models import OpportunityTeamMember
from salesmgmt.errors import PermissionDeniedError
from salesmgmt.models import AuditEvent, StaleMark


def _add_url(deal):
    return reverse("accounts:team_member_add", args=[deal.pk])


def test_the_owners_manager_adds_changes_and_removes_a_member(manager_a, se_a, deal_a):
    member = services.opportunity_team_member_add(
        actor=manager_a, opportunity=deal_a, user=se_a, team_role=" SE overlay "
    )
    services.opportunity_team_member_update(actor=manager_a, member=member, team_role="Partner")
    services.opportunity_team_member_remove(actor=manager_a, member=member)

    assert not OpportunityTeamMember.objects.filter(opportunity=deal_a).exists()
    history = [change.text for change in selectors.team_history(opportunity=deal_a)]
    assert history == [
        f"Removed {se_a}",
        f"Changed {se_a}'s role from SE overlay to Partner",
        f"Added {se_a} as SE overlay",
    ]
    assert set(AuditEvent.objects.values_list("actor", flat=True)) == {manager_a.pk}


def test_a_team_change_marks_the_deals_figures_stale(manager_a, se_a, deal_a):
    StaleMark.objects.all().delete()

    services.opportunity_team_member_add(actor=manager_a, opportunity=deal_a, user=se_a)

    assert StaleMark.objects.exists()


@pytest.mark.parametrize("actor_name", ["rep_a", "se_a", "rep_b", "manager_b"])
def test_owners_members_and_outsiders_cannot_change_the_team(personas, actor_name, deal_a, se_a):
    # The owner (rep_a) may not either: the reassignment policy decides, not ownership.
    with pytest.raises(PermissionDeniedError):
        services.opportunity_team_member_add(
            actor=personas[actor_name], opportunity=deal_a, user=personas[actor_name]
        )
    assert not OpportunityTeamMember.objects.exists()


def test_a_member_is_an_active_seller_the_actor_sees_once(manager_a, rep_a, rep_b, se_a, deal_a):
    for user, message in [(rep_a, "owns"), (rep_b, "in your team")]:
        with pytest.raises(ValidationError, match=message):
            services.opportunity_team_member_add(actor=manager_a, opportunity=deal_a, user=user)
    services.opportunity_team_member_add(actor=manager_a, opportunity=deal_a, user=se_a)
    with pytest.raises(ValidationError, match="already"):
        services.opportunity_team_member_add(actor=manager_a, opportunity=deal_a, user=se_a)


def test_the_manager_adds_a_member_on_the_deal_page(client, manager_a, se_a, deal_a):
    client.force_login(manager_a)
    page = client.get(reverse("accounts:opportunity_detail", args=[deal_a.pk]))
    assert 'data-testid="team-add-form"' in page.text

    response = client.post(_add_url(deal_a), {"user": se_a.pk, "team_role": "SE overlay"})

    assert response.status_code == 302
    assert response.url.endswith("#team")
    page = client.get(response.url.split("#")[0])
    assert "Added" in page.text
    assert "SE overlay" in page.text
    member = OpportunityTeamMember.objects.get(opportunity=deal_a)
    assert (member.user, member.team_role) == (se_a, "SE overlay")


def test_the_manager_changes_a_role_and_removes_a_member_on_the_page(
    client, manager_a, se_a, deal_a
):
    member = services.opportunity_team_member_add(actor=manager_a, opportunity=deal_a, user=se_a)
    client.force_login(manager_a)
    edit = reverse("accounts:team_member_edit", args=[deal_a.pk, member.pk])
    remove = reverse("accounts:team_member_remove", args=[deal_a.pk, member.pk])

    client.post(edit, {f"tm{member.pk}-team_role": "Partner rep"})
    member.refresh_from_db()
    assert member.team_role == "Partner rep"
    client.post(remove)
    assert not OpportunityTeamMember.objects.exists()


def test_the_owner_sees_the_team_without_the_forms_and_cannot_post(client, rep_a, se_a, deal_a):
    client.force_login(rep_a)
    page = client.get(reverse("accounts:opportunity_detail", args=[deal_a.pk]))
    assert 'data-testid="team-add-form"' not in page.text

    response = client.post(_add_url(deal_a), {"user": rep_a.pk}, follow=True)

    assert not OpportunityTeamMember.objects.exists()
    # rep_a sees nobody else to add: the choice itself is refused on the form.
    assert "Person" in response.text


def test_a_rep_cannot_add_themselves_to_another_teams_deal(client, rep_a, deal_b):
    client.force_login(rep_a)

    response = client.post(_add_url(deal_b), {"user": rep_a.pk})

    assert response.status_code == 404
    assert not OpportunityTeamMember.objects.exists()


def test_an_invalid_member_shows_a_message_on_the_page(client, manager_a, deal_a):
    client.force_login(manager_a)

    response = client.post(_add_url(deal_a), {"user": "999999", "team_role": "x"}, follow=True)

    assert response.status_code == 200
    assert "Person:" in response.text
    assert not OpportunityTeamMember.objects.exists()
