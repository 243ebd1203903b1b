"""``manage.py bench --import-only``: the deals import measured on a generated file, rolled back."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from accounts.models import Account, Opportunity, OpportunityLineItem, Product
from benchmarks import imports
from salesmgmt.bulk_rows import insert_rows
from salesmgmt.models import User
from tests.factories import OpportunityFactory


@pytest.mark.django_db
def test_bench_import_times_a_clean_file_and_keeps_nothing():
    out = io.StringIO()

    call_command(
        "bench", "--import-only", "--opportunity-rows", "60", "--no-fail", stdout=out,
        stderr=io.StringIO(),
    )  # fmt: skip

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


@pytest.mark.django_db
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL defers its key checks to the commit"
)
def test_commit_checks_run_the_key_checks_a_commit_would():
    # Given a line item whose product does not exist: PostgreSQL accepts the row until commit
    deal = OpportunityFactory()

    def insert_then_check() -> None:
        with transaction.atomic():  # its rollback takes the bad row away again
            insert_rows(
                OpportunityLineItem,
                ["opportunity_id", "product_id", "quantity", "unit_price"],
                [(deal.pk, 987_654_321, Decimal(1), Decimal(10))],
            )
            imports.commit_checks()

    # Then the benchmark's stand-in for the commit (timed with a rolled-back import) refuses it
    with pytest.raises(IntegrityError):
        insert_then_check()


@pytest.mark.parametrize("option", ["", "2000,10000"])
def test_bench_opportunity_sizes(option):
    from benchmarks.management.commands.bench import Command

    sizes = Command._opportunity_sizes(option)

    by_default = [10_000, 100_000] if connection.vendor == "postgresql" else [10_000]
    assert sizes == (by_default if not option else [2_000, 10_000])
