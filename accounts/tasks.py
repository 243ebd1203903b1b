"""Celery tasks: ids in, one service call, retries on infrastructure errors only."""

from __future__ import annotations

from celery import shared_task

from salesmgmt.task_queue import RETRY_POLICY, EnqueueTolerantTask

from . import services
from .models import Opportunity


@shared_task(**RETRY_POLICY)
def refresh_opportunity_stage(opportunity_id: int) -> int | None:
    """Re-derive one deal's stage; safe to run twice."""
    deal = Opportunity.objects.filter(pk=opportunity_id).first()
    if deal is None:
        return None
    return services.opportunity_stage_refresh(opportunity=deal).stage_id


# Queued from the admin after commit: a broker outage must not fail the save; the nightly
# ``refresh_all_open_stages`` re-derives every open deal's stage anyway.
@shared_task(base=EnqueueTolerantTask, **RETRY_POLICY)
def refresh_process_stages(process_id: int) -> int:
    """After a process's milestone definitions change, re-derive its open deals' stages."""
    return services.open_opportunity_stages_refresh(process_id=process_id)


@shared_task(**RETRY_POLICY)
def refresh_all_open_stages() -> int:
    return services.open_opportunity_stages_refresh()
