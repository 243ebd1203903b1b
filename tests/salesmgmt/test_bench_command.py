"""``manage.py bench --quick`` (what CI can run): every target measured on a small seed."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import connection

from coaching.models import AccountReview
from forecasting.services.recompute import recompute_all
from tests.integration.conftest import skip_or_fail

TARGETS = [
    "manager dashboard", "executive rollup", "rep home", "opportunity detail", "account review",
    "forecast page (exec)", "waterfall, 7 days (exec)", "API opportunities list",
    "API accounts list", "API activities list", "SQL: manager dashboard",
    "SQL: executive rollup",
]  # fmt: skip


@pytest.mark.django_db
def test_quick_bench_measures_every_target_and_leaves_nothing_behind():
    if connection.vendor != "postgresql":
        skip_or_fail("The benchmark's reference SQL needs a PostgreSQL DATABASE_URL.")
    call_command("seed_demo", reps=8, opportunities=150, stdout=io.StringIO())
    recompute_all(trials=200, with_kpis=True)
    reviews = AccountReview.objects.count()
    out, err = io.StringIO(), io.StringIO()

    call_command("bench", "--quick", "--no-fail", stdout=out, stderr=err)

    report = out.getvalue()
    for target in TARGETS:
        assert target in report
    assert "ratio page ÷ SQL, manager dashboard" in report
    assert "targets missed:" in report
    # The review (and tokens, sessions) it made to measure are rolled back.
    assert AccountReview.objects.count() == reviews
