"""The Commit scenario (issue 13): the rep's chosen category is what every rollup counts.

A deal in Propose (stage default: Best case); the rep chooses Commit on the deal page, through
the API or with a CSV import. The incremental refresh and a full recompute then count it in
commit for the owner and every manager above; clearing the choice puts it back in best case.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from accounts import services as deal_services
from accounts.models import Milestone, Opportunity, OpportunityChange
from forecasting.aggregate_kinds import ROLLUPS
from forecasting.models import ForecastRollup, OpportunitySnapshot, Scope
from forecasting.selectors.history import History
from forecasting.services import snapshots
from forecasting.services.recompute import forecast_recompute_all
from salesmgmt import refresh
from salesmgmt.errors import PermissionDeniedError
from salesmgmt.models import StaleMark
from salesmgmt.money import RateTable
from salesmgmt.refresh import tasks as refresh_tasks
from tests.factories import AccountFactory, complete_closing_milestones

# Fresh throttle counters and offline webhook look-ups, as in the API tests (tests/fixtures/api.py).
pytestmark = pytest.mark.usefixtures("api_isolation")

AMOUNT = Decimal(7000)
WAYS = ["page", "api", "csv"]


def _complete_stages(deal: Opportunity, actor, names: list[str]) -> None:
    for milestone in Milestone.objects.filter(stage__process=deal.process, stage__name__in=names):
        deal_services.milestone_complete(
            actor=actor, opportunity=deal, milestone=milestone, evidence="signed"
        )


@pytest.fixture
def proposing(rep_a, stages, close_on, period):
    """rep_a's open deal in Propose (stage default Best case), no category chosen, computed."""
    process = stages["Propose"].process
    deal = deal_services.opportunity_create(
        actor=rep_a,
        account=AccountFactory(owner=rep_a, name="Initech"),
        name="Deal 460",
        amount=AMOUNT,
        expected_close_on=close_on,
        process=process,
        external_id="D-460",
    )
    _complete_stages(deal, rep_a, ["Qualify", "Discover"])
    deal.refresh_from_db()
    assert (deal.stage, deal.forecast_category) == (stages["Propose"], "")
    forecast_recompute_all(with_kpis=False)
    return deal


@pytest.fixture
def choose(client, api_client_for, django_capture_on_commit_callbacks, monkeypatch):
    """``choose(way, actor, deal, category)``: set the rep's category as a person would.

    The write's stale marks are recorded (in its transaction, as in production) and left
    pending (no task is sent on commit), so each test runs the incremental batch itself.
    """
    monkeypatch.setattr(refresh_tasks, "batch_send", lambda *, kind: None)

    def run(way: str, actor, deal: Opportunity, category: str):
        deal.refresh_from_db()
        with django_capture_on_commit_callbacks(execute=True):
            if way == "page":
                client.force_login(actor)
                response = client.post(
                    reverse("accounts:opportunity_edit", args=[deal.pk]),
                    {
                        "name": deal.name,
                        "amount": str(deal.amount),
                        "currency": deal.currency,
                        "expected_close_on": deal.expected_close_on.isoformat(),
                        "forecast_category": category,
                        "next_step": deal.next_step,
                        "owner": deal.owner_id,
                        "expected_version": deal.version,
                    },
                )
                ok = response.status_code == 302
            elif way == "api":
                response = api_client_for(actor).patch(
                    f"/api/v1/opportunities/{deal.pk}/",
                    {"forecast_category": category},
                    format="json",
                )
                ok = response.status_code == 200
            else:
                text = (
                    "external_id,account_name,name,amount,expected_close_on,forecast_category\n"
                    f"{deal.external_id},{deal.account.name},{deal.name},{deal.amount},"
                    f"{deal.expected_close_on.isoformat()},{category}\n"
                )
                api = api_client_for(actor)
                response = api.post(
                    "/api/v1/imports/",
                    {"kind": "opportunities", "content": text, "dry_run": False},
                    format="json",
                )
        if way == "csv":  # the job runs once the upload commits
            response = api.get(f"/api/v1/imports/{response.json()['id']}/")
            ok = response.json()["status"] == "succeeded"
        return ok, response

    return run


def incremental_refresh() -> None:
    """The batch the rollups' task runs (tests/forecasting/test_rollup_refresh.py)."""
    refresh.refresh_kind(kind=ROLLUPS)


def commit_and_best_case(person, period, scope) -> tuple[Decimal, Decimal]:
    row = ForecastRollup.objects.get(person=person, period=period, scope=scope)
    return row.commit_amount, row.best_case_amount


def assert_everywhere(category: str, *, rep_a, manager_a, executive, period) -> None:
    expected = (AMOUNT, Decimal(0)) if category == "commit" else (Decimal(0), AMOUNT)
    assert commit_and_best_case(rep_a, period, Scope.OWN) == expected
    assert commit_and_best_case(manager_a, period, Scope.SUBTREE) == expected
    assert commit_and_best_case(executive, period, Scope.SUBTREE) == expected


@pytest.mark.parametrize("way", WAYS)
def test_choosing_commit_moves_the_deal_to_commit_in_every_rollup_and_clearing_moves_it_back(
    way, proposing, choose, rep_a, manager_a, executive, period
):
    people = {"rep_a": rep_a, "manager_a": manager_a, "executive": executive, "period": period}
    assert_everywhere("best_case", **people)

    ok, response = choose(way, rep_a, proposing, "commit")

    assert ok, response.content
    proposing.refresh_from_db()
    assert proposing.forecast_category == "commit"
    # The write asked for the owner's node in the deal's period, like an amount change does.
    pending = StaleMark.objects.filter(kind=ROLLUPS, started_at__isnull=True)
    assert (rep_a.pk, period.pk) in set(pending.values_list("person_key", "period_key"))
    incremental_refresh()
    assert_everywhere("commit", **people)
    call_command("recompute_forecasts", "--all", trials=200)
    assert_everywhere("commit", **people)

    ok, response = choose(way, rep_a, proposing, "")

    assert ok, response.content
    proposing.refresh_from_db()
    assert proposing.forecast_category == ""
    incremental_refresh()
    assert_everywhere("best_case", **people)
    call_command("recompute_forecasts", "--all", trials=200)
    assert_everywhere("best_case", **people)


def test_a_stage_move_keeps_the_choice_and_the_page_shows_the_new_default_as_a_hint(
    proposing, choose, client, rep_a, manager_a, executive, period, stages
):
    choose("api", rep_a, proposing, "commit")
    discover_last = Milestone.objects.filter(stage=stages["Discover"]).order_by("order").last()

    deal_services.milestone_undo(actor=rep_a, opportunity=proposing, milestone=discover_last)

    proposing.refresh_from_db()
    assert (proposing.stage, proposing.forecast_category) == (stages["Discover"], "commit")
    incremental_refresh()
    assert_everywhere(
        "commit", rep_a=rep_a, manager_a=manager_a, executive=executive, period=period
    )
    client.force_login(rep_a)
    page = client.get(reverse("accounts:opportunity_detail", args=[proposing.pk]))
    assert page.context["proposed_category"] == "Pipeline"
    html = page.content.decode()
    assert "Commit (chosen by rep)" in html
    assert "Discover proposes Pipeline (stage default)" in html


def test_without_a_choice_the_page_says_the_stage_default_applies(proposing, client, rep_a):
    client.force_login(rep_a)

    page = client.get(reverse("accounts:opportunity_detail", args=[proposing.pk]))

    assert "Best case (stage default)" in page.content.decode()
    assert page.context["proposed_category"] == ""


def test_every_choice_is_in_the_change_history_with_who_and_when(
    proposing, choose, client, rep_a, manager_a
):
    choose("page", manager_a, proposing, "commit")
    choose("api", rep_a, proposing, "omitted")
    choose("csv", rep_a, proposing, "")

    rows = OpportunityChange.objects.filter(opportunity=proposing, field="forecast_category")
    assert [(r.old_value, r.new_value, r.changed_by) for r in rows] == [
        # creation logged no row: no choice is an empty field
        ("", "commit", manager_a),
        ("commit", "omitted", rep_a),
        ("omitted", "", rep_a),
    ]
    client.force_login(rep_a)
    page = client.get(reverse("accounts:opportunity_detail", args=[proposing.pk]))
    shown = [
        (row.old_display, row.new_display)
        for row in page.context["history_rows"]
        if row.change.field == "forecast_category"
    ]
    assert shown[:3] == [
        ("Omitted", "Stage default"),
        ("Commit", "Omitted"),
        ("Stage default", "Commit"),
    ]


@pytest.mark.parametrize("status", ["won", "lost"])
@pytest.mark.parametrize("way", WAYS)
def test_a_closed_deal_cannot_be_given_a_category(way, status, proposing, choose, rep_a):
    if status == "won":
        complete_closing_milestones(proposing)
        deal_services.opportunity_close_won(actor=rep_a, opportunity=proposing)
    else:
        deal_services.opportunity_close_lost(
            actor=rep_a, opportunity=proposing, lost_reason="budget"
        )
    proposing.refresh_from_db()
    version = proposing.version

    ok, response = choose(way, rep_a, proposing, "commit")

    assert not ok
    if way == "csv":
        # (a file without a status column also reads as "open": "already won" is listed too)
        assert "forecast_category" in [e["column"] for e in response.json()["errors"]]
    else:
        assert response.status_code == 400
        if way == "api":
            assert list(response.json()["fields"]) == ["forecast_category"]
        else:
            assert response.context["edit_form"].errors["forecast_category"]
    proposing.refresh_from_db()
    assert (proposing.forecast_category, proposing.version) == ("", version)


def test_owner_managers_executives_and_integrators_choose_but_not_the_deal_team(
    proposing, rep_a, se_a, manager_a, executive, integrator
):
    deal_services.opportunity_team_member_add(actor=manager_a, opportunity=proposing, user=se_a)

    with pytest.raises(PermissionDeniedError):
        deal_services.opportunity_update(
            actor=se_a, opportunity=proposing, forecast_category="commit"
        )
    for actor, category in ((manager_a, "commit"), (executive, "omitted"), (integrator, "")):
        deal_services.opportunity_update(
            actor=actor, opportunity=proposing, forecast_category=category
        )
        proposing.refresh_from_db()
        assert proposing.forecast_category == category
    # The team member may still edit other fields (and send the category back unchanged).
    deal_services.opportunity_update(
        actor=se_a, opportunity=proposing, next_step="demo", forecast_category=""
    )


def test_closed_is_not_a_choice(proposing, rep_a):
    with pytest.raises(ValidationError) as error:
        deal_services.opportunity_update(
            actor=rep_a, opportunity=proposing, forecast_category="closed"
        )

    assert "forecast_category" in error.value.message_dict


def test_snapshots_and_history_replays_count_the_choice(proposing, choose, rep_a, today):
    choose("api", rep_a, proposing, "commit")

    snapshots.snapshot_take(on=today)

    assert OpportunitySnapshot.objects.get(opportunity=proposing).category == "commit"
    history = History(opportunity_ids=[proposing.pk], rates=RateTable.load())
    before = OpportunityChange.objects.filter(opportunity=proposing, new_value="commit").get()
    moment = before.changed_at

    assert history.as_of(moment - dt.timedelta(microseconds=1))["category"].tolist() == [
        "best_case"
    ]
    assert history.as_of(moment)["category"].tolist() == ["commit"]


def test_a_csv_row_of_a_won_deal_with_a_category_is_refused_and_nothing_imported(
    api_client_for,
    rep_a,
    process,
    django_capture_on_commit_callbacks,
):
    AccountFactory(owner=rep_a, name="Hooli")
    text = (
        "account_name,name,amount,expected_close_on,status,closed_on,forecast_category\n"
        "Hooli,Won with a category,100,2030-01-31,won,2030-01-31,commit\n"
        "Hooli,Won without,100,2030-01-31,won,2030-01-31,\n"
    )
    api = api_client_for(rep_a)

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v1/imports/",
            {"kind": "opportunities", "content": text, "dry_run": False},
            format="json",
        )
    job = api.get(f"/api/v1/imports/{response.json()['id']}/").json()

    assert job["status"] == "failed"
    assert [(e["row"], e["column"]) for e in job["errors"]] == [(2, "forecast_category")]
    assert not Opportunity.objects.exists()
