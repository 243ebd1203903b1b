"""The assignment preview names no rule of a territory the planner may not plan (sweep leak)."""

from __future__ import annotations

import datetime as dt

from territories import selectors
from territories.models import AccountTerritoryAssignment, AssignmentRule
from tests.factories import AccountFactory
from tests.territories.factories import TerritoryFactory


def test_preview_conflict_names_only_the_planners_own_rules(rep_a, rep_b, manager_a, executive):
    # Given: a rule for each team's territory, both matching every account (a conflict)
    west = TerritoryFactory(name="West", owner=rep_a)
    east = TerritoryFactory(name="East", owner=rep_b)
    AssignmentRule.objects.create(name="West catch-all", territory=west, priority=100)
    AssignmentRule.objects.create(name="East secret rule", territory=east, priority=100)
    account = AccountFactory(owner=rep_a, name="Alpha Corp")
    AccountTerritoryAssignment.objects.create(
        account=account, territory=west, effective_from=dt.date(2020, 1, 1)
    )

    # When: manager_a (plans West only) and an executive (plans all) preview
    mine = selectors.assignment_preview(actor=manager_a)
    everyone = selectors.assignment_preview(actor=executive)

    # Then: manager_a learns a rule of another territory disagrees, not its name
    assert [h.reason for h in mine.held] == [
        "rules disagree (West catch-all, 1 rule of other territories)"
    ]
    assert "East secret rule" in everyone.held[0].reason
