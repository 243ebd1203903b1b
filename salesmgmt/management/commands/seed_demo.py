"""`manage.py seed_demo`: load the demo sales organisation (idempotent; --reset rebuilds it)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser

from salesmgmt.demo_data import DEMO_PASSWORD, DemoResult, load_demo_data
from salesmgmt.errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Load a deterministic demo organisation: people, accounts, two years of deals with "
        "milestones, history and activities. Does nothing when the demo data already exists."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--reps", type=int, default=24, help="sales reps (default 24)")
        parser.add_argument(
            "--opportunities", type=int, default=600, help="deals in total (default 600)"
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
        try:
            result = load_demo_data(
                reps=options["reps"],
                opportunities=options["opportunities"],
                seed=options["seed"],
                activities_per_deal=options["activities_per_deal"],
                reset=options["reset"],
                progress=self._progress if options["verbosity"] > 0 else None,
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
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
