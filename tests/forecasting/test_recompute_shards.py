"""The full recompute's shards: in any order, on any worker, run twice, they leave the rows of
the in-process run; the recompute page and the log show each shard."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from forecasting.analytics import runrate
from forecasting.models import (
    DealProbability,
    ForecastRollup,
    KpiSnapshot,
    RecomputeRun,
    RecomputeShard,
)
from forecasting.selectors import frames
from forecasting.services import recompute, runs, shards
from forecasting.services.context import Context, forecast_periods, previous_windows
from forecasting.services.recompute import forecast_recompute_all
from reconciliation import verify_figures
from salesmgmt.models import Period
from tests.factories import UserFactory
from tests.integration.aggregates import aggregate_snapshot, assert_same_aggregates

TRIALS = 300


@pytest.fixture
def demo(db):
    """A small demo organisation: a tree of teams, months, quarters and years of deals."""
    call_command("seed_demo", reps=8, opportunities=160, activities_per_deal=1.0, stdout=StringIO())


def planned_run(as_of: dt.datetime) -> tuple[RecomputeRun, list[shards.RunStep]]:
    """A run learned and planned as a broker's worker does it: the shards handed over, unrun."""
    sent: list[shards.RunStep] = []
    run = RecomputeRun.objects.create(phase="queued", as_of=as_of, trials=TRIALS)
    forecast_recompute_all(run=run, dispatch=sent.append)
    return run, sent


def test_shards_in_any_order_and_twice_leave_the_in_process_rows(demo):
    # given the rows of the in-process run (every shard in order, one process)
    as_of = timezone.now()
    forecast_recompute_all(now=as_of, trials=TRIALS)
    in_process = aggregate_snapshot()
    assert in_process["ForecastRollup"]
    assert in_process["KpiSnapshot"]
    assert in_process["DealProbability"]

    # when another run for the same moment is planned and its shards run backwards, as two
    # workers interleave them, one of them twice (a redelivered message after it finished)
    run, sent = planned_run(as_of)
    assert [step.stage for step in sent] == ["scores"]
    score_ids = sent[0].shard_ids
    assert len(score_ids) == RecomputeShard.objects.filter(run=run, stage="scores").count() > 3
    steps = _run_backwards_one_twice(score_ids, worker="w1", again_on="w2")
    # then only the shard that completed the quarters' scores sends the months and years, once
    (rollup_step,) = [step for step in steps if step is not None]
    assert rollup_step.stage == "rollups"
    rollup_ids = rollup_step.shard_ids
    assert len(rollup_ids) == RecomputeShard.objects.filter(run=run, stage="rollups").count() > 3
    steps = _run_backwards_one_twice(rollup_ids, worker="w2", again_on="w1")
    # and only the shard that completed the rollups sends the KPI stage, once
    (kpi_step,) = [step for step in steps if step is not None]
    assert kpi_step.stage == "kpis"
    assert recompute.recompute_shard(shard_id=rollup_ids[0], worker="w2") is None  # done: no-op
    kpi_steps = [recompute.recompute_shard(shard_id=i, worker="w2") for i in kpi_step.shard_ids]
    assert [s.stage for s in kpi_steps if s is not None] == ["done"]

    # then the run is done and its rows equal the in-process run's
    run.refresh_from_db()
    assert (run.status, run.phase, run.progress) == (RecomputeRun.Status.DONE, "done", 1.0)
    assert set(run.shards.values_list("state", flat=True)) == {"done"}
    assert run.timings["total"] >= run.timings["learn"] > 0
    assert_same_aggregates(aggregate_snapshot(), in_process)
    # and the rollups and KPIs it stored reconcile with the raw records
    assert [str(d) for d in verify_figures(aggregates=["rollups", "kpis"])] == []


def test_a_shard_rewrites_its_own_periods_only(demo):
    as_of = timezone.now()
    run, (step,) = planned_run(as_of)
    first = RecomputeShard.objects.get(pk=step.shard_ids[0])

    recompute.recompute_shard(shard_id=first.pk)

    (period_id,) = first.period_ids
    assert set(ForecastRollup.objects.values_list("period_id", flat=True)) == {period_id}
    assert not KpiSnapshot.objects.exists()
    first.refresh_from_db()
    assert first.state == "done"
    assert first.rows > 0
    assert first.seconds > 0
    run.refresh_from_db()
    assert run.status == RecomputeRun.Status.RUNNING
    assert 0.1 < run.progress < 1


def test_a_shard_held_by_a_live_worker_is_not_taken(demo):
    _run, (step,) = planned_run(timezone.now())
    RecomputeShard.objects.filter(pk=step.shard_ids[0]).update(
        state="running", lease="alive", worker="other", heartbeat_at=timezone.now()
    )

    assert recompute.recompute_shard(shard_id=step.shard_ids[0]) is None

    shard = RecomputeShard.objects.get(pk=step.shard_ids[0])
    assert (shard.state, shard.lease, shard.worker) == ("running", "alive", "other")
    assert not ForecastRollup.objects.exists()


def test_a_resumed_run_sends_again_only_the_shards_whose_workers_went_quiet(demo, caplog):
    # given a run whose heartbeat went stale while one shard's worker still beats and
    # another's went quiet (at 1 M deals a run was once seen stale with both still working)
    run, (step,) = planned_run(timezone.now())
    live, lost = step.shard_ids[:2]
    quiet = timezone.now() - shards.stale_after() - dt.timedelta(seconds=5)
    RecomputeShard.objects.filter(pk=live).update(
        state="running", lease="alive", worker="w1", heartbeat_at=timezone.now()
    )
    RecomputeShard.objects.filter(pk=lost).update(
        state="running", lease="gone", worker="w2", heartbeat_at=quiet
    )

    # when the run is resumed
    with caplog.at_level(logging.WARNING, logger="forecasting.services.shards"):
        resumed = shards.recompute_resume(run=run)

    # then only the quiet shard is pending again; the live one keeps its worker and lease
    states = dict(RecomputeShard.objects.filter(pk__in=[live, lost]).values_list("pk", "state"))
    assert states == {live: "running", lost: "pending"}
    assert RecomputeShard.objects.get(pk=live).lease == "alive"
    assert f"shards [{lost}] lost their workers, sent again" in caplog.text
    # and sending the live shard again (it is in the stage's list) does not take it over
    assert resumed.stage == "scores"
    assert {live, lost} <= set(resumed.shard_ids)
    assert recompute.recompute_shard(shard_id=live, worker="w3") is None
    assert RecomputeShard.objects.get(pk=live).worker == "w1"


def test_a_run_whose_shard_still_beats_is_not_abandoned(demo):
    # given a run whose own heartbeat is stale while a shard of it still beats
    run, (step,) = planned_run(timezone.now())
    quiet = timezone.now() - shards.stale_after() - dt.timedelta(seconds=5)
    RecomputeRun.objects.filter(pk=run.pk).update(
        status="running", lease="first", heartbeat_at=quiet, updated_at=quiet
    )
    shard = RecomputeShard.objects.filter(pk=step.shard_ids[0])
    shard.update(state="running", lease="alive", worker="w1", heartbeat_at=timezone.now())

    # then the reconciler leaves it, and nobody can claim it
    assert runs.stale_run_ids() == []
    assert runs.full_recompute_run(run_id=run.pk) is None
    assert RecomputeRun.objects.get(pk=run.pk).lease == "first"

    # until the shard goes quiet too
    shard.update(heartbeat_at=quiet)
    assert runs.stale_run_ids() == [run.pk]


def test_a_late_heartbeat_is_logged(demo, caplog):
    _run, (step,) = planned_run(timezone.now())
    beat = shards.ShardHeartbeat(
        shard=RecomputeShard.objects.get(pk=step.shard_ids[0]), lease="x", interval=15
    )
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="forecasting.services.leases"):
        beat._note_gap(time.monotonic() - 20)  # on time: no line
        assert caplog.records == []
        beat._note_gap(time.monotonic() - 45)
    assert "renewed 45.0 s after the one before (every 15.0 s is due" in caplog.text


def test_each_shard_logs_its_start_and_finish(demo, caplog):
    caplog.set_level(logging.INFO, logger="forecasting.services.shards")

    forecast_recompute_all(trials=TRIALS)

    run = RecomputeRun.objects.get()
    names = list(run.shards.values_list("name", flat=True))
    started = [r.getMessage() for r in caplog.records if " started on " in r.getMessage()]
    finished = [r.getMessage() for r in caplog.records if " finished on " in r.getMessage()]
    assert len(started) == len(finished) == len(names)
    assert all(f"({name})" in line for name, line in zip(names, finished, strict=True))


def test_the_recompute_page_shows_each_shard(demo, client):
    forecast_recompute_all(trials=TRIALS)
    run = RecomputeRun.objects.get()
    shard = run.shards.order_by("position").first()
    client.force_login(UserFactory(username="ops", is_staff=True, is_superuser=True))

    listing = client.get("/admin/forecasting/recomputerun/").content.decode()
    page = client.get(f"/admin/forecasting/recomputerun/{run.pk}/change/").content.decode()

    total = run.shards.count()
    assert f"{total} / {total}" in listing
    assert shard.name in page
    assert shard.worker in page
    assert shard.worker.startswith("in-process:")


def test_the_run_rate_reads_only_the_wins_of_the_previous_periods(demo):
    # given every closed deal and close-date change, which each shard used to load
    ctx = Context.load(params={}, trials=TRIALS)
    closed = frames.closed_deals_frame(rates=ctx.rates)
    won, changes = closed[closed["won"]], frames.close_date_changes_frame()
    open_periods = [p for p in forecast_periods(today=ctx.today) if p.end_on >= ctx.today]
    assert {p.kind for p in open_periods} == {"month", "quarter", "year"}

    for period in open_periods:
        # when a shard computes the period's run rate from the previous periods' wins alone
        narrow = recompute._expected_new(period, ctx)

        # then each person's stored (cent) run rate is the one from the whole history
        whole = runrate.expected_new(
            won,
            changes,
            target=(period.start_on, period.end_on),
            history=previous_windows(period),
            today=ctx.today,
        )
        assert narrow.round(2).sort_index().to_dict() == whole.round(2).sort_index().to_dict()
    assert any(recompute._expected_new(p, ctx).sum() > 0 for p in open_periods)


def test_a_full_run_scores_each_deal_once(demo, monkeypatch):
    # given a spy on the scoring of deals (a deal's score is the same in every period)
    scored_ids: list[int] = []
    score_deals = recompute.score_deals

    def spy(deals, events, ctx):
        scored_ids.extend(deals["opportunity_id"].astype(int))
        return score_deals(deals, events, ctx)

    monkeypatch.setattr(recompute, "score_deals", spy)

    # when a full run rewrites every month, quarter and year
    forecast_recompute_all(trials=TRIALS)

    # then each deal was scored by its quarter's shard alone, not again by its month's and year's
    counts = Counter(scored_ids)
    assert counts
    assert max(counts.values()) == 1
    assert ForecastRollup.objects.filter(period__kind="month").exists()
    assert ForecastRollup.objects.filter(period__kind="year").exists()


def test_months_and_years_from_the_quarters_scores_equal_scoring_them_again(demo):
    # given a full run, whose months and years read the scores its quarters stored
    as_of = timezone.now()
    forecast_recompute_all(now=as_of, trials=TRIALS, with_kpis=False)
    run = RecomputeRun.objects.get()
    from_scores = aggregate_snapshot()

    # when every month and year is rewritten by scoring its own deals, as each shard once did
    ctx = Context.load(now=as_of, params=run.model.params, trials=TRIALS)
    periods = [p for p in forecast_periods(today=ctx.today) if p.kind != "quarter"]
    assert {p.kind for p in periods} == {"month", "year"}
    for period in periods:
        deals = frames.deals_frame(periods=[period], rates=ctx.rates)
        deals = deals.sort_values("opportunity_id", kind="stable", ignore_index=True)
        recompute.forecast_recompute_period(period, ctx, deals=deals)

    # then every row is the same, to the cent and the last bit of each float
    assert_same_aggregates(aggregate_snapshot(), from_scores)


def test_a_month_without_its_quarter_in_the_run_scores_its_own_deals(demo):
    # given a run's scores, and a month whose deals lost theirs (no quarter of the run holds them)
    as_of = timezone.now()
    forecast_recompute_all(now=as_of, trials=TRIALS, with_kpis=False)
    run = RecomputeRun.objects.get()
    ctx = Context.load(now=as_of, params=run.model.params, trials=TRIALS)
    month = next(
        p
        for p in forecast_periods(today=ctx.today)
        if p.kind == "month" and ForecastRollup.objects.filter(period=p, open_deal_count__gt=0)
    )
    before = aggregate_snapshot()["ForecastRollup"]
    deals = frames.deals_frame(periods=[month], rates=ctx.rates)
    DealProbability.objects.filter(opportunity_id__in=deals["opportunity_id"].tolist()).delete()

    # when the month's rollups are rewritten from the run's scores
    recompute.forecast_recompute_period(month, ctx, scored=recompute._run_scores(month, ctx))

    # then its deals were scored here, and its rows are the run's
    assert aggregate_snapshot()["ForecastRollup"] == before


def _run_backwards_one_twice(shard_ids, *, worker, again_on):
    """Run a stage's shards last first on ``worker``, then one again on ``again_on`` (a
    redelivered message after it finished: it must send nothing); the steps of the first pass."""
    steps = [recompute.recompute_shard(shard_id=i, worker=worker) for i in reversed(shard_ids)]
    RecomputeShard.objects.filter(pk=shard_ids[1]).update(state="pending")
    assert recompute.recompute_shard(shard_id=shard_ids[1], worker=again_on) is None
    return steps


def test_the_periods_not_over_are_sent_first_within_each_stage(demo):
    # given a planned run (its shards in the order the workers take them)
    as_of = timezone.now()
    run, _sent = planned_run(as_of)
    today = timezone.localdate(as_of)

    for stage in ("scores", "rollups"):
        # when the stage's periods are listed in the order they are sent
        shard_periods = [
            Period.objects.get(pk=shard.period_ids[0])
            for shard in run.shards.filter(stage=stage).order_by("position")
        ]
        # then, within each kind, every period not over (the ones that simulate their range,
        # the longest) comes before every period that is over
        for kind in {p.kind for p in shard_periods}:
            over = [p.end_on < today for p in shard_periods if p.kind == kind]
            assert over == sorted(over), f"{stage} {kind}: {over}"
    quarters = run.shards.filter(stage="scores").order_by("position")
    first, last = (Period.objects.get(pk=s.period_ids[0]) for s in (quarters[0], quarters.last()))
    assert first.end_on >= today > last.end_on
