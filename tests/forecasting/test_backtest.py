"""The backtest sees only what was known each week; the ledger scores sources and people."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest
from django.utils import timezone

from accounts import services as deal_services
from forecasting.analytics import accuracy
from forecasting.models import AccuracyEntry, ForecastSource
from forecasting.selectors import reads
from forecasting.services import backtest, calls
from tests.factories import AccountFactory, complete_closing_milestones
from tests.forecasting.factories import quarter


def aware(day: dt.date, hour: int = 12) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def test_backtest_sees_only_data_available_at_the_time(rep_a, manager_a, process, today):
    # Given last quarter: a deal created in week 2 at 1,000, raised to 20,000 in week 6, won.
    last = quarter(today - dt.timedelta(days=100))
    account = AccountFactory(owner=rep_a)
    opp = deal_services.opportunity_create(
        actor=rep_a,
        account=account,
        name="Acme",
        amount=Decimal(1000),
        expected_close_on=last.end_on - dt.timedelta(days=5),
        at=aware(last.start_on + dt.timedelta(days=9)),
    )
    deal_services.opportunity_update(
        actor=rep_a,
        opportunity=opp,
        amount=Decimal(20000),
        at=aware(last.start_on + dt.timedelta(days=40)),
    )
    complete_closing_milestones(opp)
    deal_services.opportunity_close_won(
        actor=rep_a, opportunity=opp, closed_on=last.end_on - dt.timedelta(days=5)
    )

    backtest.backtest_run()

    model = {
        e.as_of: e.forecast_amount
        for e in AccuracyEntry.objects.filter(
            person=rep_a, period=last, source=ForecastSource.MODEL_WEIGHTED
        )
    }
    week = dict(enumerate(sorted(model)))
    assert model[week[0]] == 0  # not created yet
    assert 0 < model[week[2]] <= Decimal(1000)  # known at 1,000 only
    assert model[week[7]] > Decimal(1000)  # after the raise
    actual = AccuracyEntry.objects.filter(person=manager_a, period=last).values_list(
        "actual_amount", flat=True
    )
    assert set(actual) == {Decimal(20000)}  # rolled up to the manager


def test_backtest_is_idempotent_and_records_calls_of_record(rep_a, process, today):
    last = quarter(today - dt.timedelta(days=100))
    account = AccountFactory(owner=rep_a)
    opp = deal_services.opportunity_create(
        actor=rep_a,
        account=account,
        name="Acme",
        amount=Decimal(1000),
        expected_close_on=last.end_on,
        at=aware(last.start_on),
    )
    complete_closing_milestones(opp)
    deal_services.opportunity_close_won(actor=rep_a, opportunity=opp, closed_on=last.end_on)
    calls.call_submit(
        actor=rep_a, period=last, commit_amount=800, best_case_amount=900, at=aware(last.start_on)
    )
    calls.calls_lock(at=aware(last.start_on + dt.timedelta(days=3)))

    backtest.backtest_run()
    first = sorted(
        AccuracyEntry.objects.values_list("person", "source", "as_of", "forecast_amount")
    )
    backtest.backtest_run()

    assert (
        sorted(AccuracyEntry.objects.values_list("person", "source", "as_of", "forecast_amount"))
        == first
    )
    call = AccuracyEntry.objects.get(person=rep_a, source=ForecastSource.CALL)
    assert (call.forecast_amount, call.actual_amount) == (Decimal(800), Decimal(1000))


def test_accuracy_metrics_and_verdicts():
    rows = []
    for i in range(6):
        rows.append((1, "call", 130.0, 100.0))  # always 30 % high
        rows.append((2, "call", 70.0 + i % 2, 100.0))  # always about 30 % low
        rows.append((3, "call", 100.0 + (10 if i % 2 else -10), 100.0))  # unbiased
    entries = pd.DataFrame(
        rows, columns=["person_id", "source", "forecast_amount", "actual_amount"]
    )

    summary = accuracy.summarize(entries).set_index("person_id")

    assert summary.loc[1, "accuracy"] == pytest.approx(0.7)
    assert summary.loc[1, "bias"] == pytest.approx(0.3)
    assert summary.loc[1, "verdict"] == "over-caller"
    assert summary.loc[2, "verdict"] == "sandbagger"
    assert summary.loc[3, "verdict"] == ""
    assert abs(summary.loc[3, "tracking_signal"]) < 1
    assert summary.loc[3, "mape"] == pytest.approx(0.1)


def test_best_projection_is_the_source_with_lower_mape():
    entries = pd.DataFrame(
        [(1, "model_weighted", 80.0, 100.0), (1, "model_run_rate", 95.0, 100.0)] * 3,
        columns=["person_id", "source", "forecast_amount", "actual_amount"],
    )

    best = accuracy.best_model_source(
        accuracy.summarize(entries), ["model_weighted", "model_run_rate"]
    )

    assert best == "model_run_rate"


def test_best_projection_source_query_agrees_with_the_pandas_definition(
    rep_a, rep_b, manager_a, period
):
    # Given backtest entries of both model sources for people with different entry counts
    rows = [
        (rep_a, "model_weighted", 80, 100), (rep_a, "model_weighted", 130, 100),
        (rep_a, "model_run_rate", 95, 100), (rep_a, "model_run_rate", 70, 100),
        (rep_b, "model_weighted", 201, 200), (rep_b, "model_run_rate", 150, 200),
        (rep_b, "model_run_rate", 260, 200), (rep_b, "model_run_rate", 199, 200),
        (manager_a, "model_weighted", 50, 0), (manager_a, "model_run_rate", 5, 0),
        (manager_a, "owner", 1, 100),
    ]  # fmt: skip
    for i, (person, source, forecast, actual) in enumerate(rows):
        AccuracyEntry.objects.create(
            person=person, period=period, source=source,
            as_of=period.start_on + dt.timedelta(days=i),
            forecast_amount=forecast, actual_amount=actual,
        )  # fmt: skip
    entries = pd.DataFrame(
        [(p.pk, s, float(f), float(a)) for p, s, f, a in rows],
        columns=["person_id", "source", "forecast_amount", "actual_amount"],
    )
    sources = ["model_weighted", "model_run_rate"]

    # Then the one aggregate query picks what the per-person pandas summary picks
    expected = accuracy.best_model_source(accuracy.summarize(entries), sources)
    assert expected == "model_weighted"
    assert reads.best_projection_source() == expected
