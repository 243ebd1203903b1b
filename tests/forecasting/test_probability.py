"""The milestone learner on synthetic histories with a known answer, and its calibration."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.analytics import probability

START = pd.Timestamp("2024-01-01", tz="UTC")


def synthetic_history(rates: dict[int, float], per_level: int, *, seed: int = 7, owner=None):
    """Deals whose milestone count never changes; a deal with m milestones wins with rates[m]."""
    rng = np.random.default_rng(seed)
    deals, events = [], []
    deal_id = 0
    for level, rate in rates.items():
        for _ in range(per_level):
            deal_id += 1
            created = START + pd.Timedelta(days=int(rng.integers(0, 300)))
            life = int(rng.integers(20, 90))
            deals.append(
                {
                    "opportunity_id": deal_id,
                    "process_id": 1,
                    "owner_id": owner(deal_id) if owner else 1,
                    "created_at": created,
                    "closed_at": created + pd.Timedelta(days=life),
                    "won": bool(rng.random() < rate),
                }
            )
            for milestone in range(level):
                events.append(
                    {
                        "opportunity_id": deal_id,
                        "milestone_id": milestone,
                        "at": created,
                        "counts": True,
                    }
                )
    events = pd.DataFrame(events, columns=["opportunity_id", "milestone_id", "at", "counts"])
    return pd.DataFrame(deals), events


def fitted(deals, events):
    return probability.fit(deals, probability.build_observations(deals, events))


def open_deal(milestones: int, *, owner: int = 1, age_days: float = 10.0):
    return pd.DataFrame(
        {
            "process_id": [1],
            "owner_id": [owner],
            "milestones_done": [milestones],
            "age_days": [age_days],
        }
    )


def test_learner_recovers_the_known_rate_per_milestone_level():
    truth = {0: 0.1, 2: 0.5, 4: 0.9}
    deals, events = synthetic_history(truth, per_level=400)

    params = fitted(deals, events)

    for level, rate in truth.items():
        assert probability.score(open_deal(level), params).iloc[0] == pytest.approx(rate, abs=0.06)


def test_learner_counts_undone_milestones_out():
    events = pd.DataFrame(
        {
            "opportunity_id": [1, 1, 1],
            "milestone_id": [10, 11, 10],
            "at": [START, START + pd.Timedelta(days=1), START + pd.Timedelta(days=2)],
            "counts": [True, True, False],
        }
    )
    moments = pd.DataFrame(
        {
            "opportunity_id": [1, 1, 1],
            "at": [START, START + pd.Timedelta(days=1), START + pd.Timedelta(days=5)],
        }
    )

    assert probability.milestone_counts_at(events, moments).tolist() == [1, 2, 1]


def test_learner_gives_sensible_numbers_from_a_few_dozen_deals():
    deals, events = synthetic_history({0: 0.2, 3: 0.7}, per_level=15)

    params = fitted(deals, events)

    low, high = (probability.score(open_deal(m), params).iloc[0] for m in (0, 3))
    assert 0.05 < low < high < 0.95


def test_learner_shrinks_a_rep_with_little_history_toward_the_team():
    # Team: 400 deals at 40 %. Rep 2 has won all of their 3 deals; rep 3 wins 80 % of 300.
    team, events = synthetic_history({0: 0.4}, per_level=400, seed=1)
    rng = np.random.default_rng(3)
    newcomer = team.head(3).assign(opportunity_id=[10_001, 10_002, 10_003], owner_id=2, won=True)
    veteran = team.head(300).assign(
        opportunity_id=np.arange(20_001, 20_301), owner_id=3, won=rng.random(300) < 0.8
    )
    deals = pd.concat([team, newcomer, veteran], ignore_index=True)

    params = fitted(deals, events)

    team_rate = deals["won"].mean()
    newcomer_p = probability.score(open_deal(0, owner=2), params).iloc[0]
    veteran_p = probability.score(open_deal(0, owner=3), params).iloc[0]
    assert abs(newcomer_p - team_rate) < 0.15  # three wins are not a track record
    assert veteran_p == pytest.approx(0.8, abs=0.08)  # a long record is believed


def test_learner_marks_down_deals_older_than_the_typical_cycle():
    # Deals that linger far past the usual cycle lose: an old deal with no progress is worse.
    rng = np.random.default_rng(5)
    rows = []
    for i in range(400):
        life = int(rng.integers(20, 40)) if i % 2 else int(rng.integers(150, 200))
        created = START + pd.Timedelta(days=int(rng.integers(0, 200)))
        rows.append(
            {
                "opportunity_id": i,
                "process_id": 1,
                "owner_id": 1,
                "created_at": created,
                "closed_at": created + pd.Timedelta(days=life),
                "won": bool(i % 2),
            }
        )
    deals = pd.DataFrame(rows)
    events = pd.DataFrame(columns=["opportunity_id", "milestone_id", "at", "counts"])

    params = fitted(deals, events)

    young = probability.score(open_deal(0, age_days=5), params).iloc[0]
    old = probability.score(open_deal(0, age_days=170), params).iloc[0]
    assert old < young / 2


def test_calibration_matches_actual_rates_on_held_out_deals():
    deals, events = synthetic_history({0: 0.15, 2: 0.5, 4: 0.85}, per_level=300, seed=11)

    buckets = probability.calibration(deals, events)

    big = buckets[buckets["count"] >= 100]
    assert len(big) >= 2
    assert (big["predicted_rate"] - big["actual_rate"]).abs().max() < 0.1


def mixed_history(n: int = 600, *, seed: int = 5):
    """Two processes; milestones completed and undone at any time of a deal's life (also after
    it closed); close dates pushed and pulled in; a few deals closing on the same day."""
    rng = np.random.default_rng(seed)
    deals, events, changes = [], [], []
    for i in range(1, n + 1):
        created = START + pd.Timedelta(days=int(rng.integers(0, 400)), hours=int(rng.integers(24)))
        life = int(rng.integers(5, 200))
        deals.append(
            {
                "opportunity_id": i,
                "process_id": 1 + i % 2,
                "owner_id": 1 + i % 7,
                "created_at": created,
                "closed_at": (created + pd.Timedelta(days=life)).normalize(),
                "won": bool(rng.random() < 0.4),
            }
        )
        for _ in range(int(rng.integers(0, 6))):
            at = created + pd.Timedelta(hours=int(rng.integers(0, 24 * (life + 30))))
            counts = bool(rng.random() < 0.8)
            events.append(
                {
                    "opportunity_id": i,
                    "milestone_id": int(rng.integers(4)),
                    "at": at,
                    "counts": counts,
                }
            )
        for _ in range(int(rng.integers(0, 3))):
            at = created + pd.Timedelta(days=int(rng.integers(0, life + 10)))
            old = pd.Timestamp("2024-06-01") + pd.Timedelta(days=int(rng.integers(0, 90)))
            new = old + pd.Timedelta(days=int(rng.integers(-30, 60)))
            changes.append({"opportunity_id": i, "at": at, "old_on": old, "new_on": new})
    events = pd.DataFrame(events).sort_values("at", kind="stable", ignore_index=True)
    return pd.DataFrame(deals), events, pd.DataFrame(changes)


@pytest.mark.parametrize("sampled", [False, True])
def test_calibration_from_the_models_looks_equals_building_them_again(monkeypatch, sampled):
    # given a history and the looks the model learnt from (every closed deal's)
    deals, events, changes = mixed_history()
    looks = probability.build_observations(deals, events, changes)
    if sampled:  # more looks than the calibration scores: it samples them
        monkeypatch.setattr(probability, "MAX_CALIBRATION_LOOKS", len(looks) // 5)

    # when the calibration takes its training and held-out looks from those
    reused = probability.calibration(deals, events, changes, observations=looks)

    # then its buckets are those of building the looks of both parts again, to the last bit
    rebuilt = probability.calibration(deals, events, changes)
    assert len(rebuilt) >= 10
    pd.testing.assert_frame_equal(reused, rebuilt, check_exact=True)
