"""`manage.py run_schedule`: the beat schedule in-process, for the embedded mode (no Redis)."""

from __future__ import annotations

import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from salesmgmt import schedule
from salesmgmt.celery import app


class Command(BaseCommand):
    help = "Run the periodic jobs of the beat schedule in this process (no broker needed)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--now",
            nargs="*",
            metavar="ENTRY",
            help="Run these schedule entries (all when none is named) once, then exit.",
        )
        parser.add_argument("--tick", type=float, default=5.0, help="Seconds between checks.")
        parser.add_argument(
            "--state",
            type=Path,
            help="File keeping the last run of each crontab job across restarts "
            "(as beat's --schedule file); without it they are counted from the start.",
        )

    def handle(self, *args, **options) -> None:
        if not settings.CELERY_TASK_ALWAYS_EAGER:
            raise CommandError("A broker is configured: run Celery beat instead (make run does).")
        state = options["state"]
        entries = schedule.entries(
            app.conf.beat_schedule, now=time.monotonic(), last_runs=schedule.load_state(state)
        )
        if options["now"] is not None:
            names = set(options["now"]) or {entry.name for entry in entries}
            unknown = names - {entry.name for entry in entries}
            if unknown:
                raise CommandError(f"No such schedule entry: {', '.join(sorted(unknown))}.")
            chosen = [entry for entry in entries if entry.name in names]
            now, at = time.monotonic(), schedule.wall_clock()
            schedule.make_due(chosen, now=now, at=at)
            for name in schedule.run_due(chosen, now=now, at=at, run=schedule.run_task):
                self.stdout.write(f"ran {name}")
            return
        self.stdout.write(f"Running {len(entries)} periodic jobs in-process (Ctrl-C stops).")
        schedule.loop(entries, tick=options["tick"], state=state)
