"""``manage.py bench --quick`` (what CI can run): every target measured on a small seed."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection

from accounts.models import Opportunity
from benchmarks import personas, reference_sql
from benchmarks.management.commands.bench import Command
from coaching.models import AccountReview
from compensation import ledger
from compensation.models import CreditSplit, DealCancellation
from forecasting.services.recompute import forecast_recompute_all
from salesmgmt.models import ExchangeRate, User
from salesmgmt.money import reporting_currency
from salesmgmt.selectors import period_get
from territories.models import Quota
from territories.services.attainment import attainment_refresh
from tests.fixtures.services import require_postgresql

TARGETS = [
    "manager dashboard", "executive rollup", "rep home", "opportunity detail", "account review",
    "forecast page (exec)", "waterfall, 7 days (exec)", "API opportunities list",
    "API accounts list", "API activities list", "API search, name", "API search, notes",
    "API search, email", "API search, deal", "API search, typo", "search page, name",
    "search page, email", "search page, deal", "search page, typo", "SQL: manager dashboard",
    "SQL: executive rollup", "SQL: precomputed rows",
]  # fmt: skip


@pytest.mark.django_db
def test_quick_bench_measures_every_target_and_leaves_nothing_behind():
    require_postgresql("The benchmark's reference SQL needs a PostgreSQL DATABASE_URL.")
    call_command("seed_demo", reps=8, opportunities=150, stdout=io.StringIO())
    forecast_recompute_all(trials=200, with_kpis=True)
    reviews = AccountReview.objects.count()
    out, err = io.StringIO(), io.StringIO()

    call_command("bench", "--quick", "--no-fail", stdout=out, stderr=err)

    report = out.getvalue()
    for target in TARGETS:
        assert target in report
    assert "ratio page ÷ SQL, manager dashboard" in report
    # The reference queries compute what the pages show.
    assert "reference SQL computes the manager dashboard's figures: PASS" in report
    assert "reference SQL computes the executive rollup's figures: PASS" in report
    assert "targets missed:" in report
    assert "budgets of up to 200,000 deals" in report  # 150 deals: the small tier's budgets
    # The review (and tokens, sessions) it made to measure are rolled back.
    assert AccountReview.objects.count() == reviews


@pytest.mark.django_db
def test_reference_sql_computes_the_figures_the_dashboard_and_rollup_show():
    require_postgresql("The benchmark's reference SQL needs a PostgreSQL DATABASE_URL.")
    call_command("seed_demo", reps=8, opportunities=150, stdout=io.StringIO())
    people = personas.pick_personas()
    period = period_get(quarter_only=True)
    # given: the cases the query must get right, beyond the seed's plain deals
    middle = period.start_on + dt.timedelta(days=20)
    ExchangeRate.objects.create(
        currency="CHF", rate_to_reporting=Decimal("1.10"), effective_on=period.start_on
    )
    ExchangeRate.objects.create(
        currency="CHF", rate_to_reporting=Decimal("1.25"), effective_on=middle
    )
    # Five deals of the manager's team, whatever the seed made of them, set up as:
    deals = Opportunity.objects.filter(
        owner__ancestor_path__startswith=people.manager.subtree_path
    ).order_by("pk")
    won, chf_open, overridden, cleared, lost = deals[:5]
    # won in the period in CHF before the rate change (the earlier rate applies) ...
    Opportunity.objects.filter(pk=won.pk).update(
        status="won", closed_on=middle - dt.timedelta(days=1), currency="CHF", amount=1001
    )
    # ... open in CHF, closing after it (the later rate) ...
    Opportunity.objects.filter(pk=chf_open.pk).update(
        status="open",
        closed_on=None,
        currency="CHF",
        amount=Decimal("333.33"),
        expected_close_on=period.end_on,
    )
    # ... a rep's chosen category, one cleared (the stage's default), one deal lost.
    for deal, category in ((overridden, "commit"), (cleared, "")):
        Opportunity.objects.filter(pk=deal.pk).update(
            status="open", closed_on=None, expected_close_on=middle, forecast_category=category
        )
    Opportunity.objects.filter(pk=lost.pk).update(status="lost", closed_on=middle)
    # A deal won in the period split 60/40 with another seller (odd cents), and one
    # won before the period and cancelled in it (the credit ledger's rules).
    split, cancelled = deals[5:7]
    partner = (
        User.objects.filter(role__in=["rep", "manager"])
        .exclude(pk__in=[split.owner_id, people.manager.pk])
        .order_by("pk")
        .last()
    )
    Opportunity.objects.filter(pk=split.pk).update(
        status="won", closed_on=middle, currency=reporting_currency(), amount=Decimal("1000.01")
    )
    split.refresh_from_db()
    CreditSplit.objects.filter(opportunity=split).delete()
    CreditSplit.objects.create(opportunity=split, user=split.owner, percent=Decimal(60))
    CreditSplit.objects.create(opportunity=split, user=partner, percent=Decimal(40))
    Opportunity.objects.filter(pk=cancelled.pk).update(
        status="won",
        closed_on=period.start_on - dt.timedelta(days=3),
        currency=reporting_currency(),
        amount=Decimal(777),
    )
    cancelled.refresh_from_db()
    DealCancellation.objects.create(
        opportunity=cancelled, cancelled_on=middle, reason="Churned", recorded_by=people.manager
    )
    # An explicit quota on a manager under the executive replaces their team's sum.
    head = User.objects.filter(manager=people.executive, role="manager").order_by("pk").first()
    Quota.objects.update_or_create(
        user=head,
        period=period,
        defaults={"basis": Quota.Basis.EXPLICIT, "amount": Decimal("123456.78")},
    )
    forecast_recompute_all(trials=200, with_kpis=True)
    attainment_refresh(period=period)

    # when: the page's figures and the query's
    dashboard_sql = reference_sql.run_dicts(
        reference_sql.TEAM_DASHBOARD_SQL,
        reference_sql.params_for(period=period, manager=people.manager),
    )
    rollup_sql = reference_sql.run_dicts(
        reference_sql.EXECUTIVE_ROLLUP_SQL,
        reference_sql.params_for(period=period, root=people.executive),
    )
    dashboard_page = reference_sql.dashboard_page_figures(manager=people.manager, period=period)
    rollup_page = reference_sql.rollup_page_figures(
        viewer=people.executive, root=people.executive, period=period
    )

    # then: every figure of every row agrees, and the cases above are in them
    assert reference_sql.figures_match(dashboard_page, dashboard_sql) == []
    assert reference_sql.figures_match(rollup_page, rollup_sql) == []
    assert dashboard_sql[_member_of(won, dashboard_sql)]["bookings"] >= Decimal("1101.10")
    assert rollup_sql[head.pk]["quota"] == Decimal("123456.78")
    credited = ledger.period_entries(period=period, person_ids=[split.owner_id, partner.pk])
    shares = {(e.person_id, e.opportunity_id): e.amount for e in credited}
    assert shares[(partner.pk, split.pk)] == Decimal("400.00")
    assert shares[(split.owner_id, split.pk)] == Decimal("600.01")
    debits = ledger.period_entries(period=period, person_ids=[cancelled.owner_id])
    assert Decimal(-777) in {e.amount for e in debits if e.opportunity_id == cancelled.pk}
    assert dashboard_sql
    assert len(rollup_sql) > 1
    # and the check can fail: a deal changed since the recompute makes them differ
    Opportunity.objects.filter(pk=chf_open.pk).update(amount=Decimal("99999.99"))
    stale = reference_sql.run_dicts(
        reference_sql.TEAM_DASHBOARD_SQL,
        reference_sql.params_for(period=period, manager=people.manager),
    )
    differing = {m.person_id for m in reference_sql.figures_match(dashboard_page, stale)}
    assert differing == {_member_of(chf_open, stale)}


def _member_of(deal: Opportunity, rows: dict[int, dict]) -> int:
    """The team member (a row of the query) whose subtree holds the deal's owner."""
    owner = User.objects.get(pk=deal.owner_id)
    return next(pk for pk in rows if pk == owner.pk or f"/{pk}/" in owner.ancestor_path)


def test_the_one_million_tier_is_held_to_issue_21s_budgets():
    from benchmarks.management.commands.bench import LARGE_TIER, SMALL_TIER, budgets_for

    assert budgets_for(200_000) == SMALL_TIER
    assert budgets_for(929_630) == LARGE_TIER  # the seeded 1 M tier
    assert (LARGE_TIER.page_ms, LARGE_TIER.api_list_ms, LARGE_TIER.search_ms) == (50, 30, 100)


@pytest.mark.django_db
def test_the_header_says_when_the_server_does_not_autovacuum():
    require_postgresql("autovacuum is PostgreSQL's.")
    with connection.cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        state = cursor.fetchone()[0]
    out = io.StringIO()
    Command(stdout=out)._header()
    header = out.getvalue().splitlines()[0]
    assert ("autovacuum OFF" in header) == (state != "on"), header
