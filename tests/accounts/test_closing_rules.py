"""Closing won needs the process's closing milestones (the closing stage's exit criteria), or
a manager override with a reason, recorded and shown: in the service, so the page, the API
and every caller agree; imports of deals won in the old system stay history, not a close."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts import selectors, services
from accounts.models import ForecastCategory, Opportunity
from accounts.services_bulk import DealRow, opportunity_bulk_import
from salesmgmt.models import AuditEvent
from tests.factories import AccountFactory, build_process, complete_closing_milestones


def _closing_names(deal) -> list[str]:
    return [m.name for m in selectors.closing_milestones_missing(opportunity=deal)]


def test_the_closing_stage_is_the_first_commit_stage_else_the_last(db):
    plain = build_process(name="Plain")
    with_commit = build_process(
        name="Committed", stages=(("Qualify", 1), ("Commit", 2), ("Paper", 1))
    )
    with_commit.stages.filter(name="Commit").update(
        default_forecast_category=ForecastCategory.COMMIT
    )

    assert [m.name for m in selectors.closing_milestones(process_id=plain.pk)] == ["Negotiate #1"]
    assert [m.name for m in selectors.closing_milestones(process_id=with_commit.pk)] == [
        "Commit #1",
        "Commit #2",
    ]


def test_a_rep_cannot_close_won_a_deal_in_the_first_stage(rep_a, deal_a):
    with pytest.raises(ValidationError) as refused:
        services.opportunity_close_won(actor=rep_a, opportunity=deal_a)

    assert "“Negotiate #1”" in refused.value.message_dict["override_reason"][0]
    assert Opportunity.objects.get(pk=deal_a.pk).status == "open"


def test_with_the_closing_milestones_the_rep_closes_it_won(rep_a, deal_a):
    complete_closing_milestones(deal_a)

    won = services.opportunity_close_won(actor=rep_a, opportunity=deal_a)

    assert won.status == "won"
    assert not AuditEvent.objects.filter(action="opportunity.won_override").exists()


def test_an_unverified_closing_milestone_does_not_count(rep_a, manager_a, account_a):
    process = build_process(name="Verified", requires_verification=True)
    deal = services.opportunity_create(
        actor=rep_a, account=account_a, name="V", amount=Decimal(1),
        expected_close_on=dt.date(2030, 1, 1), process=process,
    )  # fmt: skip
    last = selectors.closing_milestones(process_id=process.pk)[0]
    services.milestone_complete(actor=rep_a, opportunity=deal, milestone=last, evidence="PO")

    assert _closing_names(deal) == [last.name]
    with pytest.raises(ValidationError):
        services.opportunity_close_won(actor=rep_a, opportunity=deal)


def test_a_rep_cannot_override_even_with_a_reason(rep_a, deal_a):
    with pytest.raises(ValidationError, match="Only the owner's managers"):
        services.opportunity_close_won(actor=rep_a, opportunity=deal_a, override_reason="Trust me")


def test_the_manager_overrides_with_a_reason_and_it_is_recorded(manager_a, deal_a):
    with pytest.raises(ValidationError, match="give the reason"):
        services.opportunity_close_won(actor=manager_a, opportunity=deal_a, override_reason="  ")

    services.opportunity_close_won(
        actor=manager_a, opportunity=deal_a, override_reason="PO received by e-mail"
    )

    override = selectors.opportunity_won_override(opportunity=deal_a)
    assert override is not None
    assert override.actor == manager_a
    assert override.details == {
        "reason": "PO received by e-mail",
        "missing_milestones": ["Negotiate #1"],
    }


def test_imported_closed_won_deals_need_no_closing_milestones(rep_a, process, periods):
    account = AccountFactory(owner=rep_a)
    row = DealRow(
        row=2, name="Old win", amount=Decimal(100), expected_close_on=dt.date(2024, 3, 1),
        account=account, status="won", closed_on=dt.date(2024, 3, 1), external_id="OLD-1",
    )  # fmt: skip

    opportunity_bulk_import(actor=rep_a, rows=[row])

    assert Opportunity.objects.get(external_id="OLD-1").status == "won"


# --- the page ------------------------------------------------------------------------------


def _won_url(deal):
    return reverse("accounts:opportunity_close_won", args=[deal.pk])


def test_the_page_says_what_closing_needs_and_refuses_the_rep(client, rep_a, deal_a):
    client.force_login(rep_a)
    page = client.get(reverse("accounts:opportunity_detail", args=[deal_a.pk]))
    assert 'data-testid="closing-missing"' in page.text
    assert "won-override_reason" not in page.text  # the override is the manager's

    response = client.post(_won_url(deal_a), {"expected_version": deal_a.version})

    assert response.status_code == 400
    assert "Closing won needs the closing milestones" in response.text
    assert Opportunity.objects.get(pk=deal_a.pk).status == "open"


def test_the_manager_overrides_on_the_page_and_the_deal_shows_it(client, manager_a, deal_a):
    client.force_login(manager_a)
    page = client.get(reverse("accounts:opportunity_detail", args=[deal_a.pk]))
    assert "won-override_reason" in page.text

    response = client.post(
        _won_url(deal_a),
        {"expected_version": deal_a.version, "override_reason": "Signed on paper"},
        follow=True,
    )

    assert response.status_code == 200
    assert 'data-testid="won-override"' in response.text
    assert "Signed on paper" in response.text
    assert Opportunity.objects.get(pk=deal_a.pk).status == "won"


# --- the API -------------------------------------------------------------------------------


def test_the_api_answers_400_on_override_reason(api_client_for, rep_a, manager_a, deal_a):
    url = f"/api/v1/opportunities/{deal_a.pk}/win/"

    refused = api_client_for(rep_a).post(url, {})
    no_reason = api_client_for(manager_a).post(url, {})
    won = api_client_for(manager_a).post(url, {"override_reason": "Countersigned PDF"})

    assert refused.status_code == 400
    assert "Negotiate #1" in refused.json()["fields"]["override_reason"][0]
    assert no_reason.status_code == 400
    assert "override_reason" in no_reason.json()["fields"]
    assert won.status_code == 200
    assert won.json()["status"] == "won"
    # The win's own answer says it was by override (read from the audit record).
    assert won.json()["won_override"]["reason"] == "Countersigned PDF"
    assert won.json()["won_override"]["by"] == manager_a.pk


def test_the_deal_api_shows_a_won_override_read_only(api_client_for, rep_a, manager_a, deal_a):
    services.opportunity_close_won(
        actor=manager_a, opportunity=deal_a, override_reason="PO received by e-mail"
    )
    event = selectors.opportunity_won_override(opportunity=deal_a)
    api = api_client_for(rep_a)

    detail = api.get(f"/api/v1/opportunities/{deal_a.pk}/").json()
    listed = {row["id"]: row for row in api.get("/api/v1/opportunities/").json()["results"]}

    for body in (detail, listed[deal_a.pk]):
        assert body["won_override"] == {
            "reason": "PO received by e-mail",
            "by": manager_a.pk,
            "at": event.created_at.isoformat().replace("+00:00", "Z"),
        }
    # Read-only: a write cannot set or clear it.
    api_client_for(manager_a).patch(
        f"/api/v1/opportunities/{deal_a.pk}/",
        {"won_override": None, "next_step": "Kick-off"},
        HTTP_IF_MATCH=f'"{Opportunity.objects.get(pk=deal_a.pk).version}"',
    )
    after = api.get(f"/api/v1/opportunities/{deal_a.pk}/").json()
    assert after["next_step"] == "Kick-off"
    assert after["won_override"]["reason"] == "PO received by e-mail"


def test_a_deal_won_with_its_milestones_or_still_open_has_no_override(
    api_client_for, rep_a, deal_a
):
    body = api_client_for(rep_a).get(f"/api/v1/opportunities/{deal_a.pk}/").json()

    assert body["won_override"] is None


def test_the_schema_documents_the_override_fields(api_client_for, rep_a):
    schema = api_client_for(rep_a).get("/api/schema/", {"format": "json"}).json()

    field = schema["components"]["schemas"]["Opportunity"]["properties"]["won_override"]
    assert field["readOnly"] is True
    assert field["nullable"] is True
    assert set(field["properties"]) == {"reason", "by", "at"}
