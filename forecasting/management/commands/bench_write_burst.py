"""Benchmark: the worker CPU a burst of reps' writes costs in incremental recomputes.

Run on a seeded, fully recomputed PostgreSQL database with REDIS_URL set (``seed_demo --reps
100 --opportunities 10000``, then ``recompute_forecasts --all``). It starts one solo-pool Celery
worker on a queue of its own, has ``--reps`` reps make ``--writes`` writes through the accounts
services over ``--seconds`` (alternately logging a call on one of their open deals and
completing or undoing its first milestone, so runs repeat), waits until every rollup and KPI
mark (salesmgmt.refresh) is refreshed, and prints the worker's CPU seconds (user + system, from
/proc) with the batches it ran (seen in flight by a sampler every 20 ms).
The writes are real: the deals keep the new activities and milestone records.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from accounts import services as deal_services
from accounts.models import Activity, Milestone, MilestoneCompletion, Opportunity
from forecasting.aggregate_kinds import KPIS, ROLLUPS
from salesmgmt.models import StaleMark

KINDS = (ROLLUPS, KPIS)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its reaped children (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime, cutime, cstime = (int(v) for v in fields[11:15])
    return (utime + stime + cutime + cstime) / os.sysconf("SC_CLK_TCK")


class Command(BaseCommand):
    help = "Measure the worker CPU of the incremental recomputes a burst of writes causes."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--writes", type=int, default=300)
        parser.add_argument("--reps", type=int, default=50)
        parser.add_argument("--seconds", type=float, default=90.0, help="spread writes over")
        parser.add_argument("--settle-timeout", type=float, default=300.0)

    def handle(self, *args, writes: int, reps: int, seconds: float, **options) -> None:
        if connection.vendor != "postgresql" or not settings.REDIS_URL:
            raise CommandError("Needs PostgreSQL (DATABASE_URL) and Redis (REDIS_URL).")
        if StaleMark.objects.filter(kind__in=KINDS).exists():
            raise CommandError("Stale rollup or KPI marks pending: let them be refreshed first.")
        plan = self._plan(writes, reps)
        queue = f"bench-{uuid.uuid4().hex[:8]}"
        worker = self._start_worker(queue)
        try:
            settings.FORECASTING_RECOMPUTE_QUEUE = queue
            before = _cpu_seconds(worker.pid)
            sampler = BatchSampler()
            sampler.start()
            began = time.monotonic()
            for index, (rep, deal, step) in enumerate(plan):
                time.sleep(max(0.0, began + index * seconds / writes - time.monotonic()))
                self._write(rep, deal, step)
            writing = time.monotonic() - began
            self._settle(options["settle_timeout"], worker)
            used = _cpu_seconds(worker.pid) - before
            elapsed = time.monotonic() - began
            sampler.stop()
        finally:
            worker.terminate()
            worker.wait(timeout=30)
            self._delete_queue(queue)
        milestone_writes = sum(1 for _, _, step in plan if step is not None)
        self.stdout.write(
            f"{writes} writes ({milestone_writes} milestone completions or undos, the rest "
            f"logged calls) by {len({r.pk for r, _, _ in plan})} reps in {writing:.1f} s; "
            f"settled after {elapsed:.1f} s\n"
            f"rollup batches {sampler.batches(ROLLUPS)}, "
            f"KPI batches {sampler.batches(KPIS)} "
            f"(window {getattr(settings, 'FORECASTING_KPI_DEBOUNCE_SECONDS', '-')} s)\n"
            f"worker CPU {used:.1f} s = {used / writes * 1000:.0f} ms per write"
        )

    def _plan(self, writes: int, reps: int) -> list[tuple]:
        """(rep, deal, milestone or None) per write: reps' open deals, round-robin."""
        deals = list(
            Opportunity.objects.filter(status="open")
            .select_related("owner", "account")
            .order_by("owner_id", "pk")
        )
        by_owner: dict[int, list[Opportunity]] = {}
        for deal in deals:
            by_owner.setdefault(deal.owner_id, []).append(deal)
        owners = sorted(by_owner)[:reps]
        if len(owners) < reps:
            raise CommandError(f"Only {len(owners)} reps own open deals.")
        first_milestone: dict[int, Milestone] = {}
        for milestone in Milestone.objects.select_related("stage").order_by("stage__order", "pk"):
            first_milestone.setdefault(milestone.stage.process_id, milestone)
        # Is each deal's first milestone met now (its latest record a completion)? A milestone
        # write toggles it (complete or undo), so repeated runs find the same work to do.
        completed: dict[tuple[int, int], bool] = {}
        records = MilestoneCompletion.objects.filter(opportunity__status="open").order_by(
            "completed_at", "pk"
        )
        for deal_id, milestone_id, action in records.values_list(
            "opportunity_id", "milestone_id", "action"
        ):
            completed[(deal_id, milestone_id)] = action == MilestoneCompletion.Action.COMPLETE
        plan = []
        for index in range(writes):
            owner_deals = by_owner[owners[index % reps]]
            deal = owner_deals[(index // reps) % len(owner_deals)]
            step = None
            milestone = first_milestone.get(deal.process_id)
            if index % 2 and milestone is not None:  # every other write: a milestone
                key = (deal.pk, milestone.pk)
                step = ("undo" if completed.get(key) else "complete", milestone)
                completed[key] = not completed.get(key)
            plan.append((deal.owner, deal, step))
        return plan

    def _write(self, rep, deal, step) -> None:
        if step is None:
            deal_services.activity_log(
                actor=rep, kind=Activity.Kind.CALL, opportunity=deal, notes="bench"
            )
        elif step[0] == "undo":
            deal_services.milestone_undo(actor=rep, opportunity=deal, milestone=step[1])
        else:
            deal_services.milestone_complete(
                actor=rep, opportunity=deal, milestone=step[1], evidence="bench"
            )

    def _start_worker(self, queue: str) -> subprocess.Popen:
        env = {**os.environ, "CELERY_QUEUE": queue, "CELERY_TASK_ALWAYS_EAGER": "0"}
        command = [
            sys.executable, "-m", "celery", "-A", "salesmgmt", "worker", "--pool=solo",
            "-Q", queue, "-n", f"{queue}@%h", "--loglevel=WARNING",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
        ]  # fmt: skip
        worker = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            command, cwd=settings.BASE_DIR, env=env, stdin=subprocess.DEVNULL
        )
        time.sleep(8)  # imports and broker connection; measured from here on
        if worker.poll() is not None:
            raise CommandError(f"The worker exited with {worker.returncode}.")
        return worker

    def _delete_queue(self, queue: str) -> None:
        """Leave the broker as found (countdown tasks still held by the worker included)."""
        import redis

        broker = redis.Redis.from_url(settings.REDIS_URL)
        broker.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")

    def _settle(self, timeout: float, worker: subprocess.Popen) -> None:
        deadline = time.monotonic() + timeout
        while StaleMark.objects.filter(kind__in=KINDS).exists():
            if worker.poll() is not None or time.monotonic() > deadline:
                raise CommandError("The worker did not refresh the marks in time.")
            time.sleep(0.5)
        # Tasks not tracked in the database may still be queued: wait until the worker idles.
        idle, last = 0, _cpu_seconds(worker.pid)
        while idle < 3 and time.monotonic() < deadline:
            time.sleep(1)
            now = _cpu_seconds(worker.pid)
            idle, last = (idle + 1 if now - last < 0.05 else 0), now


class BatchSampler(threading.Thread):
    """Counts batches by the claim times of in-flight marks (a batch deletes its marks)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.seen: set[tuple[str, object]] = set()
        self.done = threading.Event()

    def run(self) -> None:
        try:
            while not self.done.wait(0.02):
                claimed = StaleMark.objects.filter(kind__in=KINDS, started_at__isnull=False)
                self.seen.update(claimed.values_list("kind", "started_at").distinct())
        finally:
            connection.close()  # this thread's own connection

    def stop(self) -> None:
        self.done.set()
        self.join(timeout=5)

    def batches(self, kind: str) -> int:
        return sum(1 for seen_kind, _ in self.seen if seen_kind == kind)
