"""Weekly forecast calls: each seller's call, their managers' adjustments and the weekly lock.

Every week of each history quarter and of the current one, each seller calls their quarter
(commit and best case), each manager then calls their team, up to the executive; a manager
adjusts the call of a seller whose number they do not believe (with a note), and keeps
adjusting it once started. The calls of record are locked weekly, the last one two days
before today, so "change since last week" compares this week's calls with last week's.

A seller's call tracks what they will end up booking: far off early in the quarter (by
their own bias: sandbaggers call low, optimists high, plus noise), close to it at the end,
and never below what they have already closed. For the current quarter "what they will
book" is what they have closed plus their open deals due this quarter weighted by category.
Rows are bulk-inserted one quarter at a time (calls, then the calls of record naming them).
"""

from __future__ import annotations

import bisect
import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from accounts.models import ForecastCategory, Opportunity
from forecasting.models import CallLayer, CallOfRecord, ForecastCall
from salesmgmt.bulk_rows import insert_rows, reserve_ids
from salesmgmt.models import Period, SalesRole, User
from salesmgmt.money import RateTable, quantize_money

from .vocabulary import ADJUSTMENT_NOTES, CALL_NOTES

LOCK_DAYS_AGO = 1.25  # the last weekly lock: two days before today at 18:00
SUBMIT_SHARE = 0.85  # of people who submit a new call in a given week (the rest carry over)
# The chance of an open deal due this quarter closing, by category: the seller's own sense.
CATEGORY_ODDS = {
    ForecastCategory.COMMIT: 0.75,
    ForecastCategory.BEST_CASE: 0.4,
    ForecastCategory.PIPELINE: 0.1,
}
THOUSAND = Decimal(1000)
# Columns of the rows insert_rows writes, in the order the builder makes the tuples.
# fmt: off
CALL_COLUMNS = [
    "id", "person_id", "period_id", "layer", "commit_amount", "best_case_amount",
    "previous_commit_amount", "previous_best_case_amount", "note", "submitted_by_id",
    "submitted_at", "created_at",
]
RECORD_COLUMNS = [
    "person_id", "period_id", "locked_on", "owner_call_id", "commit_amount", "best_case_amount",
    "manager_commit_amount", "manager_best_case_amount", "created_at",
]
# fmt: on


@dataclass(slots=True)
class _Call:
    """A forecast call as the simulation draws it (a ForecastCall row once it has an id):
    hundreds of thousands at the larger tiers, too many to build as model instances."""

    person_id: int
    period_id: int
    layer: str
    commit_amount: Decimal
    best_case_amount: Decimal
    previous: _Call | None
    note: str
    submitted_by_id: int
    at: float  # the simulation's clock, for the adjustments that follow
    pk: int = 0


def _thousands(value: float) -> Decimal:
    return (quantize_money(max(value, 0.0)) / THOUSAND).quantize(
        Decimal(1), ROUND_HALF_UP
    ) * THOUSAND


@dataclass
class _Caller:
    """Someone who calls a number: a seller (their deals) or a manager (their team)."""

    user: User
    depth: int
    bias: float
    height: int = 0  # 0 for a seller, 1 for their manager, 2 above that...
    reports: list[_Caller] = field(default_factory=list)
    # This quarter: what they will book, and (day, amount) of what they closed, in order.
    truth: float = 0.0
    closed: list[tuple[float, float]] = field(default_factory=list)
    owner: _Call | None = None
    adjusted: _Call | None = None
    is_adjusted: bool = False

    @property
    def in_force(self) -> _Call | None:
        return self.adjusted or self.owner


def _window(height: int, *, adjusting: bool) -> tuple[float, float]:
    """When in the week someone calls (share of the week): sellers first, then each level up;
    a manager adjusts their reports' calls just before calling their own number."""
    if height == 0:
        return 0.05, 0.45
    start = 0.5 + 0.12 * (height - 1) + (0 if adjusting else 0.06)
    return start, start + 0.05


class CallsMixin:
    """DemoDataBuilder's forecast calls and calls of record."""

    def build_calls(self) -> None:
        callers = self._callers()
        if not callers:
            return
        quarters = list(
            Period.objects.filter(
                kind=Period.Kind.QUARTER, end_on__gte=self.history_start, start_on__lte=self.today
            ).order_by("start_on")
        )
        rates = RateTable.load()
        won: dict[tuple[int, int], list[tuple[float, float]]] = defaultdict(list)
        expected: dict[int, float] = defaultdict(float)
        ids = [c.user.pk for c in callers.values() if not c.reports]
        first_day = quarters[0].start_on if quarters else self.today
        deals = Opportunity.objects.filter(owner_id__in=ids).exclude(status=Opportunity.Status.LOST)
        current = quarters[-1] if quarters else None
        rows = deals.values_list(
            "owner_id", "status", "amount", "currency", "closed_on", "expected_close_on",
            "forecast_category", "stage__default_forecast_category",
        )  # fmt: skip
        for owner_id, status, amount, currency, closed_on, close_on, chosen, default in rows:
            if status == Opportunity.Status.WON:
                if closed_on < first_day:
                    continue
                quarter = next(q for q in quarters if q.start_on <= closed_on <= q.end_on)
                day = float((closed_on - self.today).days)
                amount_usd = float(rates.convert(amount, currency, closed_on))
                won[owner_id, quarter.pk].append((day, amount_usd))
            elif current and current.start_on <= close_on <= current.end_on:
                odds = CATEGORY_ODDS.get(chosen or default, 0.0)
                expected[owner_id] += odds * float(rates.convert(amount, currency, self.today))
        calls = records = 0
        for quarter in quarters:
            for caller in callers.values():
                caller.closed = sorted(won.get((caller.user.pk, quarter.pk), []))
                caller.truth = sum(amount for _, amount in caller.closed)
                if quarter is current:
                    caller.truth += expected.get(caller.user.pk, 0.0)
                caller.owner = caller.adjusted = None
                caller.is_adjusted = False
            made, locked = self._calls_for_quarter(quarter, callers)
            calls += made
            records += locked
        self.counts["forecast_calls"] = calls
        self.counts["calls_of_record"] = records

    def _callers(self) -> dict[int, _Caller]:
        """Sellers and everyone above them, each with a bias of their own."""
        from .org import demo_users

        people = list(demo_users().filter(is_active=True).order_by("ancestor_path", "pk"))
        above: set[int] = set()
        by_pk = {p.pk: p for p in people}
        sellers = {p.pk for p in people if p.sales_role in (SalesRole.AE, SalesRole.AM)}
        for pk in sellers:
            above.update(int(up) for up in by_pk[pk].ancestor_path.strip("/").split("/") if up)
        callers: dict[int, _Caller] = {}
        for person in people:
            if person.pk in sellers or person.pk in above:
                # Sellers: from sandbaggers (-) to happy ears (+); managers trim a little.
                spread = 0.15 if person.pk not in above else 0.04
                bias = max(-0.35, min(0.4, self.rng.gauss(-0.03, spread)))
                depth = person.ancestor_path.count("/")
                callers[person.pk] = _Caller(person, depth, bias)
        for caller in sorted(callers.values(), key=lambda c: -c.depth):
            manager = callers.get(caller.user.manager_id)
            if manager is not None and caller.user.manager_id in by_pk:
                manager.reports.append(caller)
                manager.height = max(manager.height, caller.height + 1)
        return callers

    def _calls_for_quarter(self, quarter: Period, callers: dict[int, _Caller]) -> tuple[int, int]:
        """The quarter's weekly calls and locks; returns (calls, calls of record) written."""
        start_t = float((quarter.start_on - self.today).days)
        end_t = min(float((quarter.end_on - self.today).days) + 1, -0.05)
        if end_t <= start_t:
            return 0, 0
        locks = []
        lock_t = -LOCK_DAYS_AGO
        while lock_t >= start_t:
            if lock_t < end_t:
                locks.append(lock_t)
            lock_t -= 7
        locks.sort()
        bounds = [start_t, *locks, end_t]
        length = end_t - start_t + 0.01
        by_depth = sorted(callers.values(), key=lambda c: -c.depth)
        rows: list[_Call] = []
        lock_state: list[tuple[float, dict[int, tuple]]] = []
        for week, (lo, hi) in enumerate(itertools.pairwise(bounds)):
            if hi - lo >= 0.2:
                self._week(quarter, by_depth, week, lo, hi, start_t, length, rows)
            if week < len(locks):
                state = {c.user.pk: (c.owner, c.adjusted) for c in by_depth if c.owner}
                lock_state.append((locks[week], state))
        for call, pk in zip(rows, reserve_ids(ForecastCall, len(rows)), strict=True):
            call.pk = pk
        insert_rows(ForecastCall, CALL_COLUMNS, [self._call_row(call) for call in rows])
        records = [
            (pk, quarter.pk, self.db_day(lock_t), owner.pk, owner.commit_amount,
             owner.best_case_amount, adjusted.commit_amount if adjusted else None,
             adjusted.best_case_amount if adjusted else None, self.db_at(lock_t))
            for lock_t, state in lock_state
            for pk, (owner, adjusted) in state.items()
        ]  # fmt: skip
        insert_rows(CallOfRecord, RECORD_COLUMNS, records)
        return len(rows), len(records)

    def _call_row(self, call: _Call) -> tuple:
        previous, at = call.previous, self.db_at(call.at)
        return (
            call.pk, call.person_id, call.period_id, call.layer, call.commit_amount,
            call.best_case_amount, previous.commit_amount if previous else None,
            previous.best_case_amount if previous else None, call.note, call.submitted_by_id,
            at, at,
        )  # fmt: skip

    def _week(
        self,
        quarter: Period,
        by_depth: list[_Caller],
        week: int,
        lo: float,
        hi: float,
        start_t: float,
        length: float,
        rows: list[_Call],
    ) -> None:
        """One week's calls, sellers first and each level up after them."""
        for caller in by_depth:
            if week and caller.owner and self.rng.random() > SUBMIT_SHARE:
                continue  # no new call this week: last week's carries over
            if caller.reports:
                self._adjust_reports(caller, quarter, lo, hi, start_t, length, rows)
                if not any(r.in_force for r in caller.reports):
                    continue
            elif caller.user.hire_date and caller.user.hire_date > self.day(lo):
                continue  # not hired yet
            at = lo + (hi - lo) * self.rng.uniform(*_window(caller.height, adjusting=False))
            self._owner_call(caller, quarter, at, (at - start_t) / length, rows)

    def _owner_call(
        self, caller: _Caller, quarter: Period, at: float, f: float, rows: list[_Call]
    ) -> None:
        rng = self.rng
        if caller.reports:
            called = [r.in_force for r in caller.reports if r.in_force]
            commit = sum(float(c.commit_amount) for c in called) * (1 + caller.bias)
            best = sum(float(c.best_case_amount) for c in called) * (1 + caller.bias / 2)
            note = ""
        else:
            # Early on the seller's view is their bias and noise; at the end, what they booked.
            days = bisect.bisect_right([day for day, _ in caller.closed], at)
            closed = sum(amount for _, amount in caller.closed[:days])
            # Some noise stays to the end: deals still move in the last weeks.
            drift = (1 + caller.bias * (1 - f)) * (1 + rng.gauss(0, 0.04 + 0.1 * (1 - f)))
            commit = max(caller.truth * drift, closed)
            best = commit + max(caller.truth, commit) * rng.uniform(0.1, 0.4) * (1 - f / 2)
            note = rng.choice(CALL_NOTES) if rng.random() < 0.3 else ""
        commit_amount = _thousands(commit)
        best_amount = max(_thousands(best), commit_amount)
        previous = caller.owner
        caller.owner = self._call(
            caller.user, caller.user, quarter, CallLayer.OWNER, commit_amount, best_amount,
            previous, note, at,
        )  # fmt: skip
        rows.append(caller.owner)

    def _adjust_reports(
        self,
        manager: _Caller,
        quarter: Period,
        lo: float,
        hi: float,
        start_t: float,
        length: float,
        rows: list[_Call],
    ) -> None:
        """The manager adjusts the calls they doubt (and keeps adjusting those once started)."""
        rng = self.rng
        for report in manager.reports:
            call = report.owner
            if call is None:
                continue
            doubted = abs(report.bias) > 0.1 and rng.random() < 0.3
            if not (report.is_adjusted and rng.random() < 0.8) and not doubted:
                continue
            window = _window(manager.height, adjusting=True)
            at = max(lo + (hi - lo) * rng.uniform(*window), call.at + 0.001)
            f = (at - start_t) / length
            factor = rng.uniform(0.97, 1.03) / (1 + report.bias * (1 - f))
            commit = _thousands(float(call.commit_amount) * factor)
            best = max(_thousands(float(call.best_case_amount) * factor), commit)
            previous = report.adjusted or report.owner
            report.adjusted = self._call(
                manager.user, report.user, quarter, CallLayer.MANAGER, commit, best, previous,
                rng.choice(ADJUSTMENT_NOTES), at,
            )  # fmt: skip
            report.is_adjusted = True
            rows.append(report.adjusted)

    def _call(
        self,
        actor: User,
        person: User,
        quarter: Period,
        layer: str,
        commit: Decimal,
        best: Decimal,
        previous: _Call | None,
        note: str,
        at: float,
    ) -> _Call:
        return _Call(person.pk, quarter.pk, layer, commit, best, previous, note, actor.pk, at)
