"""Change between two dates: one ranked change type per deal, exact from the change log."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from accounts import services as deal_services
from forecasting.analytics import waterfall
from forecasting.selectors import reads
from tests.factories import AccountFactory, complete_closing_milestones

P_START, P_END = dt.date(2030, 1, 1), dt.date(2030, 3, 31)
IN, LATER = pd.Timestamp("2030-02-15"), pd.Timestamp("2030-05-15")


def state(rows):
    return pd.DataFrame(rows, columns=waterfall.STATE_COLUMNS)


def test_each_deal_gets_the_first_change_type_in_rank_order():
    start = state(
        [
            (2, 1, "open", 100.0, IN, "commit"),
            (3, 1, "open", 100.0, IN, "pipeline"),
            (4, 1, "open", 100.0, LATER, "pipeline"),
            (5, 1, "open", 100.0, IN, "commit"),
            (6, 1, "open", 100.0, IN, "pipeline"),
            (7, 1, "open", 100.0, IN, "pipeline"),
            (8, 1, "open", 100.0, IN, "pipeline"),
            (9, 1, "open", 100.0, IN, "pipeline"),
        ]
    )
    end = state(
        [
            (1, 1, "open", 50.0, IN, "pipeline"),  # new
            (2, 1, "won", 100.0, IN, "closed"),  # won
            (3, 1, "lost", 100.0, IN, None),  # lost
            (4, 1, "open", 300.0, IN, "commit"),  # pulled in (and bigger): pulled in wins
            (5, 1, "open", 100.0, LATER, "commit"),  # pushed out
            (6, 1, "open", 130.0, IN, "pipeline"),  # increased
            (7, 1, "open", 60.0, IN, "commit"),  # decreased (and re-categorized): decreased wins
            (8, 1, "open", 100.0, IN, "best_case"),  # category moved
            (9, 1, "open", 100.0, IN, "pipeline"),  # unchanged
        ]
    )

    changes = waterfall.classify_changes(start, end, period_start=P_START, period_end=P_END)

    by_deal = dict(zip(changes["opportunity_id"], changes["change_type"], strict=True))
    assert by_deal == {
        1: "new",
        2: "won",
        3: "lost",
        4: "pulled_in",
        5: "pushed_out",
        6: "increased",
        7: "decreased",
        8: "category_moved",
    }
    deltas = dict(zip(changes["opportunity_id"], changes["delta"], strict=True))
    assert deltas == {1: 50, 2: -100, 3: -100, 4: 300, 5: -100, 6: 30, 7: -40, 8: 0}


def test_waterfall_steps_walk_from_start_to_end():
    start = state([(1, 1, "open", 100.0, IN, "commit"), (2, 1, "open", 200.0, IN, "commit")])
    end = state([(1, 1, "open", 150.0, IN, "commit"), (3, 1, "open", 70.0, IN, "pipeline")])
    changes = waterfall.classify_changes(start, end, period_start=P_START, period_end=P_END)

    steps = waterfall.waterfall_steps(300.0, changes).set_index("key")

    assert steps.loc["start", "amount"] == 300
    assert steps.loc["end", "amount"] == 220
    assert steps.loc[waterfall.CHANGE_TYPES, "amount"].sum() == pytest.approx(-80)


def test_waterfall_between_two_past_dates_replays_the_change_log(
    rep_a, manager_a, process, period, close_on
):
    # Given a deal created ten days ago, enlarged five days ago, pushed out yesterday
    now = timezone.now()
    account = AccountFactory(owner=rep_a)
    opp = deal_services.opportunity_create(
        actor=rep_a,
        account=account,
        name="Acme",
        amount=Decimal(1000),
        expected_close_on=close_on,
        at=now - dt.timedelta(days=10),
    )
    deal_services.opportunity_update(
        actor=rep_a, opportunity=opp, amount=Decimal(1500), at=now - dt.timedelta(days=5)
    )
    deal_services.opportunity_update(
        actor=rep_a,
        opportunity=opp,
        expected_close_on=period.end_on + dt.timedelta(days=40),
        at=now - dt.timedelta(days=1),
    )

    def between(days_a, days_b):
        steps, changes = reads.waterfall_for(
            person=manager_a,
            period=period,
            start_at=now - dt.timedelta(days=days_a),
            end_at=now - dt.timedelta(days=days_b),
        )
        return steps.set_index("key")["amount"].to_dict(), changes["change_type"].tolist()

    # Then each window sees exactly what had happened by then, nothing later.
    assert between(12, 8) == ({**between(12, 8)[0], "new": 1000, "end": 1000}, ["new"])
    assert between(8, 3)[1] == ["increased"]
    assert between(8, 3)[0]["end"] == 1500
    assert between(3, 0)[1] == ["pushed_out"]
    assert between(3, 0)[0]["end"] == 0


deal_state = st.one_of(
    st.none(),
    st.tuples(
        st.sampled_from(["open", "won", "lost"]),
        st.sampled_from([100.0, 250.0, 400.0]),
        st.sampled_from([IN, LATER]),
        st.sampled_from(["pipeline", "commit"]),
    ),
)


@given(st.lists(st.tuples(deal_state, deal_state), min_size=1, max_size=25))
def test_waterfall_always_walks_from_start_to_end(pairs):
    def frame(side):
        rows = [(i, 1, *states[side]) for i, states in enumerate(pairs) if states[side] is not None]
        return state(rows)

    start, end = frame(0), frame(1)
    changes = waterfall.classify_changes(start, end, period_start=P_START, period_end=P_END)

    def open_total(side):
        close = pd.to_datetime(side["expected_close_on"])
        mask = (
            (side["status"] == "open")
            & (close >= pd.Timestamp(P_START))
            & (close <= pd.Timestamp(P_END))
        )
        return float(side.loc[mask, "amount"].sum())

    steps = waterfall.waterfall_steps(open_total(start), changes).set_index("key")
    assert steps.loc["end", "amount"] == pytest.approx(open_total(end))
    assert changes["opportunity_id"].is_unique  # one change type per deal


@pytest.mark.parametrize("ever_owned_limit", [0, 200])  # company-wide and team narrowing
def test_waterfall_replaying_only_moved_deals_equals_the_full_replay(
    rep_a, rep_b, manager_a, executive, process, period, close_on, ever_owned_limit, monkeypatch
):
    monkeypatch.setattr(reads, "EVER_OWNED_LIMIT", ever_owned_limit)
    # Given deals that never move after being created long ago, and deals that move in
    # every window (new, enlarged, pushed out, won, reassigned to another team)
    now = timezone.now()
    long_ago = now - dt.timedelta(days=30)
    accounts = {rep.pk: AccountFactory(owner=rep) for rep in (rep_a, rep_b)}

    def create(owner, amount, at, close=close_on):
        return deal_services.opportunity_create(
            actor=owner, account=accounts[owner.pk], owner=owner, name="Deal",
            amount=Decimal(amount), expected_close_on=close, at=at,
        )  # fmt: skip

    for amount in (100, 200, 300):
        create(rep_a, amount, long_ago)
    create(rep_b, 700, long_ago)
    grown = create(rep_a, 1000, long_ago)
    deal_services.opportunity_update(
        actor=rep_a, opportunity=grown, amount=Decimal(1600), at=now - dt.timedelta(days=5)
    )
    pushed = create(rep_a, 400, long_ago)
    deal_services.opportunity_update(
        actor=rep_a,
        opportunity=pushed,
        expected_close_on=period.end_on + dt.timedelta(days=40),
        at=now - dt.timedelta(days=2),
    )
    create(rep_a, 900, now - dt.timedelta(days=3))
    won = create(rep_b, 250, long_ago)
    complete_closing_milestones(won)
    deal_services.opportunity_close_won(actor=rep_b, opportunity=won, closed_on=close_on)
    moved = create(rep_a, 550, long_ago)
    deal_services.opportunity_update(actor=executive, opportunity=moved, owner=rep_b)

    # When both are computed for several nodes and windows, up to now and in the past
    for person in (manager_a, executive, rep_a):
        for days_a, days_b in ((7, 0), (4, 1), (40, 0), (6, 6)):
            window = {
                "person": person,
                "period": period,
                "start_at": now - dt.timedelta(days=days_a),
                "end_at": now - dt.timedelta(days=days_b),
            }
            fast_steps, fast_changes = reads.waterfall_for(**window)
            full_steps, full_changes = reads.waterfall_replayed(**window)

            # Then every step, count and changed deal is the same
            pd.testing.assert_frame_equal(fast_steps, full_steps)
            key = ["opportunity_id"]
            pd.testing.assert_frame_equal(
                fast_changes.sort_values(key).reset_index(drop=True),
                full_changes.sort_values(key).reset_index(drop=True),
            )
    assert reads.waterfall_for(
        person=executive, period=period, start_at=now - dt.timedelta(days=7), end_at=now
    )[0].set_index("key").loc["start", "amount"] == pytest.approx(
        100 + 200 + 300 + 700 + 1000 + 400 + 250 + 550
    )
