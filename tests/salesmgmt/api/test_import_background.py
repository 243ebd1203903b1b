"""Embedded mode (no Redis, tasks eager): an import runs in a background thread, so the upload
answers at once and its progress is polled as with a worker."""

from __future__ import annotations

import threading

import pytest

from accounts.models import Account
from salesmgmt.csv_import import apply

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
