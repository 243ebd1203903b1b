"""The demo a manager believes: quotas for every seller, attainment spread like real teams,
regional manager chains, credit splits and cancellations, weekly calls on the forecast pages.

Attainment here is computed by the credit rule of the credit ledger, independently of the
product's code: a won deal credits its owner 100 % unless it has credit splits (each person
their percent), converted at the close day's rate, in the quarter it closed; a cancellation
debits the same shares in the quarter it is recorded in. Attainment = credited / quota.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import Activity, Opportunity, OpportunityChange
from compensation.models import CreditSplit, DealCancellation
from forecasting.models import AccuracyEntry, CallLayer, CallOfRecord, ForecastCall
from forecasting.services import backtest, runs
from salesmgmt.models import Period, Role, SalesRole, User
from salesmgmt.money import RateTable
from territories.models import Quota
from tests.fixtures.demo import demo_once

SMALL = {"reps": 16, "opportunities": 200}
SELLERS = (SalesRole.AE, SalesRole.AM)


def seed(**options) -> None:
    call_command("seed_demo", stdout=io.StringIO(), **options)


# The small demo, seeded once for this module (tests/fixtures/demo.py) for the tests that read
# it as seed_demo leaves it; each test's writes (a recompute) roll back to it.
seeded_small = demo_once(**SMALL)


@pytest.fixture
def small_demo(seeded_small, db):
    """The demo as ``seed(**SMALL)`` leaves it."""


def quarters(*, closed: bool) -> list[Period]:
    today = timezone.localdate()
    qs = Period.objects.filter(kind=Period.Kind.QUARTER, start_on__lte=today)
    if closed:
        qs = qs.filter(end_on__lt=today)
    return list(qs.order_by("start_on"))


def credited_by_person(periods: list[Period]) -> dict[tuple[int, int], Decimal]:
    """Credited bookings per (person, quarter) by the credit ledger's rule (see above)."""
    rates = RateTable.load()

    def quarter_of(day: dt.date) -> int | None:
        return next((p.pk for p in periods if p.start_on <= day <= p.end_on), None)

    won = {
        pk: (owner_id, rates.convert(amount, currency, closed_on), closed_on)
        for pk, owner_id, amount, currency, closed_on in Opportunity.objects.filter(
            status=Opportunity.Status.WON
        ).values_list("pk", "owner_id", "amount", "currency", "closed_on")
    }
    shares = defaultdict(list)
    for deal_id, user_id, percent in CreditSplit.objects.values_list(
        "opportunity_id", "user_id", "percent"
    ):
        shares[deal_id].append((user_id, percent / 100))
    events = [(pk, closed_on, 1) for pk, (_, _, closed_on) in won.items()]
    events += [
        (deal_id, day, -1)
        for deal_id, day in DealCancellation.objects.values_list("opportunity_id", "cancelled_on")
    ]
    credited = defaultdict(Decimal)
    for deal_id, day, sign in events:
        quarter = quarter_of(day)
        if quarter is None:
            continue
        owner_id, amount, _ = won[deal_id]
        for user_id, share in shares.get(deal_id) or [(owner_id, Decimal(1))]:
            credited[user_id, quarter] += sign * amount * share
    return credited


def assert_attainment_is_believable() -> dict[str, float]:
    closed = quarters(closed=True)
    credited = credited_by_person(closed)
    quotas = {(q.user_id, q.period_id): q.amount for q in Quota.objects.all()}
    reps = list(User.objects.filter(role=Role.REP, is_active=True))
    percents = []
    for quarter in closed:
        booked = planned = Decimal(0)
        for rep in reps:
            quota = quotas.get((rep.pk, quarter.pk), Decimal(0))
            amount = credited.get((rep.pk, quarter.pk), Decimal(0))
            # no quota of 0 for a rep with bookings
            assert quota > 0 or amount == 0, (rep.username, quarter.name, amount)
            if quota > 0:
                percents.append(float(amount / quota * 100))
                booked += amount
                planned += quota
        if not planned:
            continue  # before the demo's first deals
        # the company lands near its plan every quarter
        assert Decimal("0.85") <= booked / planned <= Decimal("1.15"), quarter.name
    in_band = sum(50 <= p <= 150 for p in percents) / len(percents)
    assert in_band >= 0.7, f"{in_band:.0%} of rep-quarters between 50 and 150 %"
    assert max(percents) <= 300
    assert len(percents) >= 8 * 10  # eight closed quarters and more, ten sellers and more
    return {"in_band": in_band, "max": max(percents)}


def assert_every_seller_has_a_quota_where_they_worked() -> None:
    """Every active seller has a quota in every quarter they logged activity or booked."""
    periods = quarters(closed=False)
    quotas = {(q.user_id, q.period_id) for q in Quota.objects.filter(amount__gt=0)}
    sellers = set(
        User.objects.filter(role=Role.REP, is_active=True, sales_role__in=SELLERS).values_list(
            "pk", flat=True
        )
    )
    worked = set()
    for owner_id, at in Activity.objects.filter(owner_id__in=sellers).values_list(
        "owner_id", "occurred_at"
    ):
        day = timezone.localdate(at)
        worked.update((owner_id, p.pk) for p in periods if p.start_on <= day <= p.end_on)
    worked.update(key for key, amount in credited_by_person(periods).items() if amount)
    missing = {key for key in worked if key[0] in sellers} - quotas
    assert not missing


@pytest.mark.parametrize(
    "size",
    [
        pytest.param({}, id="default"),
        pytest.param({"reps": 16, "opportunities": 3200}, id="small"),
    ],
)
def test_rep_attainment_is_spread_like_a_real_team(db, size):
    seed(**size)

    assert_attainment_is_believable()
    assert_every_seller_has_a_quota_where_they_worked()


def test_regions_have_their_own_manager_chains(small_demo):
    executive = User.objects.get(username="executive")

    heads = User.objects.filter(manager=executive, role=Role.MANAGER)

    assert heads.count() >= 2
    assert len({head.region for head in heads}) == heads.count()
    for head in heads:
        managers = User.objects.filter(manager=head, role=Role.MANAGER)
        assert managers.exists()
        for manager in managers:
            assert User.objects.filter(manager=manager, role=Role.REP).exists()


def test_some_won_deals_are_split_or_cancelled(db):
    seed(reps=16, opportunities=1200)
    won = Opportunity.objects.filter(status=Opportunity.Status.WON)

    split_deals = set(CreditSplit.objects.values_list("opportunity_id", flat=True))
    cancelled = DealCancellation.objects.select_related("opportunity")

    assert 0.02 * won.count() <= len(split_deals) <= 0.1 * won.count()
    for deal_id in split_deals:
        rows = CreditSplit.objects.filter(opportunity_id=deal_id).select_related("opportunity")
        assert sum(r.percent for r in rows) == 100
        assert sorted(r.percent for r in rows) in ([40, 60], [50, 50])
        assert rows[0].opportunity.owner_id in {r.user_id for r in rows}
    assert 1 <= cancelled.count() <= 0.03 * won.count()
    for cancellation in cancelled:
        assert cancellation.opportunity.status == Opportunity.Status.WON
        assert cancellation.cancelled_on > cancellation.opportunity.closed_on
        assert cancellation.recorded_by_id == cancellation.opportunity.owner.manager_id


def test_a_minority_of_open_deals_carry_the_reps_own_category(db):
    seed(reps=16, opportunities=1200)
    open_deals = list(
        Opportunity.objects.filter(status=Opportunity.Status.OPEN).select_related("stage")
    )

    # "" (once the field may be blank) and the stage's default both mean nobody chose
    chosen = [
        d for d in open_deals if d.forecast_category not in ("", d.stage.default_forecast_category)
    ]

    assert 0.1 * len(open_deals) <= len(chosen) <= 0.3 * len(open_deals)
    # the choice is in the deal's history, after the deal entered its stage
    for deal in chosen:
        change = deal.changes.filter(field=OpportunityChange.Field.FORECAST_CATEGORY).last()
        assert change.new_value == deal.forecast_category
        assert change.changed_at >= deal.stage_entered_at


def test_past_and_current_quarters_carry_weekly_calls_and_adjustments(small_demo):
    today = timezone.localdate()
    current = Period.objects.get(kind="quarter", start_on__lte=today, end_on__gte=today)
    managers = User.objects.filter(role__in=[Role.MANAGER, Role.EXECUTIVE])

    for quarter in quarters(closed=True)[-4:]:
        sellers = User.objects.filter(sales_role__in=SELLERS, hire_date__lt=quarter.start_on)
        weeks = set(CallOfRecord.objects.filter(period=quarter).values_list("locked_on", flat=True))
        assert len(weeks) >= 12  # a lock every week of the quarter
        assert all(quarter.start_on <= week <= quarter.end_on for week in weeks)
        for person in [*sellers, *managers]:
            calls = ForecastCall.objects.filter(
                period=quarter, person=person, layer=CallLayer.OWNER
            )
            assert calls.count() >= 6, person.username  # most weeks (some carry over)
            assert all(c.best_case_amount >= c.commit_amount for c in calls)
        adjustments = ForecastCall.objects.filter(period=quarter, layer=CallLayer.MANAGER)
        assert adjustments.exists()
        for adjustment in adjustments.select_related("person", "submitted_by"):
            assert adjustment.note
            assert adjustment.person.ancestor_path.startswith(adjustment.submitted_by.subtree_path)
    # this week's calls came after the last lock, so "change since last week" has figures
    last_lock = CallOfRecord.objects.filter(period=current).latest("locked_on").locked_on
    assert last_lock < today
    assert ForecastCall.objects.filter(period=current, submitted_at__date__gt=last_lock).exists()


def recompute() -> None:
    """What `make run` does after seeding (manage.py recompute_forecasts --all), in part."""
    runs.full_recompute_run(trials=200)
    backtest.backtest_run()


def test_forecast_pages_show_figures_on_the_first_run(small_demo, client):
    # given the demo as `make run` leaves it
    recompute()
    executive = User.objects.get(username="executive")
    client.force_login(executive)

    rollup = client.get(reverse("coaching:executive_rollup"))
    accuracy = client.get(reverse("forecasting:accuracy"))
    waterfall = client.get(reverse("forecasting:waterfall"))

    # the executive rollup: each region's call and its change since last week, as a bridge
    assert rollup.status_code == 200
    html = rollup.content.decode()
    assert "no calls yet" not in html
    assert "Call: change since last week" in html
    (node, children), *_ = rollup.context["trees"]
    assert len(children) >= 2
    assert all(child.call and child.call > 0 for child in children)
    assert all(child.change is not None for child in children)
    assert any(child.change for child in [node, *children])
    # the accuracy ledger: the calls and the manager adjustments are scored, not only models
    assert accuracy.status_code == 200
    sources = {row["source"] for row in accuracy.context["rows"]}
    assert {"call", "manager_adjusted"} <= sources
    assert AccuracyEntry.objects.filter(source="call", forecast_amount__gt=0).exists()
    # the waterfall: last week's pipeline moves
    assert waterfall.status_code == 200
    steps = {step["key"]: step for step in waterfall.context["steps"]}
    assert steps["start"]["amount"] > 0
    assert sum(step["count"] for step in steps.values()) > 0


def test_a_manager_sees_their_teams_calls_on_the_forecast_page(small_demo, client):
    recompute()
    manager = User.objects.get(username="manager")
    client.force_login(manager)

    page = client.get(reverse("forecasting:forecast"))

    assert page.status_code == 200
    rows = page.context["rows"]
    assert rows
    assert all(row.call is not None for row in rows if row.person.sales_role in SELLERS)
    assert any(row.record is not None for row in rows)
    assert page.context["view"].self_row.call is not None
