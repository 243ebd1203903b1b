"""Fixtures for tests against real services: a Celery worker process over Redis.

The worker is a separate process, so it only sees committed rows: tests that use it are
marked ``@pytest.mark.django_db(transaction=True)``. It connects to pytest's test database
and listens on a queue of its own, so parallel runs and a developer's worker never mix.

Without REDIS_URL or a PostgreSQL DATABASE_URL these tests skip; with
SALESMGMT_REQUIRE_SERVICES=1 (set by .ci/run) they fail instead, so CI cannot pass by skipping.
"""

from __future__ import annotations

import collections
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import quote

import pytest
import redis
from django.conf import settings
from django.db import connection

from salesmgmt.celery import app as celery_app

WORKER_START_TIMEOUT = 120  # seconds; about 3 s when idle, much more on a loaded CI machine
WORKER_STOP_TIMEOUT = 20
POLL_TIMEOUT = 30


def skip_or_fail(reason: str) -> None:
    """Skip when a service is missing, unless the environment requires services (CI)."""
    if os.environ.get("SALESMGMT_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (SALESMGMT_REQUIRE_SERVICES=1, so this is an error)", pytrace=False)
    pytest.skip(reason)


def database_url_for_test_db() -> str:
    """A DATABASE_URL for the database pytest created, which the worker process must use."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    # An empty HOST means the local socket; django-environ reads a %2F-encoded socket path.
    host = quote(db["HOST"] or "/var/run/postgresql", safe="")
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{credentials}@{host}{port}/{quote(db['NAME'], safe='')}"


@dataclass
class CeleryWorker:
    queue: str
    process: subprocess.Popen
    output: collections.deque = field(default_factory=lambda: collections.deque(maxlen=200))
    ready: threading.Event = field(default_factory=threading.Event)

    def read_output(self) -> None:
        """Keep the worker's recent log lines (for failure messages) and notice 'ready'."""
        for line in self.process.stdout:
            self.output.append(line.rstrip())
            if line.rstrip().endswith(" ready."):
                self.ready.set()

    def tail(self, lines: int = 40) -> str:
        return "\n".join(list(self.output)[-lines:])

    def stop(self) -> None:
        """Warm shutdown (finish the current task), then kill if it hangs."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=WORKER_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def require_worker_services() -> redis.Redis:
    """Redis and PostgreSQL, or skip (fail on CI); returns a client of the broker."""
    if not settings.REDIS_URL:
        skip_or_fail("needs REDIS_URL (a Redis broker) for a real Celery worker")
    if connection.vendor != "postgresql":
        skip_or_fail(
            "needs DATABASE_URL pointing at PostgreSQL (a worker process cannot "
            f"share the {connection.vendor} test database)"
        )
    broker = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=3)
    try:
        broker.ping()
    except redis.RedisError as error:
        skip_or_fail(f"Redis at REDIS_URL does not answer: {error}")
    return broker


def start_celery_worker(queue: str, extra_env: dict[str, str] | None = None) -> CeleryWorker:
    """A solo-pool worker on ``queue`` against the test database, once it says "ready"."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "salesmgmt.settings.test",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "DATABASE_URL": database_url_for_test_db(),
        # REDIS_URL and PYTEST_XDIST_WORKER come from os.environ unchanged: the test settings
        # derive this xdist worker's Redis database from both, in the worker process as here.
        "CELERY_QUEUE": queue,
        "PYTHONUNBUFFERED": "1",
        **(extra_env or {}),
    }
    command = [
        sys.executable, "-m", "celery", "-A", "salesmgmt", "worker",
        "--pool=solo", "--concurrency=1", "-Q", queue, "-n", f"{queue}-{uuid.uuid4().hex[:6]}@%h",
        "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip
    process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
        command,
        cwd=settings.BASE_DIR,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    worker = CeleryWorker(queue=queue, process=process)
    threading.Thread(target=worker.read_output, daemon=True).start()
    deadline = time.monotonic() + WORKER_START_TIMEOUT
    while not worker.ready.wait(timeout=0.2):
        if process.poll() is not None:
            pytest.fail(f"Celery worker exited with {process.returncode}:\n{worker.tail()}")
        if time.monotonic() > deadline:
            worker.stop()
            pytest.fail(f"Celery worker not ready after {WORKER_START_TIMEOUT}s:\n{worker.tail()}")
    return worker


def delete_queue(broker: redis.Redis, queue: str) -> None:
    """The queue and its binding are a test's alone; leave the broker as we found it."""
    broker.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")


@pytest.fixture(scope="session")
def celery_worker_session(django_db_setup) -> Iterator[CeleryWorker]:
    """One real worker for the whole session, started on first use (after the test DB exists)."""
    broker = require_worker_services()
    queue = f"test-{uuid.uuid4().hex[:12]}"
    worker = start_celery_worker(queue)
    try:
        yield worker
    finally:
        worker.stop()
        delete_queue(broker, queue)


@pytest.fixture
def celery_worker_process(celery_worker_session: CeleryWorker) -> Iterator[str]:
    """The real worker's queue name; for this test, tasks are sent to the broker, not run here.

    Send with ``task.apply_async(args=[...], queue=celery_worker_process)``.
    """
    was_eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        yield celery_worker_session.queue
    finally:
        celery_app.conf.task_always_eager = was_eager


@pytest.fixture
def wait_for_worker(celery_worker_session: CeleryWorker) -> Callable[..., None]:
    """Poll until the worker's effect is visible; fail with the worker's log if it never is."""

    def wait(condition: Callable[[], bool], *, what: str, timeout: float = POLL_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if celery_worker_session.process.poll() is not None:
                pytest.fail(
                    f"Celery worker died while waiting for {what}:\n{celery_worker_session.tail()}"
                )
            if time.monotonic() > deadline:
                pytest.fail(
                    f"No {what} after {timeout}s. Worker log:\n{celery_worker_session.tail()}"
                )
            time.sleep(0.1)

    return wait
