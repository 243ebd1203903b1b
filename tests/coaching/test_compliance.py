"""The documentation compliance score: share of open deals passing every check."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import MilestoneCompletion
from coaching.compliance import Check, compliance_score, compliance_scores
from tests.factories import ActivityFactory, MilestoneCompletionFactory, OpportunityFactory

TODAY = dt.date(2026, 11, 23)


def at(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12)))


def documented_deal(owner, **fields):
    """An open deal passing every check as of TODAY."""
    deal = OpportunityFactory(
        owner=owner,
        next_step=fields.pop("next_step", "Send the proposal"),
        expected_close_on=fields.pop("expected_close_on", TODAY + dt.timedelta(days=30)),
        created_at=at(TODAY - dt.timedelta(days=60)),
        **fields,
    )
    ActivityFactory(
        owner=owner,
        account=deal.account,
        opportunity=deal,
        occurred_at=at(TODAY - dt.timedelta(days=3)),
    )
    return deal


@pytest.fixture
def milestone(process):
    return process.stages.order_by("order").first().milestones.first()


def test_all_checks_passing_scores_100_percent(process, rep_a, milestone):
    deal = documented_deal(rep_a)
    MilestoneCompletionFactory(opportunity=deal, milestone=milestone, evidence="Signed NDA")

    score = compliance_score(user_id=rep_a.pk, as_of=TODAY)

    assert score.score == Decimal(1)
    assert score.failing == {}
    assert (score.open_deal_count, score.passing_count) == (1, 1)


def test_no_open_deals_scores_100_percent(rep_a):
    assert compliance_score(user_id=rep_a.pk, as_of=TODAY).score == Decimal(1)


def test_each_check_reports_its_failing_deals(process, rep_a, milestone):
    good = documented_deal(rep_a)
    no_next_step = documented_deal(rep_a, name="No next step")
    no_next_step.next_step = ""
    no_next_step.save()
    stale = OpportunityFactory(
        owner=rep_a,
        next_step="Call",
        name="Stale",
        created_at=at(TODAY - dt.timedelta(days=60)),
        expected_close_on=TODAY + dt.timedelta(days=5),
    )
    ActivityFactory(
        owner=rep_a,
        account=stale.account,
        opportunity=stale,
        occurred_at=at(TODAY - dt.timedelta(days=15)),
    )
    overdue = documented_deal(rep_a, name="Overdue", expected_close_on=TODAY - dt.timedelta(days=1))
    undocumented = documented_deal(rep_a, name="No evidence")
    MilestoneCompletionFactory(opportunity=undocumented, milestone=milestone, evidence="  ")

    score = compliance_score(user_id=rep_a.pk, as_of=TODAY)

    assert {check: [d.pk for d in deals] for check, deals in score.failing.items()} == {
        Check.NEXT_STEP: [no_next_step.pk],
        Check.RECENT_ACTIVITY: [stale.pk],
        Check.CLOSE_DATE: [overdue.pk],
        Check.EVIDENCE: [undocumented.pk],
    }
    assert [record.opportunity_id for record in score.missing_evidence] == [undocumented.pk]
    assert score.score == Decimal(1) / Decimal(5)
    assert good.pk not in score.failing_deal_ids


def test_only_the_latest_record_of_a_milestone_counts(process, rep_a, milestone):
    deal = documented_deal(rep_a)
    MilestoneCompletionFactory(
        opportunity=deal,
        milestone=milestone,
        evidence="",
        completed_at=at(TODAY - dt.timedelta(days=5)),
    )
    MilestoneCompletionFactory(
        opportunity=deal,
        milestone=milestone,
        evidence="",
        action=MilestoneCompletion.Action.UNDO,
        completed_at=at(TODAY - dt.timedelta(days=4)),
    )

    assert compliance_score(user_id=rep_a.pk, as_of=TODAY).score == Decimal(1)

    MilestoneCompletionFactory(
        opportunity=deal,
        milestone=milestone,
        evidence="Minutes",
        completed_at=at(TODAY - dt.timedelta(days=2)),
    )
    assert compliance_score(user_id=rep_a.pk, as_of=TODAY).score == Decimal(1)


def test_closed_deals_and_other_reps_do_not_count(process, rep_a, rep_b):
    OpportunityFactory(owner=rep_a, status="won", closed_on=TODAY, next_step="")
    documented_deal(rep_b)

    scores = compliance_scores(user_ids=[rep_a.pk, rep_b.pk], as_of=TODAY)

    assert scores[rep_a.pk].open_deal_count == 0
    assert scores[rep_b.pk].score == Decimal(1)


def test_activity_window_is_the_last_14_days(process, rep_a):
    deal = OpportunityFactory(
        owner=rep_a,
        next_step="Call",
        created_at=at(TODAY - dt.timedelta(days=60)),
        expected_close_on=TODAY,
    )
    ActivityFactory(
        owner=rep_a,
        account=deal.account,
        opportunity=deal,
        occurred_at=timezone.make_aware(
            dt.datetime.combine(TODAY - dt.timedelta(days=14), dt.time(0, 1))
        ),
    )

    assert compliance_score(user_id=rep_a.pk, as_of=TODAY).score == Decimal(1)
    # a day later the activity is 15 days old
    later = compliance_score(user_id=rep_a.pk, as_of=TODAY + dt.timedelta(days=1))
    assert Check.RECENT_ACTIVITY in later.failing


def test_scores_take_three_queries_whatever_the_number_of_reps(process, rep_a, rep_b, milestone):
    for owner in (rep_a, rep_b, rep_a):
        deal = documented_deal(owner)
        MilestoneCompletionFactory(opportunity=deal, milestone=milestone)

    with CaptureQueriesContext(connection) as queries:
        # 1 open deals with accounts, 2 milestone records, 3 recent activity deal ids
        compliance_scores(user_ids=[rep_a.pk, rep_b.pk], as_of=TODAY)

    assert len(queries) == 3
