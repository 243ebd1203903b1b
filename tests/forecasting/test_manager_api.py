"""The waterfall and projection in the API: the pages' selectors, the pages' visibility,
400 on bad input, ETag and 304, and both in the OpenAPI schema."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from forecasting.services.recompute import forecast_recompute_all
from tests.forecasting.factories import deal

ENDPOINTS = ["/api/v1/forecast-waterfall/", "/api/v1/forecast-projection/"]


@pytest.fixture
def computed(personas, stages, close_on, period):
    for name in ("rep_a", "se_a", "rep_b"):
        deal(personas[name], 1000, close_on=close_on, stage=stages["Negotiate"])
    forecast_recompute_all(with_kpis=False)
    return personas


def get(user, url, **params):
    api = APIClient()
    api.force_authenticate(user)
    return api.get(url, params)


@pytest.mark.parametrize("url", ENDPOINTS)
@pytest.mark.parametrize(
    ("viewer", "subject", "status"),
    [
        ("rep_a", "rep_a", 200),
        ("rep_a", "rep_b", 404),
        ("rep_a", "manager_a", 404),
        ("manager_a", "rep_a", 200),
        ("manager_a", "rep_b", 404),
        ("manager_b", "rep_a", 404),
        ("executive", "rep_b", 200),
        ("admin", "manager_a", 200),
        ("integrator", "manager_a", 200),
    ],
)
def test_visibility_is_the_pages(computed, period, url, viewer, subject, status):
    response = get(computed[viewer], url, person=computed[subject].pk, period=period.pk)

    assert response.status_code == status


@pytest.mark.parametrize("url", ENDPOINTS)
def test_anonymous_is_refused(db, url):
    assert APIClient().get(url).status_code in (401, 403)


@pytest.mark.parametrize("url", ENDPOINTS)
@pytest.mark.parametrize("params", [{"period": "x"}, {"person": "0"}, {"person": "1" * 30}])
def test_malformed_ids_are_400_with_field_messages(computed, url, params):
    response = get(computed["manager_a"], url, **params)

    assert response.status_code == 400
    assert set(response.json()["fields"]) == set(params)


@pytest.mark.parametrize("url", ENDPOINTS)
def test_an_unknown_period_is_404(computed, url):
    assert get(computed["manager_a"], url, period=999_999).status_code == 404


def test_projection_is_the_forecast_pages(client, computed, period):
    manager = computed["manager_a"]
    client.force_login(manager)
    page = client.get(reverse("forecasting:forecast"), {"period": period.pk}).context

    body = get(manager, "/api/v1/forecast-projection/", period=period.pk).json()

    assert body["person"] == manager.pk
    assert body["source_label"] == page["projection_source"]
    assert body["projection_amount"] == f"{page['projection']:.2f}"
    team = page["view"].team
    assert body["p50_amount"] == f"{team.p50_amount:.2f}"
    assert body["closed_amount"] == f"{team.closed_amount:.2f}"


def test_projection_before_any_rollup_has_null_figures(manager_a, period):
    body = get(manager_a, "/api/v1/forecast-projection/", period=period.pk).json()

    assert body["projection_amount"] is None
    assert body["p50_amount"] is None


def test_waterfall_is_the_pages(client, computed, period, stages, close_on, today):
    rep = computed["rep_a"]
    deal(rep, 500, close_on=close_on, stage=stages["Negotiate"])  # new since the start
    start = (timezone.now() - dt.timedelta(days=3)).date()
    params = {"period": period.pk, "start": start.isoformat(), "end": today.isoformat()}
    client.force_login(computed["manager_a"])
    page = client.get(reverse("forecasting:waterfall"), params).context

    body = get(computed["manager_a"], "/api/v1/forecast-waterfall/", **params).json()

    assert [(s["key"], s["amount"], s["count"]) for s in body["steps"]] == [
        (s["key"], s["amount"], s["count"]) for s in page["steps"]
    ]
    assert body["count"] == len(page["changes"].page.paginator.object_list)
    assert {c["opportunity"] for c in body["changes"]} == {
        int(c["opportunity_id"]) for c in page["changes"].page.object_list
    }
    assert (body["start"], body["end"]) == (start.isoformat(), today.isoformat())


def test_waterfall_refuses_a_start_after_the_end(computed, period, today):
    response = get(
        computed["manager_a"],
        "/api/v1/forecast-waterfall/",
        start=today.isoformat(),
        end=(today - dt.timedelta(days=1)).isoformat(),
    )

    assert response.status_code == 400
    assert response.json()["fields"]["start"] == ["The start date must come before the end date."]


def test_waterfall_refuses_a_malformed_date(computed):
    response = get(computed["manager_a"], "/api/v1/forecast-waterfall/", end="yesterday")

    assert response.status_code == 400
    assert "end" in response.json()["fields"]


@pytest.mark.parametrize("url", ENDPOINTS)
def test_the_same_answer_is_304_with_its_etag(computed, period, url):
    api = APIClient()
    api.force_authenticate(computed["manager_a"])
    first = api.get(url, {"period": period.pk})
    etag = first["ETag"]

    again = api.get(url, {"period": period.pk}, HTTP_IF_NONE_MATCH=etag)
    other = api.get(url, {"period": period.pk}, HTTP_IF_NONE_MATCH='"stale"')

    assert (again.status_code, again["ETag"], again.content) == (304, etag, b"")
    assert (other.status_code, other["ETag"]) == (200, etag)


def test_a_changed_projection_has_a_new_etag(computed, period, stages, close_on):
    api = APIClient()
    api.force_authenticate(computed["manager_a"])
    etag = api.get("/api/v1/forecast-projection/", {"period": period.pk})["ETag"]
    deal(computed["rep_a"], 7000, close_on=close_on, stage=stages["Negotiate"])
    forecast_recompute_all(with_kpis=False)

    response = api.get("/api/v1/forecast-projection/", {"period": period.pk})

    assert response.status_code == 200
    assert response["ETag"] != etag


def test_both_are_in_the_openapi_schema(admin_user):
    client = APIClient()
    client.force_authenticate(admin_user)

    paths = client.get("/api/schema/", {"format": "json"}).json()["paths"]

    assert "/api/v1/forecast-waterfall/" in paths
    assert "/api/v1/forecast-projection/" in paths
    assert "/api/v1/milestone-completions/{id}/verify/" in paths
    assert "/api/v1/milestone-completions/{id}/reject/" in paths
