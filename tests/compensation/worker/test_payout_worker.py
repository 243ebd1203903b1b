"""The payout task run by a real Celery worker process, over Redis, on PostgreSQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from celery.result import EagerResult

from compensation.models import PayoutRun, Statement
from compensation.tasks import run_payouts

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_worker_computes_the_run_and_a_redelivery_changes_nothing(
    celery_worker_process, wait_for_worker, process, plan, quotas, q1, q2, rep_a
):
    from tests.compensation.factories import won_deal

    won_deal(rep_a, "145000", dt.date(2026, 1, 20))
    won_deal(rep_a, "20000", dt.date(2026, 2, 1))

    # when the task goes through the broker to the worker process, twice (a redelivery)
    result = run_payouts.apply_async(args=[q1.pk], queue=celery_worker_process)
    assert not isinstance(result, EagerResult)
    wait_for_worker(
        lambda: Statement.objects.filter(rep=rep_a, run__period=q1).exists(),
        what="rep_a's statement",
    )
    statement = Statement.objects.get(rep=rep_a, run__period=q1)
    lines = list(statement.lines.values_list("pk", "amount"))
    computed_at = PayoutRun.objects.get(period=q1).computed_at
    run_payouts.apply_async(args=[q1.pk], queue=celery_worker_process)
    # the solo worker takes its queue in order: once Q2's run exists, the redelivery ran
    run_payouts.apply_async(args=[q2.pk], queue=celery_worker_process)
    wait_for_worker(lambda: PayoutRun.objects.filter(period=q2).exists(), what="the Q2 run")

    # then one draft run, the same lines, the boundary example paid exactly
    assert PayoutRun.objects.filter(period=q1).count() == 1
    assert PayoutRun.objects.get(period=q1).computed_at == computed_at
    assert list(statement.lines.values_list("pk", "amount")) == lines
    assert statement.total_amount == Decimal("11800.00")
