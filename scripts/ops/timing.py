"""Per-request server time, query count and database time, for the ops stack only.

Installed first in MIDDLEWARE by scripts/ops/settings.py when OPS_TIMING_LOG names a file:
one JSON line per request (the URL pattern, method, status, wall ms, queries, ms spent in
them). Set against locust's response times it separates time spent in the view from time
spent waiting for a free gunicorn worker, and names the views whose queries dominate.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable

from django.db import connections
from django.http import HttpRequest, HttpResponse


class _QueryClock:
    """Counts and times every query the request sends, on any alias."""

    def __init__(self) -> None:
        self.count = 0
        self.ms = 0.0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.count += 1
            self.ms += (time.perf_counter() - started) * 1000


class RequestTimingMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.path = os.environ["OPS_TIMING_LOG"]

    def __call__(self, request: HttpRequest) -> HttpResponse:
        clock = _QueryClock()
        started, cpu_started = time.perf_counter(), time.process_time()
        with _wrapped(clock):
            response = self.get_response(request)
        wall = (time.perf_counter() - started) * 1000
        # A sync gunicorn worker serves one request at a time: its process CPU is the view's.
        # Against the wall time it tells running from waiting for a core or the database.
        cpu = (time.process_time() - cpu_started) * 1000
        match = getattr(request, "resolver_match", None)
        line = {
            "view": f"{request.method} {match.route if match else request.path}",
            "status": response.status_code,
            "ms": round(wall, 2),
            "cpu_ms": round(cpu, 2),
            "queries": clock.count,
            "db_ms": round(clock.ms, 2),
            "at": time.time(),
        }
        # One short append per request: the workers' lines do not interleave (O_APPEND).
        with open(self.path, "a") as handle:
            handle.write(json.dumps(line) + "\n")
        return response


class _wrapped:
    """``execute_wrapper`` on every alias the request may use (primary and replica)."""

    def __init__(self, clock: _QueryClock) -> None:
        self.clock = clock
        self.managers: list = []

    def __enter__(self) -> None:
        for alias in connections:
            manager = connections[alias].execute_wrapper(self.clock)
            manager.__enter__()
            self.managers.append(manager)

    def __exit__(self, *exc: object) -> None:
        for manager in reversed(self.managers):
            manager.__exit__(*exc)
