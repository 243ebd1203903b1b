"""Win probability from auditable milestones and deal age, learned from closed history.

Observations: every closed deal is looked at when created, at each milestone event and every
30 days while it was open; each look records how many milestones counted as complete then
(``milestones_done``), its age relative to the process's typical cycle (median days from
creation to won, ``age_ratio``) and how many times its expected close date had moved later by
then (``pushes``, from the change log up to the look: no look-ahead), labelled with the deal's
final outcome. Looking at the
deal's state *during* its life (not at close, when a won deal has every milestone) is what
makes the rates usable for open deals.

Estimation, per sales process, with Beta priors so a few dozen closed deals give sensible
numbers (each level is a Beta posterior mean shrunk toward the level above):

- base rate  p0 = (w + 1) / (n + 2)                         (uniform Beta(1, 1) prior)
- milestones p_m = (w_m + κ·p0) / (n_m + κ)                 (prior Beta(κ·p0, κ·(1-p0)))
- cell       p_ma = (w_ma + κ·p_m) / (n_ma + κ)             (m milestones, age bucket a)
- pushes     for looks whose close date had moved later b times (bucket 0, 1, 2+), the cell
  probabilities predict q_b on average; the observed rate is shrunk toward it,
  o_b = (w_b + κ·q_b) / (n_b + κ), and a deal in bucket b gets the log-odds shift
  logit(o_b) - logit(q_b), less the same residual over all looks: pushes move the score only
  as far as history shows pushed deals did better or worse than their milestones and age
  alone predicted (no pushes in the history: no shift).
- per rep    r = (w_r + κ_r·p0) / (n_r + κ_r) over the rep's closed deals; the rep's
  probability is the cell's with its log-odds shifted by logit(r) - logit(p0). A rep with
  little history has r ≈ p0 (shift ≈ 0): the team's rate; a rep with a long record moves
  toward their own.

κ = ``PRIOR_STRENGTH`` pseudo-deals. Probabilities are clipped to [0.01, 0.99].
"""

from __future__ import annotations

import numpy as np
import pandas as pd

PRIOR_STRENGTH = 10.0
REP_PRIOR_STRENGTH = 10.0
AGE_EDGES = [0.0, 0.5, 1.0, 2.0, np.inf]
# Push buckets: never pushed, pushed once, pushed twice or more (few deals are pushed 3+ times).
MAX_PUSH_BUCKET = 2
LOOK_EVERY_DAYS = 30
CLIP = (0.01, 0.99)
# A process with no closed history yet: a modest prior guess until deals close.
NO_HISTORY_PROBABILITY = 0.2
MAX_CALIBRATION_LOOKS = 100_000


def milestone_counts_at(events: pd.DataFrame, moments: pd.DataFrame) -> pd.Series:
    """How many milestones counted as complete for each (opportunity_id, at) in ``moments``.

    ``events``: opportunity_id, milestone_id, at, counts (bool) — the completion audit log;
    the latest record per milestone decides. Returns a Series aligned with ``moments``.
    """
    if events.empty or moments.empty:
        return pd.Series(0, index=moments.index, dtype="int64")
    # In (at, opportunity) order, ties as they come (a stable sort; the log's own order is
    # (at, id), so mostly in order already). Sorted by integer keys: pandas' sort of the
    # 3 M-row log by two columns took a second and a half at 1 M deals.
    order = np.lexsort((events["opportunity_id"].to_numpy("int64"), _instants(events["at"])))
    ev = events.take(order)
    value = ev["counts"].astype(int)
    previous = value.groupby([ev["opportunity_id"], ev["milestone_id"]]).shift(1).fillna(0)
    ev["delta"] = value - previous.astype(int)
    ev["done"] = ev.groupby("opportunity_id")["delta"].cumsum()
    ev = ev[["opportunity_id", "at", "done"]]  # in time order already: merge_asof's right side
    done = _as_of(moments, ev, "done")
    return pd.Series(np.clip(done, 0, None).astype("int64"), index=moments.index)


def _instants(at: pd.Series) -> np.ndarray:
    """Times as integers of their unit (for sorting; one unit within a column)."""
    return pd.DatetimeIndex(at).asi8


def _as_of(moments: pd.DataFrame, right: pd.DataFrame, column: str) -> np.ndarray:
    """``right[column]`` as of each moment: of its latest row of the same deal at or before the
    moment's ``at`` (``right`` in time order; 0 where none), in ``moments``' order.

    The moments are put in time order by a stable argsort and the result back in their order
    by the inverse permutation, not by sorting millions of rows twice.
    """
    left = moments[["opportunity_id", "at"]].copy()
    left["opportunity_id"] = left["opportunity_id"].astype("int64")
    left["at"] = pd.to_datetime(left["at"], utc=True)
    order = np.argsort(_instants(left["at"]), kind="stable")
    merged = pd.merge_asof(
        left.take(order),
        right,
        on="at",
        by="opportunity_id",
        direction="backward",
        allow_exact_matches=True,
    )
    out = np.empty(len(left), dtype=float)
    out[order] = merged[column].fillna(0).to_numpy(float)
    return out


def pushes_at(changes: pd.DataFrame | None, moments: pd.DataFrame) -> pd.Series:
    """How many times each (opportunity_id, at) of ``moments`` had its close date moved later
    by ``at`` (changes at or before it; a later one does not count).

    ``changes``: opportunity_id, at, old_on, new_on — the close-date change log
    (``frames.close_date_changes_frame``). Returns an int Series aligned with ``moments``.
    """
    if changes is None or changes.empty or moments.empty:
        return pd.Series(0, index=moments.index, dtype="int64")
    later = changes["old_on"].notna() & changes["new_on"].notna()
    later &= changes["new_on"] > changes["old_on"]
    pushed = changes.loc[later, ["opportunity_id", "at"]].sort_values("at", kind="stable")
    if pushed.empty:
        return pd.Series(0, index=moments.index, dtype="int64")
    pushed["pushes"] = pushed.groupby("opportunity_id").cumcount() + 1
    pushed["opportunity_id"] = pushed["opportunity_id"].astype("int64")
    pushed["at"] = pd.to_datetime(pushed["at"], utc=True)
    pushes = _as_of(moments, pushed, "pushes")
    return pd.Series(pushes.astype("int64"), index=moments.index)


def typical_cycle_days(closed: pd.DataFrame) -> dict[int, float]:
    """Median days from creation to won per process (30 when a process has no wins yet)."""
    won = closed[closed["won"]]
    days = (won["closed_at"] - won["created_at"]).dt.total_seconds() / 86400
    medians = days.groupby(won["process_id"]).median()
    out = {int(k): max(float(v), 1.0) for k, v in medians.items()}
    for process_id in closed["process_id"].unique():
        out.setdefault(int(process_id), 30.0)
    return out


def build_observations(
    closed: pd.DataFrame, events: pd.DataFrame, changes: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Looks at each closed deal during its life (see module docstring).

    ``closed``: opportunity_id, process_id, owner_id, created_at, closed_at, won (bool);
    ``changes``: the close-date change log (``pushes_at``; None: no pushes known).
    """
    if closed.empty:
        return pd.DataFrame(
            columns=["opportunity_id", "process_id", "owner_id", "at", "age_days", "won", "pushes"]
        )
    base = closed[["opportunity_id", "process_id", "owner_id", "created_at", "closed_at", "won"]]
    life_days = ((base["closed_at"] - base["created_at"]).dt.total_seconds() / 86400).clip(0)
    looks = (life_days // LOOK_EVERY_DAYS).astype(int) + 1
    periodic = base.loc[base.index.repeat(looks)].copy()
    step = periodic.groupby(level=0).cumcount()
    periodic["at"] = periodic["created_at"] + pd.to_timedelta(step * LOOK_EVERY_DAYS, unit="D")
    frames = [periodic]
    if not events.empty:
        at_events = events[["opportunity_id", "at"]].merge(base, on="opportunity_id")
        at_events = at_events[at_events["at"] < at_events["closed_at"]]
        frames.append(at_events)
    obs = pd.concat(frames, ignore_index=True)
    obs = obs[obs["at"] < obs["closed_at"]].copy() if len(obs) else obs
    obs["age_days"] = (obs["at"] - obs["created_at"]).dt.total_seconds() / 86400
    obs["milestones_done"] = milestone_counts_at(events, obs)
    obs["pushes"] = pushes_at(changes, obs)
    return obs.reset_index(drop=True)


def _age_bucket(age_days: pd.Series, process_id: pd.Series, cycles: dict) -> pd.Series:
    by_process = {int(k): float(v) for k, v in cycles.items()}
    cycle = process_id.astype("int64").map(by_process).fillna(30.0)
    ratio = age_days.astype(float) / cycle
    return pd.cut(ratio, AGE_EDGES, right=False, labels=False).fillna(0).astype(int)


def _push_bucket(pushes) -> np.ndarray:
    return np.clip(np.asarray(pushes, dtype="int64"), 0, MAX_PUSH_BUCKET)


def _push_shifts(pobs: pd.DataFrame, cells: dict, levels: dict, p0: float) -> dict[str, float]:
    """Log-odds shift per push bucket: what history shows beyond the cells' prediction."""
    # Looked up by integer codes: "m|a" strings built for millions of looks took seconds.
    done = pobs["milestones_done"].astype("int64").to_numpy()
    cell_codes = done * CELL_CODE + pobs["age_bucket"].astype("int64").to_numpy()
    by_code = pd.Series({_cell_code(key): p for key, p in cells.items()}, dtype=float)
    by_level = pd.Series({int(m): p for m, p in levels.items()}, dtype=float)
    level = pd.Series(done, index=pobs.index).map(by_level).fillna(p0)
    predicted = pd.Series(cell_codes, index=pobs.index).map(by_code).fillna(level).astype(float)
    frame = pd.DataFrame(
        {"bucket": _push_bucket(pobs["pushes"]), "won": pobs["won"], "q": predicted}
    )
    k = PRIOR_STRENGTH

    def residual(rows: pd.DataFrame) -> float:
        q = float(np.clip(rows["q"].mean(), *CLIP))
        return float(_logit((rows["won"].sum() + k * q) / (len(rows) + k)) - _logit(q))

    # Relative to all looks: the cells' own shrinkage bias is not put on the pushes.
    overall = residual(frame)
    return {str(int(b)): residual(rows) - overall for b, rows in frame.groupby("bucket")}


# A cell's integer code: milestones x CELL_CODE + age bucket (fewer than CELL_CODE buckets).
CELL_CODE = 1_000


def _cell_code(key: str) -> int:
    """A cell's "milestones|age bucket" key as its integer code."""
    m, a = key.split("|")
    return int(m) * CELL_CODE + int(a)


def _logit(p):
    p = np.clip(p, *CLIP)
    return np.log(p / (1 - p))


FIT_COLUMNS = ["opportunity_id", "process_id", "won", "age_days", "milestones_done", "pushes"]


def fit(closed: pd.DataFrame, observations: pd.DataFrame) -> dict:
    """Learn the rate tables; returns JSON-safe params for ``score``."""
    cycles = {str(k): v for k, v in typical_cycle_days(closed).items()}
    params: dict = {"cycles": cycles, "processes": {}, "reps": {}, "kappa": PRIOR_STRENGTH}
    if closed.empty:
        return params
    # Only the columns the tables need: a copy of every look's times too was a third of the
    # learning step's peak memory at 1 M deals (4.6 M looks).
    obs = observations[[c for c in FIT_COLUMNS if c in observations]].copy()
    if "pushes" not in obs:
        obs["pushes"] = 0
    obs["age_bucket"] = _age_bucket(obs["age_days"], obs["process_id"], cycles)
    obs["push_bucket"] = _push_bucket(obs["pushes"].fillna(0))
    obs = obs.drop_duplicates(["opportunity_id", "milestones_done", "age_bucket", "push_bucket"])
    obs["won"] = obs["won"].astype(int)
    k = PRIOR_STRENGTH
    for process_id, deals in closed.groupby("process_id"):
        wins, n = int(deals["won"].sum()), len(deals)
        p0 = (wins + 1) / (n + 2)
        pobs = obs[obs["process_id"] == process_id]
        by_level = pobs.groupby("milestones_done")["won"].agg(["sum", "count"])
        levels = {int(m): (r["sum"] + k * p0) / (r["count"] + k) for m, r in by_level.iterrows()}
        by_cell = pobs.groupby(["milestones_done", "age_bucket"])["won"].agg(["sum", "count"])
        cells = {
            f"{int(m)}|{int(a)}": (r["sum"] + k * levels[int(m)]) / (r["count"] + k)
            for (m, a), r in by_cell.iterrows()
        }
        params["processes"][str(int(process_id))] = {
            "base": p0,
            "levels": {str(m): v for m, v in levels.items()},
            "cells": cells,
            "pushes": _push_shifts(pobs, cells, {str(m): v for m, v in levels.items()}, p0),
            "deals": n,
        }
        by_rep = deals.groupby("owner_id")["won"].agg(["sum", "count"])
        kr = REP_PRIOR_STRENGTH
        for owner_id, r in by_rep.iterrows():
            rate = (r["sum"] + kr * p0) / (r["count"] + kr)
            params["reps"][f"{int(process_id)}|{int(owner_id)}"] = float(_logit(rate) - _logit(p0))
    return params


def _tables(params: dict) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series, pd.Series]:
    """The fitted rates as frames: cells, levels, base rate and rep shifts."""
    cells, levels, base = [], [], {}
    for pid, table in params.get("processes", {}).items():
        base[int(pid)] = table["base"]
        levels += [(int(pid), int(m), p) for m, p in table["levels"].items()]
        for key, p in table["cells"].items():
            m, a = key.split("|")
            cells.append((int(pid), int(m), int(a), p))
    reps = {
        tuple(int(x) for x in key.split("|")): shift
        for key, shift in params.get("reps", {}).items()
    }
    return (
        pd.DataFrame(cells, columns=["process_id", "milestones_done", "age_bucket", "p_cell"]),
        pd.DataFrame(levels, columns=["process_id", "milestones_done", "p_level"]),
        pd.Series(base, dtype=float),
        pd.Series(reps, dtype=float),
    )


def _push_shift(process_ids: pd.Series, pushes: pd.Series | None, params: dict) -> np.ndarray:
    """Each deal's log-odds shift for its push bucket (0 without pushes or a learnt shift)."""
    if pushes is None:
        return np.zeros(len(process_ids))
    processes = params.get("processes", {})
    buckets = _push_bucket(pd.Series(pushes).fillna(0).to_numpy())
    return np.array(
        [
            float(processes.get(str(int(pid)), {}).get("pushes", {}).get(str(int(b)), 0.0))
            for pid, b in zip(process_ids, buckets, strict=True)
        ],
        dtype=float,
    )


def score(deals: pd.DataFrame, params: dict) -> pd.Series:
    """Win probability per open deal: process_id, owner_id, milestones_done, age_days and
    (optional, 0 when absent) pushes.

    A cell never seen falls back to its milestone level, a level never seen to the highest
    level below it, and a process without history to ``NO_HISTORY_PROBABILITY``.
    """
    if deals.empty:
        return pd.Series(dtype=float, index=deals.index)
    cells, levels, base, reps = _tables(params)
    frame = pd.DataFrame(
        {
            "process_id": deals["process_id"].astype("int64").to_numpy(),
            "owner_id": deals["owner_id"].astype("int64").to_numpy(),
            "milestones_done": deals["milestones_done"].astype("int64").to_numpy(),
        }
    )
    frame["age_bucket"] = _age_bucket(
        deals["age_days"].reset_index(drop=True), frame["process_id"], params.get("cycles", {})
    ).to_numpy()
    top = levels.groupby("process_id")["milestones_done"].max()
    frame["milestones_done"] = np.minimum(
        frame["milestones_done"], frame["process_id"].map(top).fillna(0).astype("int64")
    )
    frame = frame.merge(cells, how="left", on=["process_id", "milestones_done", "age_bucket"])
    frame = frame.merge(levels, how="left", on=["process_id", "milestones_done"])
    p = frame["p_cell"].fillna(frame["p_level"]).fillna(frame["process_id"].map(base))
    # A dict, not the Series: a Series' get on a tuple is a MultiIndex lookup (25 µs a deal).
    rep_shifts = reps.to_dict()
    shift = pd.Series(
        [
            rep_shifts.get((pid, owner), 0.0)
            for pid, owner in zip(
                frame["process_id"].tolist(), frame["owner_id"].tolist(), strict=True
            )
        ]
        if len(reps)
        else 0.0,
        index=frame.index,
        dtype=float,
    )
    shift = shift + _push_shift(frame["process_id"], deals.get("pushes"), params)
    known = p.notna()
    out = np.full(len(frame), NO_HISTORY_PROBABILITY)
    logits = _logit(p[known].to_numpy(float)) + shift[known].to_numpy(float)
    out[known.to_numpy()] = 1 / (1 + np.exp(-logits))
    return pd.Series(np.clip(out, *CLIP), index=deals.index)


def calibration(
    closed: pd.DataFrame,
    events: pd.DataFrame,
    changes: pd.DataFrame | None = None,
    *,
    holdout: float = 0.25,
    bins: int = 10,
    observations: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Predicted vs actual win rate by bucket on held-out past deals (the latest closes).

    Fits on deals closed before the cut (and the change log before it), scores the held-out
    deals' looks, buckets them. ``observations``: ``build_observations`` of all of ``closed``
    (the model's own), whose rows of the training and held-out deals are theirs (below).
    """
    columns = ["process_id", "bucket_low", "bucket_high", "predicted_rate", "actual_rate", "count"]
    if len(closed) < 4:
        return pd.DataFrame(columns=columns)
    cut = closed["closed_at"].quantile(1 - holdout)
    train, test = closed[closed["closed_at"] < cut], closed[closed["closed_at"] >= cut]
    if observations is None:
        train_events = events[events["at"] < cut] if not events.empty else events
        train_changes = None if changes is None else changes[changes["at"] < cut]
        train_looks = build_observations(train, train_events, train_changes)
        looks = build_observations(test, events, changes)
    else:
        # A deal's looks depend on its own events and changes up to each look alone, and a
        # training deal's looks all come before the cut: so the rows of all deals' looks
        # that are its deals', in the same order, are what building them again would give.
        train_looks = _looks_of(observations, train, FIT_COLUMNS)
        looks = _looks_of(observations, test, [*FIT_COLUMNS, "owner_id"])
    params = fit(train, train_looks)
    if looks.empty:
        return pd.DataFrame(columns=columns)
    if len(looks) > MAX_CALIBRATION_LOOKS:  # a seeded sample is plenty for ten buckets
        looks = looks.sample(MAX_CALIBRATION_LOOKS, random_state=0)
    looks["p"] = score(looks, params)
    edges = np.linspace(0, 1, bins + 1)
    looks["bucket"] = np.clip(np.digitize(looks["p"], edges) - 1, 0, bins - 1)
    grouped = (
        looks.groupby(["process_id", "bucket"])
        .agg(predicted_rate=("p", "mean"), actual_rate=("won", "mean"), count=("won", "size"))
        .reset_index()
    )
    grouped["bucket_low"] = edges[grouped["bucket"]]
    grouped["bucket_high"] = edges[grouped["bucket"] + 1]
    grouped["actual_rate"] = grouped["actual_rate"].astype(float)
    return grouped[columns]


def _looks_of(observations: pd.DataFrame, deals: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The rows of ``observations`` of ``deals``, in their order, indexed from 0 (only the
    ``columns`` that are read: a copy of the rest would only raise the peak memory)."""
    mine = observations["opportunity_id"].isin(deals["opportunity_id"])
    present = [c for c in columns if c in observations]
    return observations.loc[mine, present].reset_index(drop=True)


# What moves a deal's probability, in the order ``explain`` walks the model.
DRIVERS = ("milestones", "age", "owner_record", "pushes")


def _lookups(params: dict) -> tuple[dict, dict, dict, dict]:
    """The fitted rates as dicts, for looking up a few deals (``explain``): base rate and top
    level per process, levels by (process, milestones), cells by (process, milestones, age
    bucket). No rate is kept that the model left empty. The rep shifts (one per seller and
    process: thousands) are read for the deals' owners only."""
    base: dict[int, float] = {}
    top: dict[int, int] = {}
    levels: dict[tuple[int, int], float] = {}
    cells: dict[tuple[int, int, int], float] = {}
    for pid, table in params.get("processes", {}).items():
        process = int(pid)
        if table["base"] is not None:
            base[process] = float(table["base"])
        for m, p in table["levels"].items():
            top[process] = max(top.get(process, int(m)), int(m))
            if p is not None:
                levels[process, int(m)] = float(p)
        for key, p in table["cells"].items():
            m, a = key.split("|")
            if p is not None:
                cells[process, int(m), int(a)] = float(p)
    return base, top, levels, cells


def explain(deals: pd.DataFrame, params: dict) -> pd.DataFrame:
    """Each open deal's probability split into what moved it from its process's base rate.

    ``deals``: process_id, owner_id, milestones_done, age_ratio, pushes. The walk follows
    ``score``: base rate → the milestone level (``milestones``) → the level's age cell
    (``age``) → the push bucket's log-odds shift (``pushes``) → the owner's log-odds shift
    (``owner_record``); each effect is the change in probability at its step, so base +
    effects = the score.
    Returns base, probability and one ``<driver>_effect`` column per driver.
    """
    columns = ["base", "probability", *[f"{name}_effect" for name in DRIVERS]]
    if deals.empty:
        return pd.DataFrame(columns=columns, index=deals.index)
    # Looked up row by row in dicts: the deal page explains one deal, an API page a hundred,
    # where joining frames costs milliseconds of pandas set-up for a few rows.
    base, top, levels, cells = _lookups(params)
    reps = params.get("reps", {})
    process_ids = deals["process_id"].astype("int64").to_numpy()
    owner_ids = deals["owner_id"].astype("int64").to_numpy()
    ratios = deals["age_ratio"].astype(float).to_numpy()
    # The age bucket [edge, next edge) as score's pd.cut(right=False) finds it; outside any
    # (negative, infinite, unknown) it is the first.
    buckets = np.searchsorted(AGE_EDGES, ratios, side="right") - 1
    buckets = np.where((buckets >= 0) & (buckets < len(AGE_EDGES) - 1), buckets, 0)
    done = np.minimum(
        deals["milestones_done"].astype("int64").to_numpy(),
        [top.get(int(pid), 0) for pid in process_ids],
    )
    p0, p_level, p_cell, shift = [], [], [], []
    for pid, owner, m, a in zip(
        process_ids.tolist(), owner_ids.tolist(), done.tolist(), buckets.tolist(), strict=True
    ):
        p0.append(base.get(pid, NO_HISTORY_PROBABILITY))
        p_level.append(levels.get((pid, m), p0[-1]))
        p_cell.append(cells.get((pid, m, a), p_level[-1]))
        shift.append(float(reps.get(f"{pid}|{owner}", 0.0)))
    base_rate, level_rate, cell_rate = np.array(p0), np.array(p_level), np.array(p_cell)
    has_history = np.array([pid in base for pid in process_ids.tolist()], dtype=bool)
    push = _push_shift(deals["process_id"], deals.get("pushes"), params)
    cell_logit = _logit(cell_rate)
    p_pushed = np.where(has_history, 1 / (1 + np.exp(-(cell_logit + push))), base_rate)
    final = np.where(
        has_history, 1 / (1 + np.exp(-(cell_logit + push + np.array(shift)))), base_rate
    )
    final = np.clip(final, *CLIP)
    out = pd.DataFrame(
        {
            "base": base_rate,
            "probability": final,
            "milestones_effect": level_rate - base_rate,
            "age_effect": cell_rate - level_rate,
            "owner_record_effect": final - p_pushed,
            "pushes_effect": p_pushed - cell_rate,
        },
        index=deals.index,
    )
    return out[columns]


def brier_by_period(daily: pd.DataFrame, periods: pd.DataFrame) -> pd.DataFrame:
    """The Brier score of the live predictions per period of close, and its change.

    ``daily``: closed_on, squared_error (Σ (p - won)² of the weekly predictions of the deals
    closed that day), looks (how many predictions), deals. ``periods``: period_id, name,
    start_on, end_on, in order. Brier = Σ (p - won)² / looks: 0 is perfect, 0.25 is a
    coin flip's 50 % for everything; lower is better, so a negative ``change`` (from the
    period before that has looks) is an improvement. Periods without looks are left out.
    """
    columns = ["period_id", "name", "start_on", "brier", "looks", "deals", "change"]
    if daily.empty or periods.empty:
        return pd.DataFrame(columns=columns)
    days = pd.to_datetime(daily["closed_on"])
    starts = pd.to_datetime(periods["start_on"]).to_numpy()
    ends = pd.to_datetime(periods["end_on"]).to_numpy()
    index = np.searchsorted(starts, days.to_numpy(), side="right") - 1
    inside = (index >= 0) & (days.to_numpy() <= ends[np.clip(index, 0, None)])
    frame = daily[inside].assign(period_id=periods["period_id"].to_numpy()[index[inside]])
    sums = frame.groupby("period_id")[["squared_error", "looks", "deals"]].sum()
    out = periods.merge(sums, left_on="period_id", right_index=True)
    out = out[out["looks"] > 0].copy()
    out["brier"] = out["squared_error"].astype(float) / out["looks"]
    out["change"] = out["brier"].diff()
    out["looks"] = out["looks"].astype(int)
    out["deals"] = out["deals"].astype(int)
    return out[columns].reset_index(drop=True)


def overall_brier(trend: pd.DataFrame) -> float | None:
    """The Brier score over every look of ``brier_by_period``'s periods (None without looks)."""
    looks = int(trend["looks"].sum()) if len(trend) else 0
    return float((trend["brier"] * trend["looks"]).sum() / looks) if looks else None
