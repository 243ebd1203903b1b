"""Precomputed compliance summaries: equal to the live score, refreshed after each change
through the one refresh path (kind "compliance"), idempotent, and what the team dashboard
shows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Activity
from coaching.compliance import Check, compliance_scores
from coaching.models import ComplianceSummary
from coaching.selectors.dashboards import compliance_by_user
from coaching.services import compliance, compliance_refresh
from coaching.services.compliance import _summaries_save
from coaching.tasks import mark_compliance_rolled_over, mark_compliance_stale
from salesmgmt import refresh
from salesmgmt import services as org_services
from salesmgmt.models import Role, StaleMark
from salesmgmt.tasks import refresh_aggregate
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
    refreshed = compliance_refresh()

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


def marked() -> set[int]:
    return set(StaleMark.objects.filter(kind="compliance").values_list("person_key", flat=True))


def test_refresh_is_idempotent(book, rep_a):
    compliance_refresh()
    first = {row.user_id: figures(row) for row in ComplianceSummary.objects.all()}

    assert refresh_aggregate.delay("compliance").get() == 0  # nothing marked: nothing to do
    compliance_refresh()
    refresh.changed(people=[rep_a.pk], kinds=["compliance"])
    assert refresh_aggregate.delay("compliance").get() == 1
    assert refresh_aggregate.delay("compliance").get() == 0  # the batch cleared its marks

    assert {row.user_id: figures(row) for row in ComplianceSummary.objects.all()} == first


def test_clearing_a_next_step_refreshes_the_dashboard(
    client, period, book, rep_a, manager_a, django_capture_on_commit_callbacks
):
    compliance_refresh()
    deal = rep_a.opportunities.get(  # the one passing every check
        next_step="Send the proposal",
        expected_close_on__gte=today(),
        milestone_completions__isnull=True,
    )
    before = stored(rep_a).passing_count

    with django_capture_on_commit_callbacks(execute=True):
        account_services.opportunity_update(actor=rep_a, opportunity=deal, next_step="")

    row = stored(rep_a)  # the refresh ran (eager Celery)
    assert not marked()
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
    compliance_refresh()
    quiet = rep_a.opportunities.filter(activities__isnull=True).get()
    assert stored(rep_a).failing_recent_activity == 1

    with django_capture_on_commit_callbacks(execute=True):
        account_services.activity_log(actor=rep_a, kind=Activity.Kind.CALL, opportunity=quiet)

    assert stored(rep_a).failing_recent_activity == 0
    assert figures(stored(rep_a)) == live_figures(rep_a.pk)


def test_undoing_a_milestone_refreshes_the_summary(
    book, rep_a, milestone, django_capture_on_commit_callbacks
):
    compliance_refresh()
    deal = rep_a.opportunities.filter(milestone_completions__isnull=False).get()
    assert stored(rep_a).missing_evidence_count == 1

    with django_capture_on_commit_callbacks(execute=True):
        account_services.milestone_undo(actor=rep_a, opportunity=deal, milestone=milestone)

    assert (stored(rep_a).missing_evidence_count, stored(rep_a).failing_evidence) == (0, 0)


def test_moving_a_deal_marks_both_owners(book, rep_a, manager_a):
    compliance_refresh()
    deal = rep_a.opportunities.first()

    account_services.opportunity_update(actor=manager_a, opportunity=deal, owner=manager_a)

    # Without running the on-commit refresh, both people are marked changed.
    assert marked() == {rep_a.pk, manager_a.pk}
    assert refresh.refresh_sweep()["compliance"] == 2
    assert not marked()
    assert figures(stored(manager_a)) == live_figures(manager_a.pk)
    assert figures(stored(rep_a)) == live_figures(rep_a.pk)


def test_a_person_never_computed_is_computed_live_by_a_read_that_writes_nothing(
    book, rep_a, django_capture_on_commit_callbacks
):
    assert not ComplianceSummary.objects.exists()

    with django_capture_on_commit_callbacks() as callbacks:
        shown = compliance_by_user(user_ids=[rep_a.pk], today=today())

    assert shown[rep_a.pk].score == Decimal(1) / Decimal(5)  # the live score
    assert callbacks == []  # nothing sent...
    assert not ComplianceSummary.objects.exists()  # ...nor stored
    assert not StaleMark.objects.exists()  # ...nor marked


def test_a_new_seller_gets_a_summary_from_their_creation(
    manager_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        person = org_services.user_create(username="new", email="new@example.com", role=Role.REP)

    assert figures(stored(person)) == live_figures(person.pk)


def test_summaries_from_an_earlier_day_are_marked_and_refreshed(book, rep_a, rep_b):
    compliance_refresh()
    ComplianceSummary.objects.filter(user=rep_a).update(as_of=today() - dt.timedelta(days=1))

    mark_compliance_rolled_over.delay()  # the day rolled over

    assert marked() == {rep_a.pk}
    assert refresh.refresh_sweep()["compliance"] == 1
    assert stored(rep_a).as_of == today()
    assert mark_compliance_rolled_over.delay().get() == 0  # nothing left from before today


def test_the_nightly_run_marks_every_active_seller(book, rep_a, rep_b):
    compliance_refresh()

    mark_compliance_stale.delay()

    sellers = marked()
    assert {rep_a.pk, rep_b.pk} <= sellers
    assert refresh.refresh_sweep()["compliance"] == len(sellers)
    assert not marked()


def test_a_change_made_while_a_batch_runs_stays_marked(book, rep_a, monkeypatch):
    compliance_refresh()
    refresh.changed(people=[rep_a.pk, None], kinds=["compliance"])
    real = compliance.compliance_scores

    def change_while_reading(**kwargs):
        # A change committing after the batch claimed its marks, before it stored its scores.
        refresh.changed(people=[rep_a.pk], kinds=["compliance"])
        return real(**kwargs)

    monkeypatch.setattr(compliance, "compliance_scores", change_while_reading)
    assert refresh.refresh_kind(kind="compliance") == 1

    # The batch deleted only the mark it claimed: the new one waits for the next batch.
    assert StaleMark.objects.filter(kind="compliance", person_key=rep_a.pk).count() == 1
    monkeypatch.setattr(compliance, "compliance_scores", real)
    assert refresh.refresh_kind(kind="compliance") == 1
    assert not marked()


def test_a_slower_older_refresh_never_overwrites_a_newer_one(book, rep_a):
    compliance_refresh()
    newer = stored(rep_a).computed_at
    ComplianceSummary.objects.filter(user=rep_a).update(passing_count=0)
    scores = compliance_scores(user_ids=[rep_a.pk], as_of=today())

    assert _summaries_save(scores=scores, read_at=newer - dt.timedelta(seconds=1)) == []
    assert stored(rep_a).passing_count == 0


def test_the_kind_keys_each_part_of_a_change(book, rep_a, rep_b, manager_a, executive):
    """What ``refresh.changed`` (the callers' one call, later) marks for each thing named."""
    from salesmgmt.models import User
    from tests.factories import UserFactory

    deal_a = rep_a.opportunities.first()
    deal_b = rep_b.opportunities.first()
    # logged by the manager on rep_b's deal: it counts for the deal's owner
    activity = ActivityFactory(owner=manager_a, account=deal_b.account, opportunity=deal_b)
    gone = UserFactory(username="gone", role=Role.REP, is_active=False)
    admin = UserFactory(username="admin-only", role=Role.ADMIN)

    def keys(**parts):
        found = compliance.compliance_keys_for(refresh.Change(**parts))
        assert all(period == 0 for _, period in found)
        return {person for person, _ in found}

    assert keys(deals=frozenset({deal_a.pk, deal_b.pk})) == {rep_a.pk, rep_b.pk}
    assert keys(activities=frozenset({activity.pk})) == {rep_b.pk}
    assert keys(people=frozenset({manager_a.pk})) == {manager_a.pk}
    assert keys(days=frozenset({today()})) == set()
    assert keys(periods=frozenset({1})) == set()
    sellers = set(
        User.objects.filter(is_active=True, role__in=compliance.SELLING_ROLES).values_list(
            "pk", flat=True
        )
    )
    assert keys(everything=True) == sellers
    assert {rep_a.pk, executive.pk} <= sellers
    assert not {gone.pk, admin.pk} & sellers


def test_a_batch_for_a_deleted_person_stores_nothing(book, rep_a):
    from tests.factories import UserFactory

    leaver = UserFactory(username="leaver", role=Role.REP)
    refresh.changed(people=[leaver.pk, rep_a.pk], kinds=["compliance"])
    leaver.delete()

    assert refresh.refresh_kind(kind="compliance") == 2  # both keys claimed and cleared
    assert set(ComplianceSummary.objects.values_list("user_id", flat=True)) == {rep_a.pk}
    assert not marked()
