"""Subtree ranges from stored subtree totals: an edit's recompute reads the totals of the
direct reports around its chain (not every vector below the top) and still writes the rows
a full recompute writes, with or without the totals stored."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from accounts import services as deal_services
from accounts.models import Opportunity
from forecasting.aggregate_kinds import periods_containing
from forecasting.analytics import montecarlo, rollups
from forecasting.models import ForecastRollup, SubtreeTrialVector
from forecasting.services import recompute
from forecasting.services.recompute import forecast_recompute_all, forecast_recompute_people
from salesmgmt.models import Role
from tests.factories import UserFactory
from tests.forecasting.factories import deal

FAST: dict = {"with_kpis": False, "trials": 500}


def _tree_frame(parents: dict[int, int | None]) -> pd.DataFrame:
    """``people`` as ``rollups.tree_pairs`` takes them, from each person's manager."""

    def path(pid: int) -> str:
        chain, up = [], parents[pid]
        while up is not None:
            chain.append(up)
            up = parents[up]
        return "/" + "".join(f"{a}/" for a in reversed(chain))

    return pd.DataFrame({"person_id": list(parents), "ancestor_path": [path(p) for p in parents]})


PARENTS = {1: None, 2: 1, 3: 1, 4: 2, 5: 2, 6: 3, 7: 3, 8: 7, 9: 7}


def _vectors(rng: np.random.Generator, ids: list[int]) -> dict[int, np.ndarray]:
    return {pid: (rng.random(64) * 10_000 + 0.37).astype(np.float32) for pid in ids}


def test_tree_knows_each_managers_direct_reports_and_depth():
    tree = montecarlo.Tree.of(rollups.tree_pairs(_tree_frame(PARENTS)))
    assert tree.reports == {1: [2, 3], 2: [4, 5], 3: [6, 7], 7: [8, 9]}
    assert tree.depth == {1: 0, 2: 1, 3: 1, 4: 2, 5: 2, 6: 2, 7: 2, 8: 3, 9: 3}


def test_a_chain_from_stored_totals_equals_the_full_sum_to_the_bit():
    tree = montecarlo.Tree.of(rollups.tree_pairs(_tree_frame(PARENTS)))
    own = _vectors(np.random.default_rng(7), [1, 3, 4, 5, 6, 8, 9])  # 2 and 7: no own deals
    full = montecarlo.subtree_totals(list(PARENTS), tree=tree, own=own, stored={})
    # Each total is close to the plain sum of everyone below (float32 kept per level).
    for node, members in {1: list(PARENTS), 7: [7, 8, 9], 2: [2, 4, 5]}.items():
        exact = sum(own[m].astype(np.float64) for m in members if m in own)
        assert np.allclose(full[node], exact, rtol=1e-6)

    own[9] = (own[9] * 2).astype(np.float32)  # 9 edited: its chain is 9, 7, 3, 1
    again = montecarlo.subtree_totals(list(PARENTS), tree=tree, own=own, stored={})
    stored = {m: full[m] for m in (2, 7, 3, 1)}  # what the full run stored
    chain = montecarlo.subtree_totals([9, 7, 3, 1], tree=tree, own=own, stored=stored)
    for node in (9, 7, 3, 1):
        assert np.array_equal(chain[node], again[node])
    # Manager 2's total came from storage: its reports' vectors were not needed.
    without_two = {pid: vec for pid, vec in own.items() if pid not in (4, 5)}
    chain = montecarlo.subtree_totals([9, 7, 3, 1], tree=tree, own=without_two, stored=stored)
    assert np.array_equal(chain[1], again[1])
    # Nothing stored for 2: summed from its reports, the same total.
    del stored[2]
    chain = montecarlo.subtree_totals([9, 7, 3, 1], tree=tree, own=own, stored=stored)
    assert np.array_equal(chain[1], again[1])


@pytest.fixture
def org(db, stages, close_on):
    """A VP over two managers over three reps each, each rep with two commit deals."""
    vp = UserFactory(role=Role.EXECUTIVE)
    managers = [UserFactory(role=Role.MANAGER, manager=vp) for _ in range(2)]
    reps = [UserFactory(manager=m) for m in managers for _ in range(3)]
    for number, rep in enumerate(reps):
        for k in range(2):
            deal(rep, 1000 + 137 * number + 11 * k, close_on=close_on, stage=stages["Negotiate"])
    return vp, managers, reps


def _rows():
    return sorted(
        tuple(v for k, v in row.items() if k not in ("id", "computed_at"))
        for row in ForecastRollup.objects.values()
    )


def _edit_and_recompute(rep) -> None:
    """An amount edit, then the edit's recompute of its month, quarter and year."""
    mine = Opportunity.objects.filter(owner=rep).order_by("pk").first()
    deal_services.opportunity_update(actor=rep, opportunity=mine, amount=Decimal("4321.09"))
    periods = sorted(periods_containing([mine.expected_close_on]))
    forecast_recompute_people(person_ids=[rep.pk], period_ids=periods)


def test_an_edit_reads_the_stored_totals_of_the_other_team_not_its_reps(
    org, period, monkeypatch, settings
):
    settings.FORECASTING_TRIALS = 500
    _vp, managers, reps = org
    forecast_recompute_all(**FAST)
    assert SubtreeTrialVector.objects.filter(period=period).count() == 3  # the managers and VP
    asked: list[tuple[str, set[int]]] = []
    read = recompute._stored_vectors

    def spy(model, period_, person_ids):
        ids = set(person_ids)
        asked.append((model.__name__, ids))
        return read(model, period_, ids)

    monkeypatch.setattr(recompute, "_stored_vectors", spy)
    _edit_and_recompute(reps[0])

    own_read = set().union(*(ids for name, ids in asked if name == "TrialVector"))
    totals_read = set().union(*(ids for name, ids in asked if name == "SubtreeTrialVector"))
    other_team = {rep.pk for rep in reps[3:]}
    assert totals_read == {managers[1].pk}
    assert not own_read & other_team
    assert own_read >= {reps[1].pk, reps[2].pk}  # the edited rep's teammates


@pytest.mark.parametrize("stored", [True, False], ids=["totals stored", "no totals stored"])
def test_an_edits_rows_equal_a_full_recompute(org, period, settings, stored):
    settings.FORECASTING_TRIALS = 500
    vp, _managers, reps = org
    forecast_recompute_all(**FAST)
    if not stored:  # as just after the migration: the edit sums the other team from below
        SubtreeTrialVector.objects.all().delete()
    _edit_and_recompute(reps[4])
    incremental = _rows()
    ranges = ForecastRollup.objects.get(person=vp, period=period, scope="subtree")
    assert ranges.p10_amount <= ranges.p50_amount <= ranges.p90_amount

    forecast_recompute_all(**FAST)

    assert _rows() == incremental


def test_a_managers_own_range_holds_their_own_deals_only_in_any_order(org, period, monkeypatch):
    vp, managers, reps = org
    deal(managers[1], 777, close_on=period.end_on, category="commit")
    loaded = recompute.frames.people_frame
    # People in descending id order (the database returns them in any order).
    monkeypatch.setattr(
        recompute.frames,
        "people_frame",
        lambda: loaded().sort_values("person_id", ascending=False, ignore_index=True),
    )
    forecast_recompute_all(**FAST)

    def own(person):
        row = ForecastRollup.objects.get(person=person, period=period, scope="own")
        return row.p10_amount, row.p90_amount

    assert own(vp) == (0, 0)  # no deals of their own
    assert own(managers[0]) == (0, 0)
    assert 0 <= own(managers[1])[0] <= own(managers[1])[1] <= 777
    assert all(own(rep)[1] > 0 for rep in reps)
