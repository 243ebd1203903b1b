"""The index-friendly visibility of long lists keeps exactly the rows ``visible_to`` keeps."""

from __future__ import annotations

import pytest

from accounts import selectors
from accounts.models import Account, Activity, Opportunity, OpportunityTeamMember
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    OpportunityFactory,
    UserFactory,
)


@pytest.fixture
def spread(rep_a, rep_b, se_a, manager_a, manager_b, process):
    """Accounts, deals and activities owned across both teams, with cross-team deal teams."""
    outsider = UserFactory(manager=manager_b)
    for owner in (rep_a, rep_b, se_a, manager_a, outsider):
        account = AccountFactory(owner=owner)
        for other in (rep_a, rep_b, outsider):
            deal = OpportunityFactory(owner=owner, account=account, process=process)
            ActivityFactory(owner=other, account=account, opportunity=deal)
            ActivityFactory(owner=other, account=account, opportunity=None)
            if other != owner:
                OpportunityTeamMember.objects.create(opportunity=deal, user=other)
    # An account of the other team whose only link to rep_a is a deal rep_a is on the team of.
    foreign = AccountFactory(owner=rep_b)
    deal = OpportunityFactory(owner=rep_b, account=foreign, process=process)
    OpportunityTeamMember.objects.create(opportunity=deal, user=se_a)


@pytest.mark.usefixtures("spread")
@pytest.mark.parametrize(
    "persona", ["rep_a", "rep_b", "se_a", "manager_a", "manager_b", "executive", "admin_user"]
)
def test_list_selectors_keep_exactly_the_rows_visible_to_keeps(persona, request):
    viewer = request.getfixturevalue(persona)

    def ids(queryset):
        return set(queryset.values_list("pk", flat=True))

    # Each list differs from visible_to only in how the SQL is written.
    pairs = [
        (selectors.opportunity_list(viewer=viewer), Opportunity.objects.visible_to(viewer)),
        (selectors.account_list(viewer=viewer), Account.objects.visible_to(viewer)),
        (selectors.activity_list(viewer=viewer), Activity.objects.visible_to(viewer)),
    ]
    for listed, reference in pairs:
        assert ids(listed) == ids(reference)
    # and the rule is not vacuous: a rep sees some rows, not all of them
    if persona == "rep_a":
        assert 0 < len(ids(pairs[2][0])) < Activity.objects.count()
