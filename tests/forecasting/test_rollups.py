"""Category totals per person and over the reporting subtree, single and cumulative."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from forecasting.analytics import rollups
from forecasting.models import DealProbability, ForecastRollup, Scope
from forecasting.services.recompute import forecast_recompute_all
from tests.forecasting.factories import deal

FAST: dict = {"with_kpis": False}


def test_effective_category_follows_status_then_choice_then_stage():
    frame = pd.DataFrame(
        {
            "status": ["won", "lost", "open", "open", "open"],
            "chosen_category": ["commit", None, "commit", "", None],
            "stage_category": ["pipeline", "commit", "pipeline", "best_case", None],
        }
    )

    assert rollups.effective_category(frame).tolist() == [
        "closed",
        None,
        "commit",
        "best_case",
        "pipeline",
    ]


def test_tree_pairs_pair_everyone_with_each_ancestor():
    people = pd.DataFrame({"person_id": [1, 2, 3], "ancestor_path": ["/", "/1/", "/1/2/"]})

    pairs = rollups.tree_pairs(people)

    assert sorted(map(tuple, pairs[["ancestor_id", "person_id"]].to_numpy().tolist())) == [
        (1, 1),
        (1, 2),
        (1, 3),
        (2, 2),
        (2, 3),
        (3, 3),
    ]


@pytest.fixture
def book(rep_a, se_a, rep_b, manager_a, stages, close_on):
    """rep_a: one deal per category; se_a and rep_b: one commit deal each."""
    deal(rep_a, 100, close_on=close_on, stage=stages["Negotiate"])  # commit by stage
    deal(rep_a, 200, close_on=close_on, stage=stages["Propose"])  # best case by stage
    deal(rep_a, 300, close_on=close_on, stage=stages["Qualify"])  # pipeline
    deal(rep_a, 400, close_on=close_on, status="won")  # closed
    deal(rep_a, 500, close_on=close_on, status="lost")  # nowhere
    deal(rep_a, 50, close_on=close_on, stage=stages["Negotiate"], category="omitted")  # chosen
    deal(rep_a, 70, close_on=close_on, stage=stages["Qualify"], category="commit")  # chosen
    deal(se_a, 1000, close_on=close_on, stage=stages["Negotiate"])
    deal(rep_b, 5000, close_on=close_on, stage=stages["Negotiate"])


def rollup(person, period, scope):
    return ForecastRollup.objects.get(person=person, period=period, scope=scope)


def test_rollup_single_category_totals_per_person(book, rep_a, period):
    forecast_recompute_all(**FAST)

    row = rollup(rep_a, period, Scope.OWN)
    assert (
        row.pipeline_amount,
        row.best_case_amount,
        row.commit_amount,
        row.closed_amount,
        row.omitted_amount,
        row.open_deal_count,
    ) == (Decimal(300), Decimal(200), Decimal(170), Decimal(400), Decimal(50), 5)


def test_rollup_cumulative_totals_include_the_categories_above(book, rep_a, period):
    forecast_recompute_all(**FAST)

    row = rollup(rep_a, period, Scope.OWN)
    assert row.cumulative_commit_amount == Decimal(170 + 400)
    assert row.cumulative_best_case_amount == Decimal(200 + 170 + 400)


def test_rollup_subtree_sums_the_reporting_tree(book, rep_a, manager_a, executive, period):
    forecast_recompute_all(**FAST)

    team = rollup(manager_a, period, Scope.SUBTREE)
    everyone = rollup(executive, period, Scope.SUBTREE)
    assert team.commit_amount == Decimal(170 + 1000)
    assert team.cumulative_commit_amount == Decimal(170 + 1000 + 400)
    assert everyone.commit_amount == Decimal(170 + 1000 + 5000)
    assert rollup(manager_a, period, Scope.OWN).commit_amount == 0
    assert rollup(rep_a, period, Scope.SUBTREE).commit_amount == Decimal(170)


def test_rollup_weighted_pipeline_and_variance_from_deal_probabilities(book, manager_a, period):
    forecast_recompute_all(**FAST)

    row = rollup(manager_a, period, Scope.SUBTREE)
    probs = DealProbability.objects.filter(
        owner__ancestor_path__startswith=manager_a.subtree_path, period=period
    ).exclude(category__in=["closed", "omitted"])
    weighted = sum(float(p.amount) * p.probability for p in probs)
    variance = sum(float(p.amount) ** 2 * p.probability * (1 - p.probability) for p in probs)
    assert float(row.weighted_amount) == pytest.approx(weighted, abs=0.05)
    assert row.variance == pytest.approx(variance, rel=1e-6)
    assert row.projection_weighted_amount == row.closed_amount + row.weighted_amount


def test_rollup_converts_every_amount_into_the_reporting_currency(rep_a, stages, close_on, period):
    from tests.factories import ExchangeRateFactory

    ExchangeRateFactory(currency="EUR", rate_to_reporting=Decimal("1.10"))
    deal(rep_a, 1000, close_on=close_on, stage=stages["Negotiate"], currency="EUR")

    forecast_recompute_all(**FAST)

    assert rollup(rep_a, period, Scope.OWN).commit_amount == Decimal("1100.00")


def _values(model):
    return sorted(
        tuple(v for k, v in row.items() if k not in ("id", "computed_at"))
        for row in model.objects.values()
    )


def test_recompute_twice_leaves_the_same_rows(book):
    now = timezone.now()
    forecast_recompute_all(now=now, **FAST)
    first = (_values(ForecastRollup), _values(DealProbability))

    forecast_recompute_all(now=now, **FAST)

    assert (_values(ForecastRollup), _values(DealProbability)) == first


@given(
    parents=st.lists(st.integers(min_value=0, max_value=30), min_size=1, max_size=30),
    amounts=st.lists(st.floats(min_value=0, max_value=1e6), min_size=31, max_size=31),
)
def test_subtree_rollup_equals_the_sum_over_descendants(parents, amounts):
    # Person i+1 reports to someone numbered below them (a random tree rooted at 0).
    manager = {0: None}
    for i, choice in enumerate(parents, start=1):
        manager[i] = choice % i
    paths = {}
    for person in sorted(manager):
        boss = manager[person]
        paths[person] = "/" if boss is None else f"{paths[boss]}{boss}/"
    people = pd.DataFrame({"person_id": list(paths), "ancestor_path": list(paths.values())})
    own = pd.DataFrame({"commit_amount": amounts[: len(paths)]}, index=list(paths))

    rolled = rollups.subtree_rollup(own, rollups.tree_pairs(people))

    for person, path in paths.items():
        below = [p for p, q in paths.items() if p == person or q.startswith(f"{path}{person}/")]
        assert rolled.loc[person, "commit_amount"] == pytest.approx(
            sum(own.loc[p, "commit_amount"] for p in below)
        )
