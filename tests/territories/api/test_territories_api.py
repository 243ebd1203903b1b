"""The territories API: visibility per persona, writes through the services, previews that
equal applies, quota edits with audit and ETags, attainment, and list query budgets."""

import datetime as dt
from decimal import Decimal

import pytest

from territories.models import AccountTerritoryAssignment, AssignmentRule, QuotaChange, Territory
from tests.factories import AccountFactory, OpportunityFactory, UserFactory
from tests.territories.factories import AssignmentFactory, AssignmentRuleFactory, QuotaFactory

EXPECTED_TERRITORIES = {
    "rep_a": {"NorCal"},
    "se_a": {"SoCal"},
    "manager_a": {"West", "NorCal", "SoCal"},
    "manager_b": {"East", "NewYork"},
    "executive": {"West", "East", "NorCal", "SoCal", "NewYork"},
    "integrator": {"West", "East", "NorCal", "SoCal", "NewYork"},
}


def names(response) -> set[str]:
    return {row["name"] for row in response.json()["results"]}


@pytest.mark.parametrize("viewer", sorted(EXPECTED_TERRITORIES))
def test_territory_list_follows_the_visibility_policy(
    api_client_for, personas, territory_map, viewer
):
    client = api_client_for(personas[viewer])

    response = client.get("/api/v1/territories/")

    assert response.status_code == 200
    assert names(response) == EXPECTED_TERRITORIES[viewer]


def test_a_territory_outside_visibility_is_404(api_client_for, rep_a, territory_map):
    client = api_client_for(rep_a)
    assert client.get(f"/api/v1/territories/{territory_map['newyork'].pk}/").status_code == 404
    assert client.get(f"/api/v1/territories/{territory_map['norcal'].pk}/").status_code == 200


def test_executives_create_territories_and_rules_others_may_not(
    api_client_for, executive, manager_a, rep_a, territory_map
):
    body = {"name": "Oregon", "owner": rep_a.pk, "parent": territory_map["west"].pk}
    refused = api_client_for(manager_a).post("/api/v1/territories/", body)
    assert refused.status_code == 403

    client = api_client_for(executive)
    created = client.post("/api/v1/territories/", body)
    assert created.status_code == 201, created.json()
    territory = Territory.objects.get(name="Oregon")
    assert territory.ownerships.get().owner == rep_a

    rule = client.post("/api/v1/territory-rules/", {
        "name": "Oregon", "territory": territory.pk, "states": ["OR"], "priority": 5,
        "employee_count_min": 10, "employee_count_max": 5,
    })  # fmt: skip
    assert rule.status_code == 400
    assert "employee_count_max" in rule.json()["fields"]
    rule = client.post("/api/v1/territory-rules/", {
        "name": "Oregon", "territory": territory.pk, "states": ["OR"], "priority": 5,
    })  # fmt: skip
    assert rule.status_code == 201
    assert AssignmentRule.objects.get(name="Oregon").states == ["OR"]


def test_changing_the_owner_through_the_api_keeps_history(
    api_client_for, executive, rep_b, territory_map
):
    norcal = territory_map["norcal"]
    response = api_client_for(executive).patch(
        f"/api/v1/territories/{norcal.pk}/", {"owner": rep_b.pk}
    )
    assert response.status_code == 200, response.json()
    assert list(norcal.ownerships.values_list("owner__username", flat=True)) == ["rep_a", "rep_b"]


def test_rule_preview_equals_apply_and_a_stale_fingerprint_is_409(
    api_client_for, executive, rep_a, rep_b, territory_map
):
    AssignmentRuleFactory(territory=territory_map["norcal"], states=["CA"])
    account = AccountFactory(state="CA", owner=rep_b)
    client = api_client_for(executive)

    preview = client.get("/api/v1/territory-assignments/preview/").json()
    assert [m["account_id"] for m in preview["moves"]] == [account.pk]
    stale = client.post("/api/v1/territory-assignments/apply/", {"fingerprint": "0" * 16})
    assert stale.status_code == 409
    applied = client.post(
        "/api/v1/territory-assignments/apply/", {"fingerprint": preview["fingerprint"]}
    )

    assert applied.status_code == 201
    assert applied.json()["moved_count"] == 1
    current = client.get("/api/v1/territory-assignments/").json()["results"]
    assert [(r["account"]["id"], r["territory"]["id"]) for r in current] == [
        (m["account_id"], m["to_territory_id"]) for m in preview["moves"]
    ]
    again = client.post("/api/v1/territory-assignments/apply/", {})
    assert again.status_code == 400
    assert "Nothing to move" in str(again.json())


def test_rebalance_preview_and_apply_through_the_api(api_client_for, executive, territory_map):
    for revenue in (3000, 3000, 3000):
        AssignmentFactory(
            account=AccountFactory(annual_revenue=revenue, owner=territory_map["norcal"].owner),
            territory=territory_map["norcal"],
        )
    client = api_client_for(executive)

    preview = client.post(
        "/api/v1/territory-assignments/rebalance-preview/", {"band": "0.5"}
    ).json()
    applied = client.post(
        "/api/v1/territory-assignments/rebalance/",
        {"band": "0.5", "fingerprint": preview["fingerprint"]},
    )

    assert applied.status_code == 201
    assert preview["cv_after"] < preview["cv_before"]
    moved = AccountTerritoryAssignment.objects.filter(source="rebalance")
    assert sorted(m.account_id for m in moved) == sorted(m["account_id"] for m in preview["moves"])


def test_reps_cannot_apply_assignments(api_client_for, rep_a, territory_map):
    response = api_client_for(rep_a).post("/api/v1/territory-assignments/apply/", {})
    assert response.status_code == 403


def test_quota_api_visibility_edit_with_reason_and_etag(
    api_client_for, manager_a, manager_b, rep_a, rep_b, q1
):
    mine = QuotaFactory(user=rep_a, period=q1, territory_quota=Decimal(1000), amount=Decimal(1000))
    other = QuotaFactory(user=rep_b, period=q1)
    client = api_client_for(manager_a)

    listed = client.get("/api/v1/quotas/", {"period": q1.pk}).json()["results"]
    assert [row["id"] for row in listed] == [mine.pk]
    assert client.get(f"/api/v1/quotas/{other.pk}/").status_code == 404

    url = f"/api/v1/quotas/{mine.pk}/"
    etag = client.get(url)["ETag"]
    no_reason = client.patch(url, {"manager_adjustment": "5"})
    assert no_reason.status_code == 400
    assert "reason" in no_reason.json()["fields"]
    changed = client.patch(
        url, {"manager_adjustment": "5", "reason": "Pull-in"}, HTTP_IF_MATCH=etag
    )
    assert changed.status_code == 200, changed.json()
    assert changed.json()["amount"] == "1005.00"
    stale = client.patch(url, {"manager_adjustment": "6", "reason": "x"}, HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    log = client.get(f"{url}changes/").json()
    assert {row["field"] for row in log} == {"manager_adjustment", "amount"}
    assert QuotaChange.objects.filter(reason="Pull-in", changed_by=manager_a).count() == 2
    assert api_client_for(rep_a).patch(url, {"amount": "1", "reason": "me"}).status_code == 403


def test_quota_upsert_by_post_makes_an_explicit_manager_quota(
    api_client_for, executive, manager_a, q1
):
    response = api_client_for(executive).post("/api/v1/quotas/", {
        "user": manager_a.pk, "period": q1.pk, "amount": "5000", "reason": "Stretch",
    })  # fmt: skip
    assert response.status_code == 201, response.json()
    assert (response.json()["basis"], response.json()["amount"]) == ("explicit", "5000.00")


def test_attainment_endpoint_per_person_and_company(
    api_client_for, executive, manager_a, rep_a, rep_b, q1, process
):
    QuotaFactory(user=rep_a, period=q1, territory_quota=Decimal(1000), amount=Decimal(1000))
    OpportunityFactory(
        owner=rep_a, status="won", closed_on=dt.date(2026, 2, 2), amount=Decimal(250)
    )
    client = api_client_for(rep_a)

    mine = client.get("/api/v1/attainment/", {"period": q1.pk}).json()
    assert (mine["bookings"], mine["quota"], mine["ratio"]) == ("250.00", "1000.00", "0.2500")
    assert client.get("/api/v1/attainment/", {"period": q1.pk, "user": rep_b.pk}).status_code == 404
    assert (
        client.get("/api/v1/attainment/", {"period": q1.pk, "scope": "company"}).status_code == 400
    )
    team = (
        api_client_for(manager_a)
        .get("/api/v1/attainment/", {"period": q1.pk, "user": manager_a.pk})
        .json()
    )
    assert team["bookings"] == "250.00"
    company = (
        api_client_for(executive)
        .get("/api/v1/attainment/", {"period": q1.pk, "scope": "company"})
        .json()
    )
    assert company["ratio"] == "0.2500"


def _grow(territory_map, q1, n):
    for i in range(n):
        rep = UserFactory(manager=territory_map["west"].owner)
        territory = Territory.objects.create(
            name=f"Extra {i}", owner=rep, parent=territory_map["west"]
        )
        AssignmentFactory(account=AccountFactory(owner=rep), territory=territory)
        AssignmentRuleFactory(territory=territory, states=[f"S{i}"])
        QuotaFactory(user=rep, period=q1)


# Each list as manager_a through a token, after a warm-up call: the token with its user (1),
# COUNT(*) (1), the page with related rows joined (1), plus prefetches — territories: open
# overlays (1); rules: named accounts (1). Visibility is part of the WHERE clause.
API_BUDGETS = {"territories": 4, "territory-rules": 4, "territory-assignments": 3, "quotas": 3}


@pytest.mark.parametrize("extra", [0, 20])
@pytest.mark.parametrize("kind", sorted(API_BUDGETS))
def test_api_list_query_budget(
    api_client_for, django_assert_max_num_queries, manager_a, territory_map, q1, kind, extra
):
    _grow(territory_map, q1, extra)
    client = api_client_for(manager_a)
    client.get(f"/api/v1/{kind}/")  # warm-up: stamps the token's last_used_at

    with django_assert_max_num_queries(API_BUDGETS[kind]):
        response = client.get(f"/api/v1/{kind}/", {"page_size": 100})

    assert response.status_code == 200
    assert response.json()["count"] >= extra
