"""The plans of the hot queries on the tables that grow without bound (``bench --plans``).

Activities, the change history, milestone completions, notifications, their mail records and
captured mail gain rows every day and never (the audit record) or only slowly (retention)
lose them. Each hot read of them — the lists and their keyset pages, the deal page, the
as-of replay, the last two-way contact, compliance, the bell, the inbox, the unfiled items,
the search, the sweeps and purges — is run here through the real code (a page or API
request through the test client, or the selector or service itself), its SQL recorded, and
every statement touching a growing table explained with ``EXPLAIN (ANALYZE, BUFFERS)``.

A statement fails the check when its plan reads a growing table sequentially (the table is
at least ``SCAN_MIN_ROWS`` rows: below that a scan is the planner's right choice) or sorts
``SORT_MAX_ROWS`` rows or more. With ``strict`` the size does not matter: the test runs the
check on a small database with sequential scans priced out (``enable_seqscan = off``), where
a scan remains only when no index can answer.

What is left out on purpose: the full recompute's frames (forecasting.selectors.frames) and
the nightly flags read every open deal's rows by design; a sequential scan is their plan.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.conf import settings
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Opportunity
from salesmgmt.models import User

GROWING_TABLES = (
    "accounts_activity",
    "accounts_opportunitychange",
    "accounts_milestonecompletion",
    "notifications_notification",
    "notifications_emailsend",
    "capture_captureditem",
)
SCAN_MIN_ROWS = 100_000
SORT_MAX_ROWS = 100_000
_STRICT = ("enable_seqscan", "enable_hashjoin", "enable_mergejoin")
STRICT_ON = "; ".join(f"SET {name} = off" for name in _STRICT)
STRICT_OFF = "; ".join(f"RESET {name}" for name in _STRICT)
_TABLE_RE = re.compile(r'"(' + "|".join(GROWING_TABLES) + r')"')


@dataclass(frozen=True)
class Subjects:
    """Who and what the hot queries are asked about: a typical manager and rep, the executive
    (who sees everything), and the rep's busiest open deal."""

    executive: User
    manager: User
    rep: User
    opportunity: Opportunity
    notes_word: str = "call"


@dataclass(frozen=True)
class HotQuery:
    name: str
    run: Callable[[], object]  # runs the real code path; its SQL is what gets explained


@dataclass
class Plan:
    name: str
    sql: str
    ms: float
    rows: int
    nodes: list[str]
    indexes: list[str]
    seq_scans: list[str] = field(default_factory=list)
    sorted_rows: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


# --- the hot queries ------------------------------------------------------------------------


def _client(user: User) -> Client:
    host = settings.ALLOWED_HOSTS[0] if settings.ALLOWED_HOSTS else "localhost"
    client = Client(HTTP_HOST=host)
    client.force_login(user)
    return client


def _get(user: User, url: str) -> Callable[[], object]:
    client = _client(user)

    def call() -> object:
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} answered {response.status_code}.")
        return response

    return call


def _next_page(user: User, url: str) -> Callable[[], object]:
    """The second keyset page of an API list (its ``next`` link), as a client pages on."""
    client = _client(user)

    def call() -> object:
        first = client.get(url).json()
        if not first.get("next"):
            return first
        return client.get(first["next"]).json()

    return call


def hot_queries(s: Subjects) -> list[HotQuery]:
    """Every hot read of a growing table, as the product runs it."""
    from accounts.models import Activity
    from accounts.selectors import history, records
    from capture import selectors as capture_selectors
    from coaching.compliance import compliance_scores
    from notifications import mail
    from notifications import selectors as notification_selectors
    from salesmgmt.visibility import visible_user_ids

    now = timezone.now()
    deal = s.opportunity
    rep_deals = list(
        Opportunity.objects.filter(owner=s.rep, status="open").values_list("pk", flat=True)
    )
    team = [pk for pk in visible_user_ids(s.manager) if pk != s.manager.pk]
    since = (now - dt.timedelta(days=7)).isoformat()
    return [
        HotQuery("API activities, manager", _get(s.manager, "/api/v1/activities/")),
        HotQuery("API activities page 2, manager", _next_page(s.manager, "/api/v1/activities/")),
        HotQuery("API activities, executive", _get(s.executive, "/api/v1/activities/")),
        HotQuery(
            "API activities page 2, executive", _next_page(s.executive, "/api/v1/activities/")
        ),
        HotQuery(
            "API activities of a deal",
            _get(s.rep, "/api/v1/activities/?" + urlencode({"opportunity": deal.pk})),
        ),
        HotQuery(
            "API activities sync (updated_since)",
            _get(s.manager, "/api/v1/activities/?" + urlencode({"updated_since": since})),
        ),
        HotQuery("API milestone completions", _get(s.manager, "/api/v1/milestone-completions/")),
        HotQuery(
            "API milestone completions, executive",
            _get(s.executive, "/api/v1/milestone-completions/"),
        ),
        HotQuery("API notifications, page 2", _get(s.rep, "/api/v1/notifications/?page=2")),
        HotQuery("deal page", _get(s.rep, reverse("accounts:opportunity_detail", args=[deal.pk]))),
        HotQuery(
            "account page",
            _get(s.rep, reverse("accounts:account_detail", args=[deal.account_id])),
        ),
        HotQuery("rep home", _get(s.rep, reverse("accounts:rep_home"))),
        HotQuery(
            "as-of replay, the rep's deals 90 days ago",
            lambda: history.opportunities_as_of(
                at=now - dt.timedelta(days=90), opportunity_ids=rep_deals
            ),
        ),
        HotQuery(
            "as-of replay, one deal",
            lambda: history.opportunity_as_of(opportunity=deal, at=now - dt.timedelta(days=30)),
        ),
        HotQuery(
            "last two-way contact, the rep's deals",
            lambda: list(
                records.with_last_two_way_contact(
                    Opportunity.objects.filter(owner=s.rep, status="open")
                ).values_list("pk", "last_two_way_contact_at")
            ),
        ),
        HotQuery(
            "compliance, the manager's team",
            lambda: compliance_scores(user_ids=team, as_of=timezone.localdate()),
        ),
        HotQuery(
            "held activities in 14 days, the rep",
            lambda: (
                Activity.objects.held(now=now)
                .filter(owner=s.rep, occurred_at__gte=now - dt.timedelta(days=14))
                .count()
            ),
        ),
        HotQuery(
            "waterfall, 7 days (manager)",
            _get(
                s.manager,
                reverse("forecasting:waterfall") + "?" + urlencode({"person": s.manager.pk}),
            ),
        ),
        HotQuery("bell (unread count)", lambda: notification_selectors.unread_count(user=s.rep)),
        HotQuery("inbox page", _get(s.rep, reverse("notifications:inbox"))),
        HotQuery("API notifications", _get(s.rep, "/api/v1/notifications/")),
        HotQuery("unfiled captured mail", _get(s.rep, reverse("capture:unfiled"))),
        HotQuery(
            "API captured items",
            lambda: list(capture_selectors.captured_items(viewer=s.rep, status="unfiled")[:50]),
        ),
        HotQuery(
            "search, notes (manager)",
            _get(s.manager, "/api/v1/search/?" + urlencode({"q": s.notes_word})),
        ),
        HotQuery("email sends sweep", lambda: mail.email_sends_sweep(now=now)),
        HotQuery("notifications purge (one batch)", _purge_notifications),
        HotQuery("email sends purge (one batch)", _purge_email_sends),
        HotQuery("captured mail purge (one batch)", _purge_captured),
    ]


def _purge_notifications() -> object:
    from notifications.services import notifications_purge_batch

    return notifications_purge_batch()


def _purge_email_sends() -> object:
    from notifications.services import email_sends_purge_batch

    return email_sends_purge_batch()


def _purge_captured() -> object:
    from capture.services import captured_items_purge_batch

    return captured_items_purge_batch()


# --- recording and explaining ---------------------------------------------------------------


@contextmanager
def recording() -> Iterator[list[tuple[str, object]]]:
    """Every statement (SQL and parameters) the block runs that touches a growing table."""
    statements: list[tuple[str, object]] = []

    def record(execute, sql, params, many, context):
        if not many and _TABLE_RE.search(sql) and not sql.lstrip().upper().startswith("EXPLAIN"):
            statements.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        yield statements


def table_rows() -> dict[str, int]:
    """The planner's row count of each growing table (pg_class.reltuples, after ANALYZE)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, GREATEST(reltuples, 0)::bigint FROM pg_class WHERE relname = ANY(%s)",
            [list(GROWING_TABLES)],
        )
        return dict(cursor.fetchall())


def explain(sql: str, params: object, *, analyze: bool = True) -> dict:
    """The plan (JSON) of one statement; a write is explained in a savepoint rolled back."""
    options = "ANALYZE, BUFFERS, FORMAT JSON" if analyze else "FORMAT JSON"
    with transaction.atomic(), connection.cursor() as cursor:
        sid = transaction.savepoint()
        cursor.execute(f"EXPLAIN ({options}) {sql}", params)
        found = cursor.fetchone()[0]
        transaction.savepoint_rollback(sid)
    return (json.loads(found) if isinstance(found, str) else found)[0]


def _walk(node: dict, limited: bool = False) -> Iterator[tuple[dict, bool]]:
    """Each node, and whether a Limit above it stops it early (a top-N read of an index)."""
    yield node, limited
    limited = limited or node["Node Type"] == "Limit"
    for child in node.get("Plans", []):
        yield from _walk(child, limited)


def summarize(
    name: str, sql: str, plan: dict, *, rows: dict[str, int], strict: bool = False
) -> Plan:
    """Node types, indexes, time and the check's verdict of one explained statement."""
    top = plan["Plan"]
    found = Plan(
        name=name,
        sql=sql,
        ms=float(plan.get("Execution Time", 0.0)),
        rows=int(top.get("Actual Rows", top.get("Plan Rows", 0))),
        nodes=[],
        indexes=[],
    )
    for node, limited in _walk(top):
        kind = node["Node Type"]
        relation = node.get("Relation Name", "")
        found.nodes.append(f"{kind} {relation}".strip())
        if node.get("Index Name"):
            found.indexes.append(node["Index Name"])
        large = strict or rows.get(relation, 0) >= SCAN_MIN_ROWS
        if kind == "Seq Scan" and relation in GROWING_TABLES:
            found.seq_scans.append(relation)
            if large:
                found.problems.append(f"sequential scan of {relation}")
        # An index read from end to end is a scan in index order (what the planner does with
        # scans priced out): fine under a Limit (the newest page), not otherwise.
        whole_index = kind in ("Index Scan", "Index Only Scan") and "Index Cond" not in node
        if whole_index and relation in GROWING_TABLES and not limited:
            found.seq_scans.append(relation)
            if large:
                found.problems.append(f"whole-index scan of {relation}")
        if kind in ("Sort", "Incremental Sort"):
            # What goes in, not what comes out: a top-N sort returns the page (51 rows)
            # however many rows it had to read and order.
            fed = node.get("Plans", [node])[0]
            sorted_rows = int(fed.get("Actual Rows", fed.get("Plan Rows", 0))) * int(
                fed.get("Actual Loops", 1) or 1
            )
            found.sorted_rows = max(found.sorted_rows, sorted_rows)
            if sorted_rows >= SORT_MAX_ROWS:
                found.problems.append(f"sort of {sorted_rows} rows")
    return found


def check(queries: list[HotQuery], *, strict: bool = False, analyze: bool = True) -> list[Plan]:
    """Run each hot query, then explain every growing-table statement it made."""
    rows = table_rows()
    plans: list[Plan] = []
    for query in queries:
        with recording() as statements:
            query.run()
        seen: set[str] = set()
        for number, (sql, params) in enumerate(statements, start=1):
            key = f"{sql}|{params!r}"
            if key in seen:
                continue
            seen.add(key)
            if strict:
                with connection.cursor() as cursor:
                    # Scans priced out, and joins that read a whole side (hash, merge): what
                    # remains is what an index answers at any size. Reset at once (SET LOCAL
                    # would last to the end of the caller's transaction).
                    cursor.execute(STRICT_ON)
                    try:
                        plan = explain(sql, params, analyze=analyze)
                    finally:
                        cursor.execute(STRICT_OFF)
            else:
                plan = explain(sql, params, analyze=analyze)
            label = f"{query.name} #{number}" if len(statements) > 1 else query.name
            plans.append(summarize(label, sql, plan, rows=rows, strict=strict))
    return plans


def compact(plan: Plan) -> str:
    """The plan in one line: its nodes in order, each relation once."""
    return " > ".join(dict.fromkeys(plan.nodes))


def report(plans: list[Plan], write: Callable[[str], object]) -> int:
    """Print each statement's plan summary; returns how many failed the check."""
    rows = table_rows()
    write("rows: " + ", ".join(f"{table} {rows.get(table, 0):,}" for table in GROWING_TABLES))
    head = f"{'hot query':<44} {'ms':>9} {'rows':>7} {'sorted':>7}  result"
    write(head)
    write("-" * len(head))
    failed = 0
    for plan in plans:
        failed += not plan.ok
        verdict = "PASS" if plan.ok else "FAIL: " + "; ".join(plan.problems)
        write(
            f"{plan.name[:44]:<44} {plan.ms:9.2f} {plan.rows:7d} {plan.sorted_rows:7d}  {verdict}"
        )
        write(f"    {compact(plan)}")
        if plan.indexes:
            write(f"    indexes: {', '.join(dict.fromkeys(plan.indexes))}")
    return failed
