"""The accuracy ledger labels people, never the model: a model projection that errs the same
way every week is no over-caller or sandbagger, on the ledger page and on the forecast page.

(The rule lives in ``forecasting.analytics.accuracy.summarize``: only the rows of submitted
calls are labelled. These tests fail with the labelling it had before commit dfc8dc7, which
labelled every source.)"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from forecasting.models import AccuracyEntry, ForecastSource


@pytest.fixture
def ledger(rep_a, period):
    """Eight weeks: the model calls 40 % low and 30 % high; rep_a's own call is 40 % high."""
    for week in range(8):
        as_of = period.start_on + dt.timedelta(weeks=week)
        for source, forecast in (
            (ForecastSource.MODEL_WEIGHTED, 60 + week),
            (ForecastSource.MODEL_RUN_RATE, 130 + week),
            (ForecastSource.CALL, 140 + week),
        ):
            AccuracyEntry.objects.create(
                person=rep_a,
                period=period,
                source=source,
                as_of=as_of,
                forecast_amount=Decimal(forecast),
                actual_amount=Decimal(100),
            )
    return rep_a


def _verdicts(rows) -> dict[str, str]:
    return {row["source"]: row["verdict"] for row in rows}


def test_ledger_page_labels_the_persons_call_not_the_models_rows(client, manager_a, ledger):
    client.force_login(manager_a)

    response = client.get(reverse("forecasting:accuracy"), {"person": ledger.pk})

    assert response.status_code == 200
    assert _verdicts(response.context["rows"]) == {
        ForecastSource.MODEL_WEIGHTED: "",
        ForecastSource.MODEL_RUN_RATE: "",
        ForecastSource.CALL: "over-caller",
    }
    assert response.content.decode().count("tag--danger") == 1


def test_forecast_page_labels_the_persons_call_not_the_models_rows(client, ledger, period):
    client.force_login(ledger)

    response = client.get(reverse("forecasting:forecast"), {"period": period.pk})

    assert _verdicts(response.context["accuracy"]) == {
        ForecastSource.MODEL_WEIGHTED: "",
        ForecastSource.MODEL_RUN_RATE: "",
        ForecastSource.CALL: "over-caller",
    }
