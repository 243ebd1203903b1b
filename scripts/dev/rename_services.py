"""Rename write services to the style guide's ``<entity>_<verb>`` (issue 16), everywhere.

Usage (from the repository root)::

    python scripts/dev/rename_services.py          # apply, then sort imports/__all__, format
    python scripts/dev/rename_services.py --check  # list what would change; exit 1 if anything

Re-runnable: it rewrites only the old names, so a second run changes nothing, and running it
after merging a branch written against the old names brings that branch's code along. It
rewrites every .py, .html and .md file except migrations (they must keep replaying as written),
virtualenvs and this script, matching whole words only, so ``module.old``, bare ``old``,
``mock.patch("app.services.old")`` strings and ``__all__`` entries all follow.

Some old names are also the names of other things (a Celery task, a test's state-machine
rule, a Locust task). Those are kept:

- ``self.old``, ``cls.old``, ``tasks.old`` and ``views.old`` name a method, a task or a view
  (a task's registered name, e.g. ``forecasting.tasks.run_backtest`` in the beat schedule, must
  not change under messages already queued);
- in a file that defines its own ``def old`` (other than the service's module), only
  references qualified by a module (``backtest.run_backtest``) are the service's.

Left alone on purpose: guards (``ensure_*``, ``may_*``), pure helpers (``hash_api_key``,
``week_start_of``, ``score_deals``), reads (``latest_call``), functions already named
entity-first, and the request machinery of ``forecasting/services/requests.py`` and
``forecasting/signals.py`` (replaced by the one refresh path).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SUFFIXES = {".py", ".html", ".md"}
SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "migrations", "__pycache__", "vendor"}

# old name -> (new name, the module that defines the service)
RENAMES: dict[str, tuple[str, str]] = {
    # accounts
    "create_account": ("account_create", "accounts/services.py"),
    "update_account": ("account_update", "accounts/services.py"),
    "create_contact": ("contact_create", "accounts/services.py"),
    "update_contact": ("contact_update", "accounts/services.py"),
    "create_opportunity": ("opportunity_create", "accounts/services.py"),
    "update_opportunity": ("opportunity_update", "accounts/services.py"),
    "close_won": ("opportunity_close_won", "accounts/services.py"),
    "close_lost": ("opportunity_close_lost", "accounts/services.py"),
    "add_team_member": ("opportunity_team_member_add", "accounts/services.py"),
    "complete_milestone": ("milestone_complete", "accounts/services.py"),
    "undo_milestone": ("milestone_undo", "accounts/services.py"),
    "verify_milestone": ("milestone_verify", "accounts/services.py"),
    "reject_milestone": ("milestone_reject", "accounts/services.py"),
    "refresh_stage": ("opportunity_stage_refresh", "accounts/services.py"),
    "refresh_open_stages": ("open_opportunity_stages_refresh", "accounts/services.py"),
    "log_activity": ("activity_log", "accounts/services.py"),
    "update_activity": ("activity_update", "accounts/services.py"),
    # salesmgmt (the organisation core)
    "create_user": ("user_create", "salesmgmt/services.py"),
    "update_user": ("user_update", "salesmgmt/services.py"),
    "sync_privileges_with_role": ("user_privileges_sync", "salesmgmt/services.py"),
    "set_manager": ("user_set_manager", "salesmgmt/services.py"),
    "ensure_periods": ("periods_ensure", "salesmgmt/services.py"),
    "set_exchange_rate": ("exchange_rate_set", "salesmgmt/services.py"),
    "create_api_token": ("api_token_create", "salesmgmt/services.py"),
    "revoke_api_token": ("api_token_revoke", "salesmgmt/services.py"),
    "touch_api_token": ("api_token_touch", "salesmgmt/services.py"),
    # forecasting
    "run_backtest": ("backtest_run", "forecasting/services/backtest.py"),
    "submit_call": ("call_submit", "forecasting/services/calls.py"),
    "adjust_call": ("call_adjust", "forecasting/services/calls.py"),
    "lock_calls": ("calls_lock", "forecasting/services/calls.py"),
    "refresh_flags": ("flags_refresh", "forecasting/services/flags.py"),
    "recompute_kpis": ("kpis_recompute", "forecasting/services/kpis.py"),
    "recompute_kpis_for_people": ("kpis_recompute_for_people", "forecasting/services/kpis.py"),
    "fit_probability_model": ("probability_model_fit", "forecasting/services/recompute.py"),
    "recompute_period": ("forecast_recompute_period", "forecasting/services/recompute.py"),
    "recompute_all": ("forecast_recompute_all", "forecasting/services/recompute.py"),
    "recompute_people": ("forecast_recompute_people", "forecasting/services/recompute.py"),
    "full_recompute": ("full_recompute_run", "forecasting/services/runs.py"),
    "take_snapshot": ("snapshot_take", "forecasting/services/snapshots.py"),
    # territories (the one verb-first name left there)
    "move_account_owners": ("account_owners_move", "territories/services/assignments.py"),
}

# ``x.old`` where x is one of these names something else than the service.
OTHER_OWNERS = ("self", "cls", "tasks", "views")


def _files(root: Path) -> list[Path]:
    me = Path(__file__).resolve()
    found = []
    for path in root.rglob("*"):
        if path.suffix not in SUFFIXES or not path.is_file() or path.resolve() == me:
            continue
        if SKIP_DIRS.intersection(path.relative_to(root).parts[:-1]):
            continue
        found.append(path)
    return sorted(found)


def _pattern(old: str) -> re.Pattern[str]:
    # The word, with what precedes it: an optional ``owner.`` qualifier.
    return re.compile(rf"(?:(?P<owner>\b\w+)\.)?(?<![\w]){re.escape(old)}\b")


PATTERNS = {old: _pattern(old) for old in RENAMES}


def rename_text(text: str, relative: str) -> tuple[str, int]:
    """``text`` with the old names replaced; returns it and the number of replacements."""
    total = 0
    for old, (new, home) in RENAMES.items():
        if old not in text:
            continue
        # A file with a function of its own by that name: bare references mean that function.
        own_def = relative != home and re.search(rf"\bdef {re.escape(old)}\b", text) is not None

        def replace(match: re.Match[str], new: str = new, own_def: bool = own_def) -> str:
            nonlocal total
            owner = match.group("owner")
            if owner in OTHER_OWNERS or (own_def and owner is None):
                return match.group(0)
            total += 1
            return f"{owner}.{new}" if owner else new

        text = PATTERNS[old].sub(replace, text)
    return text, total


def _tidy(paths: list[Path]) -> None:
    """Renamed imports and ``__all__`` entries fall out of order: let ruff sort and format."""
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    python = [str(p) for p in paths if p.suffix == ".py"]
    if not python or not Path(ruff).exists():
        print("ruff not found: sort imports and format yourself", file=sys.stderr)
        return
    # A fixed argument list (ruff and the files this run changed), no shell: hence the noqa.
    subprocess.run([ruff, "check", "--fix", "--select", "I,RUF022", "--quiet", *python])  # noqa: S603
    subprocess.run([ruff, "format", "--quiet", *python], check=False)  # noqa: S603


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only list what would change")
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument("--no-tidy", action="store_true", help="do not run ruff afterwards")
    args = parser.parse_args(argv)
    changed = []
    for path in _files(args.root):
        text = path.read_text(encoding="utf-8")
        new_text, count = rename_text(text, path.relative_to(args.root).as_posix())
        if count:
            changed.append(path)
            print(f"{path.relative_to(args.root)}: {count}")
            if not args.check:
                path.write_text(new_text, encoding="utf-8")
    print(f"{len(RENAMES)} names, {len(changed)} files {'to change' if args.check else 'changed'}")
    if args.check:
        return 1 if changed else 0
    if changed and not args.no_tidy:
        _tidy(changed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
