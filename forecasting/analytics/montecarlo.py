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

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

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


@dataclass(frozen=True)
class Tree:
    """The reporting tree of ``rollups.tree_pairs``: each person's direct reports (in id
    order) and depth (0 at the top)."""

    reports: dict[int, list[int]]
    depth: dict[int, int]

    @classmethod
    def of(cls, pairs: pd.DataFrame) -> Tree:
        above = pairs[pairs["ancestor_id"] != pairs["person_id"]]
        depth = above.groupby("person_id").size()
        depths = {int(p): 0 for p in pairs["person_id"].unique()}
        depths.update({int(p): int(d) for p, d in depth.items()})
        # A person's manager: the deepest of their ancestors.
        ranked = above.assign(rank=above["ancestor_id"].map(depths))
        nearest = ranked.sort_values(["person_id", "rank"]).drop_duplicates(
            "person_id", keep="last"
        )
        reports: dict[int, list[int]] = {}
        for manager, person in sorted(
            zip(nearest["ancestor_id"].astype(int), nearest["person_id"].astype(int), strict=True)
        ):
            reports.setdefault(manager, []).append(person)
        return cls(reports=reports, depth=depths)

    def chain_reports(self, nodes: Iterable[int]) -> list[int]:
        """The direct reports of ``nodes`` that are not ``nodes`` themselves."""
        inside = set(nodes)
        return [r for n in sorted(inside) for r in self.reports.get(n, ()) if r not in inside]


def subtree_totals(
    nodes: Iterable[int],
    *,
    tree: Tree,
    own: Mapping[int, np.ndarray | None],
    stored: Mapping[int, np.ndarray | None],
) -> dict[int, np.ndarray | None]:
    """Each node's subtree bookings per trial; None where nobody below was simulated.

    A manager's total is their own vector plus each direct report's total, reports in id
    order, summed in float64 and kept as float32 (as stored: ``SubtreeTrialVector``); a
    report outside ``nodes`` is taken from ``stored`` (managers) or ``own`` (everyone else),
    and a manager with nothing stored is summed from below. A full run (every node, nothing
    stored) and an edit's run (the edited people's chains, the rest stored) add the same
    float32 totals in the same order, so their ranges are equal to the bit. A person without
    reports is their own vector, as is.
    """
    wanted = set(nodes)
    todo: set[int] = set()
    stack = list(wanted)
    while stack:
        node = stack.pop()
        if node in todo:
            continue
        todo.add(node)
        for report in tree.reports.get(node, ()):
            if tree.reports.get(report) and report not in wanted and report not in stored:
                stack.append(report)
    totals: dict[int, np.ndarray | None] = {}
    for node in sorted(todo, key=lambda n: (-tree.depth.get(n, 0), n)):
        reports = tree.reports.get(node, ())
        if not reports:
            totals[node] = own.get(node)
            continue
        total: np.ndarray | None = None
        parts = [own.get(node)]
        for report in reports:
            if tree.reports.get(report):
                parts.append(totals[report] if report in totals else stored.get(report))
            else:
                parts.append(own.get(report))
        for part in parts:
            if part is None:
                continue
            if total is None:
                total = part.astype(np.float64)
            else:
                total += part
        totals[node] = None if total is None else total.astype(np.float32)
    return {node: totals[node] for node in todo}


def totals_quantiles(
    totals: Mapping[int, np.ndarray | None], closed: pd.Series, *, nodes: list[int], trials: int
) -> pd.DataFrame:
    """P10/P50/P90 of each node's bookings: its subtree total (``subtree_totals``) plus its
    closed won (indexed by person_id); 0 + closed where nobody below was simulated."""
    node_ids = sorted(set(nodes))
    simulated = {n: vec for n in node_ids if (vec := totals.get(n)) is not None}
    where = {node: i for i, node in enumerate(node_ids)}
    q = np.zeros((len(node_ids), 3))
    block = max(1, QUANTILE_CELLS // max(trials, 1))
    order = list(simulated)
    for start in range(0, len(order), block):
        chunk = order[start : start + block]
        sums = np.stack([simulated[n] for n in chunk]).astype(np.float64)
        q[[where[n] for n in chunk]] = np.quantile(sums, [0.1, 0.5, 0.9], axis=1).T
    out = pd.DataFrame(
        q,
        index=pd.Index(node_ids, name="person_id"),
        columns=["p10_amount", "p50_amount", "p90_amount"],
    )
    add = closed.reindex(out.index).fillna(0.0).astype(float)
    return out.add(add, axis=0)
