"""The product's own refresh of every stored aggregate, run synchronously (what the nightly
jobs do). Not part of the independent path: ``verify_figures --refresh`` runs it first, so
the comparison is against freshly rebuilt aggregates instead of a queue still draining."""

from __future__ import annotations


def refresh_all(*, trials: int | None = None) -> None:
    """Full forecast recompute (probabilities, rollups, ranges, KPIs), flags, attainment of
    every computed period and the current ones, compliance, and the draft payout runs."""
    from coaching.services import compliance_refresh
    from compensation.models import PayoutRun
    from compensation.services import payout_run_compute
    from forecasting.services import flags, runs
    from territories.services import attainment_refresh_all

    if runs.full_recompute_run(trials=trials) is None:
        # A live worker holds the run: its rows are rewritten when it ends, not now.
        raise RuntimeError("A full recompute is running on a worker; stop it or wait.")
    flags.flags_refresh()
    attainment_refresh_all()
    compliance_refresh()
    for run in PayoutRun.objects.filter(status=PayoutRun.Status.DRAFT).select_related("period"):
        payout_run_compute(period=run.period)
