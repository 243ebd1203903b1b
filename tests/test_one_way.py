"""One way to do each thing: the shared plumbing is not copied back into the apps.

Issue 16 found ``call_service`` written three times, form-error adapters four, ``period_get``
three, plotly plumbing two and Celery retry settings five. Each now has one home; these checks
read the source (no database) and name the file that grew a copy again.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SKIPPED_DIRS = {".git", ".venv", "node_modules", "tests", "migrations", "static", "templates"}


def _sources() -> dict[str, str]:
    """Every project Python file outside the tests and migrations (without its comment
    lines), by path from the root."""
    found = {}
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS and not d.startswith(".")]
        for name in files:
            if name.endswith(".py"):
                path = Path(folder, name)
                lines = path.read_text(encoding="utf-8").splitlines()
                # Comment lines may name the plumbing (to say where it lives).
                code = [line for line in lines if not line.lstrip().startswith("#")]
                found[path.relative_to(ROOT).as_posix()] = "\n".join(code)
    return found


SOURCES = _sources()


def _is_view(path: str) -> bool:
    return path.endswith("/views.py") or "/views/" in path


def where(pattern: str, *, only=lambda path: True) -> dict[str, int]:
    """How many times ``pattern`` occurs in each file (only files where it does)."""
    counts = {path: len(re.findall(pattern, text)) for path, text in SOURCES.items() if only(path)}
    return {path: n for path, n in counts.items() if n}


def test_the_sources_are_found():
    # Guards the guard: a wrong root would make every check below pass on nothing.
    assert "salesmgmt/page_actions.py" in SOURCES
    assert sum(_is_view(path) for path in SOURCES) >= 10


@pytest.mark.parametrize(
    ("definition", "home"),
    [
        (r"def call_service\b", "salesmgmt/page_actions.py"),
        (r"def add_service_errors\b", "salesmgmt/page_actions.py"),
        (r"def id_param\b", "salesmgmt/page_actions.py"),
        (r"def period_get\b", "salesmgmt/selectors.py"),
        (r"def period_current\b", "salesmgmt/selectors.py"),
        (r"def figure_html\b", "salesmgmt/charts.py"),
        (r"\bRETRY_POLICY\s*(?::[^=\n]*)?=", "salesmgmt/task_queue.py"),
    ],
)
def test_each_helper_is_defined_once(definition, home):
    assert where(definition) == {home: 1}


def test_only_the_chart_module_renders_plotly_html():
    assert set(where(r"\bto_html\(|include_plotlyjs|plotly\.io\b")) == {"salesmgmt/charts.py"}


def test_only_the_task_queue_sets_retry_policies():
    # RETRY_POLICY's four keys, and MAIL_RETRY_POLICY's errors (the same policy, more errors).
    assert where(r"autoretry_for|retry_backoff|retry_jitter|default_retry_delay") == {
        "salesmgmt/task_queue.py": 6
    }
    assert where(r"max_retries[\"']?\s*[:=]") == {
        "salesmgmt/task_queue.py": 1,
        # Webhook deliveries: RETRY_POLICY with their own bound (salesmgmt/tasks.py says why).
        "salesmgmt/tasks.py": 1,
        # Not a task's: how often publishing a message retries while the broker is down.
        "salesmgmt/settings/base.py": 1,
    }


def test_views_leave_service_errors_to_the_page_helpers():
    """``call_service`` puts a refusal on the form, ``call_service_or_flash`` in a message."""
    caught = where(r"except\s*\(?\s*(?:ValidationError|ApplicationError)\b", only=_is_view)
    # Two-factor codes: a lockout is a 429 and a wrong code belongs on the code field.
    assert caught == {"salesmgmt/views.py": 3}
    assert where(r"def _int\(|def _as_id\(", only=_is_view) == {}


def test_periods_are_looked_up_through_period_get():
    assert where(r"get_object_or_404\(\s*Period\b") == {}
    assert where(r"Period\.objects\.(?:get|filter)\(\s*pk=", only=_is_view) == {}
