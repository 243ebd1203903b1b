"""CPU seconds each part of the ops stack used over a run, read from /proc.

On the two shared cores of one box the load test is CPU-bound: the latency a page shows is
mostly waiting for a core, so the question is which process spent them (web workers, the
Celery worker, the primary, the replica, locust). A part is a process tree: the CPU of every
live process in it (user + system) plus what its members already reaped from children that
ended (PostgreSQL's backends and a pool's children end and are reaped by their parent).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
# The load script's own tree: locust, and the stack's processes it started, each of which is
# a part of its own (``tree_seconds`` stops at another part's root).
DRIVER = "locust + driver"


def _stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, CPU ticks of the process and its reaped children), or None if gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    fields = text[text.rindex(")") + 2 :].split()
    # Fields 4 (ppid) and 14-17 (utime, stime, cutime, cstime), counted from 1 in proc(5).
    return int(fields[1]), sum(int(value) for value in fields[11:15])


def _processes() -> dict[int, tuple[int, int]]:
    found = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None:
                found[int(entry.name)] = stat
    return found


def tree_seconds(roots: dict[str, int]) -> dict[str, float]:
    """CPU seconds so far of each named root process and everything below it, except the
    trees of the other roots (a part started by another is counted once, as itself)."""
    processes = _processes()
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in processes.items():
        children.setdefault(parent, []).append(pid)
    totals: dict[str, float] = {}
    other_roots = set(roots.values())
    for name, root in roots.items():
        ticks, todo = 0, [root] if root in processes else []
        while todo:
            pid = todo.pop()
            ticks += processes[pid][1]
            todo.extend(child for child in children.get(pid, []) if child not in other_roots)
        totals[name] = ticks / TICKS
    return totals


def machine_seconds() -> float:
    """CPU seconds the whole machine spent busy since boot (every core, /proc/stat)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    # user nice system idle iowait irq softirq steal ...: busy is all but idle and iowait.
    values = [int(v) for v in fields[:8]]
    return (sum(values) - values[3] - values[4]) / TICKS


@dataclass
class CpuSample:
    parts: dict[str, float]
    machine: float


def sample(roots: dict[str, int]) -> CpuSample:
    return CpuSample(parts=tree_seconds(roots), machine=machine_seconds())


def report(before: CpuSample, after: CpuSample, seconds: float) -> list[str]:
    """Lines: each part's CPU seconds over the run and its share of the machine's busy time;
    "other" is everything outside the stack (another job on the box shows there)."""
    busy = after.machine - before.machine
    used = {name: after.parts[name] - before.parts.get(name, 0.0) for name in after.parts}
    other = busy - sum(used.values())
    cores = os.cpu_count() or 1
    lines = [
        f"CPU over {seconds:.0f} s: {busy:.0f} s busy of {cores * seconds:.0f} s on {cores} cores "
        f"({busy / max(cores * seconds, 1e-9):.0%})"
    ]
    for name, value in sorted({**used, "other": other}.items(), key=lambda item: -item[1]):
        lines.append(f"    {name:<16} {value:>7.1f} s  {value / max(busy, 1e-9):>4.0%}")
    return lines


def postmaster_pid(data_dir: Path) -> int | None:
    """The server's pid: the first line of its postmaster.pid (None when it is not running)."""
    try:
        return int((data_dir / "postmaster.pid").read_text().splitlines()[0])
    except (OSError, IndexError, ValueError):
        return None
