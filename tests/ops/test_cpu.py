"""The load test's CPU accounting (scripts/ops/cpu.py): parts are process trees, counted once."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from scripts.ops import cpu

BURN = "import time\nend = time.process_time() + {seconds}\nwhile time.process_time() < end: pass\n"


def _burn(seconds: float) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", BURN.format(seconds=seconds)])  # noqa: S603


def test_a_reaped_child_counts_in_its_parents_tree():
    before = cpu.tree_seconds({"me": os.getpid()})["me"]
    _burn(0.4).wait()
    after = cpu.tree_seconds({"me": os.getpid()})["me"]
    # The child's 0.4 s of CPU (and its interpreter's start) moved into this process's cutime.
    assert after - before >= 0.35


def test_a_running_child_that_is_a_part_of_its_own_is_not_counted_twice():
    child = _burn(5)
    try:
        # Until it has run a while (on a busy machine that takes longer than it would alone).
        deadline = time.monotonic() + 20
        while cpu.tree_seconds({"child": child.pid})["child"] < 0.2:
            assert time.monotonic() < deadline, "the child never ran"
            time.sleep(0.05)
        both = cpu.tree_seconds({"me": os.getpid(), "child": child.pid})
        alone = cpu.tree_seconds({"me": os.getpid()})
        assert both["child"] >= 0.2
        # Without the child as a part, this process's tree holds the child's CPU too (read
        # later, so at least what the child had used when it was a part of its own). Rounded to
        # the clock tick: the totals are ticks over 100, and 797.06 - 796.86 is 0.1999... as floats.
        assert round(alone["me"] - both["me"], 2) >= both["child"]
    finally:
        child.kill()
        child.wait()


def test_the_report_puts_the_rest_of_the_machine_under_other():
    before = cpu.CpuSample(parts={"web": 10.0, "worker": 5.0}, machine=100.0)
    after = cpu.CpuSample(parts={"web": 40.0, "worker": 15.0}, machine=160.0)
    lines = cpu.report(before, after, seconds=60)
    assert "60 s busy" in lines[0]
    shares = {line.split()[0]: float(line.split()[1]) for line in lines[1:]}
    assert shares == {"web": 30.0, "worker": 10.0, "other": 20.0}
