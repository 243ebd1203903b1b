"""Full recompute runs: progress, and the lease that lets a run killed mid-way be resumed.

A run is created ``pending`` with the moment it computes for (``as_of``) and its trial count,
so a resumed run rebuilds exactly the rows an undisturbed one would. The worker that claims it
holds a lease (``lease`` token) and renews ``heartbeat_at`` while it works; a run that is not
finished and whose heartbeat is older than ``FORECASTING_RUN_STALE_SECONDS`` has lost its
worker (kill -9, a lost machine) and is claimed again by the next task the reconciler sends.
"""

from __future__ import annotations

from django.db import models

from salesmgmt.models import BaseModel


class RecomputeRun(BaseModel):
    """Progress, timings and the worker lease of one full recompute."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    UNFINISHED = (Status.PENDING, Status.RUNNING)

    status = models.CharField(max_length=8, choices=Status.choices, default=Status.RUNNING)
    phase = models.CharField(max_length=40, blank=True)
    progress = models.FloatField(default=0.0)
    timings = models.JSONField(default=dict, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # What the run computes for; a resumed run reuses both so its rows equal an undisturbed run.
    as_of = models.DateTimeField(null=True, blank=True)
    trials = models.PositiveIntegerField(null=True, blank=True)
    lease = models.CharField(max_length=32, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # The model its first step learned: every shard scores deals with it, on any worker.
    # The ramp KPI's first quarter at full quota per person ({person id: ISO day},
    # ``kpis.full_quota_dates``), worked out once by the plan: each KPI shard would otherwise
    # read every quarter's quotas and credited bookings again (15 s a shard at 1 M deals).
    # None: not worked out (a run planned before it was stored); the shard does it itself.
    full_quota_on = models.JSONField(null=True, blank=True)
    model = models.ForeignKey(
        "forecasting.ProbabilityModel", null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "heartbeat_at"], name="recompute_run_liveness")]

    def __str__(self) -> str:
        return f"run {self.pk} {self.status} {self.phase}"


class RecomputeShard(BaseModel):
    """One part of a full run, done by one worker: a period's rollups, or KPIs of periods.

    A run's shards are made by its first step (``services.shards.recompute_plan``); each is
    claimed with a lease like the run, renews its own heartbeat (and the run's), and rewrites
    only its own rows in one transaction, so running it again leaves the same rows.
    """

    class Stage(models.TextChoices):
        # The quarters first: each scores its deals once for the run (their DealProbability
        # rows name the quarter) and writes its rollups; the months and years read the scores.
        SCORES = "scores", "Deal scores and quarter rollups"
        ROLLUPS = "rollups", "Rollups"
        KPIS = "kpis", "KPIs"  # after every rollup shard: a KPI reads its period's rollups

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    run = models.ForeignKey(RecomputeRun, on_delete=models.CASCADE, related_name="shards")
    stage = models.CharField(max_length=8, choices=Stage.choices)
    position = models.PositiveIntegerField()
    name = models.CharField(max_length=60)
    period_ids = models.JSONField(default=list)
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    worker = models.CharField(max_length=120, blank=True)
    lease = models.CharField(max_length=32, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    seconds = models.FloatField(null=True, blank=True)
    rows = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["run", "position"]
        constraints = [
            models.UniqueConstraint(fields=["run", "position"], name="recompute_shard_position")
        ]

    def __str__(self) -> str:
        return f"run {self.run_id} shard {self.position} {self.name} {self.state}"
