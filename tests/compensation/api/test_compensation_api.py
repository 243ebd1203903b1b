"""The compensation API: statements with lines, approval, adjustments, disputes, what-if,
plans and the payroll CSV — scoped exactly as the pages are (404 outside visibility)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from compensation import services
from compensation.models import Dispute
from tests.compensation.factories import won_deal

BASE = "/api/v1/compensation"
VISIBLE = {
    "rep_a": {"a"},
    "se_a": {"se"},
    "rep_b": {"b"},
    "manager_a": {"a", "se"},
    "manager_b": {"b"},
    "executive": {"a", "se", "b"},
    "admin": {"a", "se", "b"},
    "integrator": {"a", "se", "b"},
}


@pytest.mark.parametrize("who", sorted(VISIBLE))
def test_statement_list_and_detail_follow_visibility(api_client_for, personas, paid, who):
    client = api_client_for(personas[who])

    listed = client.get(f"{BASE}/statements/").json()

    assert {row["id"] for row in listed["results"]} == {paid[k].pk for k in VISIBLE[who]}
    for key in ("a", "se", "b"):
        response = client.get(f"{BASE}/statements/{paid[key].pk}/")
        assert response.status_code == (200 if key in VISIBLE[who] else 404), (who, key)


def test_statement_detail_has_explained_lines_and_money_as_strings(api_client_for, rep_a, paid):
    body = api_client_for(rep_a).get(f"{BASE}/statements/{paid['a'].pk}/").json()

    assert body["total_amount"] == "11800.00"
    assert body["attainment"] == "1.100000"
    assert [line["amount"] for line in body["lines"]] == ["8600.00", "2200.00", "1000.00", "0.00"]
    assert "15,000.00 at 12%" in body["lines"][1]["explanation"]
    assert body["lines"][1]["inputs"]["credited_amount"] == "20000.00"


def test_approve_and_adjust_through_the_api(api_client_for, manager_a, rep_a, paid):
    manager = api_client_for(manager_a)
    url = f"{BASE}/statements/{paid['a'].pk}/"

    assert api_client_for(rep_a).post(f"{url}approve/").status_code == 403
    approved = manager.post(f"{url}approve/")
    assert approved.status_code == 200
    assert approved.json()["status"] == "locked"
    assert manager.post(f"{url}approve/").status_code == 409
    adjusted = manager.post(f"{url}adjust/", {"amount": "-50.5", "reason": "Fee"}, format="json")
    assert adjusted.status_code == 201
    assert adjusted.json()["amount"] == "-50.50"
    assert manager.get(url).json()["adjustments_amount"] == "-50.50"


def test_other_teams_cannot_approve(api_client_for, manager_b, paid):
    response = api_client_for(manager_b).post(f"{BASE}/statements/{paid['a'].pk}/approve/")

    assert response.status_code == 404


def test_disputes_through_the_api(api_client_for, rep_a, rep_b, manager_a, paid):
    line = paid["a"].lines.first()
    rep = api_client_for(rep_a)

    # a line the caller cannot see cannot even be named
    assert (
        api_client_for(rep_b)
        .post(f"{BASE}/disputes/", {"line": line.pk, "text": "x"}, format="json")
        .status_code
        == 400
    )
    created = rep.post(f"{BASE}/disputes/", {"line": line.pk, "text": "Wrong tier"}, format="json")
    assert created.status_code == 201
    dispute_id = created.json()["id"]
    assert api_client_for(rep_b).get(f"{BASE}/disputes/{dispute_id}/").status_code == 404
    resolved = api_client_for(manager_a).post(
        f"{BASE}/disputes/{dispute_id}/resolve/", {"resolution_note": "Checked"}, format="json"
    )
    assert resolved.status_code == 200
    assert resolved.json()["status"] == "resolved"
    assert Dispute.objects.get(pk=dispute_id).resolved_by == manager_a


def test_whatif_api_equals_the_run_and_adds_deals(api_client_for, rep_a, paid, q1):
    client = api_client_for(rep_a)

    same = client.post(f"{BASE}/what-if/", {"period": q1.pk}, format="json").json()
    more = client.post(
        f"{BASE}/what-if/",
        {"period": q1.pk, "deals": [{"amount": "10000", "closed_on": "2026-03-30"}]},
        format="json",
    ).json()

    assert same["total"] == "11800.00"
    assert [line["amount"] for line in same["lines"]] == [
        str(line.amount) for line in paid["a"].lines.order_by("position")
    ]
    assert more["total"] == "13000.00"


def test_whatif_api_for_someone_without_a_plan(api_client_for, executive, paid, q1):
    response = api_client_for(executive).post(f"{BASE}/what-if/", {"period": q1.pk}, format="json")

    assert response.status_code == 400
    assert "not on a compensation plan" in response.json()["detail"]


def test_payroll_csv_api(api_client_for, executive, rep_a, manager_a, paid, q1):
    services.statement_approve(actor=manager_a, statement=paid["a"])
    services.statement_adjustment_add(
        actor=manager_a, statement=paid["a"], amount=Decimal("0.5"), reason="Rounding refund"
    )

    response = api_client_for(executive).get(f"{BASE}/payroll/{q1.pk}/")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    rows = {r["username"]: r for r in csv.DictReader(io.StringIO(response.content.decode()))}
    assert rows["rep_a"]["status"] == "locked"
    assert (rows["rep_a"]["adjustments_amount"], rows["rep_a"]["payable_amount"]) == (
        "0.50",
        "11800.50",
    )
    assert api_client_for(rep_a).get(f"{BASE}/payroll/{q1.pk}/").status_code == 403


def test_plans_api_is_read_only(api_client_for, rep_a, plan):
    client = api_client_for(rep_a)

    body = client.get(f"{BASE}/plans/").json()

    assert [p["name"] for p in body["results"]] == ["AE plan"]
    assert [c["kind"] for c in body["results"][0]["components"]] == [
        "commission",
        "threshold_bonus",
        "compliance",
    ]
    assert client.post(f"{BASE}/plans/", {"name": "x"}, format="json").status_code == 405


def test_statement_list_query_count_does_not_grow(api_client_for, executive, paid, q1, rep_a):
    client = api_client_for(executive)
    client.get(f"{BASE}/statements/")  # warm-up: stamps the token's last use

    with CaptureQueriesContext(connection) as few:
        client.get(f"{BASE}/statements/")
    for day in range(1, 4):
        won_deal(rep_a, "10", dt.date(2026, 3, day))
        services.payout_run_compute(period=q1, actor=executive)
    with CaptureQueriesContext(connection) as many:
        body = client.get(f"{BASE}/statements/").json()

    assert body["count"] > 3
    # 1 the token with its user, 2 COUNT(*) for the page, 3 the page of statements (period,
    # rep and plan joined; adjustments and open disputes as subqueries)
    assert len(many) == len(few) == 3


# --- a deal's credit -----------------------------------------------------------------------


def paid_deal(statement):
    return statement.lines.filter(opportunity__isnull=False).last().opportunity


@pytest.mark.parametrize("who", sorted(VISIBLE))
def test_deal_credit_follows_deal_visibility(api_client_for, personas, paid, who):
    client = api_client_for(personas[who])

    for key in ("a", "se", "b"):
        response = client.get(f"{BASE}/deals/{paid_deal(paid[key]).pk}/")
        assert response.status_code == (200 if key in VISIBLE[who] else 404), (who, key)


def test_deal_credit_splits_and_cancellation_through_the_api(
    api_client_for, manager_a, rep_a, se_a, rep_b, paid
):
    deal = paid_deal(paid["a"])
    manager = api_client_for(manager_a)
    url = f"{BASE}/deals/{deal.pk}/"

    assert manager.get(url).json()["splits"] == [{"user": rep_a.pk, "percent": "100.00"}]
    wrong_sum = manager.post(
        f"{url}splits/",
        {
            "splits": [
                {"user": rep_a.pk, "percent": "50"},
                {"user": se_a.pk, "percent": "40"},
            ]
        },
        format="json",
    )
    other_team = manager.post(
        f"{url}splits/",
        {
            "splits": [
                {"user": rep_b.pk, "percent": "100"},
            ]
        },
        format="json",
    )
    saved = manager.post(
        f"{url}splits/",
        {
            "splits": [
                {"user": rep_a.pk, "percent": "50"},
                {"user": se_a.pk, "percent": "50"},
            ]
        },
        format="json",
    )
    by_rep = api_client_for(rep_a).post(
        f"{url}cancel/", {"cancelled_on": "2026-04-01", "reason": "x"}, format="json"
    )
    cancelled = manager.post(
        f"{url}cancel/", {"cancelled_on": "2026-04-01", "reason": "Bankrupt"}, format="json"
    )

    assert wrong_sum.status_code == 400
    assert "100%" in str(wrong_sum.json()["fields"])
    assert other_team.status_code == 400  # rep_b is not someone manager_a can credit
    assert saved.status_code == 200
    assert {s["user"]: s["percent"] for s in saved.json()["splits"]} == {
        rep_a.pk: "50.00",
        se_a.pk: "50.00",
    }
    assert by_rep.status_code == 403
    assert cancelled.status_code == 201
    assert cancelled.json()["cancellation"]["reason"] == "Bankrupt"
    assert [line["amount"] for line in cancelled.json()["lines"]] == ["2200.00"]
