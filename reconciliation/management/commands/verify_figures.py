"""Rebuild every stored aggregate from the raw records and list where they differ.

Exit status 0 when every figure agrees, 1 on any difference (reconciliation).
"""

from __future__ import annotations

import json
import sys
from decimal import Decimal, InvalidOperation

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from reconciliation import AGGREGATES, verify_figures
from reconciliation.product_refresh import refresh_all
from salesmgmt.models import Period, User


class Command(BaseCommand):
    help = (
        "Compare stored forecast, attainment, KPI, statement, compliance and flag figures, and "
        "activities' copy of their deal's owner, with raw records"
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--period", action="append", help="Period id or name (repeatable).")
        parser.add_argument("--person", action="append", help="User id or username (repeatable).")
        parser.add_argument(
            "--tolerance", default="0.01", help="Money difference ignored (default 0.01)."
        )
        parser.add_argument(
            "--only", action="append", choices=AGGREGATES, help="Check only these aggregates."
        )
        parser.add_argument("--json", action="store_true", help="Print the differences as JSON.")
        parser.add_argument(
            "--refresh",
            action="store_true",
            help="Run the product's full refresh first (recompute, flags, attainment, compliance, "
            "draft payout runs), as the nightly jobs do.",
        )

    def handle(self, *args, **options) -> None:
        try:
            tolerance = Decimal(options["tolerance"])
        except InvalidOperation as exc:
            raise CommandError("--tolerance must be a number, e.g. 0.01.") from exc
        period_ids = _ids(Period, options["period"], "name", "period")
        person_ids = _ids(User, options["person"], "username", "person")
        if options["refresh"]:
            refresh_all()
        differences = verify_figures(
            period_ids=period_ids,
            person_ids=person_ids,
            tolerance=tolerance,
            aggregates=options["only"] or AGGREGATES,
        )
        if options["json"]:
            payload = {"differences": [d.as_dict() for d in differences]}
            self.stdout.write(json.dumps(payload, indent=2, default=str))
        else:
            for difference in differences:
                self.stdout.write(str(difference))
            self.stdout.write(f"{len(differences)} difference(s).")
        if differences:
            sys.exit(1)


def _ids(model, values: list[str] | None, name_field: str, label: str) -> list[int] | None:
    if not values:
        return None
    ids = []
    for value in values:
        query = Q(**{name_field: value})
        if value.isdigit():
            query |= Q(pk=int(value))
        found = list(model.objects.filter(query).values_list("pk", flat=True))
        if not found:
            raise CommandError(f"No {label} {value!r}.")
        ids += found
    return ids
