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
