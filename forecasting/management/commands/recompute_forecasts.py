"""Run the full forecast recompute now (what the nightly task does) and print its timings.

It takes the same run lease as the task: while a worker's run is live this refuses to start a
second one; a run abandoned by a killed worker is resumed here.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from forecasting.services import backtest, flags, runs, snapshots


class Command(BaseCommand):
    help = "Full recompute: model, probabilities, rollups, Monte Carlo ranges, KPIs."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--trials",
            type=int,
            default=None,
            help="Monte Carlo trials per node (default FORECASTING_TRIALS).",
        )
        parser.add_argument(
            "--all", action="store_true", help="Also flags, the weekly snapshot and the backtest."
        )

    def handle(self, *args, trials: int | None = None, all: bool = False, **options) -> None:
        timings = runs.full_recompute_run(
            trials=trials, progress=lambda phase, f: self.stdout.write(f"  {f:4.0%} {phase}")
        )
        if timings is None:
            raise CommandError(
                "A full recompute is already running on a worker; wait for it to finish."
            )
        if all:
            for name, job in (
                ("flags", flags.flags_refresh),
                ("snapshot", snapshots.snapshot_take),
                ("backtest", backtest.backtest_run),
            ):
                started = time.perf_counter()
                job()
                timings[name] = time.perf_counter() - started
        for phase, seconds in timings.items():
            self.stdout.write(f"{phase:<28} {seconds:8.2f} s")
