"""The full recompute shared by N Celery worker processes: wall time and peak memory per worker.

For each N this starts N solo-pool workers (one process each, ``celery -A salesmgmt worker``)
on a queue of its own over REDIS_URL, sends one full run to it (``recompute_all_forecasts``:
one worker learns and plans, then every worker takes shards), waits for the run to finish and
samples each worker's resident memory (psutil, every 0.2 s) meanwhile. Wall time is from the
send to the run's ``finished_at``.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field

import psutil
from django.conf import settings
from django.utils import timezone

from salesmgmt.task_queue import solo_worker_argv

READY_TIMEOUT = 180
RUN_TIMEOUT = 3600


@dataclass
class WorkersResult:
    workers: int
    seconds: float
    learn: float
    peak_rss_mb: list[float]
    shards_by_worker: dict[str, int]
    # User + system CPU seconds of each worker process (PostgreSQL's own CPU is not in it):
    # on a shared machine the wall time alone does not say how much work the run was.
    cpu_seconds: list[float] = field(default_factory=list)
    # The workers' last warnings and errors (why a run stalled, if it did).
    worker_log: list[str] = field(default_factory=list)

    def line(self, baseline: float | None) -> str:
        speed_up = f", speed-up {baseline / self.seconds:.2f}x" if baseline else ""
        rss = " / ".join(f"{mb:,.0f}" for mb in self.peak_rss_mb)
        spread = " / ".join(str(n) for n in self.shards_by_worker.values())
        cpu = " / ".join(f"{s:,.0f}" for s in self.cpu_seconds)
        return (
            f"full recompute, {self.workers} worker process(es): {self.seconds:.1f} s "
            f"(learn {self.learn:.1f} s){speed_up}; peak RSS per worker MB: {rss}; "
            f"CPU s per worker: {cpu}; shards per worker: {spread}"
        )


def _start(queue: str) -> subprocess.Popen:
    env = {**os.environ, "CELERY_QUEUE": queue, "CELERY_TASK_ALWAYS_EAGER": "0"}
    command = solo_worker_argv(queue)
    return subprocess.Popen(  # noqa: S603 - fixed argv, no shell
        command,
        cwd=settings.BASE_DIR,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _drain(process: subprocess.Popen, log: list[str]) -> None:
    """Read the worker's log, so a full pipe never blocks it; keep its warnings and errors
    (with the lines after an error: its traceback)."""
    after_error = 0
    for line in process.stdout or []:
        if "ERROR" in line:
            after_error = 40
        if after_error or "WARNING" in line:
            log.append(line.rstrip())
            after_error = max(after_error - 1, 0)


def _wait_ready(process: subprocess.Popen, log: list[str]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    for line in process.stdout or []:
        if line.rstrip().endswith(" ready."):
            threading.Thread(target=_drain, args=(process, log), daemon=True).start()
            return
        if time.monotonic() > deadline:
            break
    raise RuntimeError(f"worker {process.pid} not ready (exit code {process.poll()})")


def measure(*, workers: int, trials: int) -> WorkersResult:
    """One full run on ``workers`` fresh worker processes."""
    from forecasting import tasks
    from forecasting.models import RecomputeRun
    from forecasting.services import runs

    queue = f"bench-recompute-{uuid.uuid4().hex[:8]}"
    processes = [_start(queue) for _ in range(workers)]
    peaks = [0] * workers
    cpu = [0.0] * workers
    stop = threading.Event()
    log: list[str] = []
    try:
        for process in processes:
            _wait_ready(process, log)

        def sample() -> None:
            watched = [psutil.Process(p.pid) for p in processes]
            while not stop.wait(0.2):
                for i, proc in enumerate(watched):
                    with contextlib.suppress(psutil.Error):
                        peaks[i] = max(peaks[i], proc.memory_info().rss)
                        times = proc.cpu_times()
                        cpu[i] = times.user + times.system

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        run = runs.full_recompute_start(trials=trials)
        sent = timezone.now()
        tasks.recompute_all_forecasts.apply_async(kwargs={"run_id": run.pk}, queue=queue)
        deadline = time.monotonic() + RUN_TIMEOUT
        while run.status in RecomputeRun.UNFINISHED:
            if time.monotonic() > deadline:
                raise RuntimeError(f"recompute run {run.pk} unfinished after {RUN_TIMEOUT} s")
            time.sleep(0.5)
            run.refresh_from_db()
        stop.set()
        sampler.join()
        if run.status != RecomputeRun.Status.DONE:
            tail = "\n".join(log[-60:])
            raise RuntimeError(f"recompute run {run.pk} {run.status}; the workers said:\n{tail}")
        by_worker: dict[str, int] = {}
        for name in run.shards.values_list("worker", flat=True):
            by_worker[name] = by_worker.get(name, 0) + 1
        return WorkersResult(
            workers=workers,
            seconds=((run.finished_at or timezone.now()) - sent).total_seconds(),
            learn=float(run.timings.get("learn", 0.0)),
            peak_rss_mb=[peak / 2**20 for peak in peaks],
            shards_by_worker=by_worker,
            cpu_seconds=cpu,
            worker_log=log[-20:],
        )
    finally:
        stop.set()
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
