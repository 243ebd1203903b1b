"""The forecasting API: calls and adjustments through the services, scoped lists, budgets."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from forecasting.models import CallLayer, ForecastCall
from forecasting.services import calls
from forecasting.services.recompute import forecast_recompute_all
from salesmgmt.models import Period
from tests.factories import UserFactory
from tests.forecasting.factories import deal, quarter


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def computed(personas, stages, close_on, period):
    for name in ("rep_a", "se_a", "rep_b"):
        deal(personas[name], 1000, close_on=close_on, stage=stages["Negotiate"])
    forecast_recompute_all(with_kpis=False)
    return personas


def as_user(api, user):
    api.force_authenticate(user)
    return api


def test_rep_submits_a_call_through_the_api(api, rep_a, period):
    response = as_user(api, rep_a).post(
        "/api/v1/forecast-calls/",
        {"period": period.pk, "commit_amount": "500.00", "best_case_amount": "800.00"},
        format="json",
    )

    assert response.status_code == 201, response.content
    assert response.json()["layer"] == CallLayer.OWNER
    assert ForecastCall.objects.get().person == rep_a


def test_api_refuses_best_case_below_commit_with_400(api, rep_a, period):
    response = as_user(api, rep_a).post(
        "/api/v1/forecast-calls/",
        {"period": period.pk, "commit_amount": "900", "best_case_amount": "100"},
        format="json",
    )

    assert response.status_code == 400
    assert not ForecastCall.objects.exists()


def test_api_refuses_a_call_for_a_year_or_an_ended_quarter_with_400(api, rep_a, period):
    client = as_user(api, rep_a)
    year = Period.objects.get(kind="year", start_on__lte=period.start_on, end_on__gte=period.end_on)
    ended = quarter(period.start_on - dt.timedelta(days=1))

    responses = [
        client.post(
            "/api/v1/forecast-calls/",
            {"period": p.pk, "commit_amount": "1", "best_case_amount": "2"},
            format="json",
        )
        for p in (year, ended)
    ]

    assert [r.status_code for r in responses] == [400, 400]
    assert all(set(r.json()["fields"]) == {"period"} for r in responses)
    assert not ForecastCall.objects.exists()


def test_manager_adjusts_through_the_api_only_in_their_team(api, rep_a, rep_b, manager_a, period):
    client = as_user(api, manager_a)
    ok = client.post(
        "/api/v1/forecast-adjustments/",
        {
            "person": rep_a.pk,
            "period": period.pk,
            "commit_amount": "10",
            "best_case_amount": "20",
            "note": "haircut",
        },
        format="json",
    )
    outside = client.post(
        "/api/v1/forecast-adjustments/",
        {
            "person": rep_b.pk,
            "period": period.pk,
            "commit_amount": "10",
            "best_case_amount": "20",
            "note": "not mine",
        },
        format="json",
    )

    assert ok.status_code == 201, ok.content
    assert outside.status_code == 400  # rep_b is not a visible id: "does not exist"
    assert ForecastCall.objects.get().submitted_by == manager_a


@pytest.mark.parametrize(
    ("viewer", "expected"),
    [
        ("rep_a", {"rep_a"}),
        ("manager_a", {"rep_a", "se_a"}),
        ("rep_b", {"rep_b"}),
        ("integrator", {"rep_a", "se_a", "rep_b"}),
    ],
)
def test_call_list_is_scoped_by_visibility(api, computed, period, viewer, expected):
    for name in ("rep_a", "se_a", "rep_b"):
        calls.call_submit(actor=computed[name], period=period, commit_amount=1, best_case_amount=1)

    rows = as_user(api, computed[viewer]).get("/api/v1/forecast-calls/").json()["results"]

    names = {
        computed_name
        for computed_name, user in computed.items()
        if user.pk in {r["person"]["id"] for r in rows}
    }
    assert names == expected


@pytest.mark.parametrize(
    ("viewer", "people"),
    [("rep_a", {"rep_a"}), ("manager_b", {"manager_b", "rep_b"})],
)
def test_rollup_list_is_scoped_by_visibility(api, computed, period, viewer, people):
    rows = (
        as_user(api, computed[viewer])
        .get("/api/v1/forecast-rollups/", {"period": period.pk})
        .json()["results"]
    )

    assert {r["person"] for r in rows} == {computed[n].pk for n in people}


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/forecast-rollups/",
        "/api/v1/forecast-kpis/",
        "/api/v1/forecast-snapshots/",
        "/api/v1/forecast-flags/",
        "/api/v1/forecast-probabilities/",
        "/api/v1/forecast-calls/",
        "/api/v1/forecast-adjustments/",
    ],
)
def test_api_lists_answer_and_need_authentication(api, computed, path):
    assert api.get(path).status_code in (401, 403)
    assert as_user(api, computed["executive"]).get(path).status_code == 200


def _count(api, user, path, **params) -> int:
    as_user(api, user)
    with CaptureQueriesContext(connection) as ctx:
        assert api.get(path, params).status_code == 200
    return len(ctx.captured_queries)


def test_api_rollup_and_call_lists_cost_the_same_queries_for_more_rows(
    api, computed, period, stages, close_on
):
    executive = computed["executive"]
    calls.call_submit(actor=computed["rep_a"], period=period, commit_amount=1, best_case_amount=1)
    before = [
        _count(api, executive, p) for p in ("/api/v1/forecast-rollups/", "/api/v1/forecast-calls/")
    ]
    for i in range(6):
        rep = UserFactory(username=f"more{i}", manager=computed["manager_b"])
        deal(rep, 100, close_on=close_on, stage=stages["Negotiate"])
        calls.call_submit(actor=rep, period=period, commit_amount=1, best_case_amount=1)
    forecast_recompute_all(with_kpis=False)

    after = [
        _count(api, executive, p) for p in ("/api/v1/forecast-rollups/", "/api/v1/forecast-calls/")
    ]

    # rollups: count + page. calls: count + page (person, period, submitted_by joined).
    assert after == before


def test_adjustment_keeps_old_and_new_in_the_response(api, rep_a, manager_a, period):
    calls.call_submit(actor=rep_a, period=period, commit_amount=100, best_case_amount=100)

    body = (
        as_user(api, manager_a)
        .post(
            "/api/v1/forecast-adjustments/",
            {
                "person": rep_a.pk,
                "period": period.pk,
                "commit_amount": "70",
                "best_case_amount": "100",
                "note": "risk",
            },
            format="json",
        )
        .json()
    )

    assert (Decimal(body["previous_commit_amount"]), Decimal(body["commit_amount"])) == (
        Decimal(100),
        Decimal(70),
    )
    assert body["submitted_by"]["id"] == manager_a.pk


@pytest.mark.parametrize(
    ("viewer", "owners"),
    [
        ("rep_a", {"rep_a"}),
        ("manager_a", {"rep_a", "se_a"}),
        ("executive", {"rep_a", "se_a", "rep_b"}),
    ],
)
def test_flag_and_snapshot_lists_are_scoped_by_visibility(api, computed, viewer, owners, today):
    from forecasting.models import FlagKind, InspectionFlag
    from forecasting.services import snapshots

    for name in ("rep_a", "se_a", "rep_b"):
        opp = computed[name].opportunities.first()
        InspectionFlag.objects.create(
            opportunity=opp, owner=computed[name], kind=FlagKind.NO_ACTIVITY
        )
    snapshots.snapshot_take(on=today)
    client = as_user(api, computed[viewer])

    flagged = {r["owner"] for r in client.get("/api/v1/forecast-flags/").json()["results"]}
    snapped = {r["owner"] for r in client.get("/api/v1/forecast-snapshots/").json()["results"]}

    expected = {computed[n].pk for n in owners}
    assert flagged == expected
    assert snapped == expected


def test_numbered_pages_of_tied_rows_hold_every_row_once(api, computed, period):
    """A year, its first quarter and its first month start on the same day: the KPI and
    rollup lists tie on their sort key across those periods, and numbered pages (offsets, a
    query each) must still step through every row exactly once (a CRM import's check once
    missed one rep's quarter)."""
    year, _ = Period.objects.get_or_create(
        kind=Period.Kind.YEAR, start_on=period.start_on,
        defaults={"name": "FY tie", "end_on": period.end_on + dt.timedelta(days=270)},
    )  # fmt: skip
    month, _ = Period.objects.get_or_create(
        kind=Period.Kind.MONTH, start_on=period.start_on,
        defaults={"name": "M tie", "end_on": period.start_on + dt.timedelta(days=27)},
    )  # fmt: skip
    forecast_recompute_all(with_kpis=True)
    executive = computed["executive"]
    for path in ("/api/v1/forecast-kpis/", "/api/v1/forecast-rollups/"):
        expected, seen, url = None, [], f"{path}?page_size=1&page=1"
        while url:
            body = as_user(api, executive).get(url).json()
            expected = body["count"]
            seen += [(row["person"], row["period"], row["scope"]) for row in body["results"]]
            url = body["next"]
        periods = {row["period"] for row in as_user(api, executive).get(
            f"{path}?page_size=500").json()["results"]}  # fmt: skip
        assert {year.pk, month.pk, period.pk} <= periods
        assert len(seen) == expected == len(set(seen)), path


def test_numbered_pages_order_to_the_row():
    from salesmgmt.row_slices import with_unique_order

    tied = Period.objects.order_by("start_on")
    assert with_unique_order(tied).query.order_by == ("start_on", "pk")
    unique = Period.objects.order_by("-start_on", "id")
    assert with_unique_order(unique).query.order_by == ("-start_on", "id")
