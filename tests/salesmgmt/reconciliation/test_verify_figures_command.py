"""manage.py verify_figures: silent and 0 when figures agree; names an injected difference."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts import services as deal_services
from compensation.models import Plan, PlanAssignment, Statement
from compensation.services import payout_run_compute
from forecasting.models import DealProbability, ForecastRollup, Scope
from salesmgmt.models import Period
from salesmgmt.services import ensure_periods
from territories.models import AttainmentFigure
from tests.salesmgmt.reconciliation.refresh import refresh_everything


def verify(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("verify_figures", *args, stdout=out)
    except SystemExit as exc:
        return int(exc.code), out.getvalue()
    return 0, out.getvalue()


@pytest.fixture
def book(rep_a, rep_b, se_a, manager_a, process):
    """Two open deals of rep_a and one won this quarter, refreshed by the product."""
    today = timezone.localdate()
    ensure_periods(year=today.year)
    account = deal_services.create_account(actor=rep_a, name="Acme", owner=rep_a)
    open_ids = [
        deal_services.create_opportunity(
            actor=rep_a,
            account=account,
            name=f"Open {n}",
            amount=Decimal(amount),
            expected_close_on=today + dt.timedelta(days=1),
        ).pk
        for n, amount in ((1, "1000"), (2, "2500"))
    ]
    won = deal_services.create_opportunity(
        actor=rep_a,
        account=account,
        name="Won",
        amount=Decimal("4000"),
        expected_close_on=today,
    )
    deal_services.close_won(actor=rep_a, opportunity=won, closed_on=today)
    refresh_everything()
    quarter = Period.objects.get(kind=Period.Kind.QUARTER, start_on__lte=today, end_on__gte=today)
    return {"open_ids": open_ids, "won_id": won.pk, "quarter": quarter}


def test_verify_figures_agrees_after_the_refresh(book):
    status, out = verify()
    assert (status, out.strip()) == (0, "0 difference(s).")


def test_verify_figures_names_an_injected_rollup_difference(book, rep_a, manager_a):
    # Given a manager's team commit figure changed by hand
    quarter = book["quarter"]
    ForecastRollup.objects.filter(person=manager_a, period=quarter, scope=Scope.SUBTREE).update(
        pipeline_amount=Decimal("9999.00")
    )
    # When the figures are verified
    status, out = verify()
    # Then it fails and names the person, period, figure, both values and the deals behind it
    assert status == 1
    lines = [line for line in out.splitlines() if "pipeline_amount" in line]
    assert len(lines) == 1
    line = lines[0]
    assert "forecast rollup (subtree)" in line
    assert f"(#{manager_a.pk})" in line
    assert quarter.name in line
    assert "stored 9999.00, expected 3500.00" in line
    for deal_id in book["open_ids"]:
        assert f"deal {deal_id}" in line
    assert "1 difference(s)." in out


def test_verify_figures_names_an_injected_attainment_difference_as_json(book, rep_a):
    quarter = book["quarter"]
    AttainmentFigure.objects.filter(user=rep_a, period=quarter).update(bookings=Decimal("1.00"))
    status, out = verify("--json", "--period", str(quarter.pk))
    assert status == 1
    found = json.loads(out)["differences"]
    assert [
        (d["aggregate"], d["person_id"], d["period_id"], d["figure"], d["stored"], d["expected"])
        for d in found
    ] == [("attainment", rep_a.pk, quarter.pk, "bookings", "1.00", "4000.00")]
    assert found[0]["records"] == [f"deal {book['won_id']}"]


def test_verify_figures_filters_by_person_and_tolerance(book, rep_a, rep_b):
    quarter = book["quarter"]
    ForecastRollup.objects.filter(person=rep_a, period=quarter, scope=Scope.OWN).update(
        commit_amount=Decimal("0.50")
    )
    # Someone else's figures: nothing to report
    assert verify("--person", rep_b.username)[0] == 0
    # Within a generous tolerance: nothing either
    assert verify("--person", str(rep_a.pk), "--tolerance", "1")[0] == 0
    status, out = verify("--person", rep_a.username)
    assert status == 1
    assert "commit_amount: stored 0.50, expected 0.00" in out


def test_verify_figures_reports_a_missing_deal_probability(book):
    DealProbability.objects.filter(opportunity_id=book["open_ids"][0]).delete()
    status, out = verify("--only", "rollups")
    assert status == 1
    assert "deal probability | " in out
    assert f"row: stored None, expected a row | from deal {book['open_ids'][0]}" in out


def test_verify_figures_checks_draft_statement_bookings(book, rep_a):
    plan = Plan.objects.create(name="Reps")
    PlanAssignment.objects.create(plan=plan, role="rep", effective_from=dt.date(2000, 1, 1))
    payout_run_compute(period=book["quarter"])
    assert verify("--only", "statements")[0] == 0
    Statement.objects.filter(rep=rep_a).update(bookings_amount=Decimal("3999.00"))
    status, out = verify("--only", "statements")
    assert status == 1
    assert "statement (draft run)" in out
    assert "bookings_amount: stored 3999.00, expected 4000.00" in out
    assert f"deal {book['won_id']}" in out
