"""`make faults`: four fault scenarios against the private stack, each PASS/FAIL with figures.

a) kill -9 the Celery worker in the middle of a full recompute, start a new one: the run
   completes and the aggregates equal those of an undisturbed run.
b) restart Redis under traffic: every request succeeds, every confirmed write is stored, and
   the forecast reflects edits made during the outage once Redis is back.
c) restart PostgreSQL (fast, then immediate shutdown; fsync on) under traffic: outage answers
   are 503 with a message (never a 500 or a traceback), service comes back by itself, every
   confirmed write is stored and no record is half-written.
d) two people save the same deal at once (page form and API with If-Match): exactly one wins,
   the other gets a clear conflict, the row holds the winner's values.

Exits non-zero if any scenario fails. ``--short`` is the CI version (shorter windows).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import requests

from scripts.ops.driver import UNSURE_EDIT, Driver, Outcome
from scripts.ops.forms import page_forms
from scripts.ops.stack import BASE_URL, BIN, Stack, log
from scripts.ops.verify import change_log_gaps, verify_writes


@dataclass
class Result:
    name: str
    passed: bool = True
    lines: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def note(self, text: str) -> None:
        self.lines.append(text)
        log(f"  {text}")

    def fail(self, text: str) -> None:
        self.passed = False
        self.note(f"FAIL: {text}")


def wait_for(condition, timeout: float, interval: float = 0.5):
    """Poll ``condition`` until it returns something truthy; None on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    return None


def send_task(stack: Stack, name: str) -> None:
    stack.run(str(BIN / "celery"), "-A", "salesmgmt", "call", name, timeout=120)


# --- a) kill -9 the worker mid full recompute ----------------------------------------------

AGGREGATES = {
    "rollups": """SELECT scope, count(*), count(DISTINCT (person_id, period_id)),
        sum(pipeline_amount), sum(best_case_amount), sum(commit_amount), sum(closed_amount),
        sum(cumulative_commit_amount), sum(weighted_amount), sum(open_deal_count),
        sum(expected_new_amount), sum(p10_amount), sum(p50_amount), sum(p90_amount)
        FROM forecasting_forecastrollup GROUP BY scope ORDER BY scope""",
    "deal probabilities": """SELECT count(*), count(DISTINCT (opportunity_id, period_id)),
        sum(amount), round(sum(probability)::numeric, 6), sum(milestones_done)
        FROM forecasting_dealprobability""",
    "trial vectors": """SELECT count(*), count(DISTINCT (person_id, period_id)),
        md5(string_agg(md5(trials), ',' ORDER BY person_id, period_id))
        FROM forecasting_trialvector""",
    "kpis": """SELECT scope, count(*), count(DISTINCT (person_id, period_id)), sum(won_count),
        sum(lost_count), sum(won_amount), sum(lost_amount), sum(pipeline_amount)
        FROM forecasting_kpisnapshot GROUP BY scope ORDER BY scope""",
    "calibration buckets": "SELECT count(*) FROM forecasting_calibrationbucket",
}


def aggregate_snapshot(stack: Stack) -> dict[str, str]:
    return {name: repr(stack.query(sql)) for name, sql in AGGREGATES.items()}


def _run_row(stack: Stack, after_id: int):
    rows = stack.query(
        "SELECT id, status, phase FROM forecasting_recomputerun WHERE id > %s ORDER BY id",
        [after_id],
    )
    return rows[-1] if rows else None


def _last_run_id(stack: Stack) -> int:
    return stack.query("SELECT coalesce(max(id), 0) FROM forecasting_recomputerun")[0][0]


def scenario_worker_kill(stack: Stack, *, timeout: float) -> Result:
    result = Result("a) kill -9 the Celery worker mid full recompute")
    # The undisturbed run, through the same task and worker.
    before_id = _last_run_id(stack)
    mark = time.monotonic()
    send_task(stack, "forecasting.tasks.recompute_all_forecasts")
    done = wait_for(lambda: (r := _run_row(stack, before_id)) and r[1] == "done" and r, timeout)
    if not done:
        result.fail(f"the undisturbed full recompute did not finish within {timeout:.0f} s")
        return result
    undisturbed = time.monotonic() - mark
    result.note(f"undisturbed full recompute: {undisturbed:.1f} s (run {done[0]})")
    expected = aggregate_snapshot(stack)

    before_id = _last_run_id(stack)
    send_task(stack, "forecasting.tasks.recompute_all_forecasts")
    # Mid-run: past the model fit, in the per-period rollups (the longest phase).
    running = wait_for(
        lambda: (r := _run_row(stack, before_id)) and r[2].startswith(("rollups", "kpis")) and r,
        timeout,
        interval=0.05,
    )
    if not running or running[1] != "running":
        result.fail(f"could not catch the recompute mid-run (last state {running})")
        return result
    stack.kill_worker()
    killed_at = time.monotonic()
    result.note(f"killed the worker (-9, whole group) in run {running[0]} phase {running[2]!r}")
    stack.start_worker()
    result.note(f"new worker ready {time.monotonic() - killed_at:.1f} s after the kill")
    finished = wait_for(
        lambda: (r := _run_row(stack, before_id)) and r[1] == "done" and r, timeout, interval=1
    )
    if not finished:
        state = stack.query(
            "SELECT id, status, phase, attempts, heartbeat_at FROM forecasting_recomputerun "
            "WHERE id > %s ORDER BY id",
            [before_id],
        )
        result.fail(
            f"the killed recompute did not complete within {timeout:.0f} s of the kill "
            f"(runs since: {state})"
        )
        return result
    result.note(f"recompute completed {time.monotonic() - killed_at:.1f} s after the kill")
    runs = stack.query(
        "SELECT id, status, attempts FROM forecasting_recomputerun WHERE id > %s ORDER BY id",
        [before_id],
    )
    result.note(f"runs since the trigger: {runs}")
    if [r[1] for r in runs] != ["done"]:
        result.fail(f"expected exactly one run, done: {runs}")
    actual = aggregate_snapshot(stack)
    for name in AGGREGATES:
        if actual[name] != expected[name]:
            result.fail(
                f"{name} differ:\n    undisturbed {expected[name]}\n    after kill  {actual[name]}"
            )
        else:
            result.note(f"{name}: identical to the undisturbed run")
    return result


# --- d) concurrent edits -------------------------------------------------------------------


def _race(calls) -> list:
    """Run the callables at the same instant (a barrier), return their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        results[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def scenario_concurrent_edit(stack: Stack, *, rounds: int) -> Result:
    result = Result("d) two people save the same opportunity at once")
    plan = stack.plan()
    driver = Driver(plan)
    rep = plan["reps"][0]
    manager, deals = (
        stack.query(
            "SELECT m.username FROM salesmgmt_user r JOIN salesmgmt_user m ON m.id = r.manager_id "
            "WHERE r.username = %s",
            [rep],
        )[0][0],
        [
            row[0]
            for row in stack.query(
                "SELECT o.id FROM accounts_opportunity o "
                "JOIN salesmgmt_user u ON u.id = o.owner_id WHERE u.username = %s "
                "AND o.status = 'open' ORDER BY o.id LIMIT %s",
                [rep, rounds * 2],
            )
        ],
    )
    people = {rep: driver.login(rep), manager: driver.login(manager)}
    outcomes = Counter()
    for round_no in range(rounds):
        pk = deals[round_no % len(deals)]
        edit = f"/opportunities/{pk}/edit/"
        forms = {}
        for name, session in people.items():
            page = session.get(f"{BASE_URL}/opportunities/{pk}/", timeout=30)
            form = next(f for f in page_forms(page.text) if f.action == edit)
            forms[name] = form
        amounts = {rep: f"{111000 + round_no}.00", manager: f"{222000 + round_no}.00"}
        changes_before = stack.query(
            "SELECT count(*) FROM accounts_opportunitychange WHERE opportunity_id = %s "
            "AND field = 'amount'",
            [pk],
        )[0][0]

        def submit(name: str, pk: int = pk, edit: str = edit, forms=forms, amounts=amounts):
            session = people[name]
            data = {
                **forms[name].fields,
                "amount": amounts[name],
                "csrfmiddlewaretoken": session.cookies.get("csrftoken", ""),
            }
            return session.post(f"{BASE_URL}{edit}", data=data, allow_redirects=False, timeout=30)

        names = list(people)
        responses = _race([lambda n=n: submit(n) for n in names])
        statuses = {n: r.status_code for n, r in zip(names, responses, strict=True)}
        winners = [n for n in names if statuses[n] == 302]
        losers = [n for n in names if statuses[n] != 302]
        amount = stack.query("SELECT amount::text FROM accounts_opportunity WHERE id = %s", [pk])
        amount = amount[0][0]
        changes_after = stack.query(
            "SELECT count(*) FROM accounts_opportunitychange WHERE opportunity_id = %s "
            "AND field = 'amount'",
            [pk],
        )[0][0]
        outcomes[tuple(sorted(statuses.values()))] += 1
        if len(winners) != 1 or statuses[losers[0]] != 409:
            result.fail(f"page race on deal {pk}: statuses {statuses} (want one 302, one 409)")
            continue
        body = responses[names.index(losers[0])].text
        if "changed by someone else" not in body:
            result.fail(f"page race on deal {pk}: the 409 page has no conflict message")
        if amount != amounts[winners[0]]:
            result.fail(
                f"page race on deal {pk}: stored {amount}, winner sent {amounts[winners[0]]}"
            )
        if changes_after - changes_before != 1:
            result.fail(
                f"page race on deal {pk}: {changes_after - changes_before} amount changes logged"
            )
    result.note(f"page form, {rounds} races: statuses {dict(outcomes)}")

    # The API: the same race with If-Match on the ETag both clients read.
    api = Counter()
    tokens = plan["tokens"][:2]
    for round_no in range(rounds):
        pk = deals[(round_no + rounds) % len(deals)]
        url = f"{BASE_URL}/api/v1/opportunities/{pk}/"
        heads = [{"Authorization": f"Token {t}"} for t in tokens]
        etags = [requests.get(url, headers=h, timeout=30).headers.get("ETag") for h in heads]
        amounts = [f"{333000 + round_no}.00", f"{444000 + round_no}.00"]
        responses = _race(
            [
                lambda i=i, url=url, amounts=amounts, heads=heads, etags=etags: requests.patch(
                    url,
                    json={"amount": amounts[i]},
                    headers={**heads[i], "If-Match": etags[i]},
                    timeout=30,
                )
                for i in range(2)
            ]
        )
        statuses = [r.status_code for r in responses]
        api[tuple(sorted(statuses))] += 1
        stored = stack.query("SELECT amount::text FROM accounts_opportunity WHERE id = %s", [pk])
        if sorted(statuses) != [200, 412]:
            result.fail(f"API race on deal {pk}: statuses {statuses} (want one 200, one 412)")
            continue
        winner = statuses.index(200)
        loser = responses[1 - winner]
        detail = (
            loser.json().get("detail", "")
            if "json" in loser.headers.get("Content-Type", "")
            else ""
        )
        if not detail:
            result.fail(f"API race on deal {pk}: the 412 has no message: {loser.text[:200]}")
        if stored[0][0] != amounts[winner]:
            result.fail(
                f"API race on deal {pk}: stored {stored[0][0]}, winner sent {amounts[winner]}"
            )
    result.note(f"API with If-Match, {rounds} races: statuses {dict(api)}")
    return result


# --- b) and c) outages under traffic -----------------------------------------------------------


def _is_clean_503(outcome: Outcome) -> bool:
    """A 503 that says what happened, without a stack trace (JSON for the API)."""
    body = outcome.body
    if outcome.status != 503 or not body.strip():
        return False
    if "Traceback" in body or 'File "/' in body:
        return False
    if " api " in f" {outcome.kind} ":
        try:
            return bool(json.loads(body).get("detail"))
        except (ValueError, AttributeError):
            return False
    return "text/html" in outcome.content_type


def _visible_text(html: str) -> str:
    """The words of an HTML page (for showing what a person would read)."""
    body = re.sub(r"(?is)<(script|style|head)\b.*?</\1>", " ", html)
    return " ".join(re.sub(r"<[^>]+>", " ", body).split())


def _summarise(outcomes: list[Outcome]) -> str:
    counts = Counter(o.status for o in outcomes)
    return ", ".join(f"{status or 'no response'}: {n}" for status, n in sorted(counts.items()))


def _check_writes(stack: Stack, driver: Driver, result: Result) -> None:
    check = verify_writes(stack, driver.writes)
    result.note(f"confirmed writes in the database: {check.summary()}")
    if not check.ok:
        lost = {kind: markers[:3] for kind, markers in check.missing.items() if markers}
        twice = {kind: markers[:3] for kind, markers in check.duplicated.items() if markers}
        result.fail(f"confirmed writes missing {lost} or duplicated {twice} (first 3 of each)")


# Rollups still to refresh (salesmgmt.refresh: marks of the "rollups" kind, pending or in flight).
STALE_ROLLUPS_SQL = "SELECT count(*) FROM salesmgmt_stalemark WHERE kind = 'rollups'"


def scenario_redis_restart(stack: Stack, *, warm: float, outage: float, after: float) -> Result:
    result = Result("b) restart Redis under traffic")
    driver = Driver(stack.plan())
    driver.start()
    try:
        time.sleep(warm)
        down_at = time.monotonic()
        stack.stop_redis()
        result.note("Redis stopped (SIGTERM; append-only file kept)")
        time.sleep(outage)
        stack.start_redis()
        up_at = time.monotonic()
        result.note(f"Redis started again after {up_at - down_at:.1f} s")
        edits_during = {pk: d for pk, d in driver.deals.items() if down_at <= d["at"] < up_at}
        time.sleep(after)
    finally:
        driver.finish()
    during = driver.between(down_at, up_at)
    result.note(f"requests during the outage: {len(during)} ({_summarise(during)})")
    result.note(f"all requests: {len(driver.outcomes)} ({_summarise(driver.outcomes)})")
    bad = [o for o in driver.outcomes if not o.ok]
    if not during:
        result.fail("no request was made during the outage")
    if bad:
        sample = "; ".join(f"{o.kind} {o.status} {o.error or o.body[:120]!r}" for o in bad[:5])
        result.fail(f"{len(bad)} requests failed: {sample}")
    _check_writes(stack, driver, result)
    for name in ("worker", "beat", "gunicorn"):
        if stack.procs[name].poll() is not None:
            crash = [
                line
                for line in stack.worker_log().splitlines()
                if "Unrecoverable error" in line or "CRITICAL" in line
            ]
            result.fail(f"{name} exited during the Redis restart: {crash[-1:]}")
            # Then as compose's `restart: unless-stopped` would: start it again, to see
            # whether anything was lost beyond the crash itself.
            getattr(stack, f"start_{'web' if name == 'gunicorn' else name}")()
            result.note(f"{name} started again (as a supervisor would) to check for losses")
    # The forecast catches up: deals edited during the outage carry their new amount in the
    # deal probabilities once the rollups' batches (sent on commit, or by the sweep) ran.
    result.note(f"deals edited during the outage: {len(edits_during)}")
    if not edits_during:
        result.fail("no deal was edited during the outage (nothing to check the forecast with)")
        return result
    latest = {pk: driver.deals[pk]["amount"] for pk in edits_during}
    mark = time.monotonic()

    def caught_up():
        rows = dict(
            stack.query(
                "SELECT opportunity_id, amount::text FROM forecasting_dealprobability "
                "WHERE opportunity_id = ANY(%s)",
                [list(latest)],
            )
        )
        pending = stack.query(STALE_ROLLUPS_SQL)[0][0]
        return not pending and all(rows.get(pk) == amount for pk, amount in latest.items())

    if wait_for(caught_up, 180, interval=2):
        result.note(
            f"forecast reflects every outage edit, no stale rollup mark left, "
            f"{time.monotonic() - mark:.0f} s after the traffic stopped"
        )
    else:
        pending = stack.query(STALE_ROLLUPS_SQL)[0][0]
        result.fail(
            f"forecast still misses outage edits after 180 s ({pending} stale rollup marks left)"
        )
    return result


def scenario_postgres_restart(
    stack: Stack, *, warm: float, outage: float, between: float, after: float
) -> Result:
    result = Result("c) restart PostgreSQL under traffic (fast, then immediate)")
    driver = Driver(stack.plan())
    driver.start()
    windows = []
    try:
        time.sleep(warm)
        for mode in ("fast", "immediate"):
            down_at = time.monotonic()
            stack.stop_postgres(mode)
            result.note(f"PostgreSQL stopped -m {mode}")
            time.sleep(outage)
            stack.start_postgres()
            up_at = time.monotonic()
            result.note(f"PostgreSQL started again after {up_at - down_at:.1f} s")
            windows.append((mode, down_at, up_at))
            time.sleep(between if mode == "fast" else after)
    finally:
        driver.finish()
    result.note(f"all requests: {len(driver.outcomes)} ({_summarise(driver.outcomes)})")
    # A 412 to an edit sent after an unclear answer is optimistic locking doing its job.
    expected_412 = [o for o in driver.outcomes if o.status == 412 and o.kind == UNSURE_EDIT]
    if expected_412:
        result.note(
            f"{len(expected_412)} conditional edits got 412 after an edit of the same deal was "
            "answered 503 yet committed; the client re-read the deal and went on"
        )
    unclean = [
        o for o in driver.outcomes if not o.ok and not _is_clean_503(o) and o not in expected_412
    ]
    if unclean:
        sample = "; ".join(f"{o.kind} {o.status} {o.error or o.body[:160]!r}" for o in unclean[:4])
        result.fail(f"{len(unclean)} failures were not a clean 503: {sample}")
    for kind in ("api", "page"):
        clean = [o for o in driver.outcomes if _is_clean_503(o) and o.kind.startswith(kind)]
        if clean:
            text = clean[0].body if kind == "api" else _visible_text(clean[0].body)
            result.note(f"a {kind} 503 says ({clean[0].content_type}): {text[:150]!r}")
    for mode, down_at, up_at in windows:
        during = driver.between(down_at, up_at)
        result.note(f"-m {mode}: {len(during)} requests during the outage ({_summarise(during)})")
        later = driver.between(up_at, float("inf"))
        first_ok = next((o for o in later if o.ok), None)
        if first_ok is None:
            result.fail(f"-m {mode}: no request succeeded after the restart")
            continue
        result.note(f"-m {mode}: first success {first_ok.at - up_at:.1f} s after the restart")
        # Recovered by itself: after a short grace, everything succeeds again.
        settled = [
            o for o in later if o.at > up_at + 10 and (mode == "immediate" or o.at < windows[1][1])
        ]
        failed = [o for o in settled if not o.ok and o not in expected_412]
        if failed:
            result.fail(f"-m {mode}: {len(failed)} failures more than 10 s after the restart")
    if not any(not o.ok for o in driver.outcomes):
        result.note("no request failed at all (the outage was between requests)")
    _check_writes(stack, driver, result)
    gaps = change_log_gaps(stack)
    orphans = stack.query(
        "SELECT count(*) FROM accounts_opportunity o WHERE NOT EXISTS "
        "(SELECT 1 FROM accounts_opportunitychange c WHERE c.opportunity_id = o.id)"
    )[0][0]
    result.note(
        f"half-written deals: {gaps} amount/change-log mismatches, {orphans} without history"
    )
    if gaps or orphans:
        result.fail("half-written records found")
    for name in ("worker", "beat", "gunicorn"):
        if stack.procs[name].poll() is not None:
            result.fail(f"{name} exited during the PostgreSQL restarts")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="the CI version")
    parser.add_argument("--reps", type=int, default=None)
    parser.add_argument("--opportunities", type=int, default=None)
    parser.add_argument("--only", default="abcd", help="scenarios to run, e.g. 'ad' (default: all)")
    parser.add_argument(
        "--no-replica", action="store_true", help="every read on the primary (no replica)"
    )
    args = parser.parse_args(argv)
    short = args.short
    reps = args.reps or (30 if short else 60)
    opportunities = args.opportunities or (1500 if short else 4000)

    stack = Stack(reps=reps, opportunities=opportunities, replica=not args.no_replica)
    if short:
        # CI compresses time: a killed run counts as abandoned after 15 s, not a minute.
        stack.env["FORECASTING_RUN_STALE_SECONDS"] = "15"
    results: list[Result] = []
    try:
        stack.start()
        scenarios = {
            # Nothing sends the killed run again but the app itself (the new worker's start-up
            # hook, else beat's reconciler every 5 minutes): the timeout allows for both.
            "a": lambda: scenario_worker_kill(stack, timeout=180 if short else 480),
            "d": lambda: scenario_concurrent_edit(stack, rounds=3 if short else 10),
            "b": lambda: scenario_redis_restart(
                stack, warm=5 if short else 15, outage=6 if short else 15, after=10 if short else 30
            ),
            "c": lambda: scenario_postgres_restart(
                stack,
                warm=5 if short else 15,
                outage=4 if short else 10,
                between=12 if short else 20,
                after=15 if short else 30,
            ),
        }
        for key in "adbc":
            if key not in args.only:
                continue
            mark = time.monotonic()
            log(f"Scenario {key}")
            try:
                result = scenarios[key]()
            except Exception as error:  # a scenario that crashed is a failed scenario
                result = Result(f"{key}) crashed")
                result.fail(f"{type(error).__name__}: {error}")
            result.seconds = time.monotonic() - mark
            results.append(result)
    finally:
        ok = bool(results) and all(r.passed for r in results)
        print()
        for result in results:
            verdict = "PASS" if result.passed else "FAIL"
            print(f"{verdict}  {result.name}  ({result.seconds:.0f} s)")
            for line in result.lines:
                print(f"        {line}")
        print("FAULTS " + ("PASS" if ok else "FAIL"))
        stack.keep = stack.keep or not ok
        stack.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
