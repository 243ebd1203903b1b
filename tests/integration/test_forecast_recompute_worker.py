"""An opportunity edit reaches the forecast rollups through the debounced recompute, run by a
real Celery worker process over Redis on PostgreSQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts import services as deal_services
from forecasting.models import ForecastRollup, KpiSnapshot, RecomputeRequest, Scope
from forecasting.services.recompute import forecast_recompute_all
from salesmgmt.models import Period, Role
from salesmgmt.services import periods_ensure
from tests.factories import AccountFactory, UserFactory, build_process

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_worker_applies_a_debounced_recompute_after_a_deal_edit(
    celery_worker_process, wait_for_worker, settings
):
    # given a rep under a manager with one commit deal this quarter, fully recomputed
    settings.FORECASTING_RECOMPUTE_QUEUE = celery_worker_process
    today = timezone.localdate()
    periods_ensure(year=today.year)
    period = Period.objects.get(kind="quarter", start_on__lte=today, end_on__gte=today)
    process = build_process(name="Worker process")
    process.stages.update(default_forecast_category="commit")
    manager = UserFactory(username="wmanager", role=Role.MANAGER)
    rep = UserFactory(username="wrep", manager=manager)
    deal = deal_services.opportunity_create(
        actor=rep,
        account=AccountFactory(owner=rep),
        name="Acme",
        amount=Decimal(1000),
        expected_close_on=max(today, period.start_on),
        process=process,
    )
    forecast_recompute_all(trials=500, with_kpis=False)

    def team_commit() -> Decimal:
        return ForecastRollup.objects.get(
            person=manager, period=period, scope=Scope.SUBTREE
        ).commit_amount

    assert team_commit() == Decimal(1000)

    # when the rep edits the deal twice in a burst (each commit asks for a recompute)
    deal_services.opportunity_update(actor=rep, opportunity=deal, amount=Decimal(2000))
    deal_services.opportunity_update(actor=rep, opportunity=deal, amount=Decimal(3500))

    # then the worker's debounced batch brings the team's rollup up to date
    wait_for_worker(lambda: team_commit() == Decimal(3500), what="the edited rollup", timeout=30)
    wait_for_worker(
        lambda: not RecomputeRequest.objects.filter(finished_at__isnull=True).exists(),
        what="every recompute request finished",
    )
    own = ForecastRollup.objects.get(person=rep, period=period, scope=Scope.OWN)
    assert own.commit_amount == Decimal(3500)
    assert own.computed_at > timezone.now() - dt.timedelta(minutes=1)
    # and the KPI follow-up task writes the rep's and the manager's KPI rows
    wait_for_worker(
        lambda: (
            KpiSnapshot.objects.filter(person=manager, period=period, scope=Scope.SUBTREE)
            .filter(pipeline_amount=Decimal(3500))
            .exists()
        ),
        what="the manager's KPI row",
    )
