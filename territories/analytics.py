"""Territory balance with pandas: DataFrames in, DataFrames out; no ORM.

Money columns hold Decimals (sums stay exact to the cent). Statistics — the balance index,
the coefficient of variation and the rebalancing search — work on floats, since they are
ratios for judgement, never amounts that are stored or paid.

Balance is judged on potential (the accounts' annual revenue): a territory is inside the band
when its potential is within ±band of the mean potential of the territories compared.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pandas as pd

ZERO = Decimal(0)
BALANCE_COLUMNS = [
    "territory_id",
    "name",
    "owner",
    "account_count",
    "potential",
    "pipeline",
    "bookings",
    "activity_count",
    "balance_index",
    "is_outside_band",
]
MOVE_COLUMNS = ["account_id", "from_territory_id", "to_territory_id", "potential"]


def _money_sum_by(frame: pd.DataFrame, key: str, value: str) -> pd.Series:
    if frame.empty:
        return pd.Series(dtype=object)
    return frame.groupby(key)[value].agg(lambda s: sum(s, ZERO))


def credit_by_assignment(deals: pd.DataFrame, assignments: pd.DataFrame) -> pd.DataFrame:
    """Credit each deal to the territory whose assignment covered the deal's ``closed_on``.

    ``deals``: account_id, amount (reporting currency), closed_on.
    ``assignments``: account_id, territory_id, effective_from, effective_to (None = open);
    half-open ranges, so a deal closed on the day of a move goes to the new territory.
    Returns territory_id, amount — one row per credited deal.
    """
    if deals.empty or assignments.empty:
        return pd.DataFrame({"territory_id": [], "amount": []})
    joined = deals.merge(assignments, on="account_id", how="inner")
    open_ended = joined["effective_to"].isna()
    starts = joined["effective_from"] <= joined["closed_on"]
    ends = open_ended | (joined["closed_on"] < joined["effective_to"].where(~open_ended))
    credited = joined[starts & ends.fillna(False).astype(bool)]
    return credited[["territory_id", "amount"]].reset_index(drop=True)


def coefficient_of_variation(values: pd.Series) -> float:
    """Population standard deviation ÷ mean; 0 for fewer than two values or a zero mean."""
    numbers = values.astype(float)
    if len(numbers) < 2 or numbers.mean() == 0:
        return 0.0
    return float(numbers.std(ddof=0) / numbers.mean())


def balance_index(potentials: pd.Series) -> pd.Series:
    """Each value ÷ the mean (1.0 = exactly average); all 1.0 when the mean is zero."""
    numbers = potentials.astype(float)
    mean = numbers.mean() if len(numbers) else 0.0
    if not mean:
        return pd.Series(1.0, index=potentials.index)
    return numbers / mean


def balance_table(
    territories: pd.DataFrame,
    accounts: pd.DataFrame,
    pipeline: pd.DataFrame,
    bookings: pd.DataFrame,
    activities: pd.DataFrame,
    *,
    band: float,
) -> pd.DataFrame:
    """One row per territory with its workload, potential, pipeline, bookings and index.

    ``territories``: territory_id, name, owner. ``accounts``: account_id, territory_id,
    potential. ``pipeline`` and ``bookings``: territory_id, amount. ``activities``:
    territory_id, activity_count.
    """
    table = territories[["territory_id", "name", "owner"]].copy().set_index("territory_id")
    counts = accounts.groupby("territory_id")["account_id"].count() if len(accounts) else None
    table["account_count"] = 0 if counts is None else counts.reindex(table.index, fill_value=0)
    for column, frame, value in (
        ("potential", accounts, "potential"),
        ("pipeline", pipeline, "amount"),
        ("bookings", bookings, "amount"),
    ):
        sums = _money_sum_by(frame, "territory_id", value)
        table[column] = [sums.get(t, ZERO) for t in table.index]
    workload = (
        activities.groupby("territory_id")["activity_count"].sum() if len(activities) else None
    )
    table["activity_count"] = 0 if workload is None else workload.reindex(table.index, fill_value=0)
    table["account_count"] = table["account_count"].astype(int)
    table["activity_count"] = table["activity_count"].astype(int)
    return with_balance_index(table.reset_index(), band=band)


def with_balance_index(table: pd.DataFrame, *, band: float) -> pd.DataFrame:
    """``table`` (one row per territory, with potential) plus balance_index and
    is_outside_band, judged against the mean of the rows given (BALANCE_COLUMNS)."""
    table = table.copy()
    table["balance_index"] = balance_index(table["potential"]) if len(table) else []
    table["is_outside_band"] = (table["balance_index"] - 1.0).abs() > band + 1e-9
    return table[BALANCE_COLUMNS]


@dataclass(frozen=True)
class _Candidate:
    gain: float
    evenness: float
    account_id: int
    donor: int
    receiver: int
    potential: float


def _violation(value: float, low: float, high: float) -> float:
    return max(0.0, value - high) + max(0.0, low - value)


def _best_move(
    donor: int,
    receiver: int,
    totals: dict[int, float],
    members: dict[int, list[tuple[int, float]]],
    low: float,
    high: float,
) -> _Candidate | None:
    """The account of ``donor`` whose move to ``receiver`` cuts the band violation most."""
    before = _violation(totals[donor], low, high) + _violation(totals[receiver], low, high)
    best: _Candidate | None = None
    for account_id, potential in members[donor]:
        if potential <= 0:
            continue
        after_donor, after_receiver = totals[donor] - potential, totals[receiver] + potential
        gain = before - _violation(after_donor, low, high) - _violation(after_receiver, low, high)
        candidate = _Candidate(
            gain, -abs(after_donor - after_receiver), account_id, donor, receiver, potential
        )
        if best is None or (candidate.gain, candidate.evenness, -account_id) > (
            best.gain,
            best.evenness,
            -best.account_id,
        ):
            best = candidate
    return best


def propose_rebalance(
    accounts: pd.DataFrame,
    territory_ids: list[int],
    *,
    band: float,
    fixed_account_ids: frozenset[int] = frozenset(),
) -> pd.DataFrame:
    """Few account moves that bring every territory's potential within ±band of the mean.

    Greedy: take the most over-band territory and the most under-band one (when nobody is
    over, the richest; when nobody is under, the poorest) and move the account that reduces
    the total distance outside the band the most. If that pair offers no useful move, every
    other pair is tried. Each account moves at most once; the search stops when every
    territory is inside the band or no move helps. Picking the largest reduction each time
    keeps the number of moves small.

    ``accounts``: account_id, territory_id, potential — every account of the territories;
    those in ``fixed_account_ids`` count towards potential but never move.
    Returns account_id, from_territory_id, to_territory_id, potential, in the order found.
    """
    if len(territory_ids) < 2 or accounts.empty:
        return pd.DataFrame(columns=MOVE_COLUMNS)
    totals, members = _totals_and_movable(accounts, territory_ids, fixed_account_ids)
    mean = sum(totals.values()) / len(totals)
    if mean <= 0:
        return pd.DataFrame(columns=MOVE_COLUMNS)
    low, high = mean * (1 - band), mean * (1 + band)
    tolerance = mean * 1e-9
    moves: list[dict[str, object]] = []
    for _ in range(len(accounts)):
        over = [t for t in territory_ids if totals[t] > high + tolerance]
        under = [t for t in territory_ids if totals[t] < low - tolerance]
        if not over and not under:
            break
        donor = max(over or totals, key=lambda t: totals[t])
        receiver = min(under or totals, key=lambda t: totals[t])
        best = (
            _best_move(donor, receiver, totals, members, low, high) if donor != receiver else None
        )
        if best is None or best.gain <= tolerance:
            outside = set(over) | set(under)
            best = _best_move_any_pair(
                territory_ids, totals, members, (low, high, tolerance), outside=outside
            )
        if best is None:
            break
        members[best.donor] = [m for m in members[best.donor] if m[0] != best.account_id]
        totals[best.donor] -= best.potential
        totals[best.receiver] += best.potential
        moves.append(
            {
                "account_id": best.account_id,
                "from_territory_id": best.donor,
                "to_territory_id": best.receiver,
                "potential": best.potential,
            }
        )
    return pd.DataFrame(moves, columns=MOVE_COLUMNS)


def _totals_and_movable(
    accounts: pd.DataFrame, territory_ids: list[int], fixed_account_ids: frozenset[int]
) -> tuple[dict[int, float], dict[int, list[tuple[int, float]]]]:
    """Each territory's potential, and its accounts that may move (account_id, potential)."""
    totals = {t: 0.0 for t in territory_ids}
    members: dict[int, list[tuple[int, float]]] = {t: [] for t in territory_ids}
    for row in accounts.itertuples(index=False):
        if row.territory_id in totals:
            value = float(row.potential or 0)
            totals[row.territory_id] += value
            if int(row.account_id) not in fixed_account_ids:
                members[row.territory_id].append((int(row.account_id), value))
    return totals, members


def _best_move_any_pair(
    territory_ids: list[int],
    totals: dict[int, float],
    members: dict[int, list[tuple[int, float]]],
    limits: tuple[float, float, float],
    *,
    outside: set[int],
) -> _Candidate | None:
    """The most useful move between any two territories, when the extremes offer none.

    ``limits``: the band's low and high, and the gain below which a move does not count."""
    low, high, tolerance = limits
    # Only pairs that can help: the donor has an account that may move, and one side is
    # outside the band (two territories inside it have no violation to reduce).
    movable = {t for t in territory_ids if any(p > 0 for _, p in members[t])}
    pairs = [
        (d, r)
        for d in territory_ids
        if d in movable
        for r in territory_ids
        if totals[d] > totals[r] and (d in outside or r in outside)
    ]
    found = [_best_move(d, r, totals, members, low, high) for d, r in pairs]
    helpful = [c for c in found if c is not None and c.gain > tolerance]
    return max(helpful, key=lambda c: (c.gain, c.evenness, -c.account_id), default=None)


def apply_moves(accounts: pd.DataFrame, moves: pd.DataFrame) -> pd.DataFrame:
    """``accounts`` with each moved account's territory_id replaced by its destination."""
    result = accounts.copy()
    if moves.empty:
        return result
    destination = dict(zip(moves["account_id"], moves["to_territory_id"], strict=True))
    result["territory_id"] = [
        destination.get(account, territory)
        for account, territory in zip(result["account_id"], result["territory_id"], strict=True)
    ]
    return result


def potential_by_territory(accounts: pd.DataFrame, territory_ids: list[int]) -> pd.Series:
    """Potential per territory as floats (0 for territories without accounts)."""
    if accounts.empty:
        return pd.Series(0.0, index=territory_ids)
    sums = accounts.assign(p=accounts["potential"].astype(float)).groupby("territory_id")["p"].sum()
    return sums.reindex(territory_ids, fill_value=0.0)


def within_band(potentials: pd.Series, band: float) -> bool:
    index = balance_index(potentials)
    return bool(((index - 1.0).abs() <= band + 1e-9).all()) if len(index) else True
