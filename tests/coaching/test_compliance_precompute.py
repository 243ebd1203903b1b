"""Precomputed compliance summaries: equal to the live score, refreshed after each change,
idempotent, and what the team dashboard shows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Activity
from coaching.compliance import Check, compliance_scores
from coaching.models import ComplianceChange, ComplianceSummary
from coaching.selectors.dashboards import compliance_by_user
from coaching.services import compliance_mark_changed, compliance_refresh
from coaching.services.compliance import _summaries_save
from tests.factories import ActivityFactory, MilestoneCompletionFactory, OpportunityFactory

FIGURES = [
    "as_of", "open_deal_count", "passing_count", "failing_next_step", "failing_evidence",
    "failing_recent_activity", "failing_close_date", "missing_evidence_count",
]  # fmt: skip


def today() -> dt.date:
    return timezone.localdate()


def days_ago(n: int) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=n)


def documented_deal(owner, **fields):
    """An open deal passing every check today."""
    deal = OpportunityFactory(
        owner=owner,
        next_step=fields.pop("next_step", "Send the proposal"),
        expected_close_on=fields.pop("expected_close_on", today() + dt.timedelta(days=30)),
        created_at=days_ago(60),
        **fields,
    )
    ActivityFactory(owner=owner, account=deal.account, opportunity=deal, occurred_at=days_ago(2))
    return deal


@pytest.fixture
def milestone(process):
    return process.stages.order_by("order").first().milestones.first()


@pytest.fixture
def book(process, milestone, rep_a, rep_b, manager_a):
    """Deals failing each check in different ways, for two reps; manager_a has none."""
    documented_deal(rep_a)
    documented_deal(rep_a, next_step="")
    documented_deal(rep_a, expected_close_on=today() - dt.timedelta(days=1))
    OpportunityFactory(owner=rep_a, next_step="Call", created_at=days_ago(60))  # no activity
    undocumented = documented_deal(rep_a)
    MilestoneCompletionFactory(opportunity=undocumented, milestone=milestone, evidence="")
    documented_deal(rep_b)
    documented_deal(rep_b, next_step=" ")
    return [rep_a, rep_b, manager_a]


def figures(row) -> dict:
    return {name: getattr(row, name) for name in FIGURES}


def live_figures(user_id: int) -> dict:
    score = compliance_scores(user_ids=[user_id], as_of=today())[user_id]
    failing = {check: len(score.failing.get(check, [])) for check in Check.ALL}
    return {
        "as_of": score.as_of,
        "open_deal_count": score.open_deal_count,
        "passing_count": score.passing_count,
        "failing_next_step": failing[Check.NEXT_STEP],
        "failing_evidence": failing[Check.EVIDENCE],
        "failing_recent_activity": failing[Check.RECENT_ACTIVITY],
        "failing_close_date": failing[Check.CLOSE_DATE],
        "missing_evidence_count": len(score.missing_evidence),
    }


def stored(user) -> ComplianceSummary:
    return ComplianceSummary.objects.get(user=user)


def test_refresh_stores_what_the_live_computation_gives(book, rep_a):
    refreshed = compliance_refresh(force=True)

    assert set(refreshed) >= {person.pk for person in book}
    for person in book:
        row = stored(person)
        assert figures(row) == live_figures(person.pk)
        assert row.score == compliance_scores(user_ids=[person.pk], as_of=today())[person.pk].score
    # and the figures are not trivially equal: rep_a fails each check once, 1 of 5 passes
    assert figures(stored(rep_a)) | {"as_of": None} == {
        "as_of": None, "open_deal_count": 5, "passing_count": 1, "failing_next_step": 1,
        "failing_evidence": 1, "failing_recent_activity": 1, "failing_close_date": 1,
        "missing_evidence_count": 1,
    }  # fmt: skip
    assert stored(rep_a).score == Decimal(1) / Decimal(5)


def test_refresh_is_idempotent(book):
    compliance_refresh(force=True)
    first = {row.user_id: figures(row) for row in ComplianceSummary.objects.all()}

    assert compliance_refresh() == []  # nothing changed: nothing to do
    compliance_refresh(force=True)

    assert {row.user_id: figures(row) for row in ComplianceSummary.objects.all()} == first


def test_clearing_a_next_step_refreshes_the_dashboard(
    client, period, book, rep_a, manager_a, django_capture_on_commit_callbacks
):
    compliance_refresh(force=True)
    deal = rep_a.opportunities.get(  # the one passing every check
        next_step="Send the proposal",
        expected_close_on__gte=today(),
        milestone_completions__isnull=True,
    )
    before = stored(rep_a).passing_count

    with django_capture_on_commit_callbacks(execute=True):
        account_services.opportunity_update(actor=rep_a, opportunity=deal, next_step="")

    row = stored(rep_a)  # the refresh ran (eager Celery)
    assert not ComplianceChange.objects.exists()
    assert row.passing_count == before - 1
    assert figures(row) == live_figures(rep_a.pk)
    client.force_login(manager_a)
    shown = {
        r.person.pk: r.compliance
        for r in client.get(reverse("coaching:team_dashboard")).context["dashboard"].rows
    }
    assert isinstance(shown[rep_a.pk], ComplianceSummary)
    assert shown[rep_a.pk].score == Decimal(before - 1) / Decimal(5)


def test_logging_an_activity_refreshes_the_summary(book, rep_a, django_capture_on_commit_callbacks):
    compliance_refresh(force=True)
    quiet = rep_a.opportunities.filter(activities__isnull=True).get()
    assert stored(rep_a).failing_recent_activity == 1

    with django_capture_on_commit_callbacks(execute=True):
        account_services.activity_log(actor=rep_a, kind=Activity.Kind.CALL, opportunity=quiet)

    assert stored(rep_a).failing_recent_activity == 0
    assert figures(stored(rep_a)) == live_figures(rep_a.pk)


def test_undoing_a_milestone_refreshes_the_summary(
    book, rep_a, milestone, django_capture_on_commit_callbacks
):
    compliance_refresh(force=True)
    deal = rep_a.opportunities.filter(milestone_completions__isnull=False).get()
    assert stored(rep_a).missing_evidence_count == 1

    with django_capture_on_commit_callbacks(execute=True):
        account_services.milestone_undo(actor=rep_a, opportunity=deal, milestone=milestone)

    assert (stored(rep_a).missing_evidence_count, stored(rep_a).failing_evidence) == (0, 0)


def test_moving_a_deal_marks_both_owners(book, rep_a, manager_a):
    compliance_refresh(force=True)
    deal = rep_a.opportunities.first()

    account_services.opportunity_update(actor=manager_a, opportunity=deal, owner=manager_a)

    # Without running the on-commit refresh, both people are marked changed.
    assert set(ComplianceChange.objects.values_list("user_id", flat=True)) == {
        rep_a.pk,
        manager_a.pk,
    }
    assert sorted(compliance_refresh()) == sorted([rep_a.pk, manager_a.pk])
    assert not ComplianceChange.objects.exists()
    assert figures(stored(manager_a)) == live_figures(manager_a.pk)
    assert figures(stored(rep_a)) == live_figures(rep_a.pk)


def test_a_person_never_computed_is_computed_live_and_refreshed(
    book, rep_a, django_capture_on_commit_callbacks
):
    assert not ComplianceSummary.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        shown = compliance_by_user(user_ids=[rep_a.pk], today=today())

    assert shown[rep_a.pk].score == Decimal(1) / Decimal(5)  # the live score
    assert figures(stored(rep_a)) == live_figures(rep_a.pk)  # and the first refresh ran


def test_summaries_from_an_earlier_day_are_refreshed_by_the_sweep(book, rep_a):
    compliance_refresh(force=True)
    ComplianceSummary.objects.filter(user=rep_a).update(as_of=today() - dt.timedelta(days=1))

    assert compliance_refresh() == [rep_a.pk]
    assert stored(rep_a).as_of == today()


def test_a_change_the_refresh_did_not_read_stays_marked(book, rep_a):
    compliance_refresh(force=True)
    compliance_mark_changed(user_ids=[rep_a.pk, None])
    scores = compliance_scores(user_ids=[rep_a.pk], as_of=today())

    # A refresh that read its markers before this change committed stores its score...
    _summaries_save(scores=scores, read_at=timezone.now(), marker_ids=[])

    # ...and leaves the marker for the next run.
    assert ComplianceChange.objects.filter(user=rep_a).count() == 1
    assert compliance_refresh() == [rep_a.pk]
    assert not ComplianceChange.objects.exists()


def test_a_slower_older_refresh_never_overwrites_a_newer_one(book, rep_a):
    compliance_refresh(force=True)
    newer = stored(rep_a).computed_at
    ComplianceSummary.objects.filter(user=rep_a).update(passing_count=0)
    scores = compliance_scores(user_ids=[rep_a.pk], as_of=today())

    assert (
        _summaries_save(scores=scores, read_at=newer - dt.timedelta(seconds=1), marker_ids=[]) == []
    )
    assert stored(rep_a).passing_count == 0
