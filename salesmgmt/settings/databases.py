"""The read replica's DATABASES entry, built from the primary's (salesmgmt.db_router)."""

from __future__ import annotations

from typing import Any

# Keys a replica takes over from the primary: how the app connects, not where.
SHARED_KEYS = ("ATOMIC_REQUESTS", "AUTOCOMMIT", "CONN_MAX_AGE", "CONN_HEALTH_CHECKS", "TIME_ZONE")


def replica_database(
    replica: dict[str, Any], *, primary: dict[str, Any], connect_timeout: int
) -> dict[str, Any]:
    """``replica`` (parsed from DATABASE_REPLICA_URL) connected as ``primary`` is.

    The primary's OPTIONS apply (e.g. the parallel-workers setting), the URL's own win; a
    connect timeout is added unless one is given. Under the test runner the replica mirrors
    the test database instead of getting one of its own (a standby is read-only).
    """
    if replica["ENGINE"] != primary["ENGINE"]:
        raise ValueError(
            f"DATABASE_REPLICA_URL must be the same kind of database as DATABASE_URL "
            f"({replica['ENGINE']} vs {primary['ENGINE']})"
        )
    entry = {**replica, **{key: primary[key] for key in SHARED_KEYS if key in primary}}
    options = {**primary.get("OPTIONS", {}), **replica.get("OPTIONS", {})}
    if replica["ENGINE"].endswith("postgresql"):
        options.setdefault("connect_timeout", connect_timeout)
    entry["OPTIONS"] = options
    entry["TEST"] = {"MIRROR": "default"}
    return entry
