"""The opportunity import benchmark: its generated file, its timed path and its report."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from accounts.models import Account, Opportunity
from benchmarks import imports
from salesmgmt.models import ImportJob, ImportKind
from tests.factories import AccountFactory

TODAY = dt.date(2026, 12, 6)


def _rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_pipeline_csv_is_shaped_like_a_crm_pipeline_export():
    text = imports.pipeline_csv(
        rows=400, owner_emails=["a@example.com", "b@example.com"],
        account_names=["Acme", "Globex"], today=TODAY,
    )  # fmt: skip
    rows = _rows(text)

    assert len(rows) == 400
    assert "product" not in rows[0]  # no catalogue given: no product column
    by_status = {s: [r for r in rows if r["status"] == s] for s in ("won", "lost", "open")}
    assert all(by_status.values())
    # Open deals: no close date, an expected close ahead, some not engaged yet.
    assert all(
        r["close_date"] == "" and r["expected_close_on"] > str(TODAY) for r in by_status["open"]
    )
    assert any(r["engage_date"] == "" for r in by_status["open"])
    # Closed deals: engaged before they closed, within the two years before today.
    for row in by_status["won"] + by_status["lost"]:
        assert row["engage_date"] < row["close_date"] <= str(TODAY)
        assert row["close_date"] >= str(TODAY - dt.timedelta(days=730))
    assert all(r["lost_reason"] for r in by_status["lost"])
    assert len({r["opportunity_id"] for r in rows}) == 400
    # Seeded: the same file every time.
    assert text == imports.pipeline_csv(
        rows=400, owner_emails=["a@example.com", "b@example.com"],
        account_names=["Acme", "Globex"], today=TODAY,
    )  # fmt: skip


def test_pipeline_csv_prices_won_deals_around_the_product_list_price():
    products = [("GTX Pro", Decimal(4821)), ("MG Special", Decimal(55))]
    rows = _rows(
        imports.pipeline_csv(
            rows=200,
            owner_emails=["a@example.com"],
            account_names=["Acme"],
            products=products,
            today=TODAY,
        )
    )
    prices = dict(products)
    for row in rows:
        price = prices[row["product"]]
        if row["status"] == "won":
            assert price * Decimal("0.87") <= Decimal(row["close_value"]) <= price * Decimal("1.09")
        else:
            assert Decimal(row["close_value"]) == price


def test_time_import_job_runs_the_whole_import_and_keeps_nothing(executive, rep_a, rep_b, process):
    AccountFactory(owner=rep_a, name="Acme")
    AccountFactory(owner=rep_b, name="Globex")
    text = imports.pipeline_csv(
        rows=30, owner_emails=[rep_a.email, rep_b.email], account_names=["Acme", "Globex"],
        today=TODAY,
    )  # fmt: skip

    timings = [
        imports.time_import_job(
            actor=executive,
            kind=ImportKind.OPPORTUNITIES,
            text=text,
            dry_run=dry_run,
            column_map=imports.PIPELINE_COLUMN_MAP,
        )
        for dry_run in (True, False)
    ]

    for timing in timings:
        assert (timing.status, timing.errors, timing.rows, timing.created) == (
            "succeeded",
            0,
            30,
            30,
        )
        assert timing.seconds > 0
    assert [t.dry_run for t in timings] == [True, False]
    assert Opportunity.objects.count() == 0
    assert ImportJob.objects.count() == 0


def test_bench_import_only_reports_each_run_against_its_target(executive, rep_a, process):
    accounts_before = Account.objects.count()
    out = io.StringIO()

    call_command(
        "bench", "--import-only", "--opportunity-rows", "20", "--no-fail", stdout=out,
        stderr=io.StringIO(),
    )  # fmt: skip

    report = out.getvalue()
    assert "CSV import, 20 opportunities, dry run:" in report
    assert "CSV import, 20 opportunities, import (rolled back):" in report
    target = imports.OPPORTUNITY_ROWS_PER_SECOND[connection.vendor]
    assert report.count(f"succeeded, 0 errors; target >= {target:,.0f} rows/s") == 2
    assert "targets missed:" in report
    # The accounts it named and the deals it imported are rolled back.
    assert Account.objects.count() == accounts_before
    assert Opportunity.objects.count() == 0


def test_bench_import_counts_a_failed_import_as_a_missed_target(executive, rep_a):
    # No sales process: every row is refused, which is no measurement of an import.
    out = io.StringIO()

    call_command(
        "bench", "--import-only", "--opportunity-rows", "5", "--no-fail", stdout=out,
        stderr=io.StringIO(),
    )  # fmt: skip

    assert out.getvalue().count("(failed, ") == 2
    assert "targets missed: 2" in out.getvalue()


def test_bench_import_needs_reps_with_an_email(executive, process):
    with pytest.raises(CommandError, match="e-mail"):
        call_command("bench", "--import-only", "--opportunity-rows", "5", stdout=io.StringIO())


@pytest.mark.parametrize("option", ["", "2000,10000"])
def test_bench_opportunity_sizes(option):
    from benchmarks.management.commands.bench import Command

    sizes = Command._opportunity_sizes(option)

    by_default = [10_000, 100_000] if connection.vendor == "postgresql" else [10_000]
    assert sizes == (by_default if not option else [2_000, 10_000])
