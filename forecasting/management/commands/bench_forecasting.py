"""Benchmark: the full recompute, and an edit's way into the aggregates (``make bench``).

Run on a seeded database (``seed_demo --reps 1000 --opportunities 200000``). Prints the
seconds of each phase of a full recompute with 10,000 trials, then edits one open deal
through the accounts services and times the incremental recompute a worker runs for it
(claim + recompute of the owner and every subtree above them) until the rollup shows it.
"""

from __future__ import annotations

import statistics
import time
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from accounts import services as deal_services
from accounts.models import Opportunity
from forecasting import signals
from forecasting.models import DealProbability, ForecastRollup, Scope
from forecasting.services import kpis, recompute, requests


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
            f"edit -> forecast aggregates (worker side): median "
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
        with signals.paused():  # the request is made by hand below, to time the worker side
            deal_services.opportunity_update(
                actor=deal.owner, opportunity=deal, amount=deal.amount + Decimal(1000)
            )
        requests.request_recompute_for_deals(
            opportunity_ids=[deal.pk],
            person_ids=[deal.owner_id],
            days=[deal.expected_close_on],
            schedule=False,
        )
        started = time.perf_counter()  # the worker picks the batch up here
        ids = requests.claim_requests()
        requests.run_requests(request_ids=ids, kpis=False)
        elapsed = time.perf_counter() - started
        after = ForecastRollup.objects.get(person=deal.owner, period=row.period, scope=Scope.OWN)
        if after.commit_amount == before.commit_amount:
            raise CommandError("The edit did not reach the rollup.")
        return elapsed
