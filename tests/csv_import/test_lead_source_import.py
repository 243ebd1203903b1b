"""The lead source column: imported on new deals, updated on re-import, kept when absent."""

from __future__ import annotations

from accounts.models import Opportunity

from .test_deal_import import run, team  # noqa: F401  # fixtures

HEADER = "Opportunity,Sales Agent,Account,Status,Close date,Amount,Lead Source,External ID\n"


def test_lead_source_is_imported_and_updated_blank_cells_are_none(manager_a, team, process, run):  # noqa: F811
    job = run(
        manager_a,
        HEADER
        + "Acme pilot,Dana Reyes,Acme Corporation,open,2030-03-31,1200, Webinar ,L-1\n"
        + "Acme plant,Dana Reyes,Acme Corporation,open,2030-03-31,900,,L-2\n",
    )
    assert job["status"] == "succeeded", job["errors"]
    sources = dict(Opportunity.objects.values_list("external_id", "lead_source"))
    assert sources == {"L-1": "Webinar", "L-2": ""}

    # A re-import without the column keeps the sources; with it, changes them.
    no_column = "Opportunity,Sales Agent,Account,Status,Close date,Amount,External ID\n"
    run(manager_a, no_column + "Acme pilot,Dana Reyes,Acme Corporation,open,2030-03-31,1300,L-1\n")
    assert Opportunity.objects.get(external_id="L-1").lead_source == "Webinar"
    run(
        manager_a,
        HEADER + "Acme pilot,Dana Reyes,Acme Corporation,open,2030-03-31,1300,Referral,L-1\n",
    )
    assert Opportunity.objects.get(external_id="L-1").lead_source == "Referral"


def test_lead_source_through_the_api_and_the_edit_page(api_client_for, client, rep_a, process):
    from tests.factories import AccountFactory

    account = AccountFactory(owner=rep_a)
    api = api_client_for(rep_a)
    response = api.post(
        "/api/v1/opportunities/",
        {"account": account.pk, "name": "Pilot", "amount": "100.00",
         "expected_close_on": "2030-01-31", "lead_source": "Trade show"},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.content
    assert response.json()["lead_source"] == "Trade show"
    deal = Opportunity.objects.get(pk=response.json()["id"])

    client.force_login(rep_a)
    form = {
        "name": deal.name, "amount": "100.00", "currency": "USD",
        "expected_close_on": "2030-01-31", "forecast_category": "", "next_step": "",
        "owner": rep_a.pk, "expected_version": deal.version,
    }  # fmt: skip
    # A post without the field leaves the source alone; with it, sets it.
    client.post(f"/opportunities/{deal.pk}/edit/", form)
    deal.refresh_from_db()
    assert deal.lead_source == "Trade show"
    client.post(f"/opportunities/{deal.pk}/edit/", {**form, "expected_version": deal.version,
                                                    "lead_source": "Referral"})  # fmt: skip
    deal.refresh_from_db()
    assert deal.lead_source == "Referral"
    page = client.get(f"/opportunities/{deal.pk}/")
    assert "Referral" in page.content.decode()
