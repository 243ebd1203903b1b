"""seed_demo: deterministic, idempotent demo data that the services and selectors agree with."""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter, defaultdict
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import (
    Activity,
    MilestoneCompletion,
    Opportunity,
    OpportunityChange,
    OpportunityTeamMember,
    Stage,
)
from accounts.selectors import completed_milestone_ids, opportunities_as_of, process_stage_specs
from accounts.stages import derive_stage_id
from demo_data.vocabulary import DEMO_PASSWORD, LOGINS
from salesmgmt.models import ExchangeRate, Period, Role, SalesRole, User
from tests.fixtures.demo import demo_once

SMALL = {"reps": 16, "opportunities": 200}
TRACKED = [choice.value for choice in OpportunityChange.Field]


def seed(**options) -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out, **{**SMALL, **options})
    return out.getvalue()


def key_data() -> list[tuple]:
    """What a seed must reproduce, without database ids."""
    return sorted(
        Opportunity.objects.values_list(
            "name",
            "amount",
            "currency",
            "status",
            "stage__name",
            "owner__username",
            "expected_close_on",
            "closed_on",
            "created_at",
        )
    )


def row_counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (User, Opportunity, OpportunityChange, MilestoneCompletion, Activity)
    }


# The small demo, seeded once for this module (tests/fixtures/demo.py); each test's writes
# roll back to it.
seeded = demo_once(**SMALL)


@pytest.fixture
def demo(seeded, db):
    """The small demo, as ``seed()`` leaves it."""


def test_seed_demo_is_deterministic_for_a_seed(db):
    seed()
    first, first_counts = key_data(), row_counts()

    # when the same seed runs again on a database emptied of demo data
    seed(reset=True)

    assert key_data() == first
    assert row_counts() == first_counts
    seed(reset=True, seed=7)
    assert key_data() != first


def test_seed_demo_twice_does_not_duplicate(demo):
    before = row_counts()

    output = seed()

    assert "already exists" in output
    assert row_counts() == before


def test_seed_demo_reset_replaces_the_demo_data(demo):
    before = row_counts()

    seed(reset=True)

    assert row_counts() == before


def test_demo_org_is_a_hierarchy_of_about_eight_reps_per_manager(demo):
    users = {u.pk: u for u in User.objects.all()}
    for user in users.values():
        expected = users[user.manager_id].subtree_path if user.manager_id else "/"
        assert user.ancestor_path == expected
    reps = [u for u in users.values() if u.role == Role.REP]
    assert len(reps) == SMALL["reps"]
    per_manager = Counter(rep.manager_id for rep in reps)
    assert max(per_manager.values()) <= 8
    # executive → director → manager → rep
    assert all(len(rep.ancestor_path.strip("/").split("/")) == 3 for rep in reps)
    assert {rep.sales_role for rep in reps} >= {SalesRole.AE, SalesRole.SE}


def test_demo_logins_can_log_in_and_form_one_chain(demo, client):
    logins = {name: User.objects.get(username=name) for name, *_ in LOGINS}

    for name in logins:
        assert client.login(username=name, password=DEMO_PASSWORD), name

    rep, manager, executive = logins["rep"], logins["manager"], logins["executive"]
    assert rep.manager_id == manager.pk
    assert rep.ancestor_path.startswith(f"/{executive.pk}/")
    assert executive.manager_id is None
    assert executive.role == Role.EXECUTIVE
    assert logins["admin"].is_staff
    assert logins["integrator"].role == Role.INTEGRATOR
    assert Opportunity.objects.filter(owner=rep).exists()


def test_seed_demo_prints_counts_and_logins(db):
    output = seed()

    assert "Demo data loaded" in output
    assert DEMO_PASSWORD in output
    for name, *_ in LOGINS:
        assert name in output


def test_every_stage_follows_from_completed_milestones(demo):
    deals = list(Opportunity.objects.all())
    specs = {pid: process_stage_specs(process_id=pid) for pid in {d.process_id for d in deals}}
    done = completed_milestone_ids(opportunity_ids=[d.pk for d in deals])

    for deal in deals:
        assert deal.stage_id == derive_stage_id(specs[deal.process_id], done.get(deal.pk, set()))


def test_history_replays_to_every_deal_as_it_is_now(demo):
    states = opportunities_as_of(at=timezone.now())

    for deal in Opportunity.objects.all():
        assert states[deal.pk] == {
            "amount": deal.amount,
            "currency": deal.currency,
            "expected_close_on": deal.expected_close_on,
            "stage": deal.stage_id,
            "forecast_category": deal.forecast_category,
            "owner": deal.owner_id,
            "status": deal.status,
            "closed_on": deal.closed_on,
        }


EMPTY_AT_CREATION = {OpportunityChange.Field.FORECAST_CATEGORY, OpportunityChange.Field.CLOSED_ON}


def test_history_starts_with_a_creation_row_per_set_field_then_real_changes(demo):
    changes = defaultdict(list)
    for change in OpportunityChange.objects.order_by("changed_at", "id"):
        changes[change.opportunity_id].append(change)
    now = timezone.now()

    for deal in Opportunity.objects.all():
        rows = changes[deal.pk]
        creation = [r for r in rows if r.changed_at == deal.created_at and r.old_value == ""]
        # every field with a value at creation (the category is the stage's default: empty)
        assert [r.field for r in creation] == [f for f in TRACKED if f not in EMPTY_AT_CREATION]
        assert all(r.new_value for r in creation)
        for row in rows[len(creation) :]:
            assert row.old_value != row.new_value
            assert row.changed_at <= now
            if row.field == OpportunityChange.Field.EXPECTED_CLOSE_ON:  # slips move it later
                assert row.new_value > row.old_value
        stage_moves = [r for r in rows if r.field == OpportunityChange.Field.STAGE]
        assert deal.stage_entered_at == stage_moves[-1].changed_at


def test_deal_history_includes_slips_amount_changes_and_closings(demo):
    rows = OpportunityChange.objects.exclude(old_value="")
    fields = Counter(rows.values_list("field", flat=True))

    assert fields[OpportunityChange.Field.EXPECTED_CLOSE_ON] > 0
    assert fields[OpportunityChange.Field.AMOUNT] > 0
    assert fields[OpportunityChange.Field.STAGE] > 0
    # every closed deal closed once: status open → won/lost
    closed = Opportunity.objects.exclude(status=Opportunity.Status.OPEN)
    assert rows.filter(field=OpportunityChange.Field.STATUS).count() == closed.count()


def test_a_closed_deal_was_open_just_before_it_closed(demo):
    deal = Opportunity.objects.filter(status=Opportunity.Status.WON).first()
    closing = deal.changes.get(field=OpportunityChange.Field.STATUS, old_value="open")

    before = opportunities_as_of(
        at=closing.changed_at - dt.timedelta(seconds=1), opportunity_ids=[deal.pk]
    )

    assert before[deal.pk]["status"] == Opportunity.Status.OPEN
    assert before[deal.pk]["closed_on"] is None


def test_won_and_lost_deals_are_closed_and_open_deals_are_not(demo):
    deals = Opportunity.objects.all()
    statuses = Counter(deals.values_list("status", flat=True))
    today = timezone.localdate()

    assert statuses[Opportunity.Status.WON]
    assert statuses[Opportunity.Status.LOST]
    assert statuses[Opportunity.Status.OPEN]
    for deal in deals:
        assert (deal.closed_on is None) == (deal.status == Opportunity.Status.OPEN)
        assert deal.amount == deal.amount.quantize(Decimal("0.01"))
        assert deal.amount > 0
        if deal.status == Opportunity.Status.LOST:
            assert deal.lost_reason
        if deal.closed_on:
            assert deal.closed_on < today


def test_completions_are_by_the_owner_with_evidence_where_required(demo):
    completions = MilestoneCompletion.objects.select_related("milestone", "opportunity")

    for completion in completions:
        assert completion.completed_by_id == completion.opportunity.owner_id
        assert completion.completed_at >= completion.opportunity.created_at
        if completion.milestone.evidence_required:
            assert completion.evidence


def test_history_covers_eight_quarters_and_open_deals_close_soon(demo):
    today = timezone.localdate()
    closed_on = list(
        Opportunity.objects.filter(closed_on__isnull=False).values_list("closed_on", flat=True)
    )
    open_close = list(
        Opportunity.objects.filter(status=Opportunity.Status.OPEN).values_list(
            "expected_close_on", flat=True
        )
    )

    assert (today - min(closed_on)).days > 8 * 91
    assert sum((d - today).days <= 183 for d in open_close) >= 0.8 * len(open_close)
    quarters = Period.objects.filter(kind=Period.Kind.QUARTER)
    assert all(quarters.filter(start_on__lte=d, end_on__gte=d).exists() for d in closed_on)


def test_some_deals_are_in_euros_and_pounds_with_rates(demo):
    currencies = set(Opportunity.objects.values_list("currency", flat=True))

    assert {"USD", "EUR", "GBP"} <= currencies
    assert ExchangeRate.objects.filter(currency="EUR").count() > 4
    assert ExchangeRate.objects.filter(currency="GBP").exists()


def test_activities_are_about_ten_per_deal_by_default(demo):
    per_deal = Activity.objects.count() / Opportunity.objects.count()

    assert 8 <= per_deal <= 12
    assert not Activity.objects.filter(opportunity__isnull=True).exists()
    assert OpportunityTeamMember.objects.filter(user__sales_role=SalesRole.SE).exists()


def test_activities_per_deal_is_configurable(db):
    seed(activities_per_deal=2)

    assert Activity.objects.count() / Opportunity.objects.count() == pytest.approx(2, rel=0.25)


def test_new_hires_are_ramping_with_fewer_deals(demo):
    today = timezone.localdate()
    new_hires = User.objects.filter(role=Role.REP, hire_date__gt=today - dt.timedelta(days=90))
    deals = Counter(Opportunity.objects.values_list("owner_id", flat=True))
    sellers = User.objects.filter(sales_role=SalesRole.AE).exclude(pk__in=new_hires)
    typical = sorted(deals[pk] for pk in sellers.values_list("pk", flat=True))

    assert new_hires.exists()
    for person in new_hires:
        assert deals[person.pk] < typical[len(typical) // 2]
        assert not Opportunity.objects.filter(owner=person, created_at__date__lt=person.hire_date)


def test_conversion_differs_by_rep(db):
    # A bigger book so each rep has enough decided deals to compare.
    seed(opportunities=1200)
    standard = Stage.objects.filter(process__name="Standard B2B")
    order = dict(standard.values_list("pk", "order"))
    late_from = max(order.values()) - 1  # Negotiate and Commit
    early, late = defaultdict(lambda: [0, 0]), defaultdict(lambda: [0, 0])
    deals = Opportunity.objects.filter(stage__in=standard).exclude(status=Opportunity.Status.OPEN)
    for owner, stage_id, status in deals.values_list("owner_id", "stage_id", "status"):
        reached = order[stage_id]
        early[owner][0] += 1
        early[owner][1] += reached >= 3 or status == Opportunity.Status.WON
        if reached >= late_from:
            late[owner][0] += 1
            late[owner][1] += status == Opportunity.Status.WON
    rates = {
        owner: (early[owner][1] / early[owner][0], late[owner][1] / late[owner][0])
        for owner in early
        if early[owner][0] >= 15 and late[owner][0] >= 4
    }

    # some reps are strong at discovery and weak at closing, and others the other way round
    assert any(
        a_early > b_early + 0.15 and a_late + 0.15 < b_late
        for a_early, a_late in rates.values()
        for b_early, b_late in rates.values()
    )
