"""The deal simulation: stages, milestones, slips, amount changes, closings and activities."""

from __future__ import annotations

import bisect
import datetime as dt
import math
from decimal import Decimal

from django.db import connection

from accounts.models import (
    Activity,
    Milestone,
    MilestoneCompletion,
    Opportunity,
    OpportunityChange,
    OpportunityTeamMember,
)
from compensation.models import CreditSplit, DealCancellation
from salesmgmt.bulk_rows import (
    BackgroundInserts,
    indexes_built_after,
    objects_kept_from_collection,
    reserve_ids,
)
from salesmgmt.models import SalesRole, User

from .history import _cents_text, _Deal, _DealRow
from .org import _Rep
from .vocabulary import (
    ACTIVITY_KINDS,
    ACTIVITY_NOTES,
    CANCEL_REASONS,
    CANCELLED_MAX_USD,
    CANCELLED_SHARE,
    CATEGORY_CHOICES,
    CHOSEN_CATEGORY_SHARE,
    DEALS_BY_SEGMENT,
    GROWTH,
    LOST_REASONS,
    MAX_SLIPS,
    MEAN_STAGE_DAYS,
    NEXT_STEPS,
    PRODUCTS,
    REGIONS,
    SEGMENTS,
    SPLIT_PERCENTS,
    SPLIT_SHARE,
    STALLED_REASON,
    START_RATES,
    TRANSACTIONAL_SHARE,
)

DEALS_PER_CHUNK = 2500
# Columns of the rows insert_rows writes, in the order the builder makes the tuples.
# fmt: off
OPPORTUNITY_COLUMNS = [
    "id", "account_id", "owner_id", "process_id", "stage_id", "stage_entered_at", "name",
    "amount", "currency", "expected_close_on", "status", "closed_on", "lost_reason",
    "forecast_category", "next_step", "lead_source", "version", "created_at",
]
COMPLETION_COLUMNS = [
    "opportunity_id", "milestone_id", "completed_by_id", "completed_at", "evidence",
    "verification_state", "verified_by_id", "verified_at", "created_at",
]
CHANGE_COLUMNS = [
    "opportunity_id", "field", "old_value", "new_value", "changed_by_id", "changed_at",
]
TEAM_COLUMNS = ["opportunity_id", "user_id", "team_role", "created_at"]
ACTIVITY_COLUMNS = [
    "kind", "owner_id", "account_id", "opportunity_id", "milestone_id", "occurred_at",
    "duration_minutes", "outcome", "notes", "next_step", "created_at", "deal_owner_id",
]
SPLIT_COLUMNS = ["opportunity_id", "user_id", "percent", "created_at"]
CANCELLATION_COLUMNS = ["opportunity_id", "cancelled_on", "reason", "recorded_by_id", "created_at"]
# fmt: on


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


class DealsMixin:
    """DemoDataBuilder's deals: simulated in chunks, then bulk-inserted with their history."""

    def build_deals(
        self,
        *,
        sellers: list[_Rep],
        team_reps: list[_Rep],
        opportunities: int,
        activities_per_deal: float,
    ) -> None:
        """Simulate and insert the deals in chunks, oldest first, so memory stays flat."""
        # Who owns each deal and when it starts: capacity times the share of the window employed.
        starts = [max(self.warmup_t, rep.hire_t + 3) for rep in sellers]
        weights = [
            rep.capacity * DEALS_BY_SEGMENT[rep.segment] * -start / -self.warmup_t
            for rep, start in zip(sellers, starts, strict=True)
        ]
        owner_index = self.rng.choices(range(len(sellers)), weights, k=opportunities)
        draws = sorted((self.created_t(starts[i]), i) for i in owner_index)
        by_team: dict[int, dict[str, list[User]]] = {}
        for rep in team_reps:
            by_team.setdefault(rep.team, {}).setdefault(rep.user.sales_role, []).append(rep.user)
        for key in (
            "opportunities",
            "won",
            "lost",
            "open",
            "milestone_completions",
            "opportunity_changes",
            "activities",
            "team_members",
            "credit_splits",
            "cancellations",
        ):
            self.counts[key] = 0
        # The tables of the deals' history: loaded without their secondary indexes and foreign
        # keys (built once at the end), written by PostgreSQL while the next chunk is drawn.
        history_tables = [Opportunity, OpportunityChange, MilestoneCompletion, Activity]
        with (
            indexes_built_after(history_tables),
            objects_kept_from_collection(),
            BackgroundInserts() as inserts,
        ):
            # Ids for every draw now (the warm-up's dropped deals leave gaps): the chunks'
            # rows then need no id read back while the previous chunk is still being written.
            self._deal_ids = iter(reserve_ids(Opportunity, len(draws)))
            self._insert_chunks(draws, sellers, by_team, activities_per_deal, inserts)

    def _insert_chunks(
        self,
        draws: list[tuple[float, int]],
        sellers: list[_Rep],
        by_team: dict[int, dict[str, list[User]]],
        activities_per_deal: float,
        inserts: BackgroundInserts,
    ) -> None:
        for first in range(0, len(draws), DEALS_PER_CHUNK):
            simulated = (
                self.simulate_deal(created_t, sellers[i], by_team.get(sellers[i].team, {}))
                for created_t, i in draws[first : first + DEALS_PER_CHUNK]
            )
            chunk = [
                deal
                for deal in simulated
                if deal.closed_t is None or deal.closed_t >= self.first_deal_t
            ]
            self.insert_deals(chunk, activities_per_deal, inserts)
            self.progress(f"Opportunities: {min(first + DEALS_PER_CHUNK, len(draws))}/{len(draws)}")

    def created_t(self, start: float) -> float:
        """A start day in [start, -1]; the business grows, so later days are likelier."""
        x = math.log1p(self.rng.random() * (math.exp(GROWTH) - 1)) / GROWTH
        return start + x * (-1.0 - start)

    def pass_probability(self, rep: _Rep, index: int, n_stages: int) -> float:
        """Early stages lean on the rep's early skill, late stages on their closing skill."""
        x = index / max(n_stages - 1, 1)
        logit = _logit(0.62 + 0.25 * x) + (1 - x) * rep.early + x * rep.late
        return 1 / (1 + math.exp(-logit))

    def simulate_deal(self, created_t: float, rep: _Rep, team: dict[str, list[User]]) -> _Deal:
        """Walk a deal through its stages: pass (milestones done) or lose, slipping as it goes."""
        rng = self.rng
        account, segment = rng.choice(rep.accounts)
        _, _, median, scale = SEGMENTS[segment]
        flow = self.processes[
            "Transactional" if rng.random() < TRANSACTIONAL_SHARE[segment] else "Standard B2B"
        ]
        n = len(flow.stages)
        scale *= 0.6 if n <= 3 else 1.0
        currency = next(
            c for country, c, _ in REGIONS[account.region] if country == account.country
        )
        usd = rng.lognormvariate(math.log(median), 0.5) / START_RATES.get(currency, 1.0)
        cents = max(5, round(usd / 100)) * 10000
        deal = _Deal(
            rep=rep,
            account=account,
            flow=flow,
            created_t=created_t,
            currency=currency,
            name=f"{account.name} - {rng.choice(PRODUCTS)}",
            start_cents=cents,
            amount_cents=cents,
            team=team,
            # Reps plan optimistically, hence the slips.
            close_on=self.day(created_t + MEAN_STAGE_DAYS * scale * n * rng.uniform(0.5, 1.0)),
        )
        t, slips, close_on = created_t, 0, deal.close_on
        for i, milestones in enumerate(flow.milestones):
            deal.stage_starts.append(t)
            t_end = t + rng.gammavariate(2.0, MEAN_STAGE_DAYS * scale / 2) + 0.5
            horizon = min(t_end, 0.0)
            # The close date passes while the deal waits: the rep pushes it out (a slip).
            while (due := (close_on - self.today).days + 1.0) < horizon:
                slip_t = max(due, t) + rng.uniform(0.1, 4.0)
                if slip_t >= horizon:
                    break
                if slips == MAX_SLIPS:
                    deal.close(slip_t, Opportunity.Status.LOST, STALLED_REASON)
                    return deal
                close_on += dt.timedelta(days=rng.randint(14, 45))
                deal.events.append(
                    (slip_t, 1, OpportunityChange.Field.EXPECTED_CLOSE_ON, close_on.isoformat())
                )
                slips += 1
            self._maybe_change_amount(deal, i / max(n - 1, 1), t, horizon)
            if t_end >= 0:  # still working this stage today
                self._complete(deal, milestones, t, max(t, -0.05), rng.randrange(len(milestones)))
                self._maybe_choose_category(deal, flow.stages[i].default_forecast_category, t)
                return deal
            if rng.random() < self.pass_probability(rep, i, n):
                self._complete(deal, milestones, t, t_end, len(milestones))
                if i >= 2 and team.get(SalesRole.SE) and rng.random() < 0.3 and not deal.se:
                    deal.se = rng.choice(team[SalesRole.SE])
                t = t_end
            else:
                self._complete(deal, milestones, t, t_end, rng.randrange(len(milestones)))
                position = min(2, round(2 * i / max(n - 1, 1)))
                deal.close(t_end, Opportunity.Status.LOST, rng.choice(LOST_REASONS[position]))
                return deal
        deal.close(t + min(1.0, -t * rng.uniform(0.05, 0.5)), Opportunity.Status.WON, "")
        return deal

    def _complete(
        self, deal: _Deal, milestones: list[Milestone], t0: float, t1: float, count: int
    ) -> None:
        """Complete the first ``count`` milestones in order; completing all ends at ``t1``."""
        if count == 0:
            return
        times = sorted(self.rng.uniform(t0, t1) for _ in range(count))
        if count == len(milestones):
            times[-1] = t1
        deal.completions.extend(zip(times, milestones[:count], strict=True))

    def _maybe_choose_category(self, deal: _Deal, stage_default: str, since_t: float) -> None:
        """On a minority of open deals the rep chose a category other than the stage's."""
        if self.rng.random() >= CHOSEN_CATEGORY_SHARE:
            return
        choice = self.pick(CATEGORY_CHOICES[stage_default])
        deal.events.append(
            (self.rng.uniform(since_t, -0.05), 1, OpportunityChange.Field.FORECAST_CATEGORY, choice)
        )

    def _maybe_change_amount(self, deal: _Deal, x: float, t0: float, t1: float) -> None:
        """Scope changes mid-deal, discounts late; each is a recorded amount change."""
        rng = self.rng
        if t1 <= t0:
            return
        factor = None
        if 0 < x < 0.7 and rng.random() < 0.2:
            factor = rng.uniform(0.75, 1.35)
        elif x >= 0.7 and rng.random() < 0.3:
            factor = rng.uniform(0.82, 0.97)
        if factor:
            deal.amount_cents = max(50000, round(deal.amount_cents * factor / 100) * 100)
            deal.events.append(
                (
                    rng.uniform(t0, t1),
                    1,
                    OpportunityChange.Field.AMOUNT,
                    _cents_text(deal.amount_cents),
                )
            )

    def insert_deals(
        self, deals: list[_Deal], activities_per_deal: float, inserts: BackgroundInserts
    ) -> None:
        rows = [deal.replay(self) for deal in deals]
        opportunities, day = [], connection.ops.adapt_datefield_value
        for row in rows:
            row.pk = next(self._deal_ids)
            opportunities.append(
                (row.pk, row.account_id, row.owner_id, row.process_id, row.stage_id,
                 self.stored_at(row.stage_entered_at), row.name, row.amount, row.currency,
                 day(row.expected_close_on), row.status, day(row.closed_on), row.lost_reason,
                 row.forecast_category, row.next_step, row.lead_source, row.version,
                 self.stored_at(row.created_at))
            )  # fmt: skip
        completions, changes, team, splits, cancellations = [], [], [], [], []
        for deal, row in zip(deals, rows, strict=True):
            pk, owner_id = row.pk, deal.rep.user.pk
            # Verified by the manager where the process has exit criteria with teeth.
            review = (
                (MilestoneCompletion.Verification.VERIFIED, deal.rep.user.manager_id)
                if deal.flow.process.requires_verification
                else (MilestoneCompletion.Verification.NOT_REQUIRED, None)
            )
            for t, milestone in deal.completions:
                at = self.db_at(t)
                evidence = (
                    f"Notes {self.day(t)}: {milestone.name.lower()}"
                    if milestone.evidence_required
                    else ""
                )
                completions.append(
                    (pk, milestone.pk, owner_id, at, evidence, review[0], review[1],
                     at if review[1] else None, at)
                )  # fmt: skip
            stamps: dict[float, object] = {}  # most changes share a moment with another
            for t, name, old, new in deal.changes:
                at = stamps.get(t) or stamps.setdefault(t, self.db_at(t))
                changes.append((pk, name, old, new, owner_id, at))
            if deal.se:
                team.append((pk, deal.se.pk, "Sales engineer", self.db_at(deal.stage_starts[2])))
            if deal.status == Opportunity.Status.WON:
                self._credit(deal, pk, splits, cancellations)
            self.counts[deal.status] += 1
        activities = self.build_activities(deals, rows, activities_per_deal)
        batch = (
            (Opportunity, OPPORTUNITY_COLUMNS, opportunities, "opportunities"),
            (MilestoneCompletion, COMPLETION_COLUMNS, completions, "milestone_completions"),
            (OpportunityChange, CHANGE_COLUMNS, changes, "opportunity_changes"),
            (OpportunityTeamMember, TEAM_COLUMNS, team, "team_members"),
            (Activity, ACTIVITY_COLUMNS, activities, "activities"),
            (CreditSplit, SPLIT_COLUMNS, splits, "credit_splits"),
            (DealCancellation, CANCELLATION_COLUMNS, cancellations, "cancellations"),
        )
        inserts.add([(model, columns, values) for model, columns, values, _ in batch])
        for _, _, values, key in batch:
            self.counts[key] += len(values)

    def _credit(self, deal: _Deal, pk: int, splits: list, cancellations: list) -> None:
        """A few won deals split their credit with a teammate; fewer are cancelled later."""
        rng, owner = self.rng, deal.rep.user
        at = self.db_at(deal.closed_t)
        if rng.random() < SPLIT_SHARE:
            partners = [
                u
                for role in (SalesRole.AE, SalesRole.AM)
                for u in (deal.team or {}).get(role, [])
                if u.pk != owner.pk and u.hire_date < self.day(deal.closed_t)
            ]
            if partners:
                kept = rng.choice(SPLIT_PERCENTS)
                splits.append((pk, owner.pk, Decimal(kept), at))
                splits.append((pk, rng.choice(partners).pk, Decimal(100 - kept), at))
        # Customers back out of small deals within their opt-out window (about half of the
        # won deals are that small, hence twice the share); the manager records it that day.
        is_small = deal.amount_cents <= CANCELLED_MAX_USD * 100
        if is_small and rng.random() < 2 * CANCELLED_SHARE:
            cancel_t = deal.closed_t + rng.uniform(10, 45)
            if cancel_t < -1 and owner.manager_id:
                cancellations.append(
                    (pk, self.db_day(cancel_t), rng.choice(CANCEL_REASONS), owner.manager_id,
                     self.db_at(cancel_t))
                )  # fmt: skip

    def build_activities(
        self, deals: list[_Deal], rows: list[_DealRow], per_deal: float
    ) -> list[tuple]:
        """About ``per_deal`` activities a deal on average, more for deals that went further."""
        rng = self.rng
        weights = [1 + len(deal.stage_starts) for deal in deals]
        mean = sum(weights) / len(weights) if weights else 1
        activities = []
        for deal, row, weight in zip(deals, rows, weights, strict=True):
            n = round(per_deal * weight / mean * rng.uniform(0.5, 1.5))
            end_t = deal.closed_t if deal.closed_t is not None else -0.01
            sdrs = deal.team.get(SalesRole.SDR) if deal.team else None
            n_stages = len(deal.flow.stages)
            for k in range(n):
                planned = deal.closed_t is None and k == n - 1 and rng.random() < 0.5
                # Activities are logged from the first quota quarter on (the warm-up before it
                # only builds the pipeline).
                start_t = max(deal.created_t, self.first_deal_t)
                t = rng.uniform(0.1, 14) if planned else rng.uniform(start_t, end_t)
                index = max(0, bisect.bisect_right(deal.stage_starts, t) - 1)
                position = min(2, round(2 * index / max(n_stages - 1, 1)))
                kind = self.pick(ACTIVITY_KINDS[position])
                owner = deal.rep.user
                if kind == Activity.Kind.DEMO and deal.se:
                    owner = deal.se
                elif index == 0 and sdrs and rng.random() < 0.3:
                    owner = rng.choice(sdrs)
                milestone = rng.choice(deal.flow.milestones[index]) if rng.random() < 0.25 else None
                activities.append(
                    (
                        kind,
                        owner.pk,
                        deal.account.pk,
                        row.pk,
                        milestone.pk if milestone else None,
                        self.db_at(t),
                        self._duration(kind),
                        Activity.Outcome.PLANNED if planned else self._outcome(kind, deal),
                        rng.choice(ACTIVITY_NOTES[kind]),
                        rng.choice(NEXT_STEPS) if rng.random() < 0.2 else "",
                        self.db_at(min(t, 0.0)),
                        row.owner_id,  # Activity.deal_owner: the deal's owner
                    )
                )
        return activities

    def _duration(self, kind: str) -> int:
        if kind == Activity.Kind.CALL:
            return self.rng.randint(5, 30)
        if kind in (Activity.Kind.MEETING, Activity.Kind.DEMO):
            return self.rng.choice((30, 45, 60, 90))
        return 0

    def _outcome(self, kind: str, deal: _Deal) -> str:
        if kind == Activity.Kind.CALL:
            return self.rng.choice(
                (
                    Activity.Outcome.CONNECTED,
                    Activity.Outcome.NO_ANSWER,
                    Activity.Outcome.LEFT_MESSAGE,
                )
            )
        if kind in (Activity.Kind.MEETING, Activity.Kind.DEMO):
            negative = 0.5 if deal.status == Opportunity.Status.LOST else 0.2
            return (
                Activity.Outcome.NEGATIVE
                if self.rng.random() < negative
                else Activity.Outcome.POSITIVE
            )
        return ""
