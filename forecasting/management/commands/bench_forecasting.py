"""Benchmark: the full recompute, and an edit's way into the aggregates (``make bench``).

Run on a seeded database (``seed_demo --reps 1000 --opportunities 200000``). Prints the
seconds of each phase of a full recompute with 10,000 trials, then edits one open deal
through the accounts services and times the edit until the rollup shows it: the write (which
marks the rollups stale, salesmgmt.refresh) and the batch that recomputes the owner and every
subtree above them (run on commit without a broker, by a worker or here otherwise).
"""

from __future__ import annotations

import statistics
import time
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from accounts import services as deal_services
from accounts.models import Opportunity
from forecasting.aggregate_kinds import ROLLUPS
from forecasting.models import DealProbability, ForecastRollup, Scope
from forecasting.services import kpis, recompute
from salesmgmt import refresh

# An edit that has not reached the rollup after this long is a failure.
TIMEOUT_SECONDS = 60


class Command(BaseCommand):
    help = "Time the full forecast recompute and the edit-to-aggregate latency."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--trials", type=int, default=10_000)
        parser.add_argument("--edits", type=int, default=5)
        parser.add_argument("--skip-full", action="store_true")

    def handle(self, *args, trials: int, edits: int, skip_full: bool, **options) -> None:
        self.stdout.write(f"database: {connection.vendor}, deals: {Opportunity.objects.count()}")
        if not skip_full:
            timings = recompute.forecast_recompute_all(trials=trials)
            for phase, seconds in timings.items():
                self.stdout.write(f"full recompute  {phase:<24} {seconds:8.2f} s")
        latencies = [self._edit_latency(i) for i in range(edits)]
        self.stdout.write(
            f"edit -> forecast aggregates (write + batch): median "
            f"{statistics.median(latencies):.3f} s, max {max(latencies):.3f} s over {edits} edits"
        )
        owner = DealProbability.objects.filter(opportunity__status="open").first()
        started = time.perf_counter()
        kpis.kpis_recompute_for_people(person_ids=[owner.owner_id], period_ids=[owner.period_id])
        self.stdout.write(
            f"edit -> KPI rows (follow-up task): {time.perf_counter() - started:.3f} s"
        )

    def _edit_latency(self, index: int) -> float:
        row = (
            DealProbability.objects.filter(opportunity__status="open", category="commit")
            .select_related("opportunity", "opportunity__owner")
            .order_by("opportunity_id")[index * 97 : index * 97 + 1]
            .first()
        )
        if row is None:
            raise CommandError("No open commit deal in the aggregates: run a full recompute.")
        deal = row.opportunity
        before = ForecastRollup.objects.get(person=deal.owner, period=row.period, scope=Scope.OWN)
        started = time.perf_counter()
        deal_services.opportunity_update(
            actor=deal.owner, opportunity=deal, amount=deal.amount + Decimal(1000)
        )
        while not self._moved(row, before):
            # Not run on commit (a broker took the task): claim the batch here unless a
            # worker has it in flight (then this claims nothing and the loop waits for it).
            refresh.refresh_kind(kind=ROLLUPS)
            if time.perf_counter() - started > TIMEOUT_SECONDS:
                raise CommandError("The edit did not reach the rollup.")
            time.sleep(0.005)
        elapsed = time.perf_counter() - started
        return elapsed

    @staticmethod
    def _moved(row: DealProbability, before: ForecastRollup) -> bool:
        after = ForecastRollup.objects.get(
            person=row.opportunity.owner, period=row.period, scope=Scope.OWN
        )
        return after.commit_amount != before.commit_amount
