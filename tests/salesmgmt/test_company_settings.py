"""Company settings: the one source of the reporting currency and the fiscal calendar; the
page (administrators) and the API (everyone reads, administrators and integrations write)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from salesmgmt.errors import PermissionDeniedError
from salesmgmt.models import AuditEvent, CompanySettings, Period
from salesmgmt.money import RateTable, reporting_currency
from salesmgmt.selectors import company_settings_get
from salesmgmt.services import company_settings_update, exchange_rate_set, periods_ensure

API = "/api/v1/setup/company/"
VALID = {
    "name": "Northwind Traders",
    "reporting_currency": "EUR",
    "fiscal_year_start_month": 2,
    "time_zone": "Europe/Berlin",
    "week_start": "sunday",
}


# --- the model, the selector and the service --------------------------------------------------


@pytest.mark.django_db
def test_defaults_come_from_the_environment_until_saved(settings):
    settings.REPORTING_CURRENCY = "gbp"
    settings.TIME_ZONE = "UTC"
    company = company_settings_get()
    assert company._state.adding  # nothing stored
    assert (company.reporting_currency, company.fiscal_year_start_month) == ("GBP", 1)
    assert (company.time_zone, company.week_start, company.name) == ("UTC", "monday", "")
    assert reporting_currency() == "GBP"


@pytest.mark.django_db
def test_saved_settings_are_the_one_source_of_the_reporting_currency(admin_user, settings):
    settings.REPORTING_CURRENCY = "USD"
    company_settings_update(actor=admin_user, **VALID)
    assert CompanySettings.objects.get().reporting_currency == "EUR"
    assert reporting_currency() == "EUR"  # the environment no longer decides
    rates = RateTable([("USD", dt.date(2024, 1, 1), Decimal("0.9"))])
    assert rates.convert(Decimal("10.00"), "EUR", dt.date(2025, 1, 1)) == Decimal("10.00")
    assert rates.convert(Decimal("10.00"), "USD", dt.date(2025, 1, 1)) == Decimal("9.00")
    assert company_settings_get().first_weekday == 6  # Sunday, as date.weekday() counts


@pytest.mark.django_db
def test_update_audits_what_changed(admin_user):
    company_settings_update(actor=admin_user, name="Northwind", time_zone="America/Chicago")
    event = AuditEvent.objects.get(action="company_settings.updated")
    assert event.actor == admin_user
    assert event.details["time_zone"] == {"from": "UTC", "to": "America/Chicago"}
    assert event.details["name"] == {"from": "", "to": "Northwind"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone"),
        ({"time_zone": "../etc/passwd"}, "time_zone"),
        ({"reporting_currency": "E1R"}, "reporting_currency"),
        ({"reporting_currency": "EURO"}, "reporting_currency"),
        ({"fiscal_year_start_month": 13}, "fiscal_year_start_month"),
        ({"fiscal_year_start_month": "soon"}, "fiscal_year_start_month"),
        ({"week_start": "wednesday"}, "week_start"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_values_are_refused_on_their_field(admin_user, changes, field):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        company_settings_update(actor=admin_user, **changes)
    assert field in refused.value.message_dict
    assert not CompanySettings.objects.exists()


@pytest.mark.django_db
def test_a_lower_case_currency_is_taken_in_capitals(admin_user):
    assert (
        company_settings_update(actor=admin_user, reporting_currency=" chf ").reporting_currency
        == "CHF"
    )


@pytest.mark.django_db
def test_the_reporting_currency_is_fixed_once_rates_are_stated_in_it(admin_user):
    exchange_rate_set(
        currency="EUR", rate_to_reporting=Decimal("1.1"), effective_on=dt.date(2024, 1, 1)
    )
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="1 exchange rate"):
        company_settings_update(actor=admin_user, reporting_currency="GBP")
    company_settings_update(actor=admin_user, reporting_currency="USD", name="Same currency")


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["rep_a", "manager_a", "executive"])
def test_only_administrators_and_integrations_change_the_settings(request, persona, integrator):
    with pytest.raises(PermissionDeniedError):
        company_settings_update(actor=request.getfixturevalue(persona), name="Mine now")
    assert not CompanySettings.objects.exists()
    company_settings_update(actor=integrator, name="Loaded by the CRM sync")
    assert company_settings_get().name == "Loaded by the CRM sync"


# --- the page ------------------------------------------------------------------------------------


def test_page_saves_the_settings(client, admin_user):
    client.force_login(admin_user)
    page = client.get(reverse("setup_company"))
    assert page.status_code == 200
    assert "Not saved yet" in page.content.decode()
    response = client.post(reverse("setup_company"), VALID)
    assert response.status_code == 302
    company = company_settings_get()
    assert (company.name, company.reporting_currency, company.time_zone) == (
        "Northwind Traders",
        "EUR",
        "Europe/Berlin",
    )
    html = client.get(reverse("setup_checklist")).content.decode()
    assert "Northwind Traders" in html
    assert f'href="{reverse("setup_company")}"' in html


def test_page_shows_field_messages_on_bad_input(client, admin_user):
    client.force_login(admin_user)
    response = client.post(reverse("setup_company"), {**VALID, "time_zone": "Europe/Atlantis"})
    assert response.status_code == 400
    assert "is not a time zone name" in response.content.decode()
    assert not CompanySettings.objects.exists()


def test_page_refuses_a_new_start_month_once_periods_exist_and_says_why(client, admin_user):
    periods_ensure(year=2024)
    client.force_login(admin_user)
    page = client.get(reverse("setup_company")).content.decode()
    assert "The fiscal year start month is now fixed" in page
    response = client.post(reverse("setup_company"), VALID)
    assert response.status_code == 400
    assert "FY2024 starts in January" in response.content.decode()
    assert not CompanySettings.objects.exists()


def test_page_generates_the_fiscal_years_of_the_form(client, admin_user):
    client.force_login(admin_user)
    client.post(reverse("setup_company"), VALID)  # fiscal year from February
    response = client.post(
        reverse("setup_company_periods"), {"first_year": 2023, "last_year": 2026}, follow=True
    )
    assert "FY2023 to FY2026 are in place (68 new)" in response.content.decode()
    years = list(Period.objects.filter(kind=Period.Kind.YEAR).values_list("name", "start_on"))
    assert years[0] == ("FY2023", dt.date(2022, 2, 1))
    assert years[-1] == ("FY2026", dt.date(2025, 2, 1))
    assert "4 fiscal years exist" in response.content.decode()


def test_page_suggests_the_fiscal_years_the_deals_touch(client, admin_user, rep_a):
    from tests.factories import OpportunityFactory

    OpportunityFactory(owner=rep_a, expected_close_on=dt.date(2019, 3, 3))
    client.force_login(admin_user)
    html = client.get(reverse("setup_company")).content.decode()
    assert "Generate periods for FY2019" in html


def test_page_shows_a_refused_generation(client, admin_user):
    periods_ensure(year=2024)  # January calendar
    client.force_login(admin_user)
    response = client.post(
        reverse("setup_company_periods"), {"first_year": 2026, "last_year": 2024}, follow=True
    )
    assert "must not be before" in response.content.decode()


@pytest.mark.parametrize("persona", ["rep_a", "manager_a", "executive"])
def test_pages_are_for_administrators(db, client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("setup_company")).status_code == 403
    assert client.post(reverse("setup_company"), VALID).status_code == 403
    periods = {"first_year": 2025, "last_year": 2025}
    assert client.post(reverse("setup_company_periods"), periods).status_code == 403
    assert not CompanySettings.objects.exists()
    assert not Period.objects.exists()


# --- the API -------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["rep_a", "manager_a", "executive", "admin_user", "integrator"])
def test_everyone_signed_in_reads_the_settings(db, request, api_client_for, persona):
    body = api_client_for(request.getfixturevalue(persona)).get(API).json()
    assert body["reporting_currency"] == reporting_currency()
    assert body["fiscal_year_start_month"] == 1
    assert body["updated_at"] is None  # nobody saved them yet
    assert body["current_fiscal_year"].startswith("FY")


def test_anonymous_callers_read_nothing(client):
    assert client.get(API).status_code in (401, 403)


@pytest.mark.parametrize("persona", ["rep_a", "manager_a", "executive"])
def test_reps_and_managers_may_not_write(db, request, api_client_for, persona):
    api = api_client_for(request.getfixturevalue(persona))
    assert api.put(API, VALID, format="json").status_code == 403
    assert api.patch(API, {"name": "X"}, format="json").status_code == 403
    periods = {"first_year": 2025, "last_year": 2025}
    assert api.post(f"{API}periods/", periods, format="json").status_code == 403
    assert not CompanySettings.objects.exists()
    assert not Period.objects.exists()


@pytest.mark.parametrize("persona", ["admin_user", "integrator"])
def test_administrators_and_integrations_write(db, request, api_client_for, persona):
    api = api_client_for(request.getfixturevalue(persona))
    response = api.put(API, VALID, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["current_fiscal_year"].startswith("FY")
    assert api.patch(API, {"week_start": "monday"}, format="json").json()["week_start"] == "monday"
    assert company_settings_get().name == "Northwind Traders"
    generated = api.post(f"{API}periods/", {"first_year": 2025, "last_year": 2026}, format="json")
    assert generated.status_code == 200
    assert generated.json() == {
        "created": 34,
        "fiscal_years": [
            {"name": "FY2025", "start_on": "2024-02-01", "end_on": "2025-01-31"},
            {"name": "FY2026", "start_on": "2025-02-01", "end_on": "2026-01-31"},
        ],
    }
    again = api.post(f"{API}periods/", {"first_year": 2025, "last_year": 2026}, format="json")
    assert again.json()["created"] == 0


def test_put_needs_every_field_and_names_the_bad_ones(admin_user, api_client_for):
    api = api_client_for(admin_user)
    response = api.put(API, {"name": "Only a name"}, format="json")
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {
        "reporting_currency",
        "fiscal_year_start_month",
        "time_zone",
        "week_start",
    }
    bad = api.patch(API, {"time_zone": "Moon/Base", "fiscal_year_start_month": 0}, format="json")
    assert bad.status_code == 400
    assert set(bad.json()["fields"]) == {"time_zone", "fiscal_year_start_month"}
    assert not CompanySettings.objects.exists()


def test_api_refuses_a_second_fiscal_calendar(admin_user, api_client_for):
    periods_ensure(year=2025)
    api = api_client_for(admin_user)
    response = api.patch(API, {"fiscal_year_start_month": 4}, format="json")
    assert response.status_code == 400
    assert "FY2025 starts in January" in response.json()["fields"]["fiscal_year_start_month"][0]
    bad_range = api.post(f"{API}periods/", {"first_year": 1990, "last_year": 2100}, format="json")
    assert bad_range.status_code == 400
    assert "At most 60 fiscal years" in str(bad_range.json())


# --- the week start ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_weeks_start_on_the_company_week_start(admin_user):
    from territories.services import week_start_of

    wednesday = dt.date(2025, 5, 14)
    assert week_start_of(wednesday) == dt.date(2025, 5, 12)  # Monday by default
    company_settings_update(actor=admin_user, week_start="sunday")
    assert week_start_of(wednesday) == dt.date(2025, 5, 11)
    assert week_start_of(dt.date(2025, 5, 11)) == dt.date(2025, 5, 11)  # a Sunday is its own


# --- the time zone -------------------------------------------------------------------------------


def _zone_of_a_request(session) -> str:
    from django.http import HttpResponse
    from django.test import RequestFactory
    from django.utils import timezone

    from salesmgmt.middleware import CompanySettingsMiddleware

    seen: list[str] = []

    def view(request):
        seen.append(timezone.get_current_timezone_name())
        return HttpResponse()

    request = RequestFactory().get("/")
    if session is not None:
        request.session = session
    CompanySettingsMiddleware(view)(request)
    return seen[0]


def test_pages_run_in_the_company_time_zone_from_log_in(client, admin_user, settings):
    from django.utils import timezone

    from salesmgmt.company_settings import SESSION_TIME_ZONE

    settings.TIME_ZONE = "UTC"
    company_settings_update(actor=admin_user, time_zone="Pacific/Kiritimati")
    client.force_login(admin_user)  # the log-in remembers the company's zone in the session
    assert client.session[SESSION_TIME_ZONE] == "Pacific/Kiritimati"
    assert _zone_of_a_request(client.session) == "Pacific/Kiritimati"
    assert timezone.get_current_timezone_name() == "UTC"  # only inside the request
    assert _zone_of_a_request(None) == "UTC"  # no session (an API token): the default


def test_saving_the_page_switches_the_admins_own_session_at_once(client, admin_user):
    from salesmgmt.company_settings import SESSION_TIME_ZONE

    client.force_login(admin_user)
    client.post(reverse("setup_company"), {**VALID, "time_zone": "Asia/Kolkata"})
    assert client.session[SESSION_TIME_ZONE] == "Asia/Kolkata"


def test_an_unknown_zone_in_a_session_falls_back_to_the_default(client, admin_user):
    from salesmgmt.company_settings import SESSION_TIME_ZONE

    client.force_login(admin_user)
    session = client.session
    session[SESSION_TIME_ZONE] = "Atlantis/Capital"
    assert _zone_of_a_request(session) == "UTC"
