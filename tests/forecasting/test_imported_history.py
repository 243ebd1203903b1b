"""Imported history is not neglect: deals imported and not worked here since carry one
"imported, not yet worked here" flag instead of the neglect flags, listed apart; and nobody
without submitted calls is labelled an over-caller or a sandbagger."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Activity, MilestoneCompletion
from forecasting.analytics import accuracy
from forecasting.models import (
    AccuracyEntry,
    CallOfRecord,
    FlagKind,
    ForecastSource,
    InspectionFlag,
)
from forecasting.services import backtest
from forecasting.services.flags import flags_refresh, imported_unworked_ids
from reconciliation.flags import expected_flags
from reconciliation.records import load_book
from salesmgmt.models import Period
from salesmgmt.services import periods_ensure
from tests.factories import ActivityFactory, MilestoneCompletionFactory
from tests.forecasting.factories import deal

NEGLECT = {
    FlagKind.CLOSE_DATE_PAST,
    FlagKind.NO_ACTIVITY,
    FlagKind.STUCK_IN_STAGE,
    FlagKind.PUSHED_TWICE,
}


@pytest.fixture
def imported_at():
    return timezone.now() - dt.timedelta(days=3)


@pytest.fixture
def old_open(rep_a, stages, imported_at):
    """Deals still open in the old CRM, close dates in 2024, engaged in 2023, imported."""
    periods_ensure(year=2024)
    engaged = dt.datetime(2023, 10, 2, 11, 0, tzinfo=dt.UTC)
    return [
        deal(
            rep_a,
            amount,
            close_on=dt.date(2024, month, 28),
            stage=stages["Negotiate"],
            created_at=engaged,
            imported_at=imported_at,
        )
        for amount, month in ((12_500, 3), (48_000, 6), (7_250, 9))
    ]


def _flags() -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    for opportunity_id, kind in InspectionFlag.objects.values_list("opportunity_id", "kind"):
        out.setdefault(opportunity_id, set()).add(kind)
    return out


def test_imported_deals_never_worked_get_no_neglect_flags(old_open, rep_a, stages):
    # given a deal created here with the same past close date
    native = deal(rep_a, 9_000, close_on=dt.date(2024, 6, 28), stage=stages["Negotiate"])

    flags_refresh()

    flags = _flags()
    for opp in old_open:
        assert not flags[opp.pk] & NEGLECT
        assert FlagKind.IMPORTED_UNWORKED in flags[opp.pk]
    assert {FlagKind.CLOSE_DATE_PAST, FlagKind.NO_ACTIVITY} <= flags[native.pk]
    assert FlagKind.IMPORTED_UNWORKED not in flags[native.pk]
    detail = InspectionFlag.objects.get(
        opportunity=old_open[0], kind=FlagKind.IMPORTED_UNWORKED
    ).detail
    assert "close_date_past" in detail
    assert "no_activity" in detail


def test_an_imported_deal_worked_here_is_inspected_like_any_other(
    old_open, rep_a, imported_at, process
):
    called, verified = old_open[0], old_open[1]
    ActivityFactory(
        owner=rep_a, opportunity=called, account=called.account, kind=Activity.Kind.CALL
    )
    milestone = process.stages.order_by("order").first().milestones.first()
    MilestoneCompletionFactory(
        opportunity=verified,
        milestone=milestone,
        completed_at=timezone.now(),
        verification_state=MilestoneCompletion.Verification.NOT_REQUIRED,
    )
    # an imported completion (from the file) is history too: it does not count as work
    MilestoneCompletionFactory(
        opportunity=old_open[2],
        milestone=milestone,
        completed_at=timezone.now(),
        verification_state=MilestoneCompletion.Verification.IMPORTED,
    )

    assert imported_unworked_ids(now=timezone.now()) == {old_open[2].pk}
    flags_refresh()

    flags = _flags()
    assert FlagKind.CLOSE_DATE_PAST in flags[called.pk]
    assert FlagKind.CLOSE_DATE_PAST in flags[verified.pk]
    assert FlagKind.IMPORTED_UNWORKED not in flags[called.pk] | flags[verified.pk]
    assert flags[old_open[2].pk] & NEGLECT == set()


def test_the_reconciliation_restates_the_imported_rule(old_open, rep_a, stages):
    deal(rep_a, 9_000, close_on=dt.date(2024, 6, 28), stage=stages["Negotiate"])
    now = timezone.now()
    flags_refresh(now=now)

    expected = expected_flags(load_book(), now)

    stored = dict(
        ((o, k), d)
        for o, k, d in InspectionFlag.objects.values_list("opportunity_id", "kind", "detail")
    )
    assert set(stored) == set(expected)
    for key, detail in stored.items():
        assert detail == expected[key][0]


def test_flags_page_lists_imported_deals_apart(client, old_open, rep_a, stages):
    native = deal(rep_a, 9_000, close_on=dt.date(2024, 6, 28), stage=stages["Negotiate"])
    flags_refresh()
    client.force_login(rep_a)

    response = client.get(reverse("forecasting:flags"))
    imported = client.get(reverse("forecasting:flags"), {"kind": FlagKind.IMPORTED_UNWORKED})

    page = response.content.decode()
    assert "Imported, not yet worked here" in page
    assert "3 open deals came in with an import" in page
    listed = {(f.opportunity_id, f.kind) for f in response.context["page"].object_list}
    assert (native.pk, FlagKind.CLOSE_DATE_PAST) in listed
    assert not {kind for _, kind in listed} & {FlagKind.IMPORTED_UNWORKED}
    assert not {(opp.pk, FlagKind.CLOSE_DATE_PAST) for opp in old_open} & listed
    apart = {(f.opportunity_id, f.kind) for f in imported.context["page"].object_list}
    assert apart == {(opp.pk, FlagKind.IMPORTED_UNWORKED) for opp in old_open}
    assert "history from the old system, not neglect" in imported.content.decode()


def test_flag_api_names_the_group(client, old_open, rep_a):
    flags_refresh()
    client.force_login(rep_a)

    rows = client.get("/api/v1/forecast-flags/").json()["results"]

    groups = {(row["opportunity"], row["group"]) for row in rows}
    assert {(opp.pk, "imported_unworked") for opp in old_open} <= groups
    labels = {row["kind_label"] for row in rows if row["group"] == "imported_unworked"}
    assert labels == {"Imported, not yet worked here"}


# --- backtest labels ----------------------------------------------------------------------


def _entries(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["person_id", "source", "forecast_amount", "actual_amount"])


def test_the_models_own_rows_are_never_labelled():
    # the model calls 40 % low every week, for the whole team
    rows = [(7, "model_weighted", 60.0 + i, 100.0) for i in range(8)]
    rows += [(7, "model_run_rate", 55.0 + i, 100.0) for i in range(8)]

    summary = accuracy.summarize(_entries(rows))

    assert (summary["tracking_signal"] < -accuracy.TRACKING_LIMIT).all()
    assert set(summary["verdict"]) == {""}


def test_a_person_who_calls_low_persistently_is_a_sandbagger():
    rows = [(7, "call", 60.0 + i, 100.0) for i in range(8)]

    summary = accuracy.summarize(_entries(rows))

    assert summary.loc[0, "verdict"] == "sandbagger"


def test_backtest_of_imported_history_without_calls_labels_nobody(rep_a, manager_a, stages, today):
    # given last year's deals imported, and no call ever submitted; only a manager's
    # adjustment locked for the rep (no call of the rep's own)
    year = today.year - 1
    periods_ensure(year=year)
    for month in range(1, 13):
        deal(
            rep_a,
            Decimal(20_000 + 100 * month),
            close_on=dt.date(year, month, 15),
            status="won",
            created_at=dt.datetime(year, month, 1, 9, tzinfo=dt.UTC) - dt.timedelta(days=60),
            imported_at=timezone.now() - dt.timedelta(days=1),
        )
    quarter = Period.objects.get(kind=Period.Kind.QUARTER, start_on=dt.date(year, 10, 1))
    CallOfRecord.objects.create(
        person=rep_a,
        period=quarter,
        locked_on=dt.date(year, 10, 6),
        commit_amount=Decimal(0),
        best_case_amount=Decimal(0),
        manager_commit_amount=Decimal(1),
    )

    backtest.backtest_run()

    assert AccuracyEntry.objects.exists()
    assert not AccuracyEntry.objects.filter(source=ForecastSource.CALL).exists()
    entries = _entries(
        AccuracyEntry.objects.values_list("person_id", "source", "forecast_amount", "actual_amount")
    )
    assert set(accuracy.summarize(entries)["verdict"]) <= {""}
