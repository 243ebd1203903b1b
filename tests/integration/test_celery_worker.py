"""Stage refresh tasks run by a real Celery worker process, over Redis, on PostgreSQL."""

from __future__ import annotations

import pytest
from celery.result import EagerResult

from accounts.models import Opportunity, OpportunityChange, Stage
from accounts.tasks import refresh_opportunity_stage, refresh_process_stages
from tests.factories import MilestoneCompletionFactory, OpportunityFactory, build_process

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def stale_deal(process_name: str) -> tuple[Opportunity, Stage, Stage]:
    """A deal stored in its first stage although that stage's exit milestones are all done.

    Completions are inserted directly (no service), so nothing has re-derived the stage yet.
    Returns the deal, its stored stage and the stage it should be in.
    """
    process = build_process(name=process_name)
    first, second = process.stages.order_by("order")[:2]
    deal = OpportunityFactory(process=process, stage=first)
    for milestone in first.milestones.all():
        MilestoneCompletionFactory(opportunity=deal, milestone=milestone)
    return deal, first, second


def stage_changes(deal: Opportunity):
    return OpportunityChange.objects.filter(opportunity=deal, field=OpportunityChange.Field.STAGE)


def test_worker_refresh_opportunity_stage_moves_stale_deal(celery_worker_process, wait_for_worker):
    # given a deal whose stored stage lags behind its completed milestones
    deal, stored, derived = stale_deal("Direct")

    # when the task goes through the broker to the worker process
    result = refresh_opportunity_stage.apply_async(args=[deal.pk], queue=celery_worker_process)
    assert not isinstance(result, EagerResult)

    # then the worker moves the deal and records the move in its history
    wait_for_worker(lambda: stage_changes(deal).exists(), what=f"stage change on deal {deal.pk}")
    deal.refresh_from_db()
    assert deal.stage_id == derived.pk
    change = stage_changes(deal).get()
    assert (change.old_value, change.new_value) == (str(stored.pk), str(derived.pk))
    assert change.changed_by is None  # the system moved it, not a person


def test_worker_refresh_twice_records_one_stage_change(celery_worker_process, wait_for_worker):
    # given a stale deal, and a stale deal in another process as a marker
    deal, _, derived = stale_deal("Direct")
    marker, _, marker_derived = stale_deal("Partner")
    version_before = deal.version

    # when the same refresh is delivered twice, then the marker's process refresh after it
    for _ in range(2):
        refresh_opportunity_stage.apply_async(args=[deal.pk], queue=celery_worker_process)
    refresh_process_stages.apply_async(args=[marker.process_id], queue=celery_worker_process)

    # then: a solo worker takes its queue's tasks in order (Redis lists are FIFO), so once the
    # marker has moved both refreshes have run; the second found nothing to do
    wait_for_worker(
        lambda: Opportunity.objects.filter(pk=marker.pk, stage=marker_derived).exists(),
        what=f"stage change on marker deal {marker.pk}",
    )
    deal.refresh_from_db()
    assert deal.stage_id == derived.pk
    assert deal.version == version_before + 1
    assert stage_changes(deal).count() == 1
