"""Close-date pushes in the win-probability model: counted from the change log as of each
look (no look-ahead), learnt from history, weighed when scoring and shown as a driver."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import OpportunityChange
from forecasting.analytics import probability
from forecasting.models import DealProbability
from forecasting.selectors.outlook import outlooks_for
from forecasting.services.recompute import forecast_recompute_all
from tests.forecasting.factories import deal

START = pd.Timestamp("2024-01-01", tz="UTC")


def change(opportunity_id: int, at, old: str, new: str) -> dict:
    """A change-log row as ``frames.close_date_changes_frame`` reads it."""
    return {
        "opportunity_id": opportunity_id,
        "at": pd.Timestamp(at),
        "old_on": pd.Timestamp(old),
        "new_on": pd.Timestamp(new),
    }


def pushed_history(n: int = 240, *, seed: int = 11):
    """Half the deals pushed twice early in their life; pushed deals win 15 %, others 65 %.
    Milestones (one each, from creation) are the same for both, so only pushes tell them apart."""
    rng = np.random.default_rng(seed)
    deals, events, changes = [], [], []
    for i in range(1, n + 1):
        created = START + pd.Timedelta(days=int(rng.integers(0, 300)))
        pushed = i % 2 == 0
        deals.append(
            {
                "opportunity_id": i,
                "process_id": 1,
                "owner_id": 1 + i % 3,
                "created_at": created,
                "closed_at": created + pd.Timedelta(days=int(rng.integers(60, 120))),
                "won": bool(rng.random() < (0.15 if pushed else 0.65)),
            }
        )
        events.append({"opportunity_id": i, "milestone_id": 1, "at": created, "counts": True})
        if pushed:
            changes.append(change(i, created + pd.Timedelta(days=5), "2024-03-01", "2024-04-01"))
            changes.append(change(i, created + pd.Timedelta(days=10), "2024-04-01", "2024-05-01"))
            # pulled back in: not a push
            changes.append(change(i, created + pd.Timedelta(days=12), "2024-05-01", "2024-04-20"))
    return pd.DataFrame(deals), pd.DataFrame(events), pd.DataFrame(changes)


def fitted_with_pushes():
    deals, events, changes = pushed_history()
    return probability.fit(deals, probability.build_observations(deals, events, changes))


def twins(pushes=(0, 2)) -> pd.DataFrame:
    """Open deals identical but for their pushes."""
    k = len(pushes)
    return pd.DataFrame(
        {
            "process_id": [1] * k,
            "owner_id": [1] * k,
            "milestones_done": [1] * k,
            "age_days": [20.0] * k,
            "age_ratio": [0.2] * k,
            "pushes": list(pushes),
        }
    )


def test_pushes_are_counted_as_of_each_moment_only():
    changes = pd.DataFrame(
        [
            change(1, "2024-01-10", "2024-03-01", "2024-04-01"),
            change(1, "2024-02-10", "2024-04-01", "2024-03-15"),  # earlier: not a push
            change(1, "2024-03-10", "2024-03-15", "2024-06-01"),
            change(2, "2024-01-05", "2024-03-01", "2024-05-01"),
        ]
    )
    moments = pd.DataFrame(
        {
            "opportunity_id": [1, 1, 1, 1, 2, 3],
            "at": pd.to_datetime(
                [
                    "2024-01-09",
                    "2024-01-10",
                    "2024-02-20",
                    "2024-04-01",
                    "2024-01-01",
                    "2024-05-01",
                ],
                utc=True,
            ),
        }
    )

    assert probability.pushes_at(changes, moments).tolist() == [0, 1, 1, 2, 0, 0]


def test_observations_do_not_look_ahead_at_later_pushes():
    closed = pd.DataFrame(
        [
            {
                "opportunity_id": 1,
                "process_id": 1,
                "owner_id": 1,
                "created_at": START,
                "closed_at": START + pd.Timedelta(days=100),
                "won": False,
            }
        ]
    )
    events = pd.DataFrame(columns=["opportunity_id", "milestone_id", "at", "counts"])
    # Pushed on day 45 only: the looks on days 0 and 30 were before it.
    changes = pd.DataFrame([change(1, START + pd.Timedelta(days=45), "2024-03-01", "2024-06-01")])

    obs = probability.build_observations(closed, events, changes).sort_values("at")

    assert obs["age_days"].round().tolist() == [0, 30, 60, 90]
    assert obs["pushes"].tolist() == [0, 0, 1, 1]


def test_a_push_after_the_training_cut_does_not_move_the_model():
    deals, events, changes = pushed_history()
    late = changes.assign(at=pd.Timestamp("2030-01-01", tz="UTC"))  # after every look

    params = probability.fit(deals, probability.build_observations(deals, events, late))

    assert all(abs(v) < 1e-9 for v in params["processes"]["1"]["pushes"].values())


def test_a_twice_pushed_deal_scores_lower_than_its_unpushed_twin():
    params = fitted_with_pushes()

    unpushed, pushed = probability.score(twins(), params)

    assert pushed < unpushed - 0.15
    assert params["processes"]["1"]["pushes"]["2"] < 0 < params["processes"]["1"]["pushes"]["0"]


def test_the_pushes_driver_has_an_effect_and_the_split_still_adds_up():
    params = fitted_with_pushes()
    deals = twins((0, 1, 2, 5))

    split = probability.explain(deals, params)

    effects = split[[f"{name}_effect" for name in probability.DRIVERS]].sum(axis=1)
    assert np.allclose(split["base"] + effects, split["probability"])
    assert np.allclose(split["probability"], probability.score(deals, params))
    assert split.loc[3, "pushes_effect"] < -0.1  # 5 pushes weigh as the 2+ bucket
    assert split.loc[0, "pushes_effect"] > 0
    top = split.loc[2, [f"{name}_effect" for name in probability.DRIVERS]].abs()
    assert top.sort_values(ascending=False).index[0] == "pushes_effect"


def test_without_a_change_log_pushes_weigh_nothing():
    deals, events, _ = pushed_history()
    params = probability.fit(deals, probability.build_observations(deals, events))

    unpushed, pushed = probability.score(twins(), params)

    assert unpushed == pytest.approx(pushed)


# --- from the database: recompute, deal page API, query budget --------------------------------


def _push(opp, at: dt.datetime, old: str, new: str) -> None:
    OpportunityChange.objects.create(
        opportunity=opp,
        field=OpportunityChange.Field.EXPECTED_CLOSE_ON,
        old_value=old,
        new_value=new,
        changed_at=at,
        changed_by=opp.owner,
    )


@pytest.fixture
def pushed_book(personas, stages, today, close_on):
    """Closed history where deals pushed twice lost, then two identical open deals of rep_a,
    one pushed twice, with probabilities computed."""
    rep = personas["rep_a"]
    for i in range(40):
        created = timezone.now() - dt.timedelta(days=90 + i)
        pushed = i % 2 == 0
        status = ("lost" if i % 8 else "won") if pushed else ("won" if i % 4 else "lost")
        closed = deal(rep, 500, close_on=today - dt.timedelta(days=10 + i), status=status,
                      created_at=created)  # fmt: skip
        if pushed:
            _push(closed, created + dt.timedelta(days=3), "2026-01-01", "2026-02-01")
            _push(closed, created + dt.timedelta(days=6), "2026-02-01", "2026-03-01")
    created = timezone.now() - dt.timedelta(days=20)
    calm = deal(rep, 1000, close_on=close_on, stage=stages["Negotiate"], created_at=created)
    pushed = deal(rep, 1000, close_on=close_on, stage=stages["Negotiate"], created_at=created)
    _push(pushed, created + dt.timedelta(days=2), "2026-01-01", "2026-02-01")
    _push(pushed, created + dt.timedelta(days=4), "2026-02-01", "2026-03-01")
    forecast_recompute_all(with_kpis=False)
    return {"calm": calm, "pushed": pushed, **personas}


def test_recompute_scores_the_twice_pushed_deal_lower(pushed_book):
    stored = dict(
        DealProbability.objects.filter(
            opportunity__in=[pushed_book["calm"], pushed_book["pushed"]]
        ).values_list("opportunity_id", "probability")
    )

    assert stored[pushed_book["pushed"].pk] < stored[pushed_book["calm"].pk] - 0.1


def test_deal_api_names_pushes_among_the_drivers(pushed_book):
    api = APIClient()
    api.force_authenticate(pushed_book["manager_a"])

    body = api.get(f"/api/v1/opportunities/{pushed_book['pushed'].pk}/probability/").json()

    assert body["pushes"] == 2
    pushes = [d for d in body["drivers"] if d["name"] == "pushes"]
    assert pushes
    assert pushes[0]["effect"] < 0
    assert pushes[0]["detail"] == "close date pushed 2 times"
    # The split is of the stored score: the API's drivers add up to it.
    assert body["probability"] == pytest.approx(
        DealProbability.objects.get(opportunity=pushed_book["pushed"]).probability
    )


def test_outlooks_count_pushes_in_one_query_for_any_number_of_deals(pushed_book, stages, close_on):
    def queries() -> int:
        rows = list(DealProbability.objects.select_related("opportunity"))
        with CaptureQueriesContext(connection) as ctx:
            outlooks_for(rows)
        return len(ctx.captured_queries)

    before = queries()
    for i in range(6):
        extra = deal(pushed_book["rep_a"], 100, close_on=close_on, stage=stages["Negotiate"])
        _push(extra, timezone.now(), "2026-01-01", f"2026-02-0{i + 1}")
    forecast_recompute_all(with_kpis=False)

    assert queries() == before == 3  # the model, the pushes, the milestone totals


def test_deal_page_shows_the_pushes_driver(client, pushed_book):
    client.force_login(pushed_book["rep_a"])

    body = client.get(
        reverse("accounts:opportunity_detail", args=[pushed_book["pushed"].pk])
    ).content.decode()

    assert body.count('data-testid="probability-driver"') == 3
    assert "Close date pushes" in body
    assert "close date pushed 2 times" in body


def test_an_edits_recompute_reads_the_pushes_in_one_query_whatever_the_deals(
    pushed_book, stages, close_on, period
):
    from forecasting.services.recompute import forecast_recompute_people

    rep = pushed_book["rep_a"]

    def change_log_reads() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as ctx:
            forecast_recompute_people(person_ids=[rep.pk], period_ids=[period.pk])
        sqls = [q["sql"] for q in ctx.captured_queries]
        pushes = [s for s in sqls if "accounts_opportunitychange" in s and "expected_close" in s]
        # only the edited people's deals, never the whole log
        assert all('"opportunity_id" IN (' in s for s in pushes), pushes
        return len(pushes), len(sqls)

    reads, total = change_log_reads()
    for i in range(6):
        extra = deal(rep, 100, close_on=close_on, stage=stages["Negotiate"])
        _push(extra, timezone.now(), "2026-01-01", f"2026-02-0{i + 1}")

    assert change_log_reads() == (reads, total)
    assert reads == 1
