"""Forecasting fixtures: the current quarter and a process whose stages map to categories."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.forecasting.factories import quarter


@pytest.fixture
def today() -> dt.date:
    return timezone.localdate()


@pytest.fixture
def period(db, today):
    """The current quarter (its year's periods created)."""
    return quarter(today)


@pytest.fixture
def close_on(period, today) -> dt.date:
    """A close date inside the current quarter, not in the past."""
    return max(today, period.start_on)


@pytest.fixture
def stages(process):
    """The standard process's stages, mapped Pipeline, Pipeline, Best case, Commit."""
    ordered = list(process.stages.order_by("order"))
    for stage, category in zip(
        ordered, ["pipeline", "pipeline", "best_case", "commit"], strict=True
    ):
        stage.default_forecast_category = category
        stage.save()
    return {s.name: s for s in ordered}


@pytest.fixture(autouse=True)
def few_trials(settings):
    """Monte Carlo sized for tests; the analytic checks pass their own trial counts."""
    settings.FORECASTING_TRIALS = 400


@pytest.fixture
def held(monkeypatch) -> list[str]:
    """Stale marks are written but no batch is sent on commit: the test runs them itself.

    Returns the kinds whose task would have been sent, in order.
    """
    from salesmgmt.models import StaleMark
    from salesmgmt.refresh import tasks

    # The marks the fixtures' writes left (new periods, people): the test starts with none.
    StaleMark.objects.all().delete()
    sent: list[str] = []
    monkeypatch.setattr(tasks, "batch_send", lambda *, kind: sent.append(kind))
    return sent


def pending_keys(kind: str) -> set[tuple[int, int]]:
    """(person, period) keys of ``kind`` waiting for a batch."""
    from salesmgmt.models import StaleMark

    marks = StaleMark.objects.filter(kind=kind, started_at__isnull=True)
    return set(marks.values_list("person_key", "period_key"))
