"""The bookings range: a seeded, vectorized Monte Carlo of each open deal won or lost.

Each trial wins deal i with probability p_i, independently; a person's trial total is
Σ a_i·won_i over their own open, non-omitted deals. A node's distribution is the sum of the
vectors of everyone in its subtree (independent deals add), plus its closed won, so each
person's deals are simulated once and the tree is summed, never re-simulated per node.
The mean converges to Σ a·p and the variance to Σ a²·p(1-p) (tests check both).

Seeding: each (period, person) draws from ``default_rng([seed, period_id, person_id])``, so a
person's vector is reproducible on its own and an incremental recompute can redo one person.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DEFAULT_TRIALS = 10_000
DEFAULT_SEED = 20_240_601
# Keep each trials x deals block near 4M cells (16 MB as float32).
BLOCK_CELLS = 4_000_000
# Nodes x trials summed at once for the subtree quantiles (16 MB as float64).
QUANTILE_CELLS = 2_000_000


def simulate_person(
    amounts: np.ndarray,
    probabilities: np.ndarray,
    *,
    trials: int,
    seed: int,
    period_id: int,
    person_id: int,
) -> np.ndarray:
    """Simulated totals of one person's deals, one value per trial (float32)."""
    rng = np.random.default_rng([seed, period_id, person_id])
    totals = np.zeros(trials, dtype=np.float64)
    block = max(1, BLOCK_CELLS // max(trials, 1))
    for start in range(0, len(amounts), block):
        a = amounts[start : start + block].astype(np.float32)
        p = probabilities[start : start + block].astype(np.float32)
        won = rng.random((trials, len(a)), dtype=np.float32) < p
        totals += won.astype(np.float32) @ a
    return totals.astype(np.float32)


def simulate_people(
    deals: pd.DataFrame,
    *,
    trials: int = DEFAULT_TRIALS,
    seed: int = DEFAULT_SEED,
    period_id: int,
) -> dict[int, np.ndarray]:
    """Per owner, their trial vector; ``deals`` are open, non-omitted: owner_id, amount, p."""
    vectors: dict[int, np.ndarray] = {}
    ordered = deals.sort_values(["owner_id", "opportunity_id"])
    for owner_id, group in ordered.groupby("owner_id", sort=False):
        vectors[int(owner_id)] = simulate_person(
            group["amount"].to_numpy(float),
            group["probability"].to_numpy(float),
            trials=trials,
            seed=seed,
            period_id=period_id,
            person_id=int(owner_id),
        )
    return vectors


def subtree_quantiles(
    vectors: dict[int, np.ndarray],
    pairs: pd.DataFrame,
    closed: pd.Series,
    *,
    nodes: list[int] | None = None,
    trials: int = DEFAULT_TRIALS,
) -> pd.DataFrame:
    """P10/P50/P90 of each node's bookings: its subtree's vectors summed, plus closed won.

    ``pairs``: (ancestor_id, person_id) from ``rollups.tree_pairs``; ``closed``: closed won
    per node (subtree total), indexed by person_id; ``nodes`` limits which nodes are computed.
    """
    node_ids = sorted(set(pairs["ancestor_id"]) if nodes is None else set(nodes))
    out = _quantiles(vectors, pairs, node_ids, trials=trials)
    add = closed.reindex(out.index).fillna(0.0).astype(float)
    return out.add(add, axis=0)


def own_and_subtree_quantiles(
    vectors: dict[int, np.ndarray],
    pairs: pd.DataFrame,
    *,
    own_closed: pd.Series,
    subtree_closed: pd.Series,
    people: list[int],
    nodes: list[int],
    trials: int = DEFAULT_TRIALS,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``subtree_quantiles`` of each of ``people`` alone (own) and of each of ``nodes``' subtree.

    A node whose only simulated person is itself (a rep without reports: most people) has the
    same sum in both, so its quantiles are taken once (the partitions of 10,000 trials per node
    are most of the cost); everyone in ``people`` is in ``nodes``.
    """
    node_ids = sorted(set(nodes))
    sub = _quantiles(vectors, pairs, node_ids, trials=trials)
    simulated = pairs[pairs["ancestor_id"].isin(node_ids) & pairs["person_id"].isin(list(vectors))]
    counts = simulated.groupby("ancestor_id")["person_id"].nunique()
    alone = {int(n) for n in counts.index[counts.to_numpy() == 1]} & set(vectors)
    own_ids = sorted(set(people))
    rest = [p for p in own_ids if p not in alone]
    rest_pairs = pd.DataFrame({"ancestor_id": rest, "person_id": rest}, dtype="int64")
    own = _quantiles(vectors, rest_pairs, rest, trials=trials).reindex(pd.Index(own_ids))
    shared = [p for p in own_ids if p in alone]
    own.loc[shared] = sub.loc[shared].to_numpy()
    own.index.name = "person_id"
    own = own.add(own_closed.reindex(own.index).fillna(0.0).astype(float), axis=0)
    sub = sub.add(subtree_closed.reindex(sub.index).fillna(0.0).astype(float), axis=0)
    return own, sub


def _quantiles(
    vectors: dict[int, np.ndarray], pairs: pd.DataFrame, node_ids: list[int], *, trials: int
) -> pd.DataFrame:
    """P10/P50/P90 of each node's subtree's vectors summed (0 where nobody is simulated)."""
    wanted = pairs[pairs["ancestor_id"].isin(node_ids)]
    wanted = wanted[wanted["person_id"].isin(list(vectors))]
    # Only nodes with someone simulated below them need quantiles; the rest are 0 + closed.
    ordered = wanted.sort_values(["ancestor_id", "person_id"], kind="stable")
    ancestors, persons = ordered["ancestor_id"].to_numpy(), ordered["person_id"].to_numpy()
    simulated, firsts = np.unique(ancestors, return_index=True)
    ends = [*firsts[1:], len(ancestors)]
    where = {node: i for i, node in enumerate(node_ids)}
    q = np.zeros((len(node_ids), 3))
    # A block of nodes at a time: every node's sum (its people's vectors added in person order,
    # as one pass over everyone would) and its quantiles, never every node's trials at once
    # (5,000 nodes x 10,000 trials is 400 MB, and np.quantile copies it).
    block = max(1, QUANTILE_CELLS // max(trials, 1))
    for start in range(0, len(simulated), block):
        chunk = range(start, min(start + block, len(simulated)))
        sums = np.zeros((len(chunk), trials), dtype=np.float64)
        for row, i in enumerate(chunk):
            for person_id in persons[firsts[i] : ends[i]]:
                sums[row] += vectors[int(person_id)]
        positions = [where[int(simulated[i])] for i in chunk]
        q[positions] = np.quantile(sums, [0.1, 0.5, 0.9], axis=1).T
    return pd.DataFrame(
        q,
        index=pd.Index(node_ids, name="person_id"),
        columns=["p10_amount", "p50_amount", "p90_amount"],
    )
