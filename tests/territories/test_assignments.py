"""Rule previews and applies, coverage, manual moves and effective dating."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from accounts import services as account_services
from accounts.models import Account, Activity, Opportunity, OpportunityChange
from salesmgmt.errors import ConflictError, PermissionDeniedError
from salesmgmt.money import RateTable
from territories import selectors, services
from territories.models import AccountTerritoryAssignment, AssignmentRun
from tests.factories import AccountFactory, OpportunityFactory
from tests.territories.factories import AssignmentFactory, AssignmentRuleFactory


@pytest.fixture
def rules(territory_map):
    return {
        "ca": AssignmentRuleFactory(
            name="California", territory=territory_map["norcal"], states=["CA"], priority=10
        ),
        "ny": AssignmentRuleFactory(
            name="New York", territory=territory_map["newyork"], states=["NY"], priority=10
        ),
    }


def deal_owners(activities) -> dict[int, int | None]:
    """Each activity's copy of its deal's owner, as stored."""
    pks = [a.pk for a in activities]
    return dict(Activity.objects.filter(pk__in=pks).values_list("pk", "deal_owner_id"))


def owners_and_territories():
    current = selectors.current_assignments()
    return {
        a.pk: (a.owner_id, current.get(a.pk, {}).get("territory_id")) for a in Account.objects.all()
    }


def test_preview_equals_what_apply_does(executive, rep_a, rep_b, territory_map, rules):
    # given accounts owned by the "wrong" reps, and one the rules do not cover
    ca = AccountFactory(name="Pacific", state="CA", owner=rep_b)
    ny = AccountFactory(name="Hudson", state="NY", owner=rep_a)
    tx = AccountFactory(name="Lone Star", state="TX", owner=rep_a)
    before = owners_and_territories()

    plan = selectors.assignment_preview(actor=executive)
    run = services.assignment_apply(actor=executive, expected_fingerprint=plan.fingerprint)

    # then every previewed move happened, and nothing else did
    expected = dict(before)
    for move in plan.moves:
        expected[move.account_id] = (move.to_owner_id, move.to_territory_id)
    assert owners_and_territories() == expected
    assert {m.account_id for m in plan.moves} == {ca.pk, ny.pk}
    assert expected[ca.pk] == (rep_a.pk, territory_map["norcal"].pk)
    assert expected[tx.pk] == before[tx.pk]
    assert run.moved_count == 2
    assert run.kind == AssignmentRun.Kind.RULES
    row = AccountTerritoryAssignment.objects.get(account=ca)
    assert (row.source, row.rule, row.run, row.assigned_by) == ("rule", rules["ca"], run, executive)
    # and a second preview has nothing left to do
    assert selectors.assignment_preview(actor=executive).moves == []
    with pytest.raises(ValidationError, match="Nothing to move"):
        services.assignment_apply(actor=executive)


def test_apply_refuses_when_the_preview_is_stale(executive, rep_a, rules):
    AccountFactory(state="CA", owner=rep_a)
    plan = selectors.assignment_preview(actor=executive)
    AccountFactory(state="NY", owner=rep_a)  # the data changed after the preview

    with pytest.raises(ConflictError, match="changed since the preview"):
        services.assignment_apply(actor=executive, expected_fingerprint=plan.fingerprint)
    assert not AccountTerritoryAssignment.objects.exists()


def test_apply_can_move_the_previous_owners_open_deals_with_history(
    executive, rep_a, rep_b, se_a, rules, process
):
    account = AccountFactory(state="CA", owner=rep_b)
    open_deal = OpportunityFactory(account=account, owner=rep_b)
    overlay_deal = OpportunityFactory(account=account, owner=se_a)
    won_deal = OpportunityFactory(
        account=account, owner=rep_b, status="won", closed_on=dt.date(2025, 1, 5)
    )
    calls = {
        deal.pk: account_services.activity_log(actor=executive, kind="call", opportunity=deal)
        for deal in (open_deal, overlay_deal, won_deal)
    }

    run = services.assignment_apply(actor=executive, move_open_opportunities=True)

    assert run.opportunities_moved_count == 1
    assert Opportunity.objects.get(pk=open_deal.pk).owner == rep_a
    assert Opportunity.objects.get(pk=overlay_deal.pk).owner == se_a  # not the old owner's
    assert Opportunity.objects.get(pk=won_deal.pk).owner == rep_b  # closed deals keep credit
    # the activities' copy of their deal's owner (Activity.deal_owner) followed
    assert deal_owners(calls.values()) == {
        calls[open_deal.pk].pk: rep_a.pk,
        calls[overlay_deal.pk].pk: se_a.pk,
        calls[won_deal.pk].pk: rep_b.pk,
    }
    change = OpportunityChange.objects.get(opportunity=open_deal, field="owner")
    assert (change.old_value, change.new_value, change.changed_by) == (
        str(rep_b.pk),
        str(rep_a.pk),
        executive,
    )


def test_rebalanced_or_manual_assignments_stay_unless_forced(
    executive, rep_a, territory_map, rules
):
    account = AccountFactory(state="CA", owner=rep_a)
    services.account_move(actor=executive, account=account, territory=territory_map["socal"])

    plan = selectors.assignment_preview(actor=executive)
    assert plan.moves == []
    assert [h.account_id for h in plan.held] == [account.pk]

    forced = selectors.assignment_preview(actor=executive, include_pinned=True)
    assert [(m.account_id, m.to_territory_id) for m in forced.moves] == [
        (account.pk, territory_map["norcal"].pk)
    ]


def test_conflicting_rules_hold_the_account_and_coverage_lists_gaps_and_overlaps(
    executive, rep_a, territory_map, rules
):
    AssignmentRuleFactory(
        name="Software", territory=territory_map["socal"], industries=["software"], priority=10
    )
    clash = AccountFactory(name="Clash", state="CA", industry="Software", owner=rep_a)
    gap = AccountFactory(name="Nowhere", state="TX", industry="Retail", owner=rep_a)
    fine = AccountFactory(name="Fine", state="NY", industry="Retail", owner=rep_a)

    plan = selectors.assignment_preview(actor=executive)
    report = selectors.coverage_report(viewer=executive)

    assert [m.account_id for m in plan.moves] == [fine.pk]
    assert [h.account_id for h in plan.held] == [clash.pk]
    assert [g.account_id for g in report.gaps] == [gap.pk]
    (overlap,) = report.overlaps
    assert overlap.account_id == clash.pk
    assert overlap.is_conflict
    assert {r.name for r in overlap.rules} == {"California", "Software"}


def test_lower_priority_number_wins_when_applied(executive, rep_a, territory_map, rules):
    AssignmentRuleFactory(
        name="Big CA",
        territory=territory_map["socal"],
        states=["CA"],
        employee_count_min=1000,
        priority=5,
    )
    big = AccountFactory(state="CA", employee_count=5000, owner=rep_a)
    small = AccountFactory(state="CA", employee_count=50, owner=rep_a)

    services.assignment_apply(actor=executive)

    current = selectors.current_assignments()
    assert current[big.pk]["territory_id"] == territory_map["socal"].pk
    assert current[small.pk]["territory_id"] == territory_map["norcal"].pk


def test_a_manager_plans_only_within_their_teams_territories(
    manager_a, rep_a, rep_b, territory_map, rules
):
    mine = AccountFactory(state="CA", owner=rep_a)
    AccountFactory(state="NY", owner=rep_a)  # would go to manager_b's territory
    AccountFactory(state="CA", owner=rep_b)  # unassigned and owned outside the team

    plan = selectors.assignment_preview(actor=manager_a)

    assert [m.account_id for m in plan.moves] == [mine.pk]
    with pytest.raises(PermissionDeniedError):
        services.assignment_apply(actor=rep_a)


def test_a_move_keeps_earlier_bookings_with_the_old_territory(
    executive, rep_a, territory_map, process
):
    # given an account in NorCal with a deal won in January
    account = AccountFactory(owner=rep_a)
    AssignmentFactory(account=account, territory=territory_map["norcal"])
    OpportunityFactory(
        account=account,
        owner=rep_a,
        status="won",
        closed_on=dt.date(2025, 1, 10),
        amount=Decimal(1000),
    )

    # when it moves to SoCal on 1 February and wins another deal in March
    services.account_move(
        actor=executive,
        account=account,
        territory=territory_map["socal"],
        effective_on=dt.date(2025, 2, 1),
    )
    OpportunityFactory(
        account=account,
        owner=rep_a,
        status="won",
        closed_on=dt.date(2025, 3, 1),
        amount=Decimal(400),
    )

    # then each territory keeps the bookings won while it held the account
    credited = selectors.territory_bookings(
        territory_ids=[territory_map["norcal"].pk, territory_map["socal"].pk],
        start_on=dt.date(2025, 1, 1),
        end_on=dt.date(2025, 3, 31),
        rates=RateTable.load(),
    )
    totals = credited.groupby("territory_id")["amount"].sum().to_dict()
    assert totals == {
        territory_map["norcal"].pk: Decimal(1000),
        territory_map["socal"].pk: Decimal(400),
    }
    history = list(AccountTerritoryAssignment.objects.filter(account=account).order_by("id"))
    assert [(h.effective_from, h.effective_to) for h in history] == [
        (dt.date(2020, 1, 1), dt.date(2025, 2, 1)),
        (dt.date(2025, 2, 1), None),
    ]
    assert Account.objects.get(pk=account.pk).owner == territory_map["socal"].owner


def test_a_move_cannot_predate_the_current_assignment(executive, rep_a, territory_map):
    account = AccountFactory(owner=rep_a)
    AssignmentFactory(
        account=account, territory=territory_map["norcal"], effective_from=dt.date(2025, 3, 1)
    )
    with pytest.raises(ValidationError, match="cannot predate"):
        services.account_move(
            actor=executive,
            account=account,
            territory=territory_map["socal"],
            effective_on=dt.date(2025, 2, 1),
        )


def test_changing_a_territory_owner_keeps_history_and_moves_its_accounts(
    executive, rep_a, rep_b, territory_map, process
):
    norcal = territory_map["norcal"]
    account = AccountFactory(owner=rep_a)
    AssignmentFactory(account=account, territory=norcal)
    deal = OpportunityFactory(account=account, owner=rep_a, process=process)
    call = account_services.activity_log(actor=executive, kind="call", opportunity=deal)

    services.territory_change_owner(
        actor=executive,
        territory=norcal,
        owner=rep_b,
        effective_on=dt.date(2025, 6, 1),
        move_open_opportunities=True,
    )

    history = list(
        norcal.ownerships.order_by("effective_from").values_list(
            "owner_id", "effective_from", "effective_to"
        )
    )
    assert history == [
        (rep_a.pk, dt.date(2020, 1, 1), dt.date(2025, 6, 1)),
        (rep_b.pk, dt.date(2025, 6, 1), None),
    ]
    assert Account.objects.get(pk=account.pk).owner == rep_b
    assert Opportunity.objects.get(pk=deal.pk).owner == rep_b
    assert deal_owners([call]) == {call.pk: rep_b.pk}  # Activity.deal_owner followed
