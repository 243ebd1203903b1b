"""Opportunities over the API: concurrency, idempotency, expand, filters, sync, errors."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from accounts import services
from accounts.models import Account, MilestoneCompletion, Opportunity
from tests.factories import AccountFactory, OpportunityFactory, complete_closing_milestones

URL = "/api/v1/opportunities/"


@pytest.fixture
def rep_client(api_client_for, rep_a):
    return api_client_for(rep_a)


@pytest.fixture
def deal(process, rep_a):
    return services.opportunity_create(
        actor=rep_a,
        account=AccountFactory(owner=rep_a, name="Acme"),
        name="Acme rollout",
        amount=Decimal("50000"),
        expected_close_on=dt.date(2030, 3, 31),
    )


# --- ETag / If-Match ------------------------------------------------------------------------


def test_etag_is_the_version_and_a_stale_if_match_is_412_with_no_change(rep_client, deal):
    etag = rep_client.get(f"{URL}{deal.pk}/")["ETag"]
    assert etag == '"1"'

    first = rep_client.patch(f"{URL}{deal.pk}/", {"amount": "60000"}, HTTP_IF_MATCH=etag)
    stale = rep_client.patch(f"{URL}{deal.pk}/", {"amount": "1"}, HTTP_IF_MATCH=etag)

    assert first.status_code == 200
    assert first["ETag"] == '"2"'
    assert stale.status_code == 412
    assert stale.json()["code"] == "precondition_failed"
    deal.refresh_from_db()
    assert (deal.amount, deal.version) == (Decimal("60000.00"), 2)


def test_if_match_is_rechecked_by_the_service_under_the_row_lock(rep_client, deal, rep_a):
    # Someone else's write lands between our early check and the service's lock: the
    # service's version check (ConflictError) is still reported as 412.
    from salesmgmt.api import viewsets

    original = viewsets.check_if_match
    viewsets.check_if_match = lambda request, instance: None
    try:
        services.opportunity_update(actor=rep_a, opportunity=deal, next_step="Theirs")
        response = rep_client.patch(f"{URL}{deal.pk}/", {"next_step": "Mine"}, HTTP_IF_MATCH='"1"')
    finally:
        viewsets.check_if_match = original
    assert response.status_code == 412
    deal.refresh_from_db()
    assert deal.next_step == "Theirs"


def test_stale_if_match_on_an_action_is_412(rep_client, deal):
    response = rep_client.post(f"{URL}{deal.pk}/win/", {}, HTTP_IF_MATCH='"7"')

    assert response.status_code == 412
    assert Opportunity.objects.get(pk=deal.pk).status == "open"


def test_etag_of_models_without_version_follows_updated_at(api_client_for, rep_a, deal):
    client = api_client_for(rep_a)
    url = f"/api/v1/accounts/{deal.account_id}/"
    etag = client.get(url)["ETag"]

    assert client.patch(url, {"industry": "Retail"}, HTTP_IF_MATCH=etag).status_code == 200
    assert client.patch(url, {"industry": "Energy"}, HTTP_IF_MATCH=etag).status_code == 412
    assert Account.objects.get(pk=deal.account_id).industry == "Retail"


# --- Idempotency-Key ------------------------------------------------------------------------


def test_a_retried_create_with_the_same_key_returns_the_first_result(rep_client, deal):
    body = {
        "name": "Second deal",
        "account": deal.account_id,
        "amount": "10.00",
        "expected_close_on": "2030-06-30",
    }

    first = rep_client.post(URL, body, HTTP_IDEMPOTENCY_KEY="create-42")
    retry = rep_client.post(URL, body, HTTP_IDEMPOTENCY_KEY="create-42")

    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert retry["Location"] == first["Location"]
    assert Opportunity.objects.filter(name="Second deal").count() == 1


def test_the_same_key_for_a_different_request_is_422(rep_client, deal):
    body = {
        "name": "A",
        "account": deal.account_id,
        "amount": "1",
        "expected_close_on": "2030-06-30",
    }
    rep_client.post(URL, body, HTTP_IDEMPOTENCY_KEY="k")

    response = rep_client.post(URL, {**body, "name": "B"}, HTTP_IDEMPOTENCY_KEY="k")

    assert response.status_code == 422
    assert not Opportunity.objects.filter(name="B").exists()


def test_a_failed_request_releases_its_key(rep_client, deal):
    body = {"name": "A", "account": deal.account_id, "expected_close_on": "2030-06-30"}
    assert rep_client.post(URL, body, HTTP_IDEMPOTENCY_KEY="k").status_code == 400

    fixed = rep_client.post(URL, {**body, "amount": "3"}, HTTP_IDEMPOTENCY_KEY="k")

    assert fixed.status_code == 201


def test_keys_are_per_user(api_client_for, rep_a, manager_a, deal):
    body = {
        "name": "A",
        "account": deal.account_id,
        "amount": "1",
        "owner": rep_a.pk,
        "expected_close_on": "2030-06-30",
    }
    api_client_for(rep_a).post(URL, body, HTTP_IDEMPOTENCY_KEY="same")
    api_client_for(manager_a).post(URL, body, HTTP_IDEMPOTENCY_KEY="same")

    assert Opportunity.objects.filter(name="A").count() == 2


# --- actions call the same services as the pages ---------------------------------------------


def test_complete_and_undo_move_the_stage_and_keep_the_audit_trail(rep_client, deal):
    qualify = deal.process.stages.get(name="Qualify")
    first, second = qualify.milestones.order_by("order")

    rep_client.post(f"{URL}{deal.pk}/complete/", {"milestone": first.pk})
    done = rep_client.post(
        f"{URL}{deal.pk}/complete/", {"milestone": second.pk, "evidence": "budget memo"}
    )
    undone = rep_client.post(f"{URL}{deal.pk}/undo/", {"milestone": second.pk, "note": "oops"})

    assert done.status_code == 200
    assert done.json()["stage"]["name"] == "Discover"
    assert undone.json()["stage"]["name"] == "Qualify"
    assert list(
        MilestoneCompletion.objects.filter(opportunity=deal)
        .values_list("action", flat=True)
        .order_by("id")
    ) == ["complete", "complete", "undo"]


def test_evidence_rule_comes_back_as_a_field_error(rep_client, deal):
    milestone = deal.process.stages.get(name="Qualify").milestones.get(evidence_required=True)

    response = rep_client.post(f"{URL}{deal.pk}/complete/", {"milestone": milestone.pk})

    assert response.status_code == 400
    assert "evidence" in response.json()["fields"]


def test_win_and_lose(rep_client, deal, rep_a):
    other = services.opportunity_create(
        actor=rep_a,
        account=deal.account,
        name="Other",
        amount=Decimal(1),
        expected_close_on=dt.date(2030, 1, 1),
    )
    complete_closing_milestones(deal)
    won = rep_client.post(f"{URL}{deal.pk}/win/", {"closed_on": "2030-01-15"})
    no_reason = rep_client.post(f"{URL}{other.pk}/lose/", {"lost_reason": ""})
    lost = rep_client.post(f"{URL}{other.pk}/lose/", {"lost_reason": "Budget cut"})
    again = rep_client.post(f"{URL}{deal.pk}/win/", {})

    assert (won.json()["status"], won.json()["closed_on"]) == ("won", "2030-01-15")
    assert no_reason.status_code == 400
    assert "lost_reason" in no_reason.json()["fields"]
    assert lost.json()["status"] == "lost"
    assert again.status_code == 400


# --- no field points a record outside the caller's visibility --------------------------------


@pytest.mark.parametrize("field", ["account", "owner"])
def test_repointing_a_deal_outside_visibility_is_a_field_error(rep_client, deal, rep_b, field):
    foreign = {"account": AccountFactory(owner=rep_b).pk, "owner": rep_b.pk}[field]

    response = rep_client.patch(f"{URL}{deal.pk}/", {field: foreign})

    assert response.status_code == 400
    assert "does not exist" in response.json()["fields"][field][0]
    deal.refresh_from_db()
    assert (deal.account.owner_id, deal.owner_id, deal.version) == (deal.owner_id, deal.owner_id, 1)


def test_manager_can_reassign_within_the_team_only(api_client_for, manager_a, se_a, rep_b, deal):
    client = api_client_for(manager_a)

    inside = client.patch(f"{URL}{deal.pk}/", {"owner": se_a.pk})
    outside = client.patch(f"{URL}{deal.pk}/", {"owner": rep_b.pk})

    assert inside.status_code == 200
    assert inside.json()["owner"]["id"] == se_a.pk
    assert outside.status_code == 400


# --- bad input is a 400 with field messages, never a 500 ---------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"amount": "NaN"},
        {"amount": "-5"},
        {"amount": "1e400"},
        {"expected_close_on": "31/12/2030"},
        {"account": 99999999999999999999},
        {"account": "abc"},
        {"account": True},
        {"owner": -1},
        {"currency": "XXX"},
        {"forecast_category": "closed"},
        {"status": "won"},
    ],
)
def test_bad_input_is_a_json_field_error(rep_client, deal, body):
    response = rep_client.patch(f"{URL}{deal.pk}/", body)

    assert response.status_code in (200, 400)
    if "status" in body:  # read-only fields are ignored, never written
        assert Opportunity.objects.get(pk=deal.pk).status == "open"
        return
    assert response.status_code == 400
    payload = response.json()
    assert payload["code"] == "invalid"
    assert set(payload["fields"]) == set(body)


@pytest.mark.parametrize(
    "query",
    [
        "owner=-3",
        "owner=99999999999999999999",
        "amount_min=abc",
        "close_after=2030-13-01",
        "updated_since=yesterday",
        "page=abc",
        "cursor=garbage",
        "ordering=password",
        "expand=everything",
        "page_size=0",
    ],
)
def test_bad_query_parameters_never_crash(rep_client, deal, query):
    response = rep_client.get(f"{URL}?{query}")

    assert response.status_code in (200, 400, 404)
    assert response.json()


def test_malformed_json_is_a_400(rep_client, deal):
    response = rep_client.generic("POST", URL, "{not json", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_unauthenticated_is_401_with_a_challenge(client, deal):
    response = client.get(URL)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


# --- expand, filters, search, ordering ---------------------------------------------------------


def test_related_records_are_id_and_name_unless_expanded(rep_client, deal, rep_a):
    lean = rep_client.get(f"{URL}{deal.pk}/").json()
    rich = rep_client.get(f"{URL}{deal.pk}/?expand=owner,account").json()

    assert lean["owner"] == {"id": rep_a.pk, "name": str(rep_a)}
    assert lean["account"] == {"id": deal.account_id, "name": "Acme"}
    assert rich["owner"]["email"] == rep_a.email
    assert rich["account"]["industry"] == deal.account.industry
    assert rich["stage"] == lean["stage"]  # not asked for


def test_a_page_of_fifty_deals_is_a_few_kilobytes(rep_client, rep_a, process):
    account = AccountFactory(owner=rep_a)
    OpportunityFactory.create_batch(50, owner=rep_a, account=account, process=process)

    response = rep_client.get(URL)

    assert len(response.json()["results"]) == 50
    # about 600 bytes a deal, plus 31 for ``"last_two_way_contact_at":null,``
    assert len(response.content) < 50 * 640


def test_filters(rep_client, rep_a, process):
    account = AccountFactory(owner=rep_a)
    small = OpportunityFactory(
        owner=rep_a,
        account=account,
        amount=Decimal(100),
        expected_close_on=dt.date(2030, 1, 10),
        name="Small widget",
    )
    big = OpportunityFactory(
        owner=rep_a,
        account=account,
        amount=Decimal(90000),
        expected_close_on=dt.date(2030, 6, 10),
        forecast_category="commit",
        name="Big platform",
    )

    def ids(query):
        return {row["id"] for row in rep_client.get(f"{URL}?{query}").json()["results"]}

    assert ids("amount_min=1000") == {big.pk}
    assert ids("amount_max=1000") == {small.pk}
    assert ids("close_after=2030-03-01&close_before=2030-12-31") == {big.pk}
    assert ids("forecast_category=commit") == {big.pk}
    assert ids("search=widget") == {small.pk}
    assert ids(f"owner={rep_a.pk}&status=open") == {small.pk, big.pk}
    assert ids("status=won") == set()
    ordered = rep_client.get(f"{URL}?ordering=-amount").json()["results"]
    assert [row["id"] for row in ordered] == [big.pk, small.pk]


def test_updated_since_syncs_with_a_stable_cursor(rep_client, rep_a, process):
    account = AccountFactory(owner=rep_a)
    deals = OpportunityFactory.create_batch(7, owner=rep_a, account=account, process=process)
    start = timezone.now() - dt.timedelta(minutes=1)
    old = OpportunityFactory(owner=rep_a, account=account, process=process)
    Opportunity.objects.filter(pk=old.pk).update(updated_at=start - dt.timedelta(days=1))

    seen, pages = [], 0
    url = f"{URL}?{urlencode({'updated_since': start.isoformat(), 'page_size': 3})}"
    while url:
        page = rep_client.get(url).json()
        assert "count" not in page  # cursor mode
        if pages == 0:
            # a deal edited mid-sync moves to the end: seen again later, never skipped
            services.opportunity_update(actor=rep_a, opportunity=deals[0], next_step="x")
        seen += [row["id"] for row in page["results"]]
        url, pages = page["next"], pages + 1

    assert set(seen) == {d.pk for d in deals}
    assert old.pk not in seen
    assert seen[-1] == deals[0].pk
    assert len(seen) == len(set(seen)) + 1  # exactly the edited one twice


# --- CSV export ------------------------------------------------------------------------------


def test_any_list_exports_its_filtered_rows_as_csv(rep_client, rep_a, process):
    account = AccountFactory(owner=rep_a, name="=HYPERLINK(evil)")
    OpportunityFactory.create_batch(60, owner=rep_a, account=account, process=process)
    OpportunityFactory(
        owner=rep_a, account=account, process=process, status="won", closed_on=dt.date(2030, 1, 1)
    )

    response = rep_client.get(f"{URL}?status=open", HTTP_ACCEPT="text/csv")
    by_param = rep_client.get(f"{URL}?status=open&format=csv")

    assert response["Content-Type"].startswith("text/csv")
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0].startswith("id,name,account.id,account.name,owner.id,owner.name")
    assert len(lines) == 61  # header + every open deal, unpaginated
    assert ",'=HYPERLINK(evil)," in lines[1]  # formulas are neutralised
    assert b"".join(by_param.streaming_content).decode().splitlines() == lines


def test_csv_errors_are_still_json(rep_client, deal):
    response = rep_client.get(f"{URL}?format=csv&amount_min=abc")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    "value", ["5851-02-08T09:56:17.46-20:49", "9999-12-31T23:59:59-05:00", "0001-01-01T00:00+05:00"]
)
def test_extreme_updated_since_is_never_a_500(rep_client, deal, value):
    response = rep_client.get(URL, {"updated_since": value, "format": "csv"})

    assert response.status_code in (200, 400)


# --- external ids ---------------------------------------------------------------------------


def test_an_integrator_sets_and_changes_a_deals_external_id(rep_client, deal):
    body = {
        "name": "From the ERP",
        "account": deal.account_id,
        "amount": "10.00",
        "expected_close_on": "2030-06-30",
        "external_id": "ERP-1001",
    }

    created = rep_client.post(URL, body)
    found = rep_client.get(f"{URL}?external_id=ERP-1001").json()["results"]
    renamed = rep_client.patch(f"{URL}{created.json()['id']}/", {"external_id": "ERP-1002"})
    too_long = rep_client.patch(f"{URL}{deal.pk}/", {"external_id": "x" * 65})

    assert created.status_code == 201
    assert created.json()["external_id"] == "ERP-1001"
    assert [row["id"] for row in found] == [created.json()["id"]]
    assert renamed.status_code == 200
    assert Opportunity.objects.get(pk=created.json()["id"]).external_id == "ERP-1002"
    assert too_long.status_code == 400
    assert "external_id" in too_long.json()["fields"]
    assert Opportunity.objects.get(pk=deal.pk).external_id == ""
