"""``manage.py bench_import``: the deals import measured on a generated file, rolled back."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from accounts.models import Account, Opportunity, Product
from benchmarks import imports
from salesmgmt.models import User


@pytest.mark.django_db
def test_bench_import_times_a_clean_file_and_keeps_nothing():
    out = io.StringIO()

    call_command("bench_import", "--rows", "60", "--no-fail", stdout=out, stderr=io.StringIO())

    report = out.getvalue()
    assert "CSV import, 60 deals, dry run:" in report
    assert "CSV import, 60 deals, apply (rolled back):" in report
    assert report.count("60 created, 0 errors") == 2  # every generated row is valid
    # The people, process, products and deals it made are rolled back.
    assert not User.objects.exists()
    assert not Opportunity.objects.exists()
    assert not Account.objects.exists()
    assert not Product.objects.exists()


def test_generated_deals_look_like_a_crm_export():
    setup = imports.DealsSetup(["Dana Reyes", "Sam Okafor"], ["Qualify", "Propose"], ["GTX Pro"])

    text = imports.opportunities_csv(rows=200, setup=setup)

    lines = text.splitlines()
    assert lines[0].split(",") == imports.OPPORTUNITY_HEADER
    assert {"QUALIFY", "qualify", "Qualify"} <= set(text.split(","))  # stages in any case
    assert ",2023-" in text
    assert ",2024-" in text
    assert len(lines) == 201
