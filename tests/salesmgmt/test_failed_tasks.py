"""Tasks give up after a bounded number of attempts, and each give-up is recorded."""

from __future__ import annotations

import pytest
from django.db import InterfaceError, OperationalError

from csv_import import tasks as import_tasks
from salesmgmt import tasks, webhooks
from salesmgmt.celery import app
from salesmgmt.models import FailedTask

PROJECT_APPS = (
    "salesmgmt",
    "accounts",
    "territories",
    "forecasting",
    "coaching",
    "compensation",
    "csv_import",
    "demo_data",
    "benchmarks",
    "reconciliation",
)


@pytest.fixture
def worker_like(monkeypatch):
    """Eager tasks that behave like a worker's: retries run, a failure is returned, not raised.

    With eager propagation (the test default) Celery re-raises at once and sends no signal.
    """
    monkeypatch.setitem(app.conf, "task_eager_propagates", False)


def test_every_project_task_has_bounded_retries():
    app.loader.import_default_modules()
    ours = {name: task for name, task in app.tasks.items() if name.split(".")[0] in PROJECT_APPS}

    assert ours  # autodiscovery found the project's tasks
    unbounded = sorted(name for name, task in ours.items() if task.max_retries is None)
    assert unbounded == []


def test_every_project_task_runs_with_the_one_retry_policy():
    """salesmgmt.task_queue.RETRY_POLICY: no task keeps its own (drifting) copy of it."""
    app.loader.import_default_modules()
    ours = {name: task for name, task in app.tasks.items() if name.split(".")[0] in PROJECT_APPS}

    def policy(task) -> tuple:
        return (
            set(task.autoretry_for),
            task.retry_backoff,
            task.retry_backoff_max,
            task.retry_jitter,
            task.acks_late,
            task.reject_on_worker_lost,
        )

    expected = ({OperationalError, InterfaceError}, True, 600, True, True, True)
    assert {name: policy(task) for name, task in ours.items()} == dict.fromkeys(ours, expected)
    # One bound, except a webhook delivery's (its attempts are bounded by the service).
    bounds = {name: task.max_retries for name, task in ours.items()}
    assert bounds.pop("salesmgmt.tasks.deliver_webhook") == tasks.DELIVERY_MAX_RETRIES
    assert set(bounds.values()) == {8}


def test_retryable_failure_stops_after_max_retries_and_is_recorded(db, monkeypatch, worker_like):
    calls = []

    def always_down(*, delivery_id):
        calls.append(delivery_id)
        raise OperationalError("database is down")

    monkeypatch.setattr(webhooks, "attempt_delivery", always_down)

    result = tasks.deliver_webhook.apply(args=(41,))

    assert result.state == "FAILURE"

    assert len(calls) == tasks.DELIVERY_MAX_RETRIES + 1
    failure = FailedTask.objects.get()
    assert failure.task_name == "salesmgmt.tasks.deliver_webhook"
    assert failure.args == [41]
    assert failure.attempts == tasks.DELIVERY_MAX_RETRIES + 1
    assert "database is down" in failure.exception


def test_permanent_failure_is_recorded_once(db, monkeypatch, worker_like):
    def broken(*, job_id):
        raise ValueError("bad row")

    from csv_import import jobs

    monkeypatch.setattr(jobs, "run_import_job", broken)

    result = import_tasks.run_import.apply(args=(7,))

    assert result.state == "FAILURE"

    failure = FailedTask.objects.get()
    assert (failure.task_name, failure.args, failure.attempts) == (
        "salesmgmt.tasks.run_import",
        [7],
        1,
    )


def test_successful_task_records_nothing(db, monkeypatch, worker_like):
    monkeypatch.setattr(webhooks, "attempt_delivery", lambda *, delivery_id: None)

    tasks.deliver_webhook.delay(1)

    assert not FailedTask.objects.exists()


def test_failed_tasks_are_listed_read_only_in_the_admin(client, admin_user):
    failure = FailedTask.objects.create(
        task_name="salesmgmt.tasks.run_import", task_id="abc", args=[7], exception="ValueError: x"
    )
    client.force_login(admin_user)

    changelist = client.get("/admin/salesmgmt/failedtask/")
    detail = client.get(f"/admin/salesmgmt/failedtask/{failure.pk}/change/")

    assert changelist.status_code == 200
    assert "salesmgmt.tasks.run_import" in changelist.content.decode()
    assert detail.status_code == 200
    assert client.get("/admin/salesmgmt/failedtask/add/").status_code == 403
