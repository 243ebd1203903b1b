"""Embedded mode (no Redis, tasks eager): an import runs in a background thread, so the upload
answers at once and its progress is polled as with a worker."""

from __future__ import annotations

import threading

import pytest
from django.db import OperationalError

from accounts.models import Account
from csv_import import apply, jobs, tasks

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_upload_answers_while_its_import_still_runs(
    rep_a, api_client_for, settings, monkeypatch
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.IMPORT_IN_BACKGROUND = True
    started, release = threading.Event(), threading.Event()
    real_apply = apply.apply
    runners = []

    def held_apply(**kwargs):
        runners.append(threading.current_thread().name)
        started.set()
        assert release.wait(30), "the test never released the import"
        return real_apply(**kwargs)

    monkeypatch.setattr(apply, "apply", held_apply)
    client = api_client_for(rep_a)

    response = client.post(
        "/api/v1/imports/",
        {"kind": "accounts", "content": "name\nBackground Co\n", "dry_run": False},
        format="json",
    )

    # the request has returned while the import is held mid-run in its own thread
    assert response.status_code == 202, response.content
    job_id = response.json()["id"]
    assert started.wait(30)
    assert client.get(f"/api/v1/imports/{job_id}/").json()["status"] == "running"
    [thread] = [t for t in threading.enumerate() if t.name == f"import-job-{job_id}"]
    release.set()
    thread.join(30)

    job = client.get(f"/api/v1/imports/{job_id}/").json()
    assert (job["status"], job["rows_done"], job["rows_total"]) == ("succeeded", 1, 1)
    assert runners == [f"import-job-{job_id}"]
    assert Account.objects.filter(name="Background Co", owner=rep_a).exists()


def test_a_background_import_stopped_by_a_locked_table_runs_again(
    rep_a, api_client_for, settings, monkeypatch
):
    # SQLite: the request that queued the job may still be reading its row when the thread
    # writes it ("database table is locked"); eager retries run at once, the thread waits.
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.IMPORT_IN_BACKGROUND = True
    monkeypatch.setattr(jobs, "THREAD_RETRY_DELAYS", (0.01, 0.01))
    real_run_locked = jobs._run_locked
    attempts = []

    def locked_once(job):
        attempts.append(job.pk)
        if len(attempts) == 1:
            raise OperationalError("database table is locked: salesmgmt_importjob")
        return real_run_locked(job)

    monkeypatch.setattr(jobs, "_run_locked", locked_once)
    monkeypatch.setattr(tasks.run_import, "max_retries", 0)  # the task gives up at once
    client = api_client_for(rep_a)

    response = client.post(
        "/api/v1/imports/",
        {"kind": "accounts", "content": "name\nLocked Co\n", "dry_run": False},
        format="json",
    )
    job_id = response.json()["id"]
    for thread in [t for t in threading.enumerate() if t.name == f"import-job-{job_id}"]:
        thread.join(30)

    assert len(attempts) >= 2
    assert client.get(f"/api/v1/imports/{job_id}/").json()["status"] == "succeeded"
    assert Account.objects.filter(name="Locked Co", owner=rep_a).exists()
