"""The one policy, checked as every persona against every model it scopes."""

import pytest

from accounts.models import Account, Activity, Contact, Opportunity
from accounts.services import opportunity_team_member_add
from salesmgmt.visibility import can_see_user, manages, visible_users
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    ContactFactory,
    OpportunityFactory,
)


@pytest.fixture
def world(personas, process):
    """One account, contact, deal and activity owned by each seller."""
    owned = {}
    for name in ("rep_a", "se_a", "rep_b", "manager_a"):
        owner = personas[name]
        account = AccountFactory(owner=owner, name=f"{name} account")
        owned[name] = {
            "account": account,
            "contact": ContactFactory(account=account),
            "deal": OpportunityFactory(owner=owner, account=account, process=process),
            "activity": ActivityFactory(owner=owner, account=account),
        }
    return owned


EXPECTED_OWNERS = {
    "rep_a": {"rep_a"},
    "se_a": {"se_a"},
    "rep_b": {"rep_b"},
    "manager_a": {"manager_a", "rep_a", "se_a"},
    "manager_b": {"rep_b"},
    "executive": {"rep_a", "se_a", "rep_b", "manager_a"},
    "admin": {"rep_a", "se_a", "rep_b", "manager_a"},
    "integrator": {"rep_a", "se_a", "rep_b", "manager_a"},
}


@pytest.mark.parametrize("viewer", sorted(EXPECTED_OWNERS))
@pytest.mark.parametrize(
    ("model", "key"),
    [(Opportunity, "deal"), (Account, "account"), (Contact, "contact"), (Activity, "activity")],
)
def test_visible_to_matches_the_policy_for_every_role(personas, world, viewer, model, key):
    visible = set(model.objects.visible_to(personas[viewer]).values_list("pk", flat=True))

    expected = {world[owner][key].pk for owner in EXPECTED_OWNERS[viewer]}
    assert visible == expected


def test_team_member_sees_the_deal_and_its_account_but_not_other_deals(personas, world):
    se_a, rep_b = personas["se_a"], personas["rep_b"]
    deal = world["rep_b"]["deal"]
    # An executive may set any deal's team (the reassignment policy).
    opportunity_team_member_add(
        actor=personas["executive"], opportunity=deal, user=se_a, team_role="SE"
    )

    assert Opportunity.objects.visible_to(se_a).filter(pk=deal.pk).exists()
    assert Account.objects.visible_to(se_a).filter(pk=deal.account_id).exists()
    # the SE's manager sees the deal their report works on
    assert Opportunity.objects.visible_to(personas["manager_a"]).filter(pk=deal.pk).exists()
    other = OpportunityFactory(owner=rep_b, account=deal.account)
    assert not Opportunity.objects.visible_to(se_a).filter(pk=other.pk).exists()


def test_visible_users_per_role(personas):
    assert set(visible_users(personas["rep_a"])) == {personas["rep_a"]}
    assert set(visible_users(personas["manager_a"])) == {
        personas["manager_a"],
        personas["rep_a"],
        personas["se_a"],
    }
    assert personas["rep_b"] in visible_users(personas["executive"])


def test_can_see_user_and_manages(personas):
    assert can_see_user(personas["manager_a"], personas["rep_a"])
    assert not can_see_user(personas["manager_a"], personas["rep_b"])
    assert not can_see_user(personas["rep_a"], personas["se_a"])
    assert manages(personas["executive"], personas["rep_b"])
    assert manages(personas["manager_a"], personas["rep_a"])
    assert not manages(personas["rep_a"], personas["rep_a"])
    assert not manages(personas["manager_b"], personas["rep_a"])
