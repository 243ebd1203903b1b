"""Coaching writes: scorecard evidence states, action items, debriefs, plans, resource requests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from coaching import selectors, services
from coaching.models import EvidenceState, ResourcePolicy, ResourceRequest, SkillTag
from salesmgmt.errors import PermissionDeniedError
from tests.coaching.factories import AccountReviewFactory, default_template
from tests.factories import OpportunityFactory

TODAY = dt.date(2026, 11, 23)


@pytest.fixture
def deal(process, rep_a):
    return OpportunityFactory(owner=rep_a, amount=Decimal("60000"))


@pytest.fixture
def review(deal, rep_a, manager_a):
    review = AccountReviewFactory(account=deal.account, created_by=manager_a)
    review.attendees.set([rep_a, manager_a])
    return review


@pytest.fixture
def criterion():
    return default_template().criteria.get(key="functional")


# --- reviews and scorecards ---------------------------------------------------------------------


def test_review_create_defaults_to_the_process_template_and_adds_the_actor(deal, manager_a, rep_a):
    review = services.review_create(
        actor=manager_a, account=deal.account, held_on=TODAY, attendees=[rep_a]
    )

    assert review.template == default_template()
    assert set(review.attendees.all()) == {rep_a, manager_a}


def test_review_create_refuses_an_account_outside_the_actors_team(deal, manager_b):
    with pytest.raises(PermissionDeniedError):
        services.review_create(actor=manager_b, account=deal.account, held_on=TODAY)


def test_meddpicc_is_a_second_builtin_template():
    names = set(selectors.template_list().values_list("name", flat=True))

    assert "MEDDPICC" in names
    meddpicc = selectors.template_list().get(name="MEDDPICC")
    assert [c.key for c in meddpicc.criteria.all()][:2] == ["metrics", "economic_buyer"]


def test_score_moves_from_empty_to_rep_note_to_validated(deal, review, criterion, rep_a, manager_a):
    # Given a rating without a note: still no evidence
    score = services.score_record(actor=rep_a, opportunity=deal, criterion=criterion, rating=3)
    assert score.evidence_state == EvidenceState.EMPTY

    # When the rep writes a note, it is the rep's evidence
    score = services.score_record(
        actor=rep_a,
        opportunity=deal,
        criterion=criterion,
        rating=4,
        note="Needs SSO",
        review=review,
    )
    assert score.evidence_state == EvidenceState.REP_NOTE

    # Then the manager validates it
    score = services.score_validate(actor=manager_a, score=score)
    assert score.evidence_state == EvidenceState.VALIDATED
    assert score.validated_by == manager_a
    assert score.validated_at is not None


def test_only_the_manager_validates(deal, criterion, rep_a, se_a, manager_b, executive):
    score = services.score_record(
        actor=rep_a, opportunity=deal, criterion=criterion, rating=4, note="Budget approved"
    )

    for outsider in (rep_a, se_a, manager_b):
        with pytest.raises(PermissionDeniedError):
            services.score_validate(actor=outsider, score=score)
    assert services.score_validate(actor=executive, score=score).evidence_state == "validated"


def test_an_empty_score_cannot_be_validated(deal, criterion, rep_a, manager_a):
    score = services.score_record(actor=rep_a, opportunity=deal, criterion=criterion, rating=2)

    with pytest.raises(ValidationError):
        services.score_validate(actor=manager_a, score=score)


def test_editing_a_validated_score_sends_it_back_for_validation(deal, criterion, rep_a, manager_a):
    score = services.score_record(
        actor=rep_a, opportunity=deal, criterion=criterion, rating=4, note="Champion: CFO"
    )
    services.score_validate(actor=manager_a, score=score)

    score = services.score_record(
        actor=rep_a, opportunity=deal, criterion=criterion, rating=5, note="Champion: CFO and CIO"
    )

    assert score.evidence_state == EvidenceState.REP_NOTE
    assert score.validated_by is None


def test_nobody_validates_their_own_note(deal, criterion, manager_a):
    score = services.score_record(
        actor=manager_a, opportunity=deal, criterion=criterion, rating=3, note="I met the CFO"
    )

    with pytest.raises(PermissionDeniedError):
        services.score_validate(actor=manager_a, score=score)


def test_a_rep_of_another_team_cannot_score(deal, criterion, rep_b):
    with pytest.raises(PermissionDeniedError):
        services.score_record(actor=rep_b, opportunity=deal, criterion=criterion, rating=1)


def test_qualification_score_is_the_share_of_the_maximum_rating(deal, rep_a):
    for key, rating in (("functional", 5), ("financial", 4)):
        services.score_record(
            actor=rep_a,
            opportunity=deal,
            criterion=default_template().criteria.get(key=key),
            rating=rating,
        )

    # (5 + 4 + 0) / 15 = 60 %
    assert selectors.qualification_scores(opportunities=[deal]) == {deal.pk: 60}


def test_negotiation_item_needs_what_we_get_in_return(deal, rep_a):
    with pytest.raises(ValidationError):
        services.negotiation_add(actor=rep_a, opportunity=deal, concession="10 %", in_return=" ")

    item = services.negotiation_add(
        actor=rep_a, opportunity=deal, concession="10 % discount", in_return="3-year term"
    )
    assert item.in_return == "3-year term"


def test_deal_plan_records(deal, rep_a):
    competitor = services.competitor_add(
        actor=rep_a, opportunity=deal, competitor="Acme CRM", area="Price", position="behind",
        plan="Sell total cost of ownership",
    )  # fmt: skip
    proof = services.proof_add(actor=rep_a, opportunity=deal, kind="poc", planned_on=TODAY)

    assert competitor.get_position_display() == "We are behind"
    assert services.proof_set_status(actor=rep_a, proof=proof, status="done").status == "done"


def test_action_items_go_to_attendees_or_the_team_and_their_owner_closes_them(
    review, rep_a, rep_b, manager_a
):
    item = services.action_item_add(
        actor=manager_a, review=review, description="Map the org chart", owner=rep_a, due_on=TODAY
    )
    with pytest.raises(ValidationError):
        services.action_item_add(
            actor=manager_a, review=review, description="x", owner=rep_b, due_on=TODAY
        )
    with pytest.raises(PermissionDeniedError):
        services.action_item_complete(actor=rep_b, item=item)

    done = services.action_item_complete(actor=rep_a, item=item)

    assert done.is_done


# --- debriefs, plans, ratings ---------------------------------------------------------------------


def test_debrief_is_written_by_the_manager_and_seen_by_rep_and_manager(
    rep_a, manager_a, manager_b, rep_b, executive
):
    skill = SkillTag.objects.get(name="Listening")
    debrief = services.debrief_create(
        actor=manager_a, rep=rep_a, held_on=TODAY, went_well="Clear agenda",
        to_improve="Ask about budget", skills=[skill],
    )  # fmt: skip
    with pytest.raises(PermissionDeniedError):
        services.debrief_create(
            actor=rep_a, rep=rep_a, held_on=TODAY, went_well="x", to_improve="y"
        )

    assert list(debrief.skills.all()) == [skill]
    for viewer in (rep_a, manager_a, executive):
        assert list(selectors.debrief_list(viewer=viewer)) == [debrief]
    for viewer in (rep_b, manager_b):
        assert list(selectors.debrief_list(viewer=viewer)) == []


def test_development_plan_flow(rep_a, manager_a):
    # Given assessed needs
    plan = services.plan_create(
        actor=manager_a, rep=rep_a, title="Discovery", assessed_needs="Skips pain questions"
    )
    # When goals and actions are set and done
    goal = services.goal_add(
        actor=manager_a, plan=plan, description="Ask 5 pain questions per call", target_on=TODAY
    )
    action = services.action_add(
        actor=rep_a, goal=goal, description="Shadow a top rep", due_on=TODAY
    )
    services.action_complete(actor=rep_a, action=action, done_on=TODAY)
    with pytest.raises(PermissionDeniedError):
        services.plan_evaluate(actor=rep_a, plan=plan, evaluation="I did great")
    plan = services.plan_evaluate(actor=manager_a, plan=plan, evaluation="Goal met")

    # Then the plan is closed for new goals
    assert plan.status == "evaluated"
    with pytest.raises(ValidationError):
        services.goal_add(actor=manager_a, plan=plan, description="More", target_on=TODAY)


def test_skill_ratings_by_the_manager_over_time(rep_a, manager_a):
    skill = SkillTag.objects.get(name="Negotiation")
    services.skill_rate(actor=manager_a, rep=rep_a, skill=skill, rating=2, rated_on=TODAY)
    services.skill_rate(
        actor=manager_a, rep=rep_a, skill=skill, rating=4, rated_on=TODAY + dt.timedelta(days=30)
    )
    with pytest.raises(PermissionDeniedError):
        services.skill_rate(actor=rep_a, rep=rep_a, skill=skill, rating=5)

    frame = selectors.skill_rating_frame(rep=rep_a)

    assert frame["rating"].tolist() == [2, 4]


# --- resource requests ----------------------------------------------------------------------------


def _qualify(deal, rep, rating: int) -> None:
    for criterion in default_template().criteria.all():
        services.score_record(actor=rep, opportunity=deal, criterion=criterion, rating=rating)


def test_request_shows_and_checks_the_criteria(deal, rep_a, manager_a):
    # Given a POC policy of 50,000, stage 1, 60 % qualification and a 60,000 deal at 20 %
    ResourcePolicy.objects.filter(kind="poc").update(min_stage_order=1)
    _qualify(deal, rep_a, 1)
    request = services.resource_request_create(actor=rep_a, opportunity=deal, kind="poc")
    criteria = selectors.request_criteria(requests=[request])[request.pk]
    assert [(c.label, c.is_met) for c in criteria.checks] == [
        ("Deal size", True),
        ("Stage", True),
        ("Qualification score %", False),
    ]

    # When the manager approves, the service refuses: qualification is too low
    with pytest.raises(ValidationError, match="Qualification"):
        services.resource_request_decide(actor=manager_a, request=request, approve=True)

    # Then, once qualified, approval works and the criteria are kept on the request
    _qualify(deal, rep_a, 4)
    decided = services.resource_request_decide(actor=manager_a, request=request, approve=True)
    assert decided.status == ResourceRequest.Status.APPROVED
    assert decided.criteria_snapshot["qualification"] == 80


def test_declining_needs_a_reason_and_only_the_manager_decides(deal, rep_a, manager_a, manager_b):
    request = services.resource_request_create(actor=rep_a, opportunity=deal, kind="demo")
    with pytest.raises(PermissionDeniedError):
        services.resource_request_decide(actor=manager_b, request=request, approve=False, note="x")
    with pytest.raises(PermissionDeniedError):
        services.resource_request_decide(actor=rep_a, request=request, approve=False, note="x")
    with pytest.raises(ValidationError):
        services.resource_request_decide(actor=manager_a, request=request, approve=False)

    declined = services.resource_request_decide(
        actor=manager_a, request=request, approve=False, note="Qualify the budget first"
    )

    assert (declined.status, declined.decision_note) == ("declined", "Qualify the budget first")
    with pytest.raises(ValidationError):
        services.resource_request_decide(actor=manager_a, request=request, approve=False, note="x")


def test_one_pending_request_per_kind(deal, rep_a):
    services.resource_request_create(actor=rep_a, opportunity=deal, kind="se_time")

    with pytest.raises(ValidationError):
        services.resource_request_create(actor=rep_a, opportunity=deal, kind="se_time")


def test_a_debrief_is_about_one_of_the_reps_deals(deal, rep_a, se_a, manager_a):
    with pytest.raises(ValidationError):
        services.debrief_create(
            actor=manager_a, rep=se_a, held_on=TODAY, went_well="x", to_improve="y",
            opportunity=deal,
        )  # fmt: skip

    debrief = services.debrief_create(
        actor=manager_a, rep=rep_a, held_on=TODAY, went_well="x", to_improve="y", opportunity=deal
    )

    assert debrief.opportunity == deal
