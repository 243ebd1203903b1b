"""A counter that moves whenever a precomputed aggregate that pages cache is rewritten.

The team dashboard caches its rendered figures under this version (``{% cache %}`` with the
version among its keys). Every service that rewrites what the dashboard shows (forecast
rollups, KPI snapshots, inspection flags, attainment figures, compliance summaries, people)
calls ``aggregates_changed()``, so a cached fragment never outlives the rows it was rendered
from. The counter moves twice: at once, and again after the commit, because a page rendered
between the two could have read the rows as they were before the commit; the second move
makes that fragment unreachable too.

The counter lives in the cache: Redis with REDIS_URL, shared by every web and worker process;
without it the process's own memory, which is right for the default single process (tasks
run in it) but not for several web processes or a separate worker without Redis, whose
refreshes then reach the other processes' fragments only at their expiry. Should Redis
lose it, it starts again from a random value, never from a number whose fragments may still
be stored; a bump lost while Redis is down is bounded by the fragments' own expiry
(``FRAGMENT_SECONDS``).

A write that knows whose figures it rewrote (an incremental recompute after a rep's edit, the
compliance of the people who logged calls) passes them: only their managers' chains move, so
the other teams' dashboards stay cached under a steady stream of reps' edits. Each person
has a version of their own next to the global one; a page about a person (the manager whose
team it shows) caches under both. A person's figures show on the dashboards of the people
above them only (each team row is a direct report's subtree), so moving the chain of
everyone whose figures changed reaches every page that shows them.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from django.core.cache import cache
from django.db import transaction

KEY = "aggregates:version"
PERSON_KEY = "aggregates:version:person:{}"
# Beyond this many people a write moves the global version instead (a nightly refresh).
MAX_CHAINED_PEOPLE = 200
# The longest a cached fragment lives even if no bump reaches the cache (a Redis outage).
FRAGMENT_SECONDS = 10 * 60


def aggregates_version(person_id: int | None = None) -> str:
    """The current version, of everything or of the figures shown about ``person_id``.

    One cache read; a counter the cache does not hold starts at a fresh random value.
    """
    keys = [KEY] if person_id is None else [KEY, PERSON_KEY.format(person_id)]
    found = cache.get_many(keys)
    for key in keys:
        if found.get(key) is None:
            cache.add(key, secrets.randbits(48), timeout=None)
            found[key] = cache.get(key)
        # Still none: the cache is unreachable. A value of its own per request renders live.
        if found[key] is None:
            found[key] = secrets.randbits(48)
    return "-".join(str(found[key]) for key in keys)


def aggregates_changed(people: Iterable[int] | None = None) -> None:
    """Call from a write to an aggregate a page caches: now, and once the write commits.

    ``people``: whose figures the write rewrote, when it knows (see the module doc); without
    them every cached page moves on.
    """
    keys = _chain_keys(people)
    _move(keys)
    transaction.on_commit(lambda: _move(keys), robust=True)


def _chain_keys(people: Iterable[int] | None) -> list[str] | None:
    """The version keys of ``people`` and everyone above them; ``None`` for the global one."""
    if people is None:
        return None
    ids = {int(pk) for pk in people}
    if len(ids) > MAX_CHAINED_PEOPLE:
        return None
    from .models import User

    chain = set(ids)
    for path in User.objects.filter(pk__in=ids).values_list("ancestor_path", flat=True):
        chain.update(int(part) for part in path.strip("/").split("/") if part)
    return [PERSON_KEY.format(pk) for pk in sorted(chain)]


def _move(keys: list[str] | None) -> None:
    if keys is None:
        _bump()
    elif keys:
        # A forgotten counter starts again at a random value: the old fragments are unreachable.
        cache.delete_many(keys)


def _bump() -> None:
    try:
        cache.incr(KEY)
    except ValueError:  # no counter yet (or evicted): start one
        cache.add(KEY, secrets.randbits(48), timeout=None)
