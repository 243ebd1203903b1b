"""The precomputed planning reports: equal to the direct computation, kept fresh, applied."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction
from django.urls import reverse

from salesmgmt import refresh
from salesmgmt.errors import ConflictError
from territories import selectors, services, tasks
from territories.models import (
    AccountTerritoryAssignment,
    PlanningSnapshot,
    RebalanceProposal,
)
from territories.services import planning
from tests.factories import AccountFactory, ActivityFactory, OpportunityFactory
from tests.territories.factories import AssignmentFactory, AssignmentRuleFactory


@pytest.fixture
def book(territory_map, rep_a, se_a, rep_b, process):
    """A skewed book with deals, activities, a gap, an overlap that conflicts, a named rule.

    NorCal: four accounts (3000 each, one named by its rule); SoCal: one of 1000; NewYork:
    one of 2000. A Texan account matches no rule; a Nevadan one two rules at one priority.
    """
    norcal, socal, newyork = (territory_map[k] for k in ("norcal", "socal", "newyork"))
    named = AccountFactory(name="Named", owner=rep_a, state="CA", annual_revenue=3000)
    AssignmentRuleFactory(name="CA", territory=norcal, states=["CA"], priority=10)
    AssignmentRuleFactory(name="Named", territory=norcal, priority=5, named_accounts=[named])
    AssignmentRuleFactory(name="NV south", territory=socal, states=["NV"], priority=10)
    AssignmentRuleFactory(name="NV east", territory=newyork, states=["NV"], priority=10)
    AssignmentRuleFactory(name="NY", territory=newyork, states=["NY"], priority=10)
    AssignmentFactory(account=named, territory=norcal)
    for territory, owner, state, revenues in (
        (norcal, rep_a, "CA", (3000, 3000, 3000)),
        (socal, se_a, "NV", (1000,)),
        (newyork, rep_b, "NY", (2000,)),
    ):
        for revenue in revenues:
            account = AccountFactory(owner=owner, state=state, annual_revenue=revenue)
            AssignmentFactory(account=account, territory=territory)
            OpportunityFactory(account=account, owner=owner, amount=Decimal(700))
            ActivityFactory(account=account, owner=owner)
    AccountFactory(name="Lone Star", owner=rep_b, state="TX")
    return territory_map


def balance_rows(report):
    return [
        {k: v for k, v in row.items() if k != "balance_index"}
        | {"balance_index": round(row["balance_index"], 9)}
        for row in report.rows
    ]


def problems(report):
    return {
        "gaps": {(p.account_id, p.account_name) for p in report.gaps},
        "overlaps": {
            (p.account_id, p.is_conflict, tuple(r.rule_id for r in p.rules))
            for p in report.overlaps
        },
    }


@pytest.mark.parametrize("viewer", ["executive", "manager_a", "manager_b", "rep_a"])
def test_precomputed_reports_equal_the_direct_computation(personas, book, viewer):
    # given the reports precomputed once for everyone
    services.planning_refresh(force=True)
    snapshot = selectors.latest_snapshot()
    user = personas[viewer]

    # then what the page reads for this viewer is what computing it directly gives
    stored_balance = selectors.stored_balance(viewer=user, snapshot=snapshot)
    direct_balance = selectors.territory_balance(viewer=user)
    assert balance_rows(stored_balance) == balance_rows(direct_balance)
    assert stored_balance.cv == pytest.approx(direct_balance.cv)
    assert stored_balance.flagged_count == direct_balance.flagged_count

    stored_coverage = selectors.stored_coverage(viewer=user, snapshot=snapshot)
    direct_coverage = selectors.coverage_report(viewer=user)
    assert problems(stored_coverage) == problems(direct_coverage)
    assert stored_coverage.gap_count == len(direct_coverage.gaps)
    assert stored_coverage.overlap_count == len(direct_coverage.overlaps)

    stored = selectors.proposal_for(actor=user, snapshot=snapshot)
    if viewer == "rep_a":
        assert stored is None
    else:
        assert stored.is_current
        assert stored.plan == selectors.rebalance_preview(actor=user)


def test_the_fixture_has_something_to_compare(executive, book):
    snapshot = services.planning_refresh(force=True)
    stored = selectors.proposal_for(actor=executive, snapshot=selectors.latest_snapshot())

    assert (snapshot.gap_count, snapshot.overlap_count) == (1, 1)
    assert stored.plan.moves  # NorCal holds 12000 of 18000
    assert snapshot.checked_count == 7


def test_a_refresh_with_nothing_new_does_nothing_and_a_forced_one_is_the_same(executive, book):
    first = services.planning_refresh()

    assert first is not None  # no snapshot yet
    assert services.planning_refresh() is None
    assert tasks.refresh_territory_planning() is None
    again = services.planning_refresh(force=True)

    def content(snapshot):
        proposals = RebalanceProposal.objects.filter(snapshot=snapshot).order_by("planner_id")
        return (
            snapshot.generation,
            snapshot.gap_count,
            snapshot.overlap_count,
            [(p.planner_id, p.fingerprint, p.territory_ids) for p in proposals],
            sorted(snapshot.coverage_findings.values_list("account_id", "kind", "rules")),
        )

    assert content(again) == content(first)


def test_old_snapshots_are_dropped(monkeypatch, book):
    monkeypatch.setattr(planning, "KEEP_SNAPSHOTS", 2)
    made = [services.planning_refresh(force=True).pk for _ in range(4)]

    assert set(PlanningSnapshot.objects.values_list("pk", flat=True)) == set(made[-2:])


def test_a_rule_change_refreshes_the_reports(
    executive, book, django_capture_on_commit_callbacks, rep_b
):
    # given current reports with the Texan account as a gap
    services.planning_refresh(force=True)
    before = selectors.latest_snapshot()
    assert before.is_current
    assert before.gap_count == 1

    # when a rule for Texas is added (the refresh task runs once the change commits)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.rule_create(
            actor=executive, name="TX", territory=book["newyork"], states=["TX"], priority=10
        )

    # then a new snapshot covers the change, and the gap is gone
    assert len(callbacks) == 1
    after = selectors.latest_snapshot()
    assert after.pk != before.pk
    assert after.is_current
    assert after.generation == before.generation + 1
    assert after.gap_count == 0


def test_a_change_marks_the_reports_out_of_date_until_refreshed(executive, book):
    services.planning_refresh(force=True)

    # the refresh is queued on commit, which this test's transaction never reaches
    services.rule_create(actor=executive, name="TX", territory=book["newyork"], states=["TX"])

    assert not selectors.latest_snapshot().is_current
    stored = selectors.proposal_for(actor=executive, snapshot=selectors.latest_snapshot())
    assert not stored.is_current


def test_applying_the_rules_refreshes_the_reports(
    executive, rep_b, book, django_capture_on_commit_callbacks
):
    services.planning_refresh(force=True)
    AccountFactory(name="New in CA", state="CA", owner=rep_b)  # unassigned; the CA rule takes it
    plan = selectors.assignment_preview(actor=executive)
    assert [m.account_name for m in plan.moves] == ["New in CA"]

    before = selectors.latest_snapshot()
    with django_capture_on_commit_callbacks(execute=True):
        services.assignment_apply(actor=executive, expected_fingerprint=plan.fingerprint)

    snapshot = selectors.latest_snapshot()
    assert snapshot.is_current
    assert snapshot.pk != before.pk
    assert snapshot.balance_figures.get(territory=book["norcal"]).account_count == 5
    stored = selectors.proposal_for(actor=executive, snapshot=snapshot)
    assert stored.plan == selectors.rebalance_preview(actor=executive)


def test_the_stored_proposal_is_applied_as_shown(
    executive, book, django_capture_on_commit_callbacks
):
    services.planning_refresh(force=True)
    stored = selectors.proposal_for(actor=executive, snapshot=selectors.latest_snapshot())

    with django_capture_on_commit_callbacks(execute=True):
        run = services.rebalance_proposal_apply(
            actor=executive,
            proposal_id=stored.proposal.pk,
            expected_fingerprint=stored.plan.fingerprint,
        )

    moved = AccountTerritoryAssignment.objects.filter(run=run)
    assert {(r.account_id, r.territory_id) for r in moved} == {
        (m.account_id, m.to_territory_id) for m in stored.plan.moves
    }
    # and the reports were recomputed after it: the new proposal has nothing left to do
    fresh = selectors.proposal_for(actor=executive, snapshot=selectors.latest_snapshot())
    assert fresh.is_current
    assert fresh.proposal.pk != stored.proposal.pk
    assert fresh.plan == selectors.rebalance_preview(actor=executive)


def test_an_out_of_date_proposal_is_refused(executive, rep_a, book):
    services.planning_refresh(force=True)
    stored = selectors.proposal_for(actor=executive, snapshot=selectors.latest_snapshot())
    # an account moved by hand since the proposal was computed
    services.account_move(
        actor=executive, account=AccountFactory(owner=rep_a), territory=book["norcal"]
    )

    with pytest.raises(ConflictError, match="changed since this proposal"):
        services.rebalance_proposal_apply(
            actor=executive,
            proposal_id=stored.proposal.pk,
            expected_fingerprint=stored.plan.fingerprint,
        )
    assert not AccountTerritoryAssignment.objects.filter(source="rebalance").exists()


def test_someone_elses_or_a_missing_proposal_is_refused(executive, manager_a, book):
    services.planning_refresh(force=True)
    snapshot = selectors.latest_snapshot()
    theirs = selectors.proposal_for(actor=executive, snapshot=snapshot)

    with pytest.raises(ConflictError, match="no longer available"):
        services.rebalance_proposal_apply(
            actor=manager_a,
            proposal_id=theirs.proposal.pk,
            expected_fingerprint=theirs.plan.fingerprint,
        )
    with pytest.raises(ConflictError, match="no longer available"):
        services.rebalance_proposal_apply(
            actor=executive, proposal_id=10**9, expected_fingerprint="x"
        )


def test_a_manager_gets_the_proposal_for_their_own_territories(manager_a, book):
    services.planning_refresh(force=True)
    stored = selectors.proposal_for(actor=manager_a, snapshot=selectors.latest_snapshot())

    assert stored.proposal.planner_id == manager_a.pk
    assert stored.proposal.territory_ids == sorted([book["norcal"].pk, book["socal"].pk])
    assert stored.plan == selectors.rebalance_preview(actor=manager_a)


def test_recompute_now_queues_a_forced_refresh_with_the_band(
    client, manager_a, rep_a, book, django_capture_on_commit_callbacks
):
    services.planning_refresh(force=True)
    client.force_login(rep_a)
    assert client.post(reverse("territories:planning_recompute")).status_code == 403

    client.force_login(manager_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("territories:planning_recompute"), {"band": "25"})

    assert response.status_code == 302
    snapshot = selectors.latest_snapshot()
    assert (snapshot.band, snapshot.requested_by) == (Decimal("0.25"), manager_a)
    assert PlanningSnapshot.objects.count() == 2
    page = client.get(reverse("territories:overview"))
    assert "Recompute now" in page.content.decode()
    assert "25%" in page.content.decode()


def test_the_page_says_when_it_was_computed_and_when_it_is_out_of_date(
    client, executive, rep_a, book
):
    client.force_login(executive)
    empty = client.get(reverse("territories:overview"))
    assert "Not computed yet" in empty.content.decode()
    assert empty.context["plan"] is None

    snapshot = services.planning_refresh(force=True)
    page = client.get(reverse("territories:overview")).content.decode()
    assert f"at {snapshot.created_at.astimezone(dt.UTC):%Y-%m-%d}" in page
    assert reverse("territories:rebalance_apply") in page

    services.rule_create(actor=executive, name="TX", territory=book["newyork"], states=["TX"])
    stale = client.get(reverse("territories:overview")).content.decode()
    assert "a recompute is on its way" in stale
    assert reverse("territories:rebalance_apply") not in stale
    # and a rep sees the reports but no recompute button
    client.force_login(rep_a)
    assert "Recompute now" not in client.get(reverse("territories:overview")).content.decode()


def test_a_burst_of_changes_is_covered_by_one_refresh(
    executive, book, django_capture_on_commit_callbacks
):
    services.planning_refresh(force=True)

    # two rules saved in one transaction each queue a refresh once it commits
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        for state in ("TX", "WA"):
            services.rule_create(
                actor=executive, name=state, territory=book["newyork"], states=[state]
            )

    # the first refresh covers both changes; the second finds nothing left to do
    assert len(callbacks) == 2
    assert PlanningSnapshot.objects.count() == 2
    assert selectors.latest_snapshot().is_current


def test_a_lost_refresh_message_is_caught_up_by_the_sweep(executive, book):
    services.planning_refresh(force=True)
    # marked, never sent: the transaction never commits (as with the broker down)
    services.rule_create(actor=executive, name="TX", territory=book["newyork"], states=["TX"])
    assert refresh.pending_count(kind="planning") == 1

    assert refresh.refresh_sweep()["planning"] == 1
    assert selectors.latest_snapshot().is_current
    assert refresh.pending_count(kind="planning") == 0
    assert refresh.refresh_sweep()["planning"] == 0


def test_no_change_named_to_the_refresh_path_marks_the_reports(book, rep_a):
    from territories.services.planning import planning_keys_for

    # deals, activities, people, rates: the nightly forced run's (see the module)
    for change in (
        refresh.Change(deals=frozenset({1}), activities=frozenset({1})),
        refresh.Change(people=frozenset({rep_a.pk}), periods=frozenset({1})),
        refresh.Change(everything=True),
    ):
        assert planning_keys_for(change) == []
