"""A deal's win probability with its three biggest drivers: the split adds up to the
model's score, and it shows on the deal page and in the API, within visibility, without a
query per deal on the list."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import OpportunityChange
from forecasting.analytics import probability
from forecasting.services.recompute import forecast_recompute_all
from tests.factories import UserFactory
from tests.forecasting.factories import deal
from tests.forecasting.test_probability import fitted, synthetic_history

# --- the split (pure) -------------------------------------------------------------------------


def test_base_plus_effects_is_the_models_score():
    deals, events = synthetic_history({0: 0.1, 1: 0.3, 2: 0.6, 3: 0.85}, 60, owner=lambda i: i % 3)
    params = fitted(deals, events)
    rng = np.random.default_rng(3)
    cycle = params["cycles"]["1"]
    open_deals = pd.DataFrame(
        {
            "process_id": [1] * 40 + [99] * 2,  # 99: a process without history
            "owner_id": rng.integers(0, 4, 42),
            "milestones_done": rng.integers(0, 6, 42),  # above the top level too
            "age_ratio": rng.uniform(0, 3, 42),
            "pushes": rng.integers(0, 3, 42),
        }
    )

    split = probability.explain(open_deals, params)
    scored = probability.score(open_deals.assign(age_days=open_deals["age_ratio"] * cycle), params)

    effects = split[[f"{name}_effect" for name in probability.DRIVERS]].sum(axis=1)
    assert np.allclose(split["base"] + effects, split["probability"])
    assert np.allclose(split["probability"], scored)
    assert np.allclose(split["pushes_effect"], 0)  # a history without pushes weighs none
    assert (split.loc[40:, "probability"] == probability.NO_HISTORY_PROBABILITY).all()


def test_more_milestones_is_a_positive_driver():
    deals, events = synthetic_history({0: 0.1, 3: 0.8}, 80)
    params = fitted(deals, events)
    two = pd.DataFrame(
        {
            "process_id": [1, 1],
            "owner_id": [1, 1],
            "milestones_done": [0, 3],
            "age_ratio": [0.2, 0.2],
            "pushes": [0, 0],
        }
    )

    split = probability.explain(two, params)

    assert split.loc[0, "milestones_effect"] < 0 < split.loc[1, "milestones_effect"]


def test_no_deals_no_rows():
    empty = pd.DataFrame(columns=["process_id", "owner_id", "milestones_done", "age_ratio"])

    assert probability.explain(empty, {}).empty


# --- page and API -----------------------------------------------------------------------------


@pytest.fixture
def history(personas, stages, today):
    """Closed deals of rep_a's team, so the model has rates to split."""
    for i in range(12):
        closed = today - dt.timedelta(days=20 + i)
        created = timezone.now() - dt.timedelta(days=60 + i)
        status = "won" if i % 3 else "lost"
        deal(personas["rep_a"], 500, close_on=closed, status=status, created_at=created)
    return personas


@pytest.fixture
def scored(history, stages, close_on):
    """rep_a's open deal (pushed twice) and rep_b's, with probabilities computed."""
    mine = deal(history["rep_a"], 1000, close_on=close_on, stage=stages["Negotiate"])
    for old, new in (("2030-01-01", "2030-02-01"), ("2030-02-01", "2030-03-01")):
        OpportunityChange.objects.create(
            opportunity=mine, field="expected_close_on", old_value=old, new_value=new
        )
    theirs = deal(history["rep_b"], 1000, close_on=close_on, stage=stages["Negotiate"])
    forecast_recompute_all(with_kpis=False)
    return {"mine": mine, "theirs": theirs, **history}


def api_for(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


@pytest.mark.parametrize("viewer", ["rep_a", "manager_a", "executive"])
def test_deal_page_shows_the_probability_and_three_drivers(client, scored, viewer):
    client.force_login(scored[viewer])

    response = client.get(reverse("accounts:opportunity_detail", args=[scored["mine"].pk]))

    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="win-probability"' in body
    assert body.count('data-testid="probability-driver"') == 3
    assert "milestones done" in body


def test_deal_page_of_a_closed_deal_has_no_probability(client, scored, today):
    won = deal(scored["rep_a"], 100, close_on=today, status="won")
    client.force_login(scored["rep_a"])

    body = client.get(reverse("accounts:opportunity_detail", args=[won.pk])).content.decode()

    assert 'data-testid="win-probability"' not in body


def test_deal_api_answers_the_probability_and_its_drivers(scored):
    mine = scored["mine"]

    response = api_for(scored["manager_a"]).get(f"/api/v1/opportunities/{mine.pk}/probability/")

    body = response.json()
    assert response.status_code == 200
    assert body["opportunity"] == mine.pk
    assert 0 < body["probability"] < 1
    assert body["pushes"] == 2
    assert len(body["drivers"]) == 3
    effects = [abs(d["effect"]) for d in body["drivers"]]
    assert effects == sorted(effects, reverse=True)
    assert {d["name"] for d in body["drivers"]} <= set(probability.DRIVERS)


def test_deal_api_probability_follows_visibility(scored):
    url = f"/api/v1/opportunities/{scored['theirs'].pk}/probability/"

    assert api_for(scored["rep_a"]).get(url).status_code == 404
    assert api_for(scored["manager_a"]).get(url).status_code == 404
    assert api_for(scored["executive"]).get(url).status_code == 200


def test_deal_api_probability_of_an_uncomputed_deal_is_404(scored, stages, close_on):
    fresh = deal(scored["rep_a"], 100, close_on=close_on, stage=stages["Negotiate"])

    response = api_for(scored["rep_a"]).get(f"/api/v1/opportunities/{fresh.pk}/probability/")

    assert response.status_code == 404
    assert "not computed yet" in response.json()["detail"]


def test_deal_api_probability_is_304_with_its_etag(scored):
    api = api_for(scored["rep_a"])
    url = f"/api/v1/opportunities/{scored['mine'].pk}/probability/"
    etag = api.get(url)["ETag"]

    assert api.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304


def _list(user) -> tuple[int, list[dict]]:
    api = api_for(user)
    with CaptureQueriesContext(connection) as ctx:
        response = api.get("/api/v1/forecast-probabilities/", {"page_size": 100})
    assert response.status_code == 200
    return len(ctx.captured_queries), response.json()["results"]


def test_probability_list_has_drivers_without_a_query_per_deal(scored, stages, close_on):
    executive = scored["executive"]
    before, rows = _list(executive)
    assert any(len(row["drivers"]) == 3 for row in rows)
    for i in range(8):
        rep = UserFactory(username=f"more{i}", manager=scored["manager_b"])
        deal(rep, 100, close_on=close_on, stage=stages["Negotiate"])
    forecast_recompute_all(with_kpis=False)

    after, more_rows = _list(executive)

    # auth and count/page (as the other aggregate lists), then for the page's open deals:
    # the probability model (1), their pushes (1), their processes' milestones (1).
    assert len(more_rows) == len(rows) + 8
    assert after == before


def test_probability_list_exports_as_csv(scored):
    response = api_for(scored["executive"]).get("/api/v1/forecast-probabilities/?format=csv")

    lines = b"".join(response.streaming_content).decode().splitlines()
    assert response.status_code == 200
    assert "probability" in lines[0]
    assert len(lines) > 2  # the open deals and the won ones (drivers: JSON pages only)
