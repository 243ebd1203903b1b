"""The setup checklist (page and API): what a new company has set up and what is missing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from csv_import.selectors.setup import setup_checklist
from salesmgmt.models import Period
from tests.factories import OpportunityFactory, build_process


def _done(**kwargs) -> dict[str, bool]:
    return {item.key: item.done for item in setup_checklist(**kwargs)}


def test_a_new_company_misses_everything_but_the_currency(admin_user):
    assert _done() == {
        "company": False,
        "reporting_currency": True,
        "fiscal_periods": False,
        "fiscal_history": True,  # no deals, no year to cover
        "sales_process": False,
        "people": False,
        "quotas": False,
        "products": False,
        "data": False,
    }


def test_lines_turn_done(admin_user, rep_a, periods):
    build_process()
    OpportunityFactory(owner=rep_a)
    done = _done(today=dt.date(2026, 5, 1))  # inside the fixture's FY2026
    assert done["fiscal_periods"]
    assert done["sales_process"]
    assert done["people"]
    assert done["data"]
    assert not done["quotas"]


def test_a_process_without_stages_is_not_enough(admin_user):
    from accounts.models import SalesProcess

    SalesProcess.objects.create(name="Empty")
    assert not _done()["sales_process"]


def test_page_lists_and_links(client, admin_user):
    client.force_login(admin_user)
    response = client.get(reverse("setup_checklist"))
    assert response.status_code == 200
    html = response.content.decode()
    assert reverse("accounts:process_list") in html
    assert reverse("setup_periods") in html
    assert reverse("setup_company") in html
    assert "6 things still to set up" in html
    # Linked from the navigation for admins.
    assert f'href="{reverse("setup_checklist")}"' in html


def test_products_are_an_optional_step(client, admin_user):
    from tests.accounts.products import make_product

    client.force_login(admin_user)
    html = client.get(reverse("setup_checklist")).content.decode()
    row = html[html.index('id="setup-products"') :]
    assert "Optional" in row[: row.index("</tr>")]
    assert reverse("accounts:product_list") in row
    items = setup_checklist()
    missing = [i.key for i in items if not i.done and not i.optional]
    assert "products" not in missing
    assert not _done()["products"]
    # an optional step is never "missing"
    assert f"{len(missing)} things still to set up" in html

    make_product("GTX Pro", "4821", family="GTX")
    assert _done()["products"]


def test_periods_button_creates_this_years_periods(client, admin_user):
    client.force_login(admin_user)
    response = client.post(reverse("setup_periods"))
    assert response.status_code == 302
    year = timezone.localdate().year
    assert Period.objects.filter(kind=Period.Kind.YEAR, start_on=dt.date(year, 1, 1)).exists()
    assert Period.objects.filter(kind=Period.Kind.QUARTER).count() == 4
    assert _done()["fiscal_periods"]


@pytest.mark.parametrize("persona", ["rep_a", "manager_a", "executive"])
def test_pages_are_for_admins(db, client, request, persona):
    user = request.getfixturevalue(persona)
    client.force_login(user)
    assert client.get(reverse("setup_checklist")).status_code == 403
    assert client.post(reverse("setup_periods")).status_code == 403
    assert not Period.objects.exists()
    home = client.get(reverse("accounts:rep_home"))
    assert f'href="{reverse("setup_checklist")}"' not in home.content.decode()


def test_api(admin_user, integrator, rep_a, api_client_for):
    cache.clear()
    body = api_client_for(admin_user).get("/api/v1/setup/").json()
    assert body["complete"] is False
    by_key = {item["key"]: item for item in body["items"]}
    assert by_key["sales_process"]["fix_url"] == reverse("accounts:process_list")
    assert by_key["fiscal_periods"]["done"] is False
    assert api_client_for(rep_a).get("/api/v1/setup/").status_code == 403
    assert api_client_for(integrator).get("/api/v1/setup/").status_code == 403


def test_a_deal_currency_without_a_rate_is_missing(admin_user, rep_a):
    from salesmgmt.services import exchange_rate_set

    OpportunityFactory(owner=rep_a, currency="EUR")
    item = next(i for i in setup_checklist() if i.key == "reporting_currency")
    assert not item.done
    assert "EUR" in item.detail
    exchange_rate_set(
        currency="EUR", rate_to_reporting=Decimal("1.1"), effective_on=dt.date(2020, 1, 1)
    )
    assert _done()["reporting_currency"]


def test_the_company_line_is_done_once_the_company_has_a_name(admin_user):
    from salesmgmt.services import company_settings_update

    item = next(i for i in setup_checklist() if i.key == "company")
    assert not item.done
    assert item.fix_url_name == "setup_company"
    company_settings_update(actor=admin_user, name="Northwind Traders", fiscal_year_start_month=4)
    item = next(i for i in setup_checklist(today=dt.date(2026, 5, 1)) if i.key == "company")
    assert item.done
    assert "Northwind Traders" in item.detail
    assert "fiscal year from April (now FY2027)" in item.detail


def test_the_periods_button_follows_the_company_calendar(client, admin_user):
    from salesmgmt.fiscal_calendar import fiscal_year_of
    from salesmgmt.services import company_settings_update

    company_settings_update(actor=admin_user, fiscal_year_start_month=2)
    client.force_login(admin_user)
    assert client.post(reverse("setup_periods")).status_code == 302
    year = fiscal_year_of(timezone.localdate(), start_month=2)
    fiscal_year = Period.objects.get(kind=Period.Kind.YEAR)
    assert fiscal_year.name == f"FY{year}"
    assert fiscal_year.start_on == dt.date(year - 1, 2, 1)
    assert _done()["fiscal_periods"]


def test_the_history_line_asks_for_every_fiscal_year_the_deals_touch(admin_user, rep_a):
    from salesmgmt.services import company_settings_update, periods_generate

    company_settings_update(actor=admin_user, fiscal_year_start_month=2)
    OpportunityFactory(owner=rep_a, expected_close_on=dt.date(2021, 1, 15))  # FY2021
    item = next(i for i in setup_checklist() if i.key == "fiscal_history")
    this_year = timezone.localdate().year
    assert not item.done
    assert "The deals touch FY2021 to FY" in item.detail
    assert "first: FY2021" in item.detail
    assert item.fix_url_name == "setup_company"
    periods_generate(actor=admin_user, first_year=2021, last_year=this_year + 1)
    assert _done()["fiscal_history"]
