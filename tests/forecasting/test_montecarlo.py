"""The Monte Carlo range against the analytic mean and variance of Σ a·Bernoulli(p)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.analytics import montecarlo, rollups


def book(n: int, *, owner: int = 1, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "opportunity_id": np.arange(n) + owner * 1000,
            "owner_id": owner,
            "amount": rng.uniform(1_000, 50_000, n).round(2),
            "probability": rng.uniform(0.05, 0.95, n),
        }
    )


def analytic(deals: pd.DataFrame) -> tuple[float, float]:
    a, p = deals["amount"], deals["probability"]
    return float((a * p).sum()), float((a * a * p * (1 - p)).sum())


def test_montecarlo_mean_and_variance_match_the_analytic_ones():
    deals = book(60)
    trials = 40_000

    vector = montecarlo.simulate_people(deals, trials=trials, seed=1, period_id=1)[1]

    mean, variance = analytic(deals)
    standard_error = np.sqrt(variance / trials)
    assert vector.mean() == pytest.approx(mean, abs=4 * standard_error)
    assert vector.var() == pytest.approx(variance, rel=0.05)


def test_montecarlo_is_reproducible_from_its_seed():
    deals = book(20)

    first = montecarlo.simulate_people(deals, trials=1000, seed=9, period_id=4)[1]
    again = montecarlo.simulate_people(deals, trials=1000, seed=9, period_id=4)[1]
    other = montecarlo.simulate_people(deals, trials=1000, seed=10, period_id=4)[1]

    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


def test_montecarlo_blocks_large_books_without_changing_the_distribution(monkeypatch):
    deals = book(300)
    monkeypatch.setattr(montecarlo, "BLOCK_CELLS", 5_000)  # forces many small blocks

    vector = montecarlo.simulate_people(deals, trials=20_000, seed=2, period_id=1)[1]

    mean, variance = analytic(deals)
    assert vector.mean() == pytest.approx(mean, abs=4 * np.sqrt(variance / 20_000))


def test_subtree_range_sums_the_team_and_adds_closed_won():
    people = pd.DataFrame({"person_id": [1, 2, 3], "ancestor_path": ["/", "/1/", "/1/"]})
    pairs = rollups.tree_pairs(people)
    deals = pd.concat([book(40, owner=2, seed=4), book(40, owner=3, seed=5)])
    trials = 20_000
    vectors = montecarlo.simulate_people(deals, trials=trials, seed=1, period_id=1)
    closed = pd.Series({1: 5_000.0, 2: 1_000.0, 3: 0.0})

    q = montecarlo.subtree_quantiles(vectors, pairs, closed, trials=trials)

    mean, variance = analytic(deals)
    sd = np.sqrt(variance)
    # Forty deals a head: close to normal, so P10/P50/P90 ≈ mean + (-1.28, 0, 1.28)·sd.
    assert q.loc[1, "p50_amount"] == pytest.approx(mean + 5_000, abs=0.05 * sd)
    assert q.loc[1, "p10_amount"] == pytest.approx(mean + 5_000 - 1.2816 * sd, abs=0.1 * sd)
    assert q.loc[1, "p90_amount"] == pytest.approx(mean + 5_000 + 1.2816 * sd, abs=0.1 * sd)
    assert q.loc[2, "p50_amount"] < q.loc[1, "p50_amount"]


def test_subtree_range_in_blocks_of_nodes_equals_all_nodes_at_once(monkeypatch):
    # given a team of three under one manager, each simulated
    people = pd.DataFrame(
        {"person_id": [1, 2, 3, 4], "ancestor_path": ["/", "/1/", "/1/", "/1/2/"]}
    )
    pairs = rollups.tree_pairs(people)
    deals = pd.concat([book(30, owner=o, seed=o) for o in (2, 3, 4)])
    vectors = montecarlo.simulate_people(deals, trials=2_000, seed=1, period_id=1)
    closed = pd.Series({1: 100.0, 2: 50.0, 3: 0.0, 4: 7.0})
    whole = montecarlo.subtree_quantiles(vectors, pairs, closed, trials=2_000)

    # when the nodes are summed one block of a node at a time
    monkeypatch.setattr(montecarlo, "QUANTILE_CELLS", 1)
    blocks = montecarlo.subtree_quantiles(vectors, pairs, closed, trials=2_000)

    # then every node's range is exactly the same, and each sums its subtree
    pd.testing.assert_frame_equal(blocks, whole, check_exact=True)
    team = vectors[2].astype(np.float64) + vectors[4] + vectors[3]
    assert blocks.loc[1, "p50_amount"] == pytest.approx(np.quantile(team, 0.5) + 100.0)


def test_own_and_subtree_ranges_together_equal_each_taken_alone(monkeypatch):
    # given a manager with deals of their own, two reps (one without deals) and a rep's rep
    people = pd.DataFrame(
        {"person_id": [1, 2, 3, 4, 5], "ancestor_path": ["/", "/1/", "/1/", "/1/2/", "/1/"]}
    )
    pairs = rollups.tree_pairs(people)
    deals = pd.concat([book(30, owner=o, seed=o) for o in (1, 2, 3, 4)])
    vectors = montecarlo.simulate_people(deals, trials=2_000, seed=1, period_id=1)
    own_closed = pd.Series({1: 10.0, 2: 50.0, 3: 0.0, 4: 7.0})
    subtree_closed = pd.Series({1: 67.0, 2: 57.0, 3: 0.0, 4: 7.0, 5: 0.0})
    everyone = [1, 2, 3, 4, 5]
    own_pairs = pd.DataFrame({"ancestor_id": everyone, "person_id": everyone})
    own_alone = montecarlo.subtree_quantiles(
        vectors, own_pairs, own_closed, nodes=everyone, trials=2_000
    )
    subtree_alone = montecarlo.subtree_quantiles(
        vectors, pairs, subtree_closed, nodes=everyone, trials=2_000
    )
    quantiles: list[int] = []
    taken = montecarlo._quantiles

    def counting(vectors, pairs, node_ids, *, trials):
        quantiles.extend(node_ids)
        return taken(vectors, pairs, node_ids, trials=trials)

    monkeypatch.setattr(montecarlo, "_quantiles", counting)

    # when both are taken together
    own, subtree = montecarlo.own_and_subtree_quantiles(
        vectors,
        pairs,
        own_closed=own_closed,
        subtree_closed=subtree_closed,
        people=everyone,
        nodes=everyone,
        trials=2_000,
    )

    # then every value is the same to the last bit, and the reps alone in their subtree (3, 4)
    # had their quantiles taken once
    pd.testing.assert_frame_equal(own, own_alone, check_exact=True)
    pd.testing.assert_frame_equal(subtree, subtree_alone, check_exact=True)
    assert sorted(quantiles) == [1, 1, 2, 2, 3, 4, 5, 5]
