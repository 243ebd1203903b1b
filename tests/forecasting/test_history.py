"""History figures: imported deals of 2023 and 2024 get KPIs for their months, quarters and
years after a full recompute; the pages offer years; a period being recomputed says so."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pandas as pd
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from forecasting.aggregate_kinds import ROLLUPS
from forecasting.models import KpiSnapshot, Scope
from forecasting.services.context import forecast_periods
from forecasting.services.recompute import forecast_recompute_all
from salesmgmt import refresh
from salesmgmt.models import Period
from salesmgmt.selectors import period_pending_changes
from salesmgmt.services import periods_ensure
from tests.factories import UserFactory
from tests.forecasting.factories import deal

IMPORTED_AT = dt.datetime(2026, 11, 30, 14, 5, tzinfo=dt.UTC)
# Names as a CRM export has them: no e-mails, a typo, an accent.
SELLERS = ["Anna Kowalski", "Bo Lindqvist", "Chidi Okafor", "Dana Whitfeld"]


@pytest.fixture
def office(manager_a, manager_b):
    """Four sellers in two offices (the managers), named as the export names them."""
    people = []
    for index, full in enumerate(SELLERS):
        first, last = full.split()
        people.append(
            UserFactory(
                username=f"{first.lower()}.{last.lower()}",
                first_name=first,
                last_name=last,
                manager=manager_a if index < 2 else manager_b,
            )
        )
    return people


@pytest.fixture
def history(office, stages):
    """About 160 deals engaged and closed in 2023 and 2024, imported a week ago: a third lost,
    some still open with a close date long past; amounts with cents, cycles of 3 to 240 days."""
    for year in (2023, 2024):
        periods_ensure(year=year)
    rng = random.Random(15)
    rows = []
    for n in range(160):
        owner = office[n % len(office)]
        close_on = dt.date(2023, 1, 1) + dt.timedelta(days=rng.randrange(0, 730))
        engaged = dt.datetime.combine(
            close_on - dt.timedelta(days=rng.randrange(3, 240)), dt.time(9, rng.randrange(60))
        ).replace(tzinfo=dt.UTC)
        status = rng.choice(["won", "won", "lost", "open"])
        amount = Decimal(rng.randrange(90_000, 8_500_000)) / 100
        deal(
            owner,
            amount,
            close_on=close_on,
            status=status,
            stage=stages["Negotiate"] if status == "open" else None,
            created_at=engaged,
            imported_at=IMPORTED_AT,
        )
        rows.append(
            {
                "owner_id": owner.pk,
                "manager_id": owner.manager_id,
                "status": status,
                "amount": float(amount),
                "closed_on": pd.Timestamp(close_on),
                "cycle_days": (
                    dt.datetime.combine(close_on, dt.time.min) - engaged.replace(tzinfo=None)
                ).total_seconds()
                / 86400,
            }
        )
    return pd.DataFrame(rows)


def expected_kpis(frame: pd.DataFrame, period: Period, node: str) -> pd.DataFrame:
    """Win rate, won count and value, average deal and median cycle per ``node``, in pandas."""
    closed = frame[
        (frame["status"] != "open")
        & (frame["closed_on"] >= pd.Timestamp(period.start_on))
        & (frame["closed_on"] <= pd.Timestamp(period.end_on))
    ]
    won = closed[closed["status"] == "won"]
    out = pd.DataFrame(
        {
            "won_count": won.groupby(node).size(),
            "lost_count": closed[closed["status"] == "lost"].groupby(node).size(),
            "won_amount": won.groupby(node)["amount"].sum(),
            "median_cycle_days": won.groupby(node)["cycle_days"].median(),
        }
    ).fillna({"won_count": 0, "lost_count": 0, "won_amount": 0.0})
    out["win_rate_count"] = out["won_count"] / (out["won_count"] + out["lost_count"])
    out["average_deal_amount"] = out["won_amount"] / out["won_count"]
    return out


def _stored(period: Period, scope: str) -> dict[int, KpiSnapshot]:
    return {k.person_id: k for k in KpiSnapshot.objects.filter(period=period, scope=scope)}


def _assert_matches(stored: dict[int, KpiSnapshot], expected: pd.DataFrame) -> None:
    assert set(expected.index) <= set(stored)
    for person_id, row in expected.iterrows():
        kpi = stored[person_id]
        assert (kpi.won_count, kpi.lost_count) == (row["won_count"], row["lost_count"])
        assert float(kpi.won_amount) == pytest.approx(row["won_amount"], abs=0.01)
        if row["won_count"]:
            assert kpi.win_rate_count == pytest.approx(row["win_rate_count"])
            assert float(kpi.average_deal_amount) == pytest.approx(
                row["average_deal_amount"], abs=0.01
            )
            assert kpi.median_cycle_days == pytest.approx(row["median_cycle_days"])
        else:
            assert kpi.median_cycle_days is None


def test_full_recompute_gives_kpis_for_every_past_quarter_and_year(history, office, manager_a):
    # when the nightly (full) recompute runs
    forecast_recompute_all()

    # then every quarter and year of 2023 and 2024 has each seller's and each office's figures,
    # equal to a pandas computation over the same deals
    old = Period.objects.filter(
        kind__in=[Period.Kind.QUARTER, Period.Kind.YEAR], start_on__year__in=[2023, 2024]
    )
    assert old.count() == 10
    for period in old:
        _assert_matches(_stored(period, Scope.OWN), expected_kpis(history, period, "owner_id"))
        _assert_matches(
            _stored(period, Scope.SUBTREE), expected_kpis(history, period, "manager_id")
        )
    fy2023 = old.get(kind=Period.Kind.YEAR, start_on__year=2023)
    year_won = sum(_stored(fy2023, Scope.OWN)[p.pk].won_count for p in office)
    assert year_won == len(
        history[(history["status"] == "won") & (history["closed_on"].dt.year == 2023)]
    )


def test_months_with_deals_are_recomputed_and_years_without_deals_are_not(history):
    periods_ensure(year=2019)  # a calendar set up too far back: no deal in it

    covered = forecast_periods(today=timezone.localdate())

    kinds = {(p.kind, p.start_on.year) for p in covered}
    for year in (2023, 2024):
        assert {(kind, year) for kind in Period.Kind.values} <= kinds
    assert not any(p.start_on.year == 2019 for p in covered)
    # a month is covered because a deal closes, closed or was engaged in it
    closes = set(history["closed_on"].dt.to_period("M"))
    months_2023 = {
        pd.Timestamp(p.start_on).to_period("M")
        for p in covered
        if p.kind == Period.Kind.MONTH and p.start_on.year == 2023
    }
    assert {m for m in closes if m.year == 2023} <= months_2023


def test_forecast_page_offers_years_and_shows_an_old_years_kpis(client, history, manager_a):
    forecast_recompute_all(with_kpis=True)
    fy2023 = Period.objects.get(kind=Period.Kind.YEAR, start_on=dt.date(2023, 1, 1))
    client.force_login(manager_a)

    response = client.get(
        reverse("forecasting:forecast"), {"person": manager_a.pk, "period": fy2023.pk}
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert '<optgroup label="Years">' in page
    assert f'<option value="{fy2023.pk}" selected>FY2023</option>' in page
    expected = expected_kpis(history, fy2023, "manager_id").loc[manager_a.pk]
    assert response.context["kpis"]["subtree"].won_count == expected["won_count"]
    assert "Sales cycle (median days)" in page
    assert 'id="my-call"' not in page  # calls are per quarter


def test_kpi_api_filters_by_year_and_period_kind(client, history, office):
    forecast_recompute_all()
    client.force_login(office[0])

    response = client.get(
        "/api/v1/forecast-kpis/", {"period_kind": "year", "year": 2024, "scope": "own"}
    )

    assert response.status_code == 200
    rows = response.json()["results"]
    assert {row["period_name"] for row in rows} == {"FY2024"}
    assert {row["person"] for row in rows} == {office[0].pk}  # a rep sees only their own
    assert rows[0]["median_cycle_days"] is not None


def test_a_period_with_pending_marks_says_it_is_being_recomputed(
    client, history, manager_a, office, held
):
    q3 = Period.objects.get(kind=Period.Kind.QUARTER, start_on=dt.date(2024, 7, 1))
    refresh.mark_stale(kind=ROLLUPS, keys=[(office[0].pk, q3.pk), (manager_a.pk, q3.pk)])
    client.force_login(manager_a)

    page = client.get(reverse("forecasting:forecast"), {"period": q3.pk}).content.decode()

    assert "Figures for FY2024 Q3 are being recomputed — 2 changes pending." in page
    assert "nightly" not in page


def test_the_note_goes_once_the_marks_are_done(client, history, manager_a, held):
    q3 = Period.objects.get(kind=Period.Kind.QUARTER, start_on=dt.date(2024, 7, 1))
    client.force_login(manager_a)

    page = client.get(reverse("forecasting:forecast"), {"period": q3.pk}).content.decode()

    assert "being recomputed" not in page
    assert "nightly" not in page


def test_pending_changes_selector_reads_one_query(history, office, django_assert_num_queries, held):
    q3 = Period.objects.get(kind=Period.Kind.QUARTER, start_on=dt.date(2024, 7, 1))
    refresh.mark_stale(kind=ROLLUPS, keys=[(person.pk, q3.pk) for person in office])

    with django_assert_num_queries(1):  # the count of the period's stale marks
        assert period_pending_changes(period=q3) == len(office)


def test_period_api_lists_pending_changes_in_a_fixed_number_of_queries(
    client, history, office, held
):
    q3 = Period.objects.get(kind=Period.Kind.QUARTER, start_on=dt.date(2024, 7, 1))
    client.force_login(office[0])

    def fetch() -> tuple[int, dict]:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/api/v1/forecast-periods/", {"year": 2024, "kind": "quarter"})
        assert response.status_code == 200
        return len(ctx.captured_queries), {r["name"]: r for r in response.json()["results"]}

    before, rows = fetch()
    assert rows["FY2024 Q3"]["is_recomputing"] is False
    refresh.mark_stale(kind=ROLLUPS, keys=[(person.pk, q3.pk) for person in office])
    after, rows = fetch()

    # session, user, count, page of periods with their marks counted in a subquery
    assert after == before
    assert rows["FY2024 Q3"]["pending_changes"] == len(office)
    assert rows["FY2024 Q3"]["is_recomputing"] is True
    assert rows["FY2024 Q2"]["pending_changes"] == 0


def test_kpi_page_shows_each_report_for_an_old_year(client, history, office, executive):
    forecast_recompute_all()
    fy2024 = Period.objects.get(kind=Period.Kind.YEAR, start_on=dt.date(2024, 1, 1))
    client.force_login(executive)

    response = client.get(reverse("forecasting:kpis"), {"period": fy2024.pk})

    assert response.status_code == 200
    offices = expected_kpis(history, fy2024, "manager_id")
    rows = {row.person.pk: row for row in response.context["rows"]}
    assert set(rows) == set(offices.index)  # the two offices under the executive
    for manager_id, expected in offices.iterrows():
        assert rows[manager_id].team.won_count == expected["won_count"]
        assert rows[manager_id].team.median_cycle_days == pytest.approx(
            expected["median_cycle_days"]
        )
    assert response.context["head"].team.won_count == offices["won_count"].sum()
    assert "Sales cycle (median days)" in response.content.decode()


def test_kpi_page_queries_do_not_grow_with_the_reports(client, history, manager_a, office):
    fy2024 = Period.objects.get(kind=Period.Kind.YEAR, start_on=dt.date(2024, 1, 1))
    client.force_login(manager_a)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(reverse("forecasting:kpis"), {"period": fy2024.pk})
        assert response.status_code == 200
        return len(ctx.captured_queries)

    before = count()
    for n in range(4):
        UserFactory(
            username=f"new.hire{n}", first_name="New", last_name=f"Hire{n}", manager=manager_a
        )
    after = count()

    # session, user, period, periods, pending marks, the person's rows, reports count,
    # a page of reports, their rows: the same whatever the team's size
    assert after == before


def test_kpi_page_shows_win_rate_cycle_and_money_to_their_documented_precision(
    client, q1, manager_a
):
    # A win rate of 104/161 and a median of an even number of cycles (12 and 13 days): shown
    # as 64.6 % and 12.5 days, not rounded to 65 % and 12 (or 13) days.
    KpiSnapshot.objects.create(
        person=manager_a, period=q1, scope=Scope.SUBTREE, won_count=104, lost_count=57,
        won_amount=Decimal("239447.00"), average_deal_amount=Decimal("2302.38"),
        win_rate_count=104 / 161, median_cycle_days=12.5,
    )  # fmt: skip
    client.force_login(manager_a)

    response = client.get(reverse("forecasting:kpis"), {"period": q1.pk})

    cells = response.content.decode()
    assert "64.6%" in cells
    assert ">12.5<" in cells
    assert "2,302.38" in cells
    assert "239,447.00" in cells
