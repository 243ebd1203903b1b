"""Reference data the demo needs: periods, exchange rates and the two sales processes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from accounts.models import Milestone, SalesProcess, Stage
from accounts.stages import StageSpec
from salesmgmt.errors import ApplicationError
from salesmgmt.models import ExchangeRate
from salesmgmt.services import exchange_rate_set, periods_ensure

from .vocabulary import PROCESSES, START_RATES


@dataclass
class _Process:
    process: SalesProcess
    specs: list[StageSpec]
    stages: list[Stage]
    milestones: list[list[Milestone]]


class ReferenceMixin:
    """DemoDataBuilder's reference data; existing processes, periods and rates are kept."""

    def build_reference_data(self) -> None:
        """Periods and rates for every day the demo touches; the two sales processes."""
        self._ensure_periods_and_rates()
        self._ensure_processes()

    def _ensure_periods_and_rates(self) -> None:
        last_day = self.today + dt.timedelta(days=200)
        for year in range(self.day(self.first_deal_t - 720).year, last_day.year + 1):
            periods_ensure(year=year)
        quarter_starts = []
        month = self.history_start.year * 12 + self.history_start.month - 1 - 6
        while dt.date(month // 12, month % 12 + 1, 1) <= self.today:
            quarter_starts.append(dt.date(month // 12, month % 12 + 1, 1))
            month += 3
        for currency, rate in START_RATES.items():
            drift = [rate]
            for _ in quarter_starts[1:]:
                drift.append(drift[-1] * (1 + self.rng.gauss(0, 0.02)))
            # A currency someone already maintains keeps its rates.
            if ExchangeRate.objects.filter(currency=currency).exists():
                continue
            for effective_on, value in zip(quarter_starts, drift, strict=True):
                exchange_rate_set(
                    currency=currency,
                    rate_to_reporting=Decimal(f"{value:.6f}"),
                    effective_on=effective_on,
                )

    def _ensure_processes(self) -> None:
        has_default = SalesProcess.objects.filter(is_default=True).exists()
        self.processes: dict[str, _Process] = {}
        for name, description, wants_default, stages in PROCESSES:
            process, created = SalesProcess.objects.get_or_create(
                name=name,
                defaults={
                    "description": description,
                    "is_default": wants_default and not has_default,
                    "requires_verification": False,
                },
            )
            if created:
                for order, (stage_name, category, milestones) in enumerate(stages, start=1):
                    stage = Stage.objects.create(
                        process=process,
                        name=stage_name,
                        order=order,
                        default_forecast_category=category,
                    )
                    Milestone.objects.bulk_create(
                        Milestone(stage=stage, name=m, evidence_required=needs, order=i)
                        for i, (m, needs) in enumerate(milestones)
                    )
            self.processes[name] = self._load_process(process)

    def _load_process(self, process: SalesProcess) -> _Process:
        stages = list(process.stages.order_by("order").prefetch_related("milestones"))
        milestones = [sorted(s.milestones.all(), key=lambda m: (m.order, m.pk)) for s in stages]
        if not stages or not all(milestones):
            raise ApplicationError(f"Sales process “{process}” needs stages with milestones.")
        specs = [
            StageSpec(s.pk, frozenset(m.pk for m in ms))
            for s, ms in zip(stages, milestones, strict=True)
        ]
        return _Process(process, specs, stages, milestones)
