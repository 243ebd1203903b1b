"""The product's own refresh of every stored aggregate, run synchronously for the tests."""

from __future__ import annotations

from coaching.services import compliance_refresh
from compensation.models import PayoutRun
from compensation.services import payout_run_compute
from forecasting.services import flags, runs
from territories.services import attainment_refresh_all

TRIALS = 200  # enough for a range; the reconciliation checks its bounds, not its shape


def refresh_everything() -> None:
    """Full forecast recompute (rollups, probabilities, KPIs), flags, attainment of every
    computed period and the current ones, compliance, and the draft payout runs."""
    runs.full_recompute(trials=TRIALS)
    flags.refresh_flags()
    attainment_refresh_all(force=True, include_current=True)
    compliance_refresh(force=True)
    for run in PayoutRun.objects.filter(status=PayoutRun.Status.DRAFT).select_related("period"):
        payout_run_compute(period=run.period)
