"""Redis down: the cache fails open and tasks sent from requests wait for their sweep.

The broker is "down" by mocking the publish to raise what kombu raises; the cache is down by
pointing it at a closed port (connection refused), so no Redis is needed here.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from decimal import Decimal
from unittest import mock

import pytest
from celery import Celery
from django.core.cache import cache
from django.db import OperationalError, connection
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerDown

from accounts.models import Account
from compensation.tasks import run_payouts
from csv_import import jobs
from csv_import import tasks as import_tasks
from forecasting.aggregate_kinds import KPIS, ROLLUPS
from salesmgmt import refresh
from salesmgmt import tasks as core_tasks
from salesmgmt.fail_open_cache import FailOpenRedisCache
from salesmgmt.models import ImportJob, Period, Role, StaleMark
from salesmgmt.services import periods_ensure
from salesmgmt.task_queue import enqueue
from tests.factories import OpportunityFactory, UserFactory
from tests.fixtures.services import require_postgresql

pytestmark = pytest.mark.django_db

CLOSED_PORT = "redis://127.0.0.1:1/0"  # nothing listens on port 1: refused at once


@pytest.fixture
def redis_down(settings):
    """The default cache is a fail-open Redis cache whose server is unreachable."""
    settings.CACHES = {
        "default": {
            "BACKEND": "salesmgmt.fail_open_cache.FailOpenRedisCache",
            "LOCATION": CLOSED_PORT,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    return cache


def broker_down(task):
    """The task's publish fails the way kombu fails when Redis refuses the connection."""
    error = BrokerDown("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
    return mock.patch.object(task, "apply_async", side_effect=error)


# --- the cache ---------------------------------------------------------------------------------


def test_unreachable_cache_fails_open_quickly(caplog):
    backend = FailOpenRedisCache(CLOSED_PORT, {"OPTIONS": {"socket_connect_timeout": 1}})
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="salesmgmt.fail_open_cache"):
        assert backend.get("k", "fallback") == "fallback"
        backend.set("k", 1)
        assert backend.add("k", 0) is False
        assert backend.incr("k", 3) == 3
        assert backend.get_many(["a", "b"]) == {}
        backend.delete_many(["a"])

    assert time.monotonic() - started < 3
    assert "failed open" in caplog.text


def test_login_works_while_the_cache_is_down(client, rep_a, redis_down):
    rep_a.set_password("pw-rep-a-1")
    rep_a.save()

    wrong = client.post(reverse("login"), {"username": rep_a.username, "password": "nope"})
    right = client.post(reverse("login"), {"username": rep_a.username, "password": "pw-rep-a-1"})

    # a failed login is refused as usual (not counted: the documented trade-off), not a 500
    assert wrong.status_code == 200
    assert right.status_code == 302


def test_throttled_api_works_while_the_cache_is_down(api_client_for, rep_a, redis_down):
    response = api_client_for(rep_a).get("/api/v1/accounts/")

    assert response.status_code == 200


# --- the broker --------------------------------------------------------------------------------


def test_enqueue_reports_an_unreachable_broker_within_seconds(settings):
    # given our Celery publish settings, and a broker nobody listens on
    app = Celery("probe", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.update(broker_url=CLOSED_PORT, task_always_eager=False)

    @app.task(name="probe")
    def probe() -> None: ...

    started = time.monotonic()
    assert enqueue(probe) is False
    # the short connect timeout and retry policy bound the wait of the request
    assert time.monotonic() - started < 5


def test_import_created_while_broker_down_is_sent_by_the_sweep(
    api_client_for,
    rep_a,
    django_capture_on_commit_callbacks,
):
    # given the broker refusing connections when the import is uploaded
    client = api_client_for(rep_a)
    with broker_down(import_tasks.run_import), django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/imports/",
            {"kind": "accounts", "content": "name,industry\nAcme,Energy\n", "dry_run": False},
            format="json",
        )

    # then the upload still succeeds and the job waits, pending
    assert response.status_code == 202, response.content
    job = ImportJob.objects.get(pk=response.json()["id"])
    assert job.status == ImportJob.Status.PENDING
    # and the sweep leaves it alone while the message may still be on its way
    assert jobs.enqueue_stalled_jobs() == 0

    # when the broker is back and the sweep runs a few minutes later
    later = timezone.now() + jobs.STALLED_AFTER + dt.timedelta(seconds=1)
    assert jobs.enqueue_stalled_jobs(now=later) == 1

    # then the job ran (in-process here) and the row was imported once
    job.refresh_from_db()
    assert job.status == ImportJob.Status.SUCCEEDED
    assert job.summary["created"] == 1
    # and a second send of the same job (sweep and late message both) changes nothing
    import_tasks.run_import.delay(job.pk)
    job.refresh_from_db()
    assert job.summary["created"] == 1


def test_import_held_by_a_live_runner_is_not_run_twice(rep_a):
    require_postgresql(
        "needs DATABASE_URL pointing at PostgreSQL (runner locks are advisory locks)"
    )
    # given a job whose runner (another worker, another connection) is applying it right now
    job = ImportJob.objects.create(
        kind="accounts", created_by=rep_a, content="name\nAcme\n", dry_run=False
    )
    holding, done = threading.Event(), threading.Event()

    def runner() -> None:
        try:
            assert jobs._lock_job(job.pk)
            holding.set()
            done.wait(timeout=30)
            jobs._unlock_job(job.pk)
        finally:
            connection.close()

    thread = threading.Thread(target=runner)
    thread.start()
    try:
        assert holding.wait(timeout=10)
        # when the sweep's copy of the task arrives meanwhile, it leaves the job alone
        jobs.run_import_job(job_id=job.pk)
        job.refresh_from_db()
        assert job.status == ImportJob.Status.PENDING
    finally:
        done.set()
        thread.join(timeout=10)
    # and once that runner is gone, the next copy runs it
    jobs.run_import_job(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.summary["created"]) == (ImportJob.Status.SUCCEEDED, 1)


def test_running_import_whose_worker_died_is_run_by_the_next_copy(rep_a):
    # given a job left running by a worker killed mid-way (its transaction rolled back)
    job = ImportJob.objects.create(
        kind="accounts", created_by=rep_a, content="name\nAcme\n", dry_run=False
    )
    long_ago = timezone.now() - jobs.RUNNING_STALE_AFTER - dt.timedelta(minutes=1)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING, started_at=long_ago)

    # when the sweep sends it again, it runs once, from the start
    assert jobs.enqueue_stalled_jobs() == 1
    job.refresh_from_db()
    assert (job.status, job.summary["created"]) == (ImportJob.Status.SUCCEEDED, 1)


def test_deal_edit_while_broker_down_is_recomputed_by_the_sweep(
    api_client_for,
    rep_a,
    process,
    django_capture_on_commit_callbacks,
):
    # given a rep's deal this quarter
    today = timezone.localdate()
    periods_ensure(year=today.year)
    deal = OpportunityFactory(owner=rep_a, process=process, expected_close_on=today)
    client = api_client_for(rep_a)

    # when the rep edits it while the broker is down
    with (
        broker_down(core_tasks.refresh_aggregate),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.patch(f"/api/v1/opportunities/{deal.pk}/", {"amount": "4321.00"})

    # then the edit is saved and the rollup it marked stale is recorded, pending
    assert response.status_code == 200, response.content
    deal.refresh_from_db()
    assert deal.amount == Decimal("4321.00")
    pending = StaleMark.objects.filter(kind=ROLLUPS, person_key=rep_a.pk, started_at=None)
    assert pending.exists()

    # when the sweep runs (beat, broker back), the rollups are refreshed, and the KPI marks
    # their batch left (sent on commit: here, at the sweep after) too
    core_tasks.refresh_sweep.delay()
    assert not StaleMark.objects.filter(kind=ROLLUPS).exists()
    core_tasks.refresh_sweep.delay()
    assert not StaleMark.objects.filter(kind__in=[ROLLUPS, KPIS]).exists()


def test_payout_compute_click_while_broker_down_does_not_fail(client):
    executive = UserFactory(role=Role.EXECUTIVE)
    periods_ensure(year=timezone.localdate().year)
    period = Period.objects.filter(kind="quarter").first()
    client.force_login(executive)

    with broker_down(run_payouts):
        response = client.post(reverse("compensation:run_compute"), {"period": period.pk})

    assert response.status_code == 302


def test_a_rollup_batch_finishes_when_the_broker_drops_its_follow_up(
    rep_a, process, django_capture_on_commit_callbacks
):
    # given pending rollup marks (a quota, say) of a rep with a deal this quarter
    today = timezone.localdate()
    periods_ensure(year=today.year)
    OpportunityFactory(owner=rep_a, process=process, expected_close_on=today)
    quarter = Period.objects.get(kind="quarter", start_on__lte=today, end_on__gte=today)
    refresh.mark_stale(kind=ROLLUPS, keys=[(rep_a.pk, quarter.pk)])

    # when the batch runs and the broker refuses the KPI task it sends
    with (
        broker_down(core_tasks.refresh_aggregate),
        django_capture_on_commit_callbacks(execute=True),
    ):
        core_tasks.refresh_aggregate(ROLLUPS)

    # then the batch finished anyway: nothing is left claimed (which would block every later
    # batch for ten minutes), and the KPI marks wait for the sweep
    assert not StaleMark.objects.filter(kind=ROLLUPS).exists()
    assert StaleMark.objects.filter(kind=KPIS, person_key=rep_a.pk, started_at=None).exists()


def test_import_rows_and_outcome_commit_together(rep_a):
    # given the database connection lost right after the rows were written, before the job
    # was marked finished
    job = ImportJob.objects.create(
        kind="accounts", created_by=rep_a, content="name\nAcme\n", dry_run=False
    )
    real_finish = jobs._finish
    calls = []

    def lost_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real_finish(*args, **kwargs)

    with mock.patch.object(jobs, "_finish", lost_once):
        with pytest.raises(OperationalError):
            jobs.run_import_job(job_id=job.pk)
        # then nothing of that attempt stayed, and the task's retry imports the row once
        assert not Account.objects.filter(name="Acme").exists()
        jobs.run_import_job(job_id=job.pk)

    assert Account.objects.filter(name="Acme").count() == 1
    job.refresh_from_db()
    assert job.status == ImportJob.Status.SUCCEEDED
