#!/usr/bin/env python3
"""Dependency audit (`make audit`): pip check, pip-audit online, a local advisory file offline.

1. ``pip check``: every installed distribution's requirements are met (no broken pins).
2. ``pip-audit -l --skip-editable`` against the PyPI vulnerability service. Where only PyPI's
   package index is reachable (a mirror, or no internet), PyPI's per-release JSON API answers
   404 and pip-audit marks every package "could not be audited": that is reported as
   "service unreachable", never as a pass. AUDIT_REQUIRE_ONLINE=1 makes it a failure.
3. The installed distributions against ``scripts/security-advisories.json``: advisories kept
   in the repository (id, package, affected PEP 440 specifier, fixed version), so the audit
   also runs offline. Refresh it from an online machine's pip-audit or OSV results.

Exits 1 when anything is broken or vulnerable, else 0. Uses the interpreter it runs with.
"""

from __future__ import annotations

import json
import os
import subprocess  # runs pip and pip-audit of this virtualenv, fixed arguments, no shell
import sys
import time
from importlib import metadata
from pathlib import Path

from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

ADVISORIES = Path(__file__).with_name("security-advisories.json")
PIP_AUDIT_TIMEOUT_SECONDS = 300


def installed() -> dict[str, str]:
    """Every installed distribution: canonical name -> version."""
    return {
        canonicalize_name(dist.metadata["Name"]): dist.version
        for dist in metadata.distributions()
        if dist.metadata["Name"]
    }


def local_findings(advisories: list[dict], packages: dict[str, str]) -> list[tuple[str, str, dict]]:
    """(package, installed version, advisory) for each advisory whose ranges hold a package."""
    findings = []
    for advisory in advisories:
        name = canonicalize_name(advisory["package"])
        version = packages.get(name)
        if version is None:
            continue
        try:
            parsed = Version(version)
        except InvalidVersion:
            continue
        ranges = [SpecifierSet(spec, prereleases=True) for spec in advisory["affected"]]
        affected = any(parsed in spec for spec in ranges)
        if affected:
            findings.append((name, version, advisory))
    return findings


def run_pip_check() -> bool:
    result = subprocess.run(
        [sys.executable, "-m", "pip", "check"], capture_output=True, text=True, check=False
    )
    print(f"pip check: {result.stdout.strip() or result.stderr.strip()}")
    return result.returncode == 0


def run_pip_audit() -> tuple[str, list[str]]:
    """("ok" | "vulnerable" | "unreachable" | "error", report lines)."""
    try:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip_audit",
                "--local",
                "--skip-editable",
                "--progress-spinner",
                "off",
                "--format",
                "json",
            ],
            capture_output=True,
            text=True,
            timeout=PIP_AUDIT_TIMEOUT_SECONDS,
            check=False,
        )
        report = json.loads(result.stdout or "{}")
    except (subprocess.TimeoutExpired, json.JSONDecodeError) as exc:
        return "error", [f"pip-audit did not finish: {exc}"]
    dependencies = report.get("dependencies", [])
    audited = [dep for dep in dependencies if "skip_reason" not in dep]
    lines = [
        f"{dep['name']} {dep['version']}: {vuln['id']} "
        f"(fixed in {', '.join(vuln['fix_versions']) or 'no release'})"
        for dep in audited
        for vuln in dep.get("vulns", [])
    ]
    if lines:
        return "vulnerable", lines
    if dependencies and not audited:
        reason = dependencies[0]["skip_reason"]
        return "unreachable", [f"every package skipped, e.g. “{reason}”"]
    return "ok", [f"{len(audited)} packages audited, no known vulnerabilities"]


def main() -> int:
    started = time.monotonic()
    ok = run_pip_check()

    status, lines = run_pip_audit()
    print(f"pip-audit (PyPI service): {status}")
    for line in lines:
        print(f"  {line}")
    if status == "vulnerable":
        ok = False
    elif status in ("unreachable", "error"):
        print("  the online audit could not run here; relying on the local advisory file")
        if os.environ.get("AUDIT_REQUIRE_ONLINE") == "1":
            ok = False

    advisories = json.loads(ADVISORIES.read_text())["advisories"]
    packages = installed()
    findings = local_findings(advisories, packages)
    print(
        f"local advisories ({ADVISORIES.name}): {len(advisories)} checked against "
        f"{len(packages)} installed packages, {len(findings)} affected"
    )
    for name, version, advisory in findings:
        print(
            f"  {name} {version}: {advisory['id']} "
            f"(fixed in {advisory['fixed']}) {advisory['summary']}"
        )
        ok = False

    print(f"audit {'passed' if ok else 'FAILED'} in {time.monotonic() - started:.1f}s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
