"""The team dashboard renders its figures once per version of the aggregates it shows."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from coaching.services import compliance_refresh
from forecasting.models import ForecastRollup, Scope
from forecasting.services.flags import flags_refresh
from forecasting.services.kpis import kpis_recompute_for_people
from forecasting.services.recompute import forecast_recompute_people
from salesmgmt import services as org_services
from salesmgmt.aggregate_version import aggregates_changed, aggregates_version
from territories.services import attainment_refresh
from tests.coaching.factories import rollup, team
from tests.factories import UserFactory

# A view between two refreshes: session, user, period, quarters for the picker.
CACHED_DASHBOARD_QUERIES = 4


@pytest.fixture
def members(period, manager_a):
    reps = team(manager_a, 3, period=period)
    attainment_refresh(period=period)
    compliance_refresh()
    return reps


def figures_html(response) -> str:
    """The charts and the team table (the rest of the page carries a fresh CSRF token)."""
    html = response.content.decode()
    return html[html.index('class="chart-grid"') : html.index("</table>")]


def row_shown(client, rep) -> str:
    """The team table's row of ``rep`` as the page shows it."""
    html = client.get(reverse("coaching:team_dashboard")).content.decode()
    row = html[html.index(f">{rep}</a>") :]
    return row[: row.index("</tr>")]


def test_a_second_view_reads_no_figures(client, django_assert_num_queries, members, manager_a):
    client.force_login(manager_a)
    first = client.get(reverse("coaching:team_dashboard"))

    with django_assert_num_queries(CACHED_DASHBOARD_QUERIES):
        second = client.get(reverse("coaching:team_dashboard"))

    assert figures_html(second) == figures_html(first)
    assert all(str(rep) in figures_html(second) for rep in members)


def test_a_recomputed_rollup_shows_at_once(client, members, manager_a, period):
    rep = members[0]
    rollup(rep, period, cumulative_commit_amount=123456)
    client.force_login(manager_a)
    assert "123,456" in row_shown(client, rep)  # cached now

    # the worker's incremental recompute rewrites the rep's rollups
    forecast_recompute_people(person_ids=[rep.pk], period_ids=[period.pk])

    stored = ForecastRollup.objects.get(person=rep, period=period, scope=Scope.SUBTREE)
    assert stored.cumulative_commit_amount != Decimal(123456)
    assert "123,456" not in row_shown(client, rep)


def test_people_changes_show_at_once(client, members, manager_a):
    client.force_login(manager_a)
    client.get(reverse("coaching:team_dashboard"))

    org_services.user_update(user=members[1], first_name="Renamed")
    newcomer = org_services.user_create(
        username="newcomer", email="new@example.com", first_name="New", manager=manager_a
    )
    moved = UserFactory()
    org_services.user_set_manager(user=moved, manager=manager_a)

    html = client.get(reverse("coaching:team_dashboard")).content.decode()
    assert "Renamed" in html
    assert str(newcomer) in html
    assert str(moved) in html


@pytest.mark.parametrize(
    "refresh",
    [
        pytest.param(lambda period, rep: flags_refresh(), id="flags"),
        pytest.param(
            lambda period, rep: kpis_recompute_for_people(
                person_ids=[rep.pk], period_ids=[period.pk]
            ),
            id="kpis",
        ),
    ],
)
def test_every_refresh_moves_the_version(members, period, manager_a, refresh):
    # the version the manager's dashboard caches under (global and the manager's own)
    before = aggregates_version(manager_a.pk)

    refresh(period, members[0])

    assert aggregates_version(manager_a.pk) != before


def test_a_persons_change_moves_their_managers_chain_only(
    rep_a, rep_b, manager_a, manager_b, executive, db
):
    versions = {p.pk: aggregates_version(p.pk) for p in (rep_a, manager_a, manager_b, executive)}
    everything = aggregates_version()

    aggregates_changed([rep_a.pk])

    assert aggregates_version(rep_a.pk) != versions[rep_a.pk]
    assert aggregates_version(manager_a.pk) != versions[manager_a.pk]
    assert aggregates_version(executive.pk) != versions[executive.pk]
    assert aggregates_version(manager_b.pk) == versions[manager_b.pk]
    assert aggregates_version() == everything
    # and a write without people (or with too many to chain) moves everyone's
    aggregates_changed()
    assert aggregates_version(manager_b.pk) != versions[manager_b.pk]


def test_a_reps_edit_leaves_the_other_teams_dashboard_cached(
    client, django_assert_num_queries, members, period, manager_a, manager_b
):
    others = team(manager_b, 2, period=period)
    attainment_refresh(period=period)
    compliance_refresh()
    rep = members[0]
    rollup(rep, period, cumulative_commit_amount=123456)
    client.force_login(manager_b)
    client.get(reverse("coaching:team_dashboard"))
    client.force_login(manager_a)
    assert "123,456" in row_shown(client, rep)

    # the worker's incremental recompute of the rep, then their compliance after a call
    forecast_recompute_people(person_ids=[rep.pk], period_ids=[period.pk])
    kpis_recompute_for_people(person_ids=[rep.pk], period_ids=[period.pk])

    assert "123,456" not in row_shown(client, rep)
    client.force_login(manager_b)
    with django_assert_num_queries(CACHED_DASHBOARD_QUERIES):
        other_team = client.get(reverse("coaching:team_dashboard"))
    assert all(str(person) in figures_html(other_team) for person in others)


def test_the_version_moves_again_on_commit(db, django_capture_on_commit_callbacks):
    before = aggregates_version()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        aggregates_changed()
        during = aggregates_version()
    assert during != before
    for callback in callbacks:
        callback()
    # A page rendered between the write and its commit read the old rows: unreachable now.
    assert aggregates_version() not in (before, during)


def test_a_change_in_the_admin_shows_at_once(client, members, manager_a, admin_user):
    rep = members[0]
    client.force_login(manager_a)
    client.get(reverse("coaching:team_dashboard"))  # cached
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
