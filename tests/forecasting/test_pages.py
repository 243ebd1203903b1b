"""Forecast pages: visibility per persona, calls and adjustments on the form, query budgets."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from forecasting.models import CallLayer, FlagKind, ForecastCall, InspectionFlag
from forecasting.services import calls
from forecasting.services.recompute import forecast_recompute_all
from tests.factories import UserFactory
from tests.forecasting.factories import deal
from tests.template_work import count_node_renders

PAGES = [
    "forecasting:forecast",
    "forecasting:waterfall",
    "forecasting:flags",
    "forecasting:accuracy",
]


@pytest.fixture
def computed(personas, stages, close_on, period):
    for name in ("rep_a", "se_a", "rep_b"):
        deal(personas[name], 1000, close_on=close_on, stage=stages["Negotiate"])
    forecast_recompute_all(with_kpis=False)
    return personas


def get(client, user, name, **params):
    client.force_login(user)
    return client.get(reverse(name), params)


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize(
    ("viewer", "subject", "status"),
    [
        ("rep_a", "rep_a", 200),
        ("rep_a", "rep_b", 404),
        ("rep_a", "manager_a", 404),
        ("manager_a", "rep_a", 200),
        ("manager_a", "rep_b", 404),
        ("manager_b", "rep_a", 404),
        ("executive", "rep_b", 200),
        ("admin", "manager_a", 200),
    ],
)
def test_pages_show_only_people_the_viewer_sees(
    client, computed, period, page, viewer, subject, status
):
    response = get(client, computed[viewer], page, person=computed[subject].pk, period=period.pk)

    assert response.status_code == status


def test_integrators_use_the_api_not_the_pages(client, computed, period):
    assert get(client, computed["integrator"], "forecasting:forecast").status_code == 403


def test_forecast_page_shows_system_figures_and_range(client, computed, period):
    response = get(client, computed["manager_a"], "forecasting:forecast", period=period.pk)

    body = response.content.decode()
    assert response.status_code == 200
    assert "P10 / P50 / P90" in body
    assert "Plotly" in body or "plotly" in body  # the range chart is embedded
    assert "2,000" in body  # rep_a + se_a commit, cumulative


def test_rep_submits_a_call_from_the_page(client, computed, period):
    client.force_login(computed["rep_a"])

    response = client.post(
        reverse("forecasting:call_submit"),
        {
            "period": period.pk,
            "commit_amount": "900",
            "best_case_amount": "1200",
            "note": "",
        },
    )

    assert response.status_code == 302
    call = ForecastCall.objects.get(person=computed["rep_a"])
    assert (call.commit_amount, call.layer) == (Decimal(900), CallLayer.OWNER)


def test_call_form_shows_the_services_refusal(client, computed, period):
    client.force_login(computed["rep_a"])

    response = client.post(
        reverse("forecasting:call_submit"),
        {
            "period": period.pk,
            "commit_amount": "900",
            "best_case_amount": "100",
        },
    )

    assert response.status_code == 400
    assert "Best case cannot be below commit" in response.content.decode()
    assert not ForecastCall.objects.exists()


def test_manager_adjusts_a_reps_call_beside_the_system_figures(client, computed, period):
    calls.call_submit(
        actor=computed["rep_a"], period=period, commit_amount=700, best_case_amount=900
    )
    client.force_login(computed["manager_a"])

    response = client.post(
        reverse("forecasting:call_adjust", args=[computed["rep_a"].pk]),
        {
            "period": period.pk,
            "commit_amount": "600",
            "best_case_amount": "900",
            "note": "Slip risk",
        },
    )

    assert response.status_code == 302
    adjusted = ForecastCall.objects.get(layer=CallLayer.MANAGER)
    assert (adjusted.previous_commit_amount, adjusted.commit_amount) == (Decimal(700), Decimal(600))
    page = client.get(reverse("forecasting:forecast"), {"period": period.pk}).content.decode()
    assert "Slip risk" in page


def test_manager_cannot_adjust_someone_outside_the_team(client, computed, period):
    client.force_login(computed["manager_a"])

    response = client.post(
        reverse("forecasting:call_adjust", args=[computed["rep_b"].pk]),
        {"period": period.pk, "commit_amount": "1", "best_case_amount": "1", "note": "x"},
    )

    assert response.status_code == 404
    assert not ForecastCall.objects.exists()


def _queries(client, user, name, **params) -> int:
    client.force_login(user)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse(name), params).status_code == 200
    return len(ctx.captured_queries)


def test_forecast_page_queries_do_not_grow_with_the_team(
    client, computed, period, stages, close_on
):
    executive = computed["executive"]
    before = _queries(client, executive, "forecasting:forecast", period=period.pk)
    for i in range(5):
        rep = UserFactory(username=f"extra{i}", manager=computed["manager_b"])
        deal(rep, 500, close_on=close_on, stage=stages["Negotiate"])
        calls.call_submit(actor=rep, period=period, commit_amount=1, best_case_amount=2)
    forecast_recompute_all(with_kpis=False)

    after = _queries(client, executive, "forecasting:forecast", period=period.pk)

    # session, user, period, periods, people (count, page), rollups, calls, calls of record,
    # subtree ids, accuracy entries, best-source entries: the same whatever the tree's size.
    assert after == before


def test_forecast_page_reads_the_figures_of_its_own_rows_only(
    client, computed, period, monkeypatch
):
    """The executive's whole tree is thousands of people at the 1 M tier: a page of 100
    rows must not load everyone's rollups, calls and calls of record."""
    from forecasting import views
    from forecasting.selectors import reads

    monkeypatch.setattr(views, "TREE_ROWS_PER_PAGE", 2)
    asked = []
    real = reads.forecast_view

    def spy(**kwargs):
        asked.append([person.username for person in kwargs["people"]])
        return real(**kwargs)

    monkeypatch.setattr(reads, "forecast_view", spy)
    first = get(client, computed["executive"], "forecasting:forecast", period=period.pk)
    second = get(client, computed["executive"], "forecasting:forecast", period=period.pk, rows=2)

    tree = list(reads.forecast_people(person=computed["executive"], whole_tree=True))
    assert len(tree) > 2
    assert asked == [[p.username for p in tree[:2]], [p.username for p in tree[2:4]]]
    for response, shown in ((first, tree[:2]), (second, tree[2:4])):
        html = response.content.decode()
        for person in tree:
            link = f"?person={person.pk}&period={period.pk}"
            assert (link in html) == (person in shown), person.username
        # The heading names the table, not its first row: page 2 is still the whole tree.
        assert "The whole tree" in html
        assert "My team's calls" not in html


def test_forecast_page_queries_do_not_grow_with_the_adjusted_calls(
    client, computed, period, stages, close_on
):
    """Each row names who adjusted its call: found by the load test as a query per row."""
    executive, manager = computed["executive"], computed["manager_b"]
    before = _queries(client, executive, "forecasting:forecast", period=period.pk)
    for i in range(4):
        rep = UserFactory(username=f"adjusted{i}", manager=manager)
        deal(rep, 500, close_on=close_on, stage=stages["Negotiate"])
        calls.call_submit(actor=rep, period=period, commit_amount=1, best_case_amount=2)
        calls.call_adjust(
            actor=manager, person=rep, period=period, commit_amount=3, best_case_amount=4,
            note="pulled in",
        )  # fmt: skip
    forecast_recompute_all(with_kpis=False)

    body = get(client, executive, "forecasting:forecast", period=period.pk).content.decode()
    after = _queries(client, executive, "forecasting:forecast", period=period.pk)

    assert f"({manager})" in body  # the adjuster's name is on the page
    assert after == before


def test_flags_page_is_paginated_with_a_fixed_number_of_queries(client, computed, stages, close_on):
    rep = computed["rep_a"]
    for _ in range(3):
        opp = deal(rep, 10, close_on=close_on - dt.timedelta(days=400), stage=stages["Qualify"])
        InspectionFlag.objects.create(opportunity=opp, owner=rep, kind=FlagKind.CLOSE_DATE_PAST)
    before = _queries(client, rep, "forecasting:flags")
    for _ in range(10):
        opp = deal(rep, 10, close_on=close_on, stage=stages["Qualify"])
        InspectionFlag.objects.create(opportunity=opp, owner=rep, kind=FlagKind.NO_ACTIVITY)

    after = _queries(client, rep, "forecasting:flags")

    # session, user, subtree ids, count, page of flags with deal and owner joined.
    assert after == before


def test_calibration_and_waterfall_pages_render_charts(client, computed, period):
    assert get(client, computed["executive"], "forecasting:calibration").status_code == 200
    response = get(client, computed["executive"], "forecasting:waterfall", period=period.pk)
    assert response.status_code == 200
    assert "plotly" in response.content.decode().lower()


def test_executive_sees_the_whole_tree_with_calls_and_differences(client, computed, period):
    calls.call_submit(
        actor=computed["rep_b"], period=period, commit_amount=400, best_case_amount=900
    )

    body = get(client, computed["executive"], "forecasting:forecast", period=period.pk)
    html = body.content.decode()

    for name in ("rep_a", "se_a", "rep_b", "manager_a", "manager_b"):
        assert f"?person={computed[name].pk}&period={period.pk}" in html
    assert "-600" in html  # rep_b called 400 against a system commit of 1,000


def test_forecast_page_shows_kpis_with_required_coverage(client, computed, period):
    forecast_recompute_all()

    html = get(client, computed["manager_a"], "forecasting:forecast", period=period.pk)

    assert "Required coverage" in html.content.decode()


def _node_renders(client, user, name, **params) -> int:
    client.force_login(user)
    with count_node_renders() as renders:
        assert client.get(reverse(name), params).status_code == 200
    return renders.count


def test_forecast_tree_rows_render_without_django_template_nodes_per_row(
    client, computed, period, stages, close_on
):
    """The tree's rows are one Jinja2 render (salesmgmt.table_rows): as Django template
    nodes (nine amounts and a form a row) they were a third of the page's CPU."""
    executive, manager = computed["executive"], computed["manager_b"]
    before = _node_renders(client, executive, "forecasting:forecast", period=period.pk)
    for i in range(4):
        rep = UserFactory(username=f"tree{i}", manager=manager)
        deal(rep, 500, close_on=close_on, stage=stages["Negotiate"])
        calls.call_submit(actor=rep, period=period, commit_amount=1, best_case_amount=2)
        calls.call_adjust(
            actor=manager, person=rep, period=period, commit_amount=3, best_case_amount=4,
            note="pulled <in>",
        )  # fmt: skip
    forecast_recompute_all(with_kpis=False)

    body = get(client, executive, "forecasting:forecast", period=period.pk).content.decode()
    after = _node_renders(client, executive, "forecasting:forecast", period=period.pk)

    assert after == before
    # The new rows are there: the person, their call, the adjustment (escaped) and who made it
    assert body.count('<span title="pulled &lt;in&gt; (') == 4
    assert f'href="{reverse("forecasting:forecast")}?person=' in body
    assert f"({manager})" in body


def test_a_refused_adjustment_shows_its_form_open_on_the_persons_row(client, computed, period):
    client.force_login(computed["manager_a"])

    response = client.post(
        reverse("forecasting:call_adjust", args=[computed["rep_a"].pk]),
        {"period": period.pk, "commit_amount": "many", "best_case_amount": "9", "note": "<b>"},
    )

    body = response.content.decode()
    assert response.status_code == 400
    action = reverse("forecasting:call_adjust", args=[computed["rep_a"].pk])
    row = body[
        body.index("<details open>") : body.index("</details>", body.index("<details open>"))
    ]
    assert f'action="{action}"' in row
    assert "Enter a number." in row
    assert 'value="&lt;b&gt;"' in row  # the note as entered, escaped
    assert 'name="csrfmiddlewaretoken"' in row
