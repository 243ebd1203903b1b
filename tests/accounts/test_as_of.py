"""A deal as it stood on any date: the selector, the deal page's ``?as_of=`` and the API's.

"As of a day" is the end of that day in the company's time zone. A date before the deal's
first record is "did not exist yet": a notice on the page, a 404 on the API.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from accounts import services
from accounts.models import MilestoneCompletion, Opportunity, OpportunityChange
from accounts.selectors import opportunity_as_of, opportunity_on_day
from accounts.services_bulk import DealRow, opportunity_bulk_import
from salesmgmt.models import CompanySettings
from tests.factories import AccountFactory, build_process

ZONE = ZoneInfo("America/New_York")
F = OpportunityChange.Field


def at(day: str, hour: int = 12) -> dt.datetime:
    """Noon (by default) of a day in the company's time zone."""
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), tzinfo=ZONE)


@pytest.fixture(autouse=True)
def company_in_new_york(db):
    CompanySettings.objects.update_or_create(pk=1, defaults={"time_zone": "America/New_York"})


def milestone(process, name):
    return process.stages.get(name=name.split(" #")[0]).milestones.get(name=name)


@pytest.fixture
def history_deal(process, rep_a, se_a, manager_a):
    """Created Jan 10; amount Feb 1; close date and category Feb 15; a milestone (stage) and
    a new owner Mar 1; closed won Apr 1 — each on its own day."""
    deal = services.opportunity_create(
        actor=rep_a,
        account=AccountFactory(owner=rep_a),
        name="Globex renewal",
        amount=Decimal(100),
        expected_close_on=dt.date(2024, 3, 31),
        at=at("2024-01-10"),
    )
    services.opportunity_update(
        actor=rep_a, opportunity=deal, amount=Decimal(250), at=at("2024-02-01")
    )
    services.opportunity_update(
        actor=rep_a,
        opportunity=deal,
        expected_close_on=dt.date(2024, 4, 30),
        forecast_category="commit",
        at=at("2024-02-15"),
    )
    for name in ("Qualify #1", "Qualify #2"):
        services.milestone_complete(
            actor=rep_a,
            opportunity=deal,
            milestone=milestone(process, name),
            evidence="Signed NDA",
            at=at("2024-03-01"),
        )
    services.opportunity_update(actor=manager_a, opportunity=deal, owner=se_a, at=at("2024-03-01"))
    # Closed on Apr 1 (logged at that time)
    OpportunityChange.objects.bulk_create(
        [
            OpportunityChange(
                opportunity=deal, field=F.STATUS, old_value="open", new_value="won",
                changed_at=at("2024-04-01"),
            ),
            OpportunityChange(
                opportunity=deal, field=F.CLOSED_ON, old_value="", new_value="2024-04-01",
                changed_at=at("2024-04-01"),
            ),
        ]
    )  # fmt: skip
    Opportunity.objects.filter(pk=deal.pk).update(status="won", closed_on=dt.date(2024, 4, 1))
    deal.refresh_from_db()
    return deal


# --- the selector -------------------------------------------------------------------------------


def test_as_of_follows_every_field_through_its_changes(history_deal, process, rep_a, se_a):
    deal = history_deal
    qualify, discover = process.stages.get(name="Qualify"), process.stages.get(name="Discover")

    def on(day: str):
        return opportunity_on_day(opportunity=deal, day=dt.date.fromisoformat(day))

    jan, feb1, feb15, mar, apr = (
        on(d) for d in ("2024-01-10", "2024-02-01", "2024-02-15", "2024-03-01", "2024-04-01")
    )

    assert on("2024-01-09") is None  # before it existed
    assert (jan.amount, jan.expected_close_on, jan.stage, jan.owner) == (
        Decimal(100), dt.date(2024, 3, 31), qualify, rep_a,
    )  # fmt: skip
    assert (jan.chosen_category, jan.forecast_category) == ("", "pipeline")
    assert feb1.amount == Decimal(250)
    assert feb1.expected_close_on == dt.date(2024, 3, 31)
    assert feb15.expected_close_on == dt.date(2024, 4, 30)
    assert feb15.forecast_category == "commit"
    assert feb15.stage == qualify
    assert feb15.completed_milestones == []
    assert (mar.stage, mar.owner, mar.status) == (discover, se_a, "open")
    assert [row.milestone.name for row in mar.completed_milestones] == ["Qualify #1", "Qualify #2"]
    assert (apr.status, apr.closed_on, apr.forecast_category) == (
        "won", dt.date(2024, 4, 1), "closed",
    )  # fmt: skip


def test_as_of_a_day_is_the_end_of_that_day_in_the_company_time_zone(history_deal):
    # 23:30 in New York on Feb 20 is Feb 21 in UTC: still Feb 20's figures.
    services.opportunity_update(
        actor=history_deal.owner,
        opportunity=history_deal,
        amount=Decimal(999),
        at=dt.datetime(2024, 2, 20, 23, 30, tzinfo=ZONE),
    )

    feb20 = opportunity_on_day(opportunity=history_deal, day=dt.date(2024, 2, 20))
    feb19 = opportunity_on_day(opportunity=history_deal, day=dt.date(2024, 2, 19))

    assert feb20.amount == Decimal(999)
    assert feb19.amount == Decimal(250)
    assert feb20.at == dt.datetime.combine(dt.date(2024, 2, 20), dt.time.max, tzinfo=ZONE)


def test_a_field_without_its_creation_row_falls_back_to_the_value_before_its_first_change(
    history_deal,
):
    # Given older data: no creation rows for amount and forecast category, and none at all for
    # currency (a field tracked later)
    deal = history_deal
    created = deal.changes.filter(changed_at=at("2024-01-10"))
    created.filter(field__in=[F.AMOUNT, F.FORECAST_CATEGORY]).delete()
    deal.changes.filter(field=F.CURRENCY).delete()

    jan = opportunity_as_of(opportunity=deal, at=at("2024-01-20"))
    mar = opportunity_as_of(opportunity=deal, at=at("2024-03-02"))

    # Before the first change: that change's old value; after it: its new value
    assert jan["amount"] == Decimal(100)
    assert jan["forecast_category"] == ""
    assert mar["amount"] == Decimal(250)
    assert mar["forecast_category"] == "commit"
    # Never logged: the current value
    assert jan["currency"] == deal.currency
    # The other fields still replay normally
    assert jan["expected_close_on"] == dt.date(2024, 3, 31)


def test_a_deal_missing_every_creation_row_existed_from_its_creation(process, rep_a):
    deal = services.opportunity_create(
        actor=rep_a,
        account=AccountFactory(owner=rep_a),
        name="Legacy",
        amount=Decimal(70),
        expected_close_on=dt.date(2024, 6, 30),
        at=at("2024-01-05"),
    )
    services.opportunity_update(
        actor=rep_a, opportunity=deal, amount=Decimal(80), at=at("2024-02-05")
    )
    deal.changes.filter(old_value="").exclude(field=F.AMOUNT, new_value="80.00").delete()
    deal.changes.filter(field=F.AMOUNT, old_value="").delete()

    before = opportunity_on_day(opportunity=deal, day=dt.date(2024, 1, 4))
    jan = opportunity_on_day(opportunity=deal, day=dt.date(2024, 1, 20))

    assert before is None
    assert jan.amount == Decimal(70)  # the old value of the Feb change
    assert jan.owner == rep_a
    assert jan.expected_close_on == dt.date(2024, 6, 30)


def test_a_completion_verified_later_was_not_complete_before_its_verification(rep_a, manager_a):
    process = build_process(name="Verified", requires_verification=True)
    deal = services.opportunity_create(
        actor=rep_a,
        account=AccountFactory(owner=rep_a),
        name="Checked",
        amount=Decimal(10),
        expected_close_on=dt.date(2024, 6, 30),
        process=process,
        at=at("2024-01-05"),
    )
    record = services.milestone_complete(
        actor=rep_a,
        opportunity=deal,
        milestone=milestone(process, "Qualify #1"),
        evidence="e",
        at=at("2024-01-10"),
    )
    services.milestone_verify(actor=manager_a, completion=record)
    MilestoneCompletion.objects.filter(pk=record.pk).update(verified_at=at("2024-01-20"))

    waiting = opportunity_on_day(opportunity=deal, day=dt.date(2024, 1, 15))
    verified = opportunity_on_day(opportunity=deal, day=dt.date(2024, 1, 20))

    assert waiting.completed_milestones == []
    assert [row.milestone.name for row in verified.completed_milestones] == ["Qualify #1"]


def test_an_imported_deal_stands_as_the_file_dates_it(rep_a, process):
    # Given a deal imported today whose file says it was created in May 2023 and won in Sept
    account = AccountFactory(owner=rep_a, name="Acme")
    opportunity_bulk_import(
        actor=rep_a,
        rows=[
            DealRow(
                row=2,
                name="Imported",
                amount=Decimal("900"),
                expected_close_on=dt.date(2023, 9, 30),
                account=account,
                external_id="OPP-1",
                stage=process.stages.get(name="Discover"),
                status="won",
                closed_on=dt.date(2023, 9, 15),
                created_at=at("2023-05-02"),
            )
        ],
    )
    deal = Opportunity.objects.get(external_id="OPP-1")
    assert deal.imported_at is not None
    assert deal.imported_at.date() > dt.date(2023, 9, 15)

    before = opportunity_on_day(opportunity=deal, day=dt.date(2023, 5, 1))
    june = opportunity_on_day(opportunity=deal, day=dt.date(2023, 6, 1))
    won = opportunity_on_day(opportunity=deal, day=dt.date(2023, 9, 15))

    assert before is None
    assert (june.status, june.amount, june.owner) == ("open", Decimal("900.00"), rep_a)
    assert (won.status, won.closed_on, won.stage) == ("won", dt.date(2023, 9, 15), deal.stage)
    # The imported completions count from the days the import spread them over
    assert won.completed_milestones
    assert {m.milestone.pk for m in june.completed_milestones} <= {
        m.milestone.pk for m in won.completed_milestones
    }


# --- the deal page --------------------------------------------------------------------------


def page(client, deal, as_of: str):
    return client.get(reverse("accounts:opportunity_detail", args=[deal.pk]), {"as_of": as_of})


def test_manager_sees_the_deal_as_it_stood_on_a_past_date(client, manager_a, history_deal):
    client.force_login(manager_a)

    response = page(client, history_deal, "2024-02-01")

    assert response.status_code == 200
    state = response.context["as_of"].state
    assert state.amount == Decimal(250)
    text = response.text
    assert "As it stood on Feb 1, 2024" in text
    assert "250.00 USD" in text
    assert "Mar 31, 2024" in text  # the close date then (it is Apr 30 now)


def test_the_page_without_as_of_shows_only_the_date_form(client, se_a, history_deal):
    client.force_login(se_a)

    response = client.get(reverse("accounts:opportunity_detail", args=[history_deal.pk]))

    assert response.status_code == 200
    assert response.context["as_of"].state is None
    assert 'name="as_of"' in response.text


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2024-13-45", "Enter a date as YYYY-MM-DD"),
        ("yesterday", "Enter a date as YYYY-MM-DD"),
        ("", "This field is required"),
        ("2999-01-01", "Choose a day up to today"),
    ],
)
def test_a_bad_as_of_date_is_a_400_with_a_clear_message(
    client, manager_a, history_deal, value, message
):
    client.force_login(manager_a)

    response = page(client, history_deal, value)

    assert response.status_code == 400
    assert message in response.text


def test_a_date_before_the_deal_existed_says_so(client, manager_a, history_deal):
    client.force_login(manager_a)

    response = page(client, history_deal, "2023-12-31")
    first_day = page(client, history_deal, "0001-01-01")

    assert response.status_code == 200
    assert "did not exist yet on Dec 31, 2023" in response.text
    assert first_day.status_code == 200
    assert "did not exist yet" in first_day.text


def test_a_rep_cannot_see_someone_elses_deal_as_of_a_date(client, rep_b, history_deal):
    client.force_login(rep_b)

    assert page(client, history_deal, "2024-02-01").status_code == 404


# --- the API ------------------------------------------------------------------------------------


def api_url(deal) -> str:
    return f"/api/v1/opportunities/{deal.pk}/"


def test_api_detail_as_of_a_date(api_client_for, executive, history_deal, rep_a, process):
    client = api_client_for(executive)

    response = client.get(api_url(history_deal), {"as_of": "2024-03-01"})

    assert response.status_code == 200
    body = response.json()
    assert body["as_of"] == "2024-03-01"
    assert Decimal(body["amount"]) == Decimal(250)
    assert body["expected_close_on"] == "2024-04-30"
    assert body["stage"]["name"] == "Discover"
    assert body["forecast_category"] == "commit"
    assert body["effective_forecast_category"] == "commit"
    assert body["owner"]["id"] == history_deal.owner_id  # se_a since Mar 1
    assert body["status"] == "open"
    assert [m["name"] for m in body["completed_milestones"]] == ["Qualify #1", "Qualify #2"]
    # Without as_of: the deal as it is now
    now = client.get(api_url(history_deal)).json()
    assert now["status"] == "won"
    assert "completed_milestones" not in now


@pytest.mark.parametrize("value", ["2024-02-30", "soon", "", "2999-01-01"])
def test_api_bad_as_of_is_a_400_on_the_field(api_client_for, manager_a, history_deal, value):
    response = api_client_for(manager_a).get(api_url(history_deal), {"as_of": value})

    assert response.status_code == 400
    assert "as_of" in str(response.json())


def test_api_as_of_before_the_deal_existed_is_a_404_saying_so(
    api_client_for, manager_a, history_deal
):
    response = api_client_for(manager_a).get(api_url(history_deal), {"as_of": "2024-01-09"})

    assert response.status_code == 404
    assert "did not exist yet on 2024-01-09" in str(response.json())


def test_api_as_of_someone_elses_deal_is_a_404(api_client_for, rep_b, history_deal):
    response = api_client_for(rep_b).get(api_url(history_deal), {"as_of": "2024-02-01"})

    assert response.status_code == 404
    assert "did not exist" not in str(response.json())
