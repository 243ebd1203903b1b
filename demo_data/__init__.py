"""Demo data: a deterministic sales organisation with two years of deal history.

One ``random.Random(seed)`` drives every draw, so a seed gives the same people, accounts and
deals (database ids aside) on a given day. Rows are bulk-inserted, so they are built the way
the services would write them: a deal's stage is what ``accounts.stages.derive_stage_id``
makes of its completed milestones, and every tracked field is in ``OpportunityChange`` (a
creation row per field, then each change) so ``opportunities_as_of`` can replay any deal.

The simulation keeps time as float days relative to midnight today (negative is the past);
nothing but planned activities lies after that moment.

Modules: ``vocabulary`` (names, regions, industries, tuning), ``reference`` (periods, rates,
processes), ``org`` (people), ``accounts``, ``deals`` and ``history`` (the simulation, with
credit splits and cancellations), ``calls`` (weekly forecast calls and their locks),
``bulk_insert`` (insert_rows), ``builder`` (the run) and ``reset`` (removing the demo).
"""

from .builder import DemoDataBuilder, DemoResult, demo_counts, load_demo_data
from .bulk_insert import insert_rows
from .org import DemoLogin, demo_logins, demo_org_exists, demo_users
from .reset import delete_demo_data
from .vocabulary import DEMO_MARKER, DEMO_PASSWORD, HISTORY_QUARTERS, LOGINS

__all__ = [
    "DEMO_MARKER",
    "DEMO_PASSWORD",
    "HISTORY_QUARTERS",
    "LOGINS",
    "DemoDataBuilder",
    "DemoLogin",
    "DemoResult",
    "delete_demo_data",
    "demo_counts",
    "demo_logins",
    "demo_org_exists",
    "demo_users",
    "insert_rows",
    "load_demo_data",
]
