"""The Feed back page, its CSV and API: figures worked by hand on a small company shaped like
real data (a deal without products, without a lead source, on an account in no segment), who
may read it (every role), and its query budget."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Activity, Opportunity, OpportunityLineItem, Product
from planning import services
from planning.feedback import feedback_report
from planning.selectors import history
from salesmgmt.navigation import sections_for
from tests.factories import AccountFactory, ActivityFactory, OpportunityFactory

READERS = {"manager_a", "manager_b", "executive", "admin"}


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


@pytest.fixture
def company(executive, rep_a, rep_b, se_a, q1, process):
    """Q1: six deals closed (four won), two segments and an account in none (see the tests)."""
    start = q1.start_on
    enterprise = services.segment_create(
        actor=executive, name="Enterprise", priority=10, employee_count_min=1000
    )
    mid = services.segment_create(
        actor=executive, name="Mid-market", priority=20, employee_count_min=100,
        employee_count_max=1000,
    )  # fmt: skip
    services.coverage_set(
        actor=executive, segment=enterprise, sales_role="ae", activities_per_account=Decimal(12),
        win_rate=Decimal("0.4"), deal_size=Decimal(12000), cycle_days=45,
    )  # fmt: skip
    services.coverage_set(
        actor=executive, segment=enterprise, sales_role="se", activities_per_account=Decimal(4),
        win_rate=Decimal("0.4"), deal_size=Decimal(12000), cycle_days=45,
    )  # fmt: skip
    # Mid-market leaves deal size to history.
    services.coverage_set(
        actor=executive, segment=mid, sales_role="ae", activities_per_account=Decimal(6),
        win_rate=Decimal("0.3"), cycle_days=20,
    )  # fmt: skip
    e1 = AccountFactory(owner=rep_a, employee_count=5000, name="E1")
    m1 = AccountFactory(owner=rep_a, employee_count=200, name="M1")
    m2 = AccountFactory(owner=rep_b, employee_count=300, name="M2")
    s1 = AccountFactory(owner=rep_b, employee_count=20, name="S1")  # in no segment
    platform = Product.objects.create(name="Platform", list_price=Decimal(1000))
    support = Product.objects.create(name="Support", list_price=Decimal(1000))

    def deal(owner, account, status, amount, source, close_in, cycle):
        closed_on = start + dt.timedelta(days=close_in)
        return OpportunityFactory(
            owner=owner, account=account, status=status, amount=Decimal(amount),
            lead_source=source, closed_on=closed_on, expected_close_on=closed_on,
            created_at=at(closed_on - dt.timedelta(days=cycle)),
        )  # fmt: skip

    won, lost = Opportunity.Status.WON, Opportunity.Status.LOST
    d1 = deal(rep_a, e1, won, 10000, "Webinar", 40, 30)
    d2 = deal(rep_a, e1, lost, 5000, "Webinar", 41, 12)
    d3 = deal(rep_a, m1, won, 4000, "", 42, 10)
    d4 = deal(rep_b, m2, won, 6000, "Referral", 43, 20)
    deal(rep_b, s1, lost, 3000, "Referral", 44, 50)
    d6 = deal(rep_b, s1, won, 2000, "", 45, 40)
    # Not in Q1: an open deal and a deal won the day before it.
    OpportunityFactory(owner=rep_a, account=e1, amount=Decimal(99000))
    deal(rep_a, e1, won, 77000, "Webinar", -1, 5)
    for opp, product, quantity, price, discount in (
        (d1, platform, 2, 4000, 0), (d1, support, 1, 2000, 0), (d3, platform, 2, 2000, 0),
        (d6, support, 1, 2500, 20),
    ):  # fmt: skip
        OpportunityLineItem.objects.create(
            opportunity=opp, product=product, quantity=Decimal(quantity),
            unit_price=Decimal(price), discount_percent=Decimal(discount),
        )  # fmt: skip
    day = at(start + dt.timedelta(days=20))
    call, meeting, email = Activity.Kind.CALL, Activity.Kind.MEETING, Activity.Kind.EMAIL
    for owner, account, opp, kind, count in (
        (rep_a, e1, d1, call, 3), (rep_a, e1, d2, email, 5), (rep_a, m1, d3, meeting, 1),
        (rep_b, m2, d4, call, 2), (se_a, e1, None, meeting, 2),
    ):  # fmt: skip
        ActivityFactory.create_batch(
            count, owner=owner, account=account, opportunity=opp, kind=kind, occurred_at=day
        )
    # Before the period: neither coverage nor (on no deal) activities per won deal.
    ActivityFactory(owner=rep_a, account=e1, kind=call, occurred_at=at(start) - dt.timedelta(1))
    return q1


def by_key(rows: list[dict]) -> dict[str, tuple]:
    return {
        r["key"]: (r["won"], r["lost"], r["win_rate"], r["won_value"], r["average_deal"],
                   r["median_cycle_days"], r["activities_per_won_deal"], r["reps"],
                   r["revenue_per_rep"])
        for r in rows
    }  # fmt: skip


def test_api_figures_for_the_executive(api_client_for, executive, company):
    response = api_client_for(executive).get(f"/api/v1/planning/feedback/?period={company.pk}")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["period"]["name"] == company.name
    assert by_key(data["segment"]) == {
        "Enterprise": (1, 1, 0.5, 10000.0, 10000.0, 30.0, 3.0, 1, 10000.0),
        "Mid-market": (2, 0, 1.0, 10000.0, 5000.0, 15.0, 1.5, 2, 5000.0),
        "Unassigned": (1, 1, 0.5, 2000.0, 2000.0, 40.0, 0.0, 1, 2000.0),
    }
    # Line totals: Platform 2 x 4,000 and 2 x 2,000; Support 2,000 and 2,500 less 20 %.
    assert by_key(data["product"]) == {
        "Platform": (2, 0, 1.0, 12000.0, 6000.0, 20.0, 2.0, 1, 12000.0),
        "(none)": (1, 2, 0.3333, 6000.0, 6000.0, 20.0, 2.0, 2, 3000.0),
        "Support": (2, 0, 1.0, 4000.0, 2000.0, 35.0, 1.5, 2, 2000.0),
    }
    assert by_key(data["lead_source"]) == {
        "Webinar": (1, 1, 0.5, 10000.0, 10000.0, 30.0, 3.0, 1, 10000.0),
        "(none)": (2, 0, 1.0, 6000.0, 3000.0, 25.0, 0.5, 2, 3000.0),
        "Referral": (1, 1, 0.5, 6000.0, 6000.0, 20.0, 2.0, 1, 6000.0),
    }
    assert by_key([data["total"]]) == {
        "All deals": (4, 2, 0.6667, 22000.0, 5500.0, 25.0, 1.5, 2, 11000.0)
    }
    days = (company.end_on - company.start_on).days + 1
    planned = {(r["segment"], r["sales_role"]): r for r in data["assumptions"]}
    ae = planned[("Enterprise", "ae")]
    assert (ae["planned_win_rate"], ae["actual_win_rate"]) == (0.4, 0.5)
    assert (ae["planned_deal_size"], ae["actual_deal_size"]) == (12000.0, 10000.0)
    assert (ae["planned_cycle_days"], ae["actual_cycle_days"]) == (45.0, 30.0)
    # Coverage: calls and meetings in the period (not the email, not the call before it),
    # per account, annualised. Enterprise has 1 account; the AE's 3 calls, the SE's 2 meetings.
    assert ae["accounts"] == 1
    assert ae["actual_activities_per_account"] == round(3 * 365 / days, 1)
    assert planned[("Enterprise", "se")]["actual_activities_per_account"] == round(
        2 * 365 / days, 1
    )
    mid = planned[("Mid-market", "ae")]
    assert mid["accounts"] == 2
    assert mid["actual_activities_per_account"] == round(3 / 2 * 365 / days, 1)
    # Left empty on the plan: history's deal size, as the Plan page uses it.
    past = history()
    assert mid["planned_deal_size"] == (float(past.deal_size) if past.deal_size else None)


def test_a_manager_reads_their_subtree_only(api_client_for, manager_a, manager_b, company):
    data = api_client_for(manager_a).get(f"/api/v1/planning/feedback/?period={company.pk}").json()
    # rep_a's deals: 1 and 2 (Enterprise), 3 (Mid-market).
    assert by_key([data["total"]])["All deals"][:4] == (2, 1, 0.6667, 14000.0)
    assert {r["key"] for r in data["segment"]} == {"Enterprise", "Mid-market"}
    planned = {(r["segment"], r["sales_role"]): r for r in data["assumptions"]}
    assert planned[("Mid-market", "ae")]["accounts"] == 1  # M1 only: M2 is manager_b's
    days = (company.end_on - company.start_on).days + 1
    assert planned[("Mid-market", "ae")]["actual_activities_per_account"] == round(365 / days, 1)

    data = api_client_for(manager_b).get(f"/api/v1/planning/feedback/?period={company.pk}").json()
    assert by_key([data["total"]])["All deals"][:4] == (2, 1, 0.6667, 8000.0)
    assert {r["key"] for r in data["segment"]} == {"Mid-market", "Unassigned"}


@pytest.mark.parametrize(
    "persona", ["rep_a", "rep_b", "se_a", "manager_a", "manager_b", "executive", "admin",
                "integrator"],
)  # fmt: skip
def test_who_may_read_the_report(client, api_client_for, personas, persona, q1):
    user = personas[persona]
    reads = persona in READERS
    client.force_login(user)
    page = client.get(reverse("planning:feedback"), {"period": q1.pk})
    assert page.status_code == (200 if reads else 403)
    csv_response = client.get(reverse("planning:feedback"), {"period": q1.pk, "format": "csv"})
    assert csv_response.status_code == (200 if reads else 403)
    api = api_client_for(user).get("/api/v1/planning/feedback/", {"period": q1.pk})
    assert api.status_code == (200 if reads else 403)
    assert ("Feed back" in {s.label for s in sections_for(user)}) is reads


def test_bad_and_unknown_periods(client, api_client_for, executive, q1):
    api = api_client_for(executive)
    assert api.get("/api/v1/planning/feedback/", {"period": "abc"}).status_code == 400
    assert api.get("/api/v1/planning/feedback/", {"period": 10**12}).status_code == 404
    client.force_login(executive)
    assert client.get(reverse("planning:feedback"), {"period": 10**12}).status_code == 404


def test_page_and_csv(client, executive, company):
    client.force_login(executive)
    html = client.get(reverse("planning:feedback"), {"period": company.pk}).content.decode()
    assert f"<title>Feed back · {company.name} · salesmgmt</title>" in html
    for text in ("Enterprise", "Unassigned", "Platform", "(none)", "Referral", "22,000.00"):
        assert text in html
    assert 'id="feedback-assumptions"' in html
    assert "plotly" in html

    response = client.get(reverse("planning:feedback"), {"period": company.pk, "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 3 + 3 + 3 + 1
    total = next(r for r in rows if r["dimension"] == "total")
    assert (total["won"], total["lost"], total["won_value"]) == ("4", "2", "22000.0")
    unassigned = next(r for r in rows if r["key"] == "Unassigned")
    assert unassigned["dimension"] == "segment"

    response = client.get(
        reverse("planning:feedback"),
        {"period": company.pk, "format": "csv", "table": "assumptions"},
    )
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert {(r["segment"], r["sales_role"]) for r in rows} == {
        ("Enterprise", "ae"),
        ("Enterprise", "se"),
        ("Mid-market", "ae"),
    }


def test_a_lead_source_written_as_a_formula_is_inert_in_the_csv(client, executive, company):
    Opportunity.objects.filter(lead_source="Webinar").update(lead_source="=HYPERLINK(1)")
    client.force_login(executive)
    response = client.get(reverse("planning:feedback"), {"period": company.pk, "format": "csv"})
    text = response.content.decode()
    assert "'=HYPERLINK(1)" in text


def test_an_empty_period(client, executive, q1):
    client.force_login(executive)
    html = client.get(reverse("planning:feedback"), {"period": q1.pk}).content.decode()
    assert f"No deal closed in {q1.name}." in html
    report = feedback_report(viewer=executive, period=q1)
    assert report.total.empty
    empty = client.get(reverse("planning:feedback"), {"period": q1.pk, "format": "csv"})
    assert empty.content.decode().startswith("period,dimension,key,won,lost,win_rate")


def _more(company, rep_a, rep_b, n):
    """n more closed deals, products, sources and activities: what must not add queries."""
    product = Product.objects.create(name=f"Extra {n}", list_price=Decimal(1))
    for i in range(n):
        account = AccountFactory(owner=rep_a if i % 2 else rep_b, employee_count=50 * i)
        opp = OpportunityFactory(
            owner=account.owner, account=account, status=Opportunity.Status.WON,
            amount=Decimal(100), lead_source=f"Source {i}",
            closed_on=company.start_on + dt.timedelta(days=i),
            expected_close_on=company.start_on + dt.timedelta(days=i),
        )  # fmt: skip
        OpportunityLineItem.objects.create(opportunity=opp, product=product, unit_price=100)
        ActivityFactory(owner=account.owner, account=account, opportunity=opp,
                        occurred_at=at(company.start_on))  # fmt: skip


@pytest.mark.parametrize("persona", ["executive", "manager_a"])
def test_query_budget_does_not_grow_with_rows(client, personas, company, rep_a, rep_b, persona):
    """The page: session, user (2); the report: exchange rates, segments, their coverages and
    products (prefetch: 3), closed deals, line items, activities per won deal, accounts,
    activities per account and role (5), history's closed deals, rates, people, periods...
    (fixed); the period picker (1); the closed deals' load plans for every row (2 SET LOCAL:
    ``frames.work_mem(..., every_row=True)``). Counted at two sizes: the same."""
    client.force_login(personas[persona])
    url = reverse("planning:feedback")

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url, {"period": company.pk}).status_code == 200
        return len(queries)

    small = count()
    _more(company, rep_a, rep_b, 12)
    assert count() == small
    assert small <= 22
