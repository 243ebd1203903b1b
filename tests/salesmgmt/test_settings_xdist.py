"""Per-xdist-worker Redis databases of the test settings (`make test` runs `pytest -n auto`)."""

from __future__ import annotations

import pytest

from salesmgmt.settings.test import redis_url_for_xdist_worker


def test_outside_xdist_the_url_is_unchanged():
    assert redis_url_for_xdist_worker("redis://127.0.0.1:6379/5", "") == "redis://127.0.0.1:6379/5"


@pytest.mark.parametrize(
    ("url", "worker", "expected"),
    [
        ("redis://127.0.0.1:6379/5", "gw0", "redis://127.0.0.1:6379/6"),
        ("redis://127.0.0.1:6379/5", "gw1", "redis://127.0.0.1:6379/7"),
        ("redis://127.0.0.1:6379", "gw0", "redis://127.0.0.1:6379/1"),
        (
            "redis://:secret@redis:6380/9?timeout=1",
            "gw2",
            "redis://:secret@redis:6380/12?timeout=1",
        ),
    ],
)
def test_each_worker_gets_its_own_database_after_the_urls(url, worker, expected):
    assert redis_url_for_xdist_worker(url, worker) == expected


def test_a_worker_past_the_last_database_is_refused_with_a_reason():
    with pytest.raises(ValueError, match="past the last one"):
        redis_url_for_xdist_worker("redis://127.0.0.1:6379/13", "gw2")
