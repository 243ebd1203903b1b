"""The team dashboard reads the precomputed tables on every view (no cache): a refresh of any
figure it shows is on the page at the next view, and every view costs the same queries."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.template.defaultfilters import floatformat
from django.urls import reverse

from coaching.models import ComplianceSummary
from coaching.services import compliance_refresh
from forecasting.models import ForecastRollup, InspectionFlag, KpiSnapshot, Scope
from forecasting.services.flags import flags_refresh
from forecasting.services.kpis import kpis_recompute_for_people
from forecasting.services.recompute import forecast_recompute_people
from salesmgmt import services as org_services
from territories.models import AttainmentFigure
from territories.services import attainment_refresh
from tests.coaching.factories import kpi, rollup, team
from tests.factories import UserFactory

# Every view: session, user, period, quarters for the picker, members, attainment, rollups,
# KPIs, flags, compliance (tests/coaching/test_pages.py holds the same budget for team sizes).
# ...and the bell's unread count (1).
DASHBOARD_QUERIES = 11
# Each drawing of a chart gets a new div id.
DIV_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture
def members(period, manager_a):
    reps = team(manager_a, 3, period=period)
    attainment_refresh(period=period)
    compliance_refresh()
    return reps


def figures_html(response) -> str:
    """The charts and the team table (the rest of the page carries a fresh CSRF token), without
    the charts' div ids."""
    html = response.content.decode()
    return DIV_ID.sub("ID", html[html.index('class="chart-grid"') : html.index("</table>")])


def row_shown(client, rep) -> str:
    """The team table's row of ``rep`` as the page shows it."""
    html = client.get(reverse("coaching:team_dashboard")).content.decode()
    row = html[html.index(f">{rep}</a>") :]
    return row[: row.index("</tr>")]


def amount(value) -> str:
    """An amount as the team table prints it."""
    return floatformat(value, "0g")


def test_every_view_reads_the_figures(client, django_assert_num_queries, members, manager_a):
    client.force_login(manager_a)
    with django_assert_num_queries(DASHBOARD_QUERIES):
        first = client.get(reverse("coaching:team_dashboard"))

    with django_assert_num_queries(DASHBOARD_QUERIES):
        second = client.get(reverse("coaching:team_dashboard"))

    assert figures_html(second) == figures_html(first)
    assert all(str(rep) in figures_html(second) for rep in members)


@pytest.mark.parametrize("size", [1, 12])
def test_the_query_count_does_not_grow_with_the_team(
    client, django_assert_num_queries, period, manager_a, size
):
    team(manager_a, size, period=period)
    attainment_refresh(period=period)
    compliance_refresh()
    client.force_login(manager_a)
    client.get(reverse("coaching:team_dashboard"))

    with django_assert_num_queries(DASHBOARD_QUERIES):
        response = client.get(reverse("coaching:team_dashboard"))

    assert len(response.context["dashboard"].rows) == size


def test_a_recomputed_rollup_shows_at_once(client, members, manager_a, period):
    rep = members[0]
    rollup(rep, period, cumulative_commit_amount=123456)
    client.force_login(manager_a)
    assert "123,456" in row_shown(client, rep)

    # the worker's incremental recompute rewrites the rep's rollups
    forecast_recompute_people(person_ids=[rep.pk], period_ids=[period.pk])

    stored = ForecastRollup.objects.get(person=rep, period=period, scope=Scope.SUBTREE)
    assert stored.cumulative_commit_amount != Decimal(123456)
    shown = row_shown(client, rep)
    assert "123,456" not in shown
    assert f"<span>{amount(stored.cumulative_commit_amount)}</span>" in shown


def test_refreshed_attainment_shows_at_once(client, members, manager_a, period):
    rep = members[0]
    AttainmentFigure.objects.filter(user=rep, period=period).update(bookings=Decimal(123456))
    client.force_login(manager_a)
    assert "123,456" in row_shown(client, rep)

    attainment_refresh(period=period)

    stored = AttainmentFigure.objects.get(user=rep, period=period)
    shown = row_shown(client, rep)
    assert "123,456" not in shown
    assert f"<span>{amount(stored.bookings)}</span>" in shown


def test_refreshed_kpis_show_at_once(client, members, manager_a, period):
    rep = members[0]
    for scope in (Scope.OWN, Scope.SUBTREE):
        kpi(rep, period, scope=scope, activities_by_kind={"call": 777})
    client.force_login(manager_a)
    assert '<td class="num" data-label="Activities"><span>777</span>' in row_shown(client, rep)

    kpis_recompute_for_people(person_ids=[rep.pk], period_ids=[period.pk])

    stored = KpiSnapshot.objects.get(person=rep, period=period, scope=Scope.SUBTREE)
    count = sum(stored.activities_by_kind.values())
    assert count != 777
    shown = row_shown(client, rep)
    assert f'<td class="num" data-label="Activities"><span>{count}</span>' in shown


def test_refreshed_flags_show_at_once(client, members, manager_a):
    rep = members[0]
    client.force_login(manager_a)
    # the factory's flag, on a deal that was never pushed
    assert "kind=pushed_twice" in row_shown(client, rep)

    flags_refresh()

    assert not InspectionFlag.objects.filter(owner=rep, kind="pushed_twice").exists()
    assert "kind=pushed_twice" not in row_shown(client, rep)


def test_refreshed_compliance_shows_at_once(client, members, manager_a):
    rep = members[0]
    ComplianceSummary.objects.filter(user=rep).update(open_deal_count=8, passing_count=3)
    client.force_login(manager_a)
    assert "<span>38 %</span>" in row_shown(client, rep)

    compliance_refresh()

    stored = ComplianceSummary.objects.get(user=rep)
    assert (stored.open_deal_count, stored.passing_count) != (8, 3)
    shown = row_shown(client, rep)
    assert f"<span>{round(stored.score * 100)} %</span>" in shown


def test_people_changes_show_at_once(client, members, manager_a):
    client.force_login(manager_a)
    client.get(reverse("coaching:team_dashboard"))

    org_services.user_update(user=members[1], first_name="Renamed")
    newcomer = org_services.user_create(
        username="newcomer", email="new@example.com", first_name="New", manager=manager_a
    )
    moved = UserFactory()
    org_services.user_set_manager(user=moved, manager=manager_a)

    table = figures_html(client.get(reverse("coaching:team_dashboard")))
    assert "Renamed" in table
    assert str(newcomer) in table
    assert str(moved) in table


def test_a_change_in_the_admin_shows_at_once(client, members, manager_a, admin_user):
    rep = members[0]
    client.force_login(manager_a)
    client.get(reverse("coaching:team_dashboard"))
    client.force_login(admin_user)
    url = f"/admin/salesmgmt/user/{rep.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if name in form.fields
        and value is not None
        and name not in ("password", "groups", "user_permissions")
    }
    data |= {
        "first_name": "Adminrenamed",
        "manager": manager_a.pk,
        "date_joined_0": rep.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": rep.date_joined.strftime("%H:%M:%S"),
    }

    assert client.post(url, data).status_code == 302

    rep.refresh_from_db()
    client.force_login(manager_a)
    table = figures_html(client.get(reverse("coaching:team_dashboard")))
    assert f">{rep}</a>" in table  # "Adminrenamed ...", not only the admin's message
