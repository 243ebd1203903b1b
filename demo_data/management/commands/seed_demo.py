"""`manage.py seed_demo`: load the demo organisation, then its territories and quotas.

Idempotent: each part loads only when its demo data is absent; --reset removes the
territories part first (it PROTECTs the demo people), then rebuilds both.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from coaching.services import compliance_refresh
from demo_data.builder import DemoResult, load_demo_data
from demo_data.onboarding import load_demo_programme
from demo_data.planning import load_demo_sales_task
from demo_data.territories import delete_demo_territories, load_demo_territories
from demo_data.vocabulary import DEMO_PASSWORD
from salesmgmt.errors import ApplicationError

DEFAULT_OPPORTUNITIES = 4000


class Command(BaseCommand):
    help = (
        "Load a deterministic demo organisation: people, accounts, two years of deals with "
        "milestones, history and activities, then territories, rules, assignments and quotas. "
        "Does nothing when the demo data already exists."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--reps", type=int, default=24, help="sales reps (default 24)")
        # About 13 deals a seller a quarter: enough closings that attainment spreads the way a
        # real team's does rather than with the noise of two or three deals.
        parser.add_argument(
            "--opportunities",
            type=int,
            default=DEFAULT_OPPORTUNITIES,
            help=f"deals in total, about (default {DEFAULT_OPPORTUNITIES})",
        )
        parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
        parser.add_argument(
            "--activities-per-deal",
            type=float,
            default=10.0,
            help="average activities logged per deal (default 10)",
        )
        parser.add_argument(
            "--reset", action="store_true", help="delete the demo data first, then load it again"
        )

    def handle(self, *args, **options) -> None:
        started = time.monotonic()
        progress = self._progress if options["verbosity"] > 0 else None
        try:
            # Bulk inserts mark nothing on the refresh path (salesmgmt.refresh): the forecast
            # aggregates come from the full recompute (scripts/run.sh, or the nightly one).
            with transaction.atomic():
                if options["reset"]:
                    delete_demo_territories()
                result = load_demo_data(
                    reps=options["reps"],
                    opportunities=options["opportunities"],
                    seed=options["seed"],
                    activities_per_deal=options["activities_per_deal"],
                    reset=options["reset"],
                    progress=progress,
                )
                created, counts = load_demo_territories(seed=options["seed"], progress=progress)
                # The sales task reads the territories' company targets: after them.
                if load_demo_sales_task() and progress:
                    progress("Sales task: two segments with their coverage")
                if load_demo_programme() and progress:
                    progress("Onboarding: the default programme for new reps, new hires enrolled")
                if result.created or created:
                    # The team dashboard reads compliance precomputed per rep; fill it now so
                    # the first view of the demo is not the live fallback.
                    compliance_refresh()
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        result.counts.update(counts)
        result.created = result.created or created
        elapsed = time.monotonic() - started
        if result.created:
            self.stdout.write(self.style.SUCCESS(f"Demo data loaded in {elapsed:.1f}s."))
        else:
            self.stdout.write(
                "Demo data already exists; nothing loaded (use --reset to rebuild it)."
            )
        self._write_summary(result)

    def _progress(self, message: str) -> None:
        self.stdout.write(f"  {message}")

    def _write_summary(self, result: DemoResult) -> None:
        for name, count in result.counts.items():
            self.stdout.write(f"  {name.replace('_', ' '):<24}{count:>12,}")
        self.stdout.write(f"\nDemo logins (password for all: {DEMO_PASSWORD})")
        self.stdout.write(f"  {'role':<14}{'username':<14}{'name':<20}reports to")
        for login in result.logins:
            self.stdout.write(
                f"  {login.role:<14}{login.username:<14}{login.name:<20}{login.reports_to or '-'}"
            )
