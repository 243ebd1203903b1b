"""make audit's offline part: installed versions against the local advisory file."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "audit_dependencies.py"
spec = importlib.util.spec_from_file_location("audit_dependencies", SCRIPT)
audit = importlib.util.module_from_spec(spec)
spec.loader.exec_module(audit)

DJANGO_SQLI = {
    "id": "CVE-2024-42005",
    "package": "Django",
    "affected": ["<4.2.15", ">=5.0a1,<5.0.8"],
    "fixed": "4.2.15, 5.0.8",
    "summary": "x",
}


def test_affected_version_in_any_range_is_found():
    findings = audit.local_findings([DJANGO_SQLI], {"django": "5.0.7"})

    assert [(name, version, adv["id"]) for name, version, adv in findings] == [
        ("django", "5.0.7", "CVE-2024-42005")
    ]
    assert audit.local_findings([DJANGO_SQLI], {"django": "4.2.14"})


def test_fixed_or_unrelated_versions_are_not_found():
    for version in ("4.2.15", "5.0.8", "5.2.19"):
        assert audit.local_findings([DJANGO_SQLI], {"django": version}) == []
    assert audit.local_findings([DJANGO_SQLI], {"flask": "1.0"}) == []


def test_package_names_are_compared_canonically():
    advisory = {**DJANGO_SQLI, "package": "Jinja2", "affected": ["<3.1.5"]}

    assert audit.local_findings([advisory], {"jinja2": "3.1.4"})


def test_the_advisory_file_is_well_formed():
    advisories = json.loads(audit.ADVISORIES.read_text())["advisories"]

    assert advisories
    for advisory in advisories:
        assert set(advisory) >= {"id", "package", "affected", "fixed", "summary"}
        assert isinstance(advisory["affected"], list)
        assert advisory["affected"]
    # Parses every range (a typo would raise here, not in CI's audit run).
    audit.local_findings(advisories, audit.installed())
