import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts import services
from accounts.models import Activity, MilestoneCompletion, Opportunity, OpportunityChange
from accounts.selectors import opportunities_as_of, opportunity_as_of
from salesmgmt.errors import ConflictError, PermissionDeniedError
from tests.factories import (
    AccountFactory,
    ExchangeRateFactory,
    build_process,
    complete_closing_milestones,
)


@pytest.fixture
def deal(process, rep_a):
    account = AccountFactory(owner=rep_a)
    return services.opportunity_create(
        actor=rep_a,
        account=account,
        name="Acme rollout",
        amount=Decimal("50000"),
        expected_close_on=dt.date(2030, 3, 31),
    )


def milestones(process):
    return {m.name: m for stage in process.stages.all() for m in stage.milestones.all()}


def complete(deal, actor, *names, evidence="notes.pdf"):
    ms = milestones(deal.process)
    for name in names:
        services.milestone_complete(
            actor=actor, opportunity=deal, milestone=ms[name], evidence=evidence
        )
    deal.refresh_from_db()
    return deal


# --- stage derivation through the services -------------------------------------------------


def test_completing_all_exit_milestones_moves_the_stage_and_logs_it(deal, rep_a):
    complete(deal, rep_a, "Qualify #1")
    assert deal.stage.name == "Qualify"

    complete(deal, rep_a, "Qualify #2")

    assert deal.stage.name == "Discover"
    change = deal.changes.filter(field="stage").last()
    assert (change.old_value, change.new_value, change.changed_by) == (
        str(deal.process.stages.get(name="Qualify").pk),
        str(deal.stage_id),
        rep_a,
    )


def test_out_of_order_completion_is_kept_but_does_not_skip_a_stage(deal, rep_a):
    complete(deal, rep_a, "Discover #1", "Discover #2", "Qualify #1")
    assert deal.stage.name == "Qualify"

    complete(deal, rep_a, "Qualify #2")

    assert deal.stage.name == "Propose"


def test_evidence_required_milestone_refuses_empty_evidence(deal, rep_a):
    ms = milestones(deal.process)
    with pytest.raises(ValidationError) as exc:
        services.milestone_complete(
            actor=rep_a, opportunity=deal, milestone=ms["Qualify #2"], evidence="  "
        )
    assert "evidence" in exc.value.message_dict
    assert not MilestoneCompletion.objects.exists()


def test_completing_twice_is_refused(deal, rep_a):
    complete(deal, rep_a, "Qualify #1")
    with pytest.raises(ValidationError, match="already completed"):
        complete(deal, rep_a, "Qualify #1")


def test_undo_is_a_new_audit_record_and_moves_the_stage_back(deal, rep_a):
    complete(deal, rep_a, "Qualify #1", "Qualify #2")
    ms = milestones(deal.process)

    services.milestone_undo(actor=rep_a, opportunity=deal, milestone=ms["Qualify #2"], note="oops")

    deal.refresh_from_db()
    assert deal.stage.name == "Qualify"
    actions = list(
        MilestoneCompletion.objects.filter(milestone=ms["Qualify #2"]).values_list(
            "action", flat=True
        )
    )
    assert actions == ["complete", "undo"]


def test_undo_of_an_incomplete_milestone_is_refused(deal, rep_a):
    with pytest.raises(ValidationError, match="not completed"):
        services.milestone_undo(
            actor=rep_a, opportunity=deal, milestone=milestones(deal.process)["Qualify #1"]
        )


def test_milestone_of_another_process_is_refused(deal, rep_a):
    other = build_process(name="Other")
    foreign = other.stages.first().milestones.first()
    with pytest.raises(ValidationError, match="another sales process"):
        services.milestone_complete(actor=rep_a, opportunity=deal, milestone=foreign, evidence="x")


def test_verification_required_counts_only_once_the_manager_verifies(rep_a, manager_a, se_a):
    process = build_process(name="Strict", requires_verification=True)
    process.is_default = True
    deal = services.opportunity_create(
        actor=rep_a,
        account=AccountFactory(owner=rep_a),
        process=process,
        name="D",
        amount=Decimal(1),
        expected_close_on=dt.date(2030, 1, 1),
    )
    complete(deal, rep_a, "Qualify #1", "Qualify #2")
    assert deal.stage.name == "Qualify"  # pending evidence does not count
    pending = list(MilestoneCompletion.objects.filter(opportunity=deal))
    assert {c.verification_state for c in pending} == {"pending"}

    with pytest.raises(PermissionDeniedError):
        services.milestone_verify(actor=se_a, completion=pending[0])
    with pytest.raises(PermissionDeniedError):
        services.milestone_verify(actor=rep_a, completion=pending[0])
    for completion in pending:
        services.milestone_verify(actor=manager_a, completion=completion)

    deal.refresh_from_db()
    assert deal.stage.name == "Discover"
    assert pending[0].verified_by == manager_a
    assert pending[0].verified_at is not None


def test_rejected_evidence_does_not_count_and_can_be_resubmitted(rep_a, manager_a):
    process = build_process(name="Strict", requires_verification=True)
    deal = services.opportunity_create(
        actor=rep_a,
        account=AccountFactory(owner=rep_a),
        process=process,
        name="D",
        amount=Decimal(1),
        expected_close_on=dt.date(2030, 1, 1),
    )
    complete(deal, rep_a, "Qualify #1")
    first = MilestoneCompletion.objects.get(opportunity=deal)

    with pytest.raises(ValidationError):
        services.milestone_reject(actor=manager_a, completion=first, reason=" ")
    services.milestone_reject(actor=manager_a, completion=first, reason="No budget proof")
    first.refresh_from_db()
    assert first.verification_state == "rejected"
    assert first.rejection_reason == "No budget proof"

    complete(deal, rep_a, "Qualify #1", evidence="signed budget memo")
    assert MilestoneCompletion.objects.filter(opportunity=deal).count() == 2


# --- editing, reassigning, optimistic locking ----------------------------------------------


def test_update_records_every_tracked_change(deal, rep_a):
    services.opportunity_update(
        actor=rep_a,
        opportunity=deal,
        amount=Decimal("60000"),
        expected_close_on=dt.date(2030, 4, 30),
        next_step="Send proposal",
    )

    rows = {c.field: (c.old_value, c.new_value) for c in deal.changes.exclude(old_value="")}
    assert rows == {
        "amount": ("50000.00", "60000.00"),
        "expected_close_on": ("2030-03-31", "2030-04-30"),
    }


def test_rep_cannot_reassign_a_deal_outside_their_visibility(deal, rep_a, rep_b):
    # The owner never gives a deal away (the owner's manager does), inside the team or not.
    with pytest.raises(PermissionDeniedError):
        services.opportunity_update(actor=rep_a, opportunity=deal, owner=rep_b)
    deal.refresh_from_db()
    assert deal.owner == rep_a
    assert not deal.changes.filter(field="owner").exclude(old_value="").exists()


def test_manager_can_reassign_within_their_team(deal, manager_a, se_a):
    services.opportunity_update(actor=manager_a, opportunity=deal, owner=se_a)
    deal.refresh_from_db()
    assert deal.owner == se_a


def test_someone_outside_the_deal_cannot_edit_it(deal, rep_b, manager_b):
    for outsider in (rep_b, manager_b):
        with pytest.raises(PermissionDeniedError):
            services.opportunity_update(actor=outsider, opportunity=deal, amount=Decimal(1))


def test_stale_version_is_a_conflict_and_changes_nothing(deal, rep_a, manager_a):
    read_version = deal.version
    services.opportunity_update(
        actor=manager_a, opportunity=deal, expected_version=read_version, amount=Decimal(70000)
    )

    with pytest.raises(ConflictError, match="changed by someone else"):
        services.opportunity_update(
            actor=rep_a, opportunity=deal, expected_version=read_version, amount=Decimal(1)
        )
    deal.refresh_from_db()
    assert deal.amount == Decimal("70000.00")


@pytest.mark.parametrize("amount", ["-5", "abc", "NaN"])
def test_bad_amount_is_a_field_error(deal, rep_a, amount):
    with pytest.raises(ValidationError) as exc:
        services.opportunity_update(actor=rep_a, opportunity=deal, amount=amount)
    assert "amount" in exc.value.message_dict


def test_unknown_field_is_refused(deal, rep_a):
    with pytest.raises(ValidationError) as exc:
        services.opportunity_update(actor=rep_a, opportunity=deal, status="won")
    assert "status" in exc.value.message_dict


def test_currency_needs_an_exchange_rate(deal, rep_a):
    with pytest.raises(ValidationError) as exc:
        services.opportunity_update(actor=rep_a, opportunity=deal, currency="JPY")
    assert "currency" in exc.value.message_dict
    ExchangeRateFactory(currency="JPY", rate_to_reporting=Decimal("0.0067"))
    services.opportunity_update(actor=rep_a, opportunity=deal, currency="jpy")
    deal.refresh_from_db()
    assert deal.currency == "JPY"


def test_create_refuses_an_account_the_actor_cannot_see(process, rep_a, rep_b):
    with pytest.raises(ValidationError) as exc:
        services.opportunity_create(
            actor=rep_a,
            account=AccountFactory(owner=rep_b),
            name="x",
            amount=1,
            expected_close_on=dt.date(2030, 1, 1),
        )
    assert "account" in exc.value.message_dict


# --- closing ------------------------------------------------------------------------------


def test_close_won_sets_status_and_date_and_logs(deal, rep_a):
    complete_closing_milestones(deal)
    creation = list(deal.changes.values_list("pk", flat=True))
    services.opportunity_close_won(actor=rep_a, opportunity=deal, closed_on=dt.date(2030, 3, 1))
    deal.refresh_from_db()
    assert (deal.status, deal.closed_on) == ("won", dt.date(2030, 3, 1))
    after_creation = deal.changes.exclude(pk__in=creation)
    assert {c.field: (c.old_value, c.new_value) for c in after_creation} == {
        "status": ("open", "won"),
        "closed_on": ("", "2030-03-01"),
    }


def test_close_lost_needs_a_reason(deal, rep_a):
    with pytest.raises(ValidationError) as exc:
        services.opportunity_close_lost(actor=rep_a, opportunity=deal, lost_reason="")
    assert "lost_reason" in exc.value.message_dict
    services.opportunity_close_lost(actor=rep_a, opportunity=deal, lost_reason="Chose a competitor")
    deal.refresh_from_db()
    assert deal.status == "lost"


def test_a_closed_deal_cannot_be_closed_again_or_progressed(deal, rep_a):
    complete_closing_milestones(deal)
    services.opportunity_close_won(actor=rep_a, opportunity=deal)
    with pytest.raises(ValidationError, match="already won"):
        services.opportunity_close_lost(actor=rep_a, opportunity=deal, lost_reason="x")
    with pytest.raises(ValidationError, match="already won"):
        complete(deal, rep_a, "Qualify #1")


# --- history: rebuild as of any past moment ------------------------------------------------


def test_as_of_rebuilds_the_deal_at_any_past_moment(process, rep_a, manager_a):
    t0 = timezone.now() - dt.timedelta(days=30)
    deal = services.opportunity_create(
        actor=rep_a,
        account=AccountFactory(owner=rep_a),
        name="D",
        amount=Decimal(100),
        expected_close_on=dt.date(2030, 1, 31),
        at=t0,
    )
    t1 = t0 + dt.timedelta(days=10)
    services.opportunity_update(
        actor=rep_a,
        opportunity=deal,
        amount=Decimal(150),
        expected_close_on=dt.date(2030, 2, 28),
        at=t1,
    )
    ms = milestones(process)
    t2 = t0 + dt.timedelta(days=20)
    for name in ("Qualify #1", "Qualify #2"):
        services.milestone_complete(
            actor=rep_a, opportunity=deal, milestone=ms[name], evidence="e", at=t2
        )

    before_creation = opportunity_as_of(opportunity=deal, at=t0 - dt.timedelta(seconds=1))
    at_creation = opportunity_as_of(opportunity=deal, at=t0 + dt.timedelta(days=1))
    after_edit = opportunity_as_of(opportunity=deal, at=t1 + dt.timedelta(days=1))
    now = opportunity_as_of(opportunity=deal, at=timezone.now())

    assert before_creation is None
    assert at_creation["amount"] == Decimal(100)
    assert at_creation["expected_close_on"] == dt.date(2030, 1, 31)
    assert at_creation["stage"] == process.stages.get(name="Qualify").pk
    assert at_creation["status"] == "open"
    assert after_edit["amount"] == Decimal(150)
    assert after_edit["expected_close_on"] == dt.date(2030, 2, 28)
    assert after_edit["stage"] == process.stages.get(name="Qualify").pk
    deal.refresh_from_db()
    assert now == {
        "amount": deal.amount,
        "currency": deal.currency,
        "expected_close_on": deal.expected_close_on,
        "stage": deal.stage_id,
        "forecast_category": deal.forecast_category,
        "owner": deal.owner_id,
        "status": deal.status,
        "closed_on": None,
    }


def test_as_of_for_many_deals_in_one_pass(process, rep_a):
    account = AccountFactory(owner=rep_a)
    deals = [
        services.opportunity_create(
            actor=rep_a,
            account=account,
            name=f"D{i}",
            amount=Decimal(i),
            expected_close_on=dt.date(2030, 1, 1),
        )
        for i in range(3)
    ]
    complete_closing_milestones(deals[0])
    services.opportunity_close_won(actor=rep_a, opportunity=deals[0], closed_on=dt.date(2030, 1, 1))

    states = opportunities_as_of(at=timezone.now())

    assert set(states) == {d.pk for d in deals}
    assert states[deals[0].pk]["status"] == "won"
    assert states[deals[0].pk]["closed_on"] == dt.date(2030, 1, 1)
    # creation logs the fields with a value; the empty ones (category, closed on) read as empty
    assert OpportunityChange.objects.filter(opportunity=deals[1]).count() == 6
    assert states[deals[1].pk]["closed_on"] is None
    assert states[deals[1].pk]["forecast_category"] == ""


# --- activities ---------------------------------------------------------------------------


def test_log_activity_on_a_deal_takes_its_account_and_next_step(deal, rep_a):
    activity = services.activity_log(
        actor=rep_a,
        kind="call",
        opportunity=deal,
        notes="Discussed pricing",
        next_step="Send quote",
        duration_minutes=20,
    )
    deal.refresh_from_db()
    assert activity.account == deal.account
    assert deal.next_step == "Send quote"


def test_log_activity_with_the_same_next_step_leaves_the_deal_and_its_version(deal, rep_a):
    # given a deal whose next step is agreed
    services.activity_log(actor=rep_a, kind="call", opportunity=deal, next_step="Send quote")
    deal.refresh_from_db()
    version, updated_at = deal.version, deal.updated_at

    # when a call is logged with the same next step (the call form offers the current one)
    services.activity_log(actor=rep_a, kind="call", opportunity=deal, next_step="Send quote")

    # then the deal is not written: its version (the API's ETag) stays
    deal.refresh_from_db()
    assert (deal.next_step, deal.version, deal.updated_at) == ("Send quote", version, updated_at)
    services.activity_log(actor=rep_a, kind="call", opportunity=deal, next_step="Book the demo")
    deal.refresh_from_db()
    assert (deal.next_step, deal.version) == ("Book the demo", version + 1)


def test_log_activity_validates_inputs(deal, rep_a, rep_b):
    with pytest.raises(ValidationError) as exc:
        services.activity_log(actor=rep_a, kind="call")
    assert "account" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.activity_log(actor=rep_a, kind="telepathy", opportunity=deal)
    assert "kind" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.activity_log(actor=rep_b, kind="call", opportunity=deal)
    assert "opportunity" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.activity_log(
            actor=rep_a, kind="call", opportunity=deal, occurred_at=dt.datetime(2030, 1, 1)
        )
    assert "occurred_at" in exc.value.message_dict
    assert not Activity.objects.exists()


def test_refresh_stage_is_idempotent(deal, rep_a):
    # given a stale stored stage (milestones completed behind the services' back)
    ms = milestones(deal.process)
    for name in ("Qualify #1", "Qualify #2"):
        MilestoneCompletion.objects.create(
            opportunity=deal, milestone=ms[name], completed_by=rep_a, evidence="e"
        )
    services.opportunity_stage_refresh(opportunity=deal)
    services.opportunity_stage_refresh(opportunity=deal)

    deal.refresh_from_db()
    assert deal.stage.name == "Discover"
    assert deal.changes.filter(field="stage").exclude(old_value="").count() == 1
    assert Opportunity.objects.get(pk=deal.pk).version == 2
