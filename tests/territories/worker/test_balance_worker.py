"""The weekly balance monitor run by a real Celery worker process, over Redis, on PostgreSQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from celery.result import EagerResult

from territories.models import PlanningSnapshot, TerritoryBalanceSnapshot
from territories.tasks import record_territory_balance
from tests.factories import AccountFactory
from tests.territories.factories import AssignmentFactory, TerritoryFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_worker_records_the_weekly_balance_once_per_territory(
    celery_worker_process, wait_for_worker
):
    # given two territories, one holding three times the other's potential
    for revenue in (3000, 1000):
        territory = TerritoryFactory()
        account = AccountFactory(owner=territory.owner, annual_revenue=Decimal(revenue))
        AssignmentFactory(account=account, territory=territory)

    # when the monitor runs for a week through the broker
    result = record_territory_balance.apply_async(args=["2025-05-14"], queue=celery_worker_process)
    assert not isinstance(result, EagerResult)
    wait_for_worker(lambda: TerritoryBalanceSnapshot.objects.count() == 2, what="snapshots")
    # the same run precomputes the territory page's reports
    wait_for_worker(lambda: PlanningSnapshot.objects.count() == 1, what="planning snapshot")
    first = dict(TerritoryBalanceSnapshot.objects.values_list("pk", "updated_at"))

    # and once more for the same week (a duplicate delivery, or a manual rerun)
    record_territory_balance.apply_async(args=["2025-05-12"], queue=celery_worker_process)
    wait_for_worker(
        lambda: all(
            TerritoryBalanceSnapshot.objects.filter(pk=pk, updated_at__gt=at).exists()
            for pk, at in first.items()
        ),
        what="the second run's update",
    )
    # and its planning refresh, a whole new snapshot (waited for: it runs after the balance)
    wait_for_worker(lambda: PlanningSnapshot.objects.count() == 2, what="second planning snapshot")

    # then the week still has one row per territory, the same rows, both outside the band
    rows = list(TerritoryBalanceSnapshot.objects.order_by("-balance_index"))
    assert {row.pk for row in rows} == set(first)
    assert [row.week_start for row in rows] == [dt.date(2025, 5, 12)] * 2
    assert [row.balance_index for row in rows] == [Decimal("1.5000"), Decimal("0.5000")]
    assert [row.is_flagged for row in rows] == [True, True]
