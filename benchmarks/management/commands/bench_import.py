"""Time the deals CSV import (dry run and real) on the current database, rolled back.

``manage.py bench_import --rows 10000 --rows 100000``: generates a realistic deals file
(``benchmarks.imports.opportunities_csv``), parses and applies it as an executive, and checks
the targets (rows per second on SQLite and PostgreSQL, 100,000 rows in under 30 seconds on
PostgreSQL). Works on an empty migrated database too: the people, process and products it
needs are made inside the transaction it rolls back. ``make bench`` runs the same measurement
(``bench`` on a seeded database).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from benchmarks import imports
from salesmgmt.models import Role, User


class _RollBack(Exception):
    """Leaves the transaction of the setup without keeping it."""


def _bench_actor() -> User:
    """An executive who sees every seller; made with a few named reps when there is none."""
    actor = User.objects.filter(role=Role.EXECUTIVE, is_active=True).order_by("pk").first()
    if actor is not None:
        return actor
    actor = User.objects.create(
        username="bench-exec", email="bench-exec@example.com", role=Role.EXECUTIVE,
        first_name="Bench", last_name="Executive",
    )  # fmt: skip
    firsts = ["Dana", "Sam", "Lee", "Ann", "Bo", "Kim", "Ravi", "Mia", "Olu", "Eva"]
    lasts = ["Reyes", "Okafor", "Chen", "Smith", "Jones", "Park", "Rao", "Berg", "Ade", "Kraus"]
    for i, first in enumerate(firsts):
        for j, last in enumerate(lasts[:3]):
            User.objects.create(
                username=f"bench-{i}-{j}", email=f"bench-{i}-{j}@example.com", role=Role.REP,
                first_name=first, last_name=last, manager=actor, ancestor_path=actor.subtree_path,
            )  # fmt: skip
    return actor


class Command(BaseCommand):
    help = "Time the deals CSV import (dry run and real, rolled back) against its targets."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--rows", type=int, action="append", help="default 10000, 100000")
        parser.add_argument("--no-fail", action="store_true", help="report only; exit 0")

    def handle(self, *args, **options) -> None:
        self.stdout.write(f"database: {connection.vendor} {connection.settings_dict.get('NAME')}")
        missed = 0
        for rows in options["rows"] or [10_000, 100_000]:
            self.stderr.write(f"  {rows} deals ...")
            try:
                with transaction.atomic():
                    lines, failed = imports.deals_report(actor=_bench_actor(), rows=rows)
                    raise _RollBack
            except _RollBack:
                pass
            missed += failed
            for line in lines:
                self.stdout.write(line)
        if missed and not options["no_fail"]:
            raise CommandError(f"{missed} target(s) missed.")
