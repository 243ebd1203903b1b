"""The shards of a full recompute, any worker's to run: their rows, leases and joins.

The run's first step (``recompute.recompute_plan``, one worker) learns the probability model
once and ``plan_save`` stores it on the run with the run's shards: one per quarter that scores
its deals (each deal once a run: their ``DealProbability`` rows name their quarter) and writes
the quarter's rollups; then one per month and year for their rollups (years first: the largest
start first, so two workers end together), which read those scores instead of scoring each deal
again; then one per year for the KPIs of the year and the quarters and months inside it, which
read the stored rollups. A worker runs a shard (``recompute.recompute_shard``) after
``shard_claim`` gave it its lease; a ``ShardHeartbeat`` renews the shard's heartbeat and the
run's meanwhile; the shard rewrites only its own rows, each period in one transaction (delete
+ insert), so a shard run twice leaves the same rows. The shard that completes a stage moves
the run on (``run_advance``): the next stage's shards to send, or the run finished
(``recompute_finish``).

Celery sends each stage's shards as a ``group`` (``forecasting.tasks``); the join is counted
here in the database, not in a result backend: the project keeps none, and a chord's counter
never completes when a worker dies in the middle of a task. A run whose shard lost its worker
goes stale and is resumed (``recompute_resume``): its unfinished shards are sent again.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import uuid
from dataclasses import dataclass

import pandas as pd
from django.db import transaction
from django.db.models import Max, Min, Q
from django.utils import timezone

from salesmgmt.models import Period

from .. import locks
from ..models import DealProbability, ProbabilityModel, RecomputeRun, RecomputeShard
from ..selectors import frames
from .context import FORECAST_KIND, periods_by_kind
from .leases import Heartbeat, stale_after

logger = logging.getLogger(__name__)

Stage = RecomputeShard.Stage
STAGES = [Stage.SCORES, Stage.ROLLUPS, Stage.KPIS]
# The stages whose shards rewrite one period's rollups each: together, the run's periods.
PERIOD_STAGES = [Stage.SCORES, Stage.ROLLUPS]
# Largest first (a year holds twelve months' deals): the last shard to start is a small one.
SIZE_ORDER: dict[str, int] = {Period.Kind.YEAR: 0, Period.Kind.QUARTER: 1, Period.Kind.MONTH: 2}
# The KPIs of the periods in no year of the run, this many of a kind to a shard (a year's
# periods go to their year's shard: ``kpi_groups``).
KPI_PERIODS_PER_SHARD = 6


def _by_size(item: tuple[str, list[Period]]) -> int:
    return SIZE_ORDER[item[0]]


def kpi_groups(periods: list[Period]) -> list[tuple[str, list[Period]]]:
    """The KPI shards' periods, with their names: each year of the run with the quarters and
    months inside it, so a year's stage history, closed deals and activities are loaded and
    scanned once for its three kinds (a shard per kind read each of them three times, and a
    kind's shards together all 9.3 M activities at 1 M deals); the periods in no year of the
    run (none from the fiscal calendar) a few of a kind to a shard. Largest first, so the
    last shards to start are small ones: by the stage changes in their span (the stays and
    entries a shard works through; a year's closed deals and activities follow them), then
    by periods."""
    years = sorted((p for p in periods if p.kind == Period.Kind.YEAR), key=lambda p: p.start_on)
    in_year: dict[int, list[Period]] = {year.pk: [] for year in years}
    rest: list[Period] = []
    for period in sorted(periods, key=lambda p: (SIZE_ORDER[p.kind], p.start_on)):
        year = next(
            (y for y in years if y.start_on <= period.start_on and period.end_on <= y.end_on),
            None,
        )
        if year is None:
            rest.append(period)
        else:
            in_year[year.pk].append(period)
    groups = [(f"kpis {year.name} and its periods", in_year[year.pk]) for year in years]
    for _, same_kind in sorted(periods_by_kind(rest).items(), key=_by_size):
        for start in range(0, len(same_kind), KPI_PERIODS_PER_SHARD):
            chunk = same_kind[start : start + KPI_PERIODS_PER_SHARD]
            name = f"kpis {chunk[0].name}" + (f" to {chunk[-1].name}" if chunk[1:] else "")
            groups.append((name, chunk))
    weights = [
        frames.stage_change_count(
            since=min(p.start_on for p in group), until=max(p.end_on for p in group)
        )
        for _, group in groups
    ]
    order = sorted(range(len(groups)), key=lambda i: (-weights[i], -len(groups[i][1])))
    return [groups[i] for i in order]


def worker_name(node: str | None = None) -> str:
    """The Celery node (or host) and the process: what the recompute page shows per shard."""
    return f"{node or socket.gethostname()}:{os.getpid()}"


def is_planned(run: RecomputeRun) -> bool:
    return run.model_id is not None and run.shards.exists()


def plan_save(
    *,
    run: RecomputeRun,
    model: ProbabilityModel,
    periods: list[Period],
    with_kpis: bool,
    full_quota_on: dict[int, dt.date] | None = None,
) -> int:
    """Store the learned model (and the KPIs' ``full_quota_on``) on the run and make its
    shards; returns how many."""
    today = timezone.localdate(run.as_of) if run.as_of else timezone.localdate()
    # Within a kind, the periods not over first: they simulate their range and take the
    # longest (a current quarter 20-35 s at 1 M deals, one that is over 4-13 s), so a stage
    # ends on short shards instead of one worker finishing a long one while the other waits.
    rollup_periods = sorted(
        periods, key=lambda p: (SIZE_ORDER[p.kind], p.end_on < today, p.start_on)
    )
    parts = [
        (Stage.SCORES, f"scores and rollups {p.name}", [p.pk])
        for p in rollup_periods
        if p.kind == FORECAST_KIND
    ]
    parts += [
        (Stage.ROLLUPS, f"rollups {p.name}", [p.pk])
        for p in rollup_periods
        if p.kind != FORECAST_KIND
    ]
    if with_kpis:
        parts += [(Stage.KPIS, name, [p.pk for p in group]) for name, group in kpi_groups(periods)]
    with transaction.atomic():
        DealProbability.objects.exclude(period__in=periods).delete()
        run.shards.all().delete()
        RecomputeShard.objects.bulk_create(
            RecomputeShard(run=run, stage=stage, position=i, name=name[:60], period_ids=ids)
            for i, (stage, name, ids) in enumerate(parts)
        )
        # The first stage's: the shard that completes it moves the run to the next one.
        run.model, run.phase, run.progress = model, parts[0][0] if parts else Stage.ROLLUPS, 0.1
        run.full_quota_on = (
            None
            if full_quota_on is None
            else {str(pid): day.isoformat() for pid, day in full_quota_on.items()}
        )
        run.save(update_fields=["model", "phase", "progress", "full_quota_on", "updated_at"])
    logger.info("Recompute run %s planned: %s shards on model %s", run.pk, len(parts), model.pk)
    return len(parts)


class ShardHeartbeat(Heartbeat):
    """Renews the shard's heartbeat and its run's: a run with a live shard is not abandoned."""

    def __init__(self, *, shard: RecomputeShard, lease: str, interval: float) -> None:
        super().__init__(run_id=shard.run_id, lease=lease, interval=interval)
        self.shard_id = shard.pk
        self._thread.name = f"heartbeat-shard-{shard.pk}"

    def renew(self, now: dt.datetime) -> bool:
        held = RecomputeShard.objects.filter(
            pk=self.shard_id, lease=self.lease, state=RecomputeShard.State.RUNNING
        ).update(heartbeat_at=now)
        if held:
            RecomputeRun.objects.filter(pk=self.run_id, status=RecomputeRun.Status.RUNNING).update(
                heartbeat_at=now
            )
        return bool(held)

    def exists(self) -> bool:
        return RecomputeShard.objects.filter(pk=self.shard_id).exists()


@dataclass(frozen=True)
class RunStep:
    """What follows a shard: a stage's shards to send (``shard_ids``), or the run done."""

    stage: str
    shard_ids: list[int]


def shard_claim(*, shard_id: int, worker: str) -> tuple[RecomputeShard, str] | None:
    """The shard and our lease on it, or None when it is done or a live worker has it."""
    lease, now = uuid.uuid4().hex, timezone.now()
    if not locks.claim_recompute_shard(
        shard_id=shard_id, lease=lease, worker=worker, now=now, stale_before=now - stale_after()
    ):
        logger.info("Recompute shard %s is done, or held by a live worker: skipped", shard_id)
        return None
    shard = RecomputeShard.objects.select_related("run", "run__model").get(pk=shard_id)
    logger.info(
        "Recompute run %s shard %s (%s) started on %s, attempt %s",
        shard.run_id, shard.position, shard.name, worker, shard.attempts,
    )  # fmt: skip
    return shard, lease


def shard_done(*, shard: RecomputeShard, lease: str, seconds: float, rows: int) -> RunStep | None:
    """Record the shard done; the run's next step if it was the last of its stage."""
    finished = RecomputeShard.objects.filter(pk=shard.pk, lease=lease).update(
        state=RecomputeShard.State.DONE,
        finished_at=timezone.now(),
        seconds=seconds,
        rows=rows,
        heartbeat_at=None,
        updated_at=timezone.now(),
    )
    logger.info(
        "Recompute run %s shard %s (%s) finished on %s in %.2f s, %s rows",
        shard.run_id, shard.position, shard.name, shard.worker, seconds, rows,
    )  # fmt: skip
    return run_advance(run_id=shard.run_id) if finished else None


@transaction.atomic
def shard_failed(*, shard: RecomputeShard, lease: str) -> None:
    """A bug, not the infrastructure: the shard and its run fail instead of looping."""
    RecomputeShard.objects.filter(pk=shard.pk, lease=lease).update(
        state=RecomputeShard.State.FAILED, updated_at=timezone.now()
    )
    RecomputeRun.objects.filter(pk=shard.run_id, status__in=RecomputeRun.UNFINISHED).update(
        status=RecomputeRun.Status.FAILED, updated_at=timezone.now()
    )
    logger.error("Recompute run %s shard %s (%s) failed", shard.run_id, shard.pk, shard.name)


def run_period_ids(run: RecomputeRun) -> set[int]:
    """Every period of the run (its rollup shards')."""
    ids: set[int] = set()
    stages = run.shards.filter(stage__in=PERIOD_STAGES)
    for period_ids in stages.values_list("period_ids", flat=True):
        ids.update(period_ids)
    return ids


def shard_release(*, shard_id: int, lease: str) -> None:
    """Give the shard back at once (a database hiccup): the task's retry claims it again."""
    RecomputeShard.objects.filter(pk=shard_id, lease=lease).update(
        state=RecomputeShard.State.PENDING, heartbeat_at=None, updated_at=timezone.now()
    )


def lost_shards_reset(*, run_id: int) -> list[int]:
    """The run's running shards whose own heartbeat went stale (their workers died), made
    pending again; returns those this call reset (of two callers at once, each shard goes to
    one: its UPDATE matches only while it is still stale and running)."""
    cutoff = timezone.now() - stale_after()
    lost = RecomputeShard.objects.filter(run_id=run_id, state=RecomputeShard.State.RUNNING).filter(
        Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=cutoff)
    )
    reset = [
        pk
        for pk in sorted(lost.values_list("pk", flat=True))  # a few: at most one per worker
        if lost.filter(pk=pk).update(
            state=RecomputeShard.State.PENDING, heartbeat_at=None, updated_at=timezone.now()
        )
    ]
    if reset:
        logger.warning("Recompute run %s: shards %s lost their workers, sent again", run_id, reset)
    return reset


def run_advance(*, run_id: int) -> RunStep | None:
    """After a shard finished: the first stage with shards left (once, for the shard that
    completed the one before it), or the run finished when none is left. Shards whose worker
    died (heartbeat stale) are sent again first: a live worker need not wait for the run to go
    stale and the reconciler to pass."""
    resent = lost_shards_reset(run_id=run_id)
    if resent:
        return RunStep("resend", resent)
    counts = pd.DataFrame(
        list(RecomputeShard.objects.filter(run_id=run_id).values_list("stage", "state")),
        columns=["stage", "state"],
    )
    done = int((counts["state"] == RecomputeShard.State.DONE).sum())
    RecomputeRun.objects.filter(pk=run_id, status__in=RecomputeRun.UNFINISHED).update(
        progress=0.1 + 0.9 * done / max(len(counts), 1), updated_at=timezone.now()
    )
    open_stages = set(counts.loc[counts["state"] != RecomputeShard.State.DONE, "stage"])
    for stage in STAGES:
        if stage in open_stages:
            # One UPDATE decides which of two shards finishing together sends the next stage.
            moved = (
                RecomputeRun.objects.filter(pk=run_id, status=RecomputeRun.Status.RUNNING)
                .exclude(phase=stage)
                .update(phase=stage, updated_at=timezone.now())
            )
            return RunStep(stage, pending_ids(run_id, stage)) if moved else None
    return RunStep("done", []) if recompute_finish(run_id=run_id) else None


def pending_ids(run_id: int, stage: str) -> list[int]:
    return list(
        RecomputeShard.objects.filter(run_id=run_id, stage=stage)
        .exclude(state=RecomputeShard.State.DONE)
        .order_by("position")
        .values_list("pk", flat=True)
    )


def first_step(*, run: RecomputeRun) -> RunStep:
    """The run's first stage with shards left to send (a run without quarters has no score
    shards), or the run finished when none is left: a fresh run's and a resumed run's."""
    for stage in STAGES:
        pending = pending_ids(run.pk, stage)
        if pending:
            return RunStep(stage, pending)
    recompute_finish(run_id=run.pk)
    return RunStep("done", [])


def recompute_resume(*, run: RecomputeRun) -> RunStep:
    """A claimed run: its shards left running whose own heartbeat went stale were lost with
    their workers, so they start again; returns the stage to send now, or the run finished.

    Only those: a live shard renews the run's heartbeat with its own, yet a run was once seen
    stale at 1 M deals while both its workers were still in their shards, and resetting those
    ran the same month twice at once. A live shard sent again is a no-op (its claim fails)."""
    lost_shards_reset(run_id=run.pk)
    step = first_step(run=run)
    if step.stage != "done":
        RecomputeRun.objects.filter(pk=run.pk).update(phase=step.stage, updated_at=timezone.now())
    return step


def recompute_finish(*, run_id: int) -> bool:
    """Mark the run done with its timings (learning, each shard, the wall time); True if this
    call finished it."""
    run = RecomputeRun.objects.get(pk=run_id)
    shards = RecomputeShard.objects.filter(run_id=run_id)
    if run.status not in RecomputeRun.UNFINISHED or shards.exclude(state=RecomputeShard.State.DONE):
        return False
    timings = {"learn": float(run.timings.get("learn", 0.0))}
    timings.update({name: s for name, s in shards.values_list("name", "seconds") if s})
    span = shards.aggregate(first=Min("started_at"), last=Max("finished_at"))
    if span["first"] and span["last"]:
        timings["shards"] = (span["last"] - span["first"]).total_seconds()
        timings["total"] = timings["learn"] + timings["shards"]
    now = timezone.now()
    finished = RecomputeRun.objects.filter(pk=run_id, status__in=RecomputeRun.UNFINISHED).update(
        status=RecomputeRun.Status.DONE,
        phase="done",
        progress=1.0,
        timings=timings,
        finished_at=now,
        heartbeat_at=None,
        updated_at=now,
    )
    if finished:
        logger.info("Recompute run %s done in %.2f s", run_id, timings.get("total", 0.0))
    return bool(finished)


def stored_full_quota_on(run: RecomputeRun) -> dict[int, dt.date] | None:
    """The run's ``full_quota_on`` as the KPIs take it (None: not stored)."""
    if run.full_quota_on is None:
        return None
    return {int(pid): dt.date.fromisoformat(day) for pid, day in run.full_quota_on.items()}
