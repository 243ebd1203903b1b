"""The one category rule in its three forms (Python, ORM, pandas) and over the API."""

from __future__ import annotations

import datetime as dt
import itertools

import pandas as pd
import pytest

from accounts import forecast_categories
from accounts.models import ForecastCategory, Opportunity
from forecasting.analytics import rollups
from tests.factories import OpportunityFactory

URL = "/api/v1/opportunities/"
STATUSES = ["open", "won", "lost"]
CHOSEN = ["", *ForecastCategory.values]
STAGE_DEFAULTS = [None, *ForecastCategory.values]  # None: a deal without a stage


@pytest.fixture
def every_case(process, rep_a):
    """One deal per (status, chosen category, stage default): 3 x 5 x 5."""
    stages = list(process.stages.order_by("order"))
    for stage, category in zip(stages, ForecastCategory.values, strict=True):
        stage.default_forecast_category = category
        stage.save()
    by_default = {stage.default_forecast_category: stage for stage in stages}
    day = dt.date(2030, 3, 31)
    for status, chosen, default in itertools.product(STATUSES, CHOSEN, STAGE_DEFAULTS):
        OpportunityFactory(
            owner=rep_a,
            process=process,
            stage=by_default.get(default),
            status=status,
            closed_on=None if status == "open" else day,
            forecast_category=chosen,
            name=f"{status}/{chosen}/{default}",
        )
    return Opportunity.objects.select_related("stage")


def test_the_python_orm_and_pandas_forms_of_the_rule_agree_on_every_case(every_case):
    deals = list(
        every_case.annotate(effective=forecast_categories.effective_category_expression()).order_by(
            "pk"
        )
    )
    frame = pd.DataFrame(
        {
            "status": [d.status for d in deals],
            "chosen_category": [d.forecast_category for d in deals],
            "stage_category": [d.stage_default_category for d in deals],
        }
    )

    python = [d.effective_forecast_category for d in deals]
    assert [d.effective for d in deals] == python
    assert rollups.effective_category(frame).tolist() == python
    # The rule itself, spelled out once more for a few cases.
    expected = {
        "won/commit/pipeline": "closed",
        "lost/commit/commit": None,
        "open/commit/best_case": "commit",
        "open//best_case": "best_case",
        "open//None": "pipeline",
        "open/omitted/commit": "omitted",
    }
    assert {d.name: d.effective_forecast_category for d in deals if d.name in expected} == expected


def test_the_api_shows_and_filters_the_effective_category(every_case, api_client_for, rep_a):
    api = api_client_for(rep_a)

    rows = api.get(URL, {"page_size": 100, "page": 1}).json()["results"]
    filtered = api.get(URL, {"effective_forecast_category": "commit", "page_size": 100})

    by_id = {deal.pk: deal for deal in every_case}
    assert len(rows) == len(by_id)
    for row in rows:
        deal = by_id[row["id"]]
        assert row["forecast_category"] == deal.forecast_category
        assert row["effective_forecast_category"] == deal.effective_forecast_category
    commit = {pk for pk, deal in by_id.items() if deal.effective_forecast_category == "commit"}
    assert {row["id"] for row in filtered.json()["results"]} == commit


def test_a_patch_with_a_blank_category_clears_the_choice(api_client_for, rep_a, process):
    deal = OpportunityFactory(owner=rep_a, process=process, forecast_category="commit")
    api = api_client_for(rep_a)

    response = api.patch(f"{URL}{deal.pk}/", {"forecast_category": ""}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["forecast_category"] == ""
    stage_default = deal.stage.default_forecast_category
    assert response.json()["effective_forecast_category"] == stage_default
