"""`make load`: the realistic mix at N concurrent users for a bounded time, then the figures.

Starts the private stack (stack.py), runs locust headless in a separate process, prints
requests, throughput, p50/p95 per request type and in total, failures, then checks that every
write the server confirmed is in the database, and that every stored figure reconciles with
the raw records (``verify_figures``, after a synchronous refresh). Exits non-zero when
errors > 0, the steady-state read or write p95 is over its target (300 and 500 ms), a
confirmed write is missing or a figure differs.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

from scripts.ops import cpu
from scripts.ops.driver import Driver
from scripts.ops.stack import BASE_URL, BIN, ROOT, Stack, log
from scripts.ops.verify import change_log_gaps, read_writes, verify_writes

LOCUSTFILE = Path(__file__).with_name("locustfile.py")


def run_locust(
    stack: Stack, *, users: int, spawn_rate: float, duration: int, prefix: str, think: str
) -> tuple[list[dict], Path]:
    """Run locust to completion; returns its per-request-type rows and the writes file."""
    writes = stack.dir / f"{prefix}-writes.jsonl"
    csv_prefix = stack.dir / prefix
    env = {
        **stack.env,
        "OPS_PLAN": str(stack.plan_path),
        "OPS_WRITES": str(writes),
        "OPS_TIMINGS": str(stack.dir / f"{prefix}-timings.json"),
        "OPS_THINK": think,
    }
    args = [
        str(BIN / "locust"),
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        str(spawn_rate),
        "--run-time",
        f"{duration}s",
        "--stop-timeout",
        "15",
        "--host",
        BASE_URL,
        "--csv",
        str(csv_prefix),
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    log(f"locust: {users} users (spawn {spawn_rate}/s, think {think} s) for {duration} s")
    with open(stack.logs / f"{prefix}-locust.log", "w") as out:
        subprocess.run(  # noqa: S603 - fixed argument list
            args,
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
            timeout=duration + 180,
        )
    with open(f"{csv_prefix}_stats.csv") as handle:
        rows = list(csv.DictReader(handle))
    return rows, writes


WARM_PAGES = {
    "reps": ["/my/", "/opportunities/"],
    "managers": ["/coaching/", "/coaching/reviews/", "/accounts/"],
    "executives": ["/coaching/executive/", "/forecast/"],
}


def warm_up(stack: Stack) -> dict[str, float]:
    """Each page a few times first, so every gunicorn worker has loaded its code and templates
    (a deploy's cold start is not what the steady-state figures are about); returns each
    page's median time for one user alone, the baseline the loaded figures compare with."""
    plan = stack.plan()
    driver = Driver(plan)
    alone: dict[str, float] = {}
    for key, pages in WARM_PAGES.items():
        session = driver.login(plan[key][0])
        for page in pages:
            times = []
            for _ in range(2 * stack.web_workers):
                started = time.perf_counter()
                session.get(f"{BASE_URL}{page}", timeout=60)
                times.append((time.perf_counter() - started) * 1000)
            alone[page] = percentile(times, 0.5)
    return alone


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile; inf for no values."""
    if not values:
        return float("inf")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


class Timing(NamedTuple):
    """One request as the locustfile recorded it."""

    name: str
    started: float  # epoch seconds
    ms: float
    succeeded: bool
    method: str

    @property
    def is_write(self) -> bool:
        return self.method not in {"GET", "HEAD", "OPTIONS"}


def slowest(timings: list[Timing], count: int) -> list[tuple[str, int, float]]:
    """The ``count`` request types with the highest p95: (method and name, requests, p95)."""
    by_type: dict[str, list[float]] = {}
    for timing in timings:
        by_type.setdefault(f"{timing.method} {timing.name}", []).append(timing.ms)
    rows = [(name, len(ms), percentile(ms, 0.95)) for name, ms in by_type.items()]
    return sorted(rows, key=lambda row: row[2], reverse=True)[:count]


def server_side(stack: Stack, since: float, count: int) -> None:
    """The views that took the most server time since ``since`` (scripts/ops/timing.py):
    where the time went inside gunicorn, apart from waiting for a free worker."""
    path = Path(stack.env["OPS_TIMING_LOG"])
    if not path.exists():
        return
    by_view: dict[str, list[dict]] = {}
    for line in path.read_text().splitlines():
        row = json.loads(line)
        if row["at"] >= since:
            by_view.setdefault(row["view"], []).append(row)
    ranked = sorted(by_view.items(), key=lambda item: -sum(r["ms"] for r in item[1]))
    # count x mean is the view's share of the server: on a CPU-bound box, what to cut first.
    print("  server side, by total time in the view (scripts/ops/timing.py):")
    print(
        f"    {'view':<52} {'count':>6} {'mean ms':>7} {'p50 ms':>7} {'p95 ms':>7} "
        f"{'total s':>7} {'queries':>7} {'db ms':>6} {'cpu ms':>6}"
    )
    for view, rows in ranked[:count]:
        ms = [r["ms"] for r in rows]
        print(
            f"    {view[:52]:<52} {len(rows):>6} {sum(ms) / len(ms):>7.0f} "
            f"{percentile(ms, 0.5):>7.0f} {percentile(ms, 0.95):>7.0f} {sum(ms) / 1000:>7.1f} "
            f"{sum(r['queries'] for r in rows) / len(rows):>7.1f} "
            f"{sum(r['db_ms'] for r in rows) / len(rows):>6.1f} "
            f"{sum(r.get('cpu_ms', 0.0) for r in rows) / len(rows):>6.1f}"
        )


def cpu_roots(stack: Stack) -> dict[str, int]:
    """The stack's parts as process trees, and this process with locust, its child."""
    roots = {name: proc.pid for name, proc in stack.procs.items()}
    for name, data in (("postgres", stack.pg_data), ("replica", stack.pg_replica_data)):
        pid = cpu.postmaster_pid(data)
        if pid is not None:
            roots[name] = pid
    return {**roots, cpu.DRIVER: os.getpid()}


def failures(stack: Stack, prefix: str) -> list[dict]:
    path = stack.dir / f"{prefix}_failures.csv"
    if not path.exists():
        return []
    with open(path) as handle:
        return list(csv.DictReader(handle))


def print_table(rows: list[dict]) -> dict:
    """The per-type table; returns the aggregated row."""
    head = f"{'request':<48} {'count':>7} {'fail':>5} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7}"
    print(head)
    print("-" * len(head))
    total = {}
    for row in rows:
        line = (
            f"{(row['Type'] + ' ' + row['Name'])[:48]:<48} {row['Request Count']:>7} "
            f"{row['Failure Count']:>5} {float(row['Requests/s']):>7.1f} "
            f"{row['50%']:>7} {row['95%']:>7}"
        )
        if row["Name"] == "Aggregated":
            total = row
            print("-" * len(head))
        print(line)
    return total


def reconcile(stack: Stack) -> int:
    """After the load: stop beat and the worker, refresh synchronously, run verify_figures.

    Stopping them first (a warm shutdown finishes the tasks in hand) and running the nightly
    refresh in-process gives a fixed end point: waiting for "the queue is empty" cannot see a
    debounced refresh still in its countdown or the next five-minute sweep, and draft payout
    runs are only recomputed on demand. Returns the number of differences (-1: it failed).
    """
    stack.stop_beat()
    stack.stop_worker()
    path = stack.logs / "verify_figures.txt"
    result = subprocess.run(  # noqa: S603 - a fixed argument list
        [str(BIN / "python"), "manage.py", "verify_figures", "--refresh"],
        cwd=ROOT,
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    path.write_text(result.stdout + result.stderr)
    lines = [line for line in result.stdout.splitlines() if " | " in line]
    for line in lines[:20]:
        print(f"  {line[:300]}")
    if result.returncode not in (0, 1):
        print(f"  verify_figures failed ({result.returncode}): {result.stderr[-2000:]}")
        return -1
    log(f"verify_figures: {len(lines)} difference(s), output in {path}")
    return len(lines) if result.returncode else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--spawn-rate", type=float, default=10)
    parser.add_argument("--duration", type=int, default=300, help="seconds of load")
    parser.add_argument("--reps", type=int, default=120)
    parser.add_argument("--opportunities", type=int, default=8000)
    parser.add_argument("--read-p95-target-ms", type=int, default=300)
    parser.add_argument("--write-p95-target-ms", type=int, default=500)
    parser.add_argument(
        "--think", default="2,8", help="seconds between a person's actions: min,max"
    )
    parser.add_argument(
        "--web-workers", type=int, default=4, help="gunicorn sync workers (2 per core)"
    )
    parser.add_argument(
        "--no-replica",
        action="store_true",
        help="every read on the primary (no streaming replica), to compare",
    )
    args = parser.parse_args(argv)

    stack = Stack(
        reps=args.reps,
        opportunities=args.opportunities,
        replica=not args.no_replica,
        web_workers=args.web_workers,
    )
    ok = False
    try:
        stack.start()
        alone = warm_up(stack)
        log("one user alone, median ms: " + ", ".join(f"{p} {ms:.0f}" for p, ms in alone.items()))
        started = time.monotonic()
        cpu_before = cpu.sample(cpu_roots(stack))
        rows, writes_path = run_locust(
            stack,
            users=args.users,
            spawn_rate=args.spawn_rate,
            duration=args.duration,
            prefix="load",
            think=args.think,
        )
        elapsed = time.monotonic() - started
        cpu_lines = cpu.report(cpu_before, cpu.sample(cpu_roots(stack)), elapsed)
        print()
        total = print_table(rows)
        requests = int(total.get("Request Count", 0))
        errors = int(total.get("Failure Count", 0))
        timings = json.loads((stack.dir / "load-timings.json").read_text())
        every = [Timing(*row) for row in timings["requests"]]
        # The targets are on the steady state: requests started once every user was spawned
        # and every log-in answered. Each start logs in, hashing a password with 1M PBKDF2
        # rounds (about 0.5 s of CPU), so 100 log-ins queue everything else for a while after
        # the last user is spawned. The whole run is reported too.
        spawned_at = (timings["spawned_at"] or [0.0])[0]
        logged_in = max(
            (t.started + t.ms / 1000 for t in every if t.name == "/login/"), default=0.0
        )
        ramp_end = max(spawned_at, logged_in)
        steady = [t for t in every if t.started >= ramp_end]
        reads = [t.ms for t in steady if not t.is_write]
        writes = [t.ms for t in steady if t.is_write]
        read_p95, write_p95 = percentile(reads, 0.95), percentile(writes, 0.95)
        throughput = float(total.get("Requests/s", 0))
        for failure in failures(stack, "load")[:15]:
            print(
                f"  failure x{failure['Occurrences']}: {failure['Method']} {failure['Name']}: "
                f"{failure['Error'][:300]}"
            )
        check = verify_writes(stack, read_writes(writes_path))
        gaps = change_log_gaps(stack)
        server_errors = sum(
            1 for line in (stack.logs / "access.log").read_text().splitlines() if '" 5' in line
        )
        print()
        print(f"users {args.users}, {args.duration} s of load ({elapsed:.0f} s with ramp/stop)")
        print(f"requests {requests}, throughput {throughput:.1f} req/s")
        ramp = ramp_end - min((t.started for t in every), default=ramp_end)
        print(f"steady state: {len(steady)} requests after the ramp ({ramp:.0f} s)")
        print(
            f"  reads  {len(reads):>6}: p95 {read_p95:.0f} ms (target <= "
            f"{args.read_p95_target_ms} ms), p50 {percentile(reads, 0.5):.0f} ms"
        )
        print(
            f"  writes {len(writes):>6}: p95 {write_p95:.0f} ms (target <= "
            f"{args.write_p95_target_ms} ms), p50 {percentile(writes, 0.5):.0f} ms"
        )
        print("  slowest request types (steady-state p95):")
        for name, count, p95 in slowest(steady, 6):
            print(f"    {p95:>6.0f} ms  {count:>6}  {name}")
        server_side(stack, ramp_end, 10)
        for line in cpu_lines:
            print("  " + line)
        logins = [t.ms for t in every if t.name.startswith("/login/")]
        print(
            f"whole run incl. ramp: p95 {percentile([t.ms for t in every], 0.95):.0f} ms; "
            f"log-in alone: p95 {percentile(logins, 0.95):.0f} ms"
        )
        print(f"errors {errors} (target 0); 5xx in the access log: {server_errors}")
        if stack.replica:
            # Transactions the replica served: zero would mean the routing never engaged.
            served = stack.query(
                "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()",
                url=stack.replica_url,
            )[0][0]
            print(f"read replica: on, {served} transactions served by it")
        else:
            print("read replica: off (--no-replica), every read on the primary")
        print(f"confirmed writes in the database: {check.summary()}")
        print(f"deals whose amount disagrees with their change log: {gaps}")
        differences = reconcile(stack)
        print(f"stored figures that disagree with the raw records: {differences}")
        problems = []
        if requests == 0:
            problems.append("no request was made")
        if errors:
            problems.append(f"{errors} errors")
        if read_p95 > args.read_p95_target_ms:
            problems.append(f"read p95 {read_p95:.0f} ms over {args.read_p95_target_ms} ms")
        if write_p95 > args.write_p95_target_ms:
            problems.append(f"write p95 {write_p95:.0f} ms over {args.write_p95_target_ms} ms")
        if not check.ok:
            problems.append(f"confirmed writes missing or duplicated: {check.missing}")
        if gaps:
            problems.append(f"{gaps} deals disagree with their change log")
        if differences < 0:
            problems.append("verify_figures did not run to the end")
        elif differences:
            problems.append(f"verify_figures found {differences} differences")
        ok = not problems
        print("LOAD " + ("PASS" if ok else "FAIL: " + "; ".join(problems)))
    finally:
        stack.keep = stack.keep or not ok
        stack.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
