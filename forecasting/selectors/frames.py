"""DataFrames for the workers, each built from ``.values()`` in a fixed number of queries.

Amounts are converted into the reporting currency with one ``RateTable`` per computation, at
the rate in effect on the deal's close date (``closed_on`` when closed, else the expected
close date): one lookup per distinct (currency, day), never one per row.
"""

from __future__ import annotations

import datetime as dt
import itertools
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal

import numpy as np
import pandas as pd
from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import Case, Min, Q, QuerySet, When
from django.utils import timezone

from accounts.models import (
    COUNTING_STATES,
    Activity,
    Contact,
    MilestoneCompletion,
    Opportunity,
    OpportunityChange,
)
from accounts.querysets import two_way_contact
from compensation import ledger
from salesmgmt.models import Period, Role, User
from salesmgmt.money import RateTable, quantize_money

from ..models import DealProbability, ForecastRollup, Scope

DEAL_FIELDS = [
    "id",
    "owner_id",
    "process_id",
    "stage_id",
    "forecast_category",
    "stage__default_forecast_category",
    "stage__order",
    "status",
    "amount",
    "currency",
    "expected_close_on",
    "closed_on",
    "created_at",
    "stage_entered_at",
    "account_id",
]


def to_reporting(frame: pd.DataFrame, rates: RateTable, *, day_column: str) -> pd.Series:
    """``amount`` of each row in the reporting currency (float, rounded to cents).

    Rounded by the one money rule (``quantize_money``: half a cent up, as ``RateTable.convert``
    and the reference SQL round the exact product): in floats for speed, and exactly, as
    Decimals, for the few products within float error of half a cent.
    """
    if frame.empty:
        return pd.Series(dtype=float, index=frame.index)
    keys = pd.DataFrame({"currency": frame["currency"], "day": frame[day_column]})
    unique = keys.drop_duplicates()
    exact = {
        (c, d): rates.rate(c, d) for c, d in zip(unique["currency"], unique["day"], strict=True)
    }
    lookup = {key: float(rate) for key, rate in exact.items()}
    factor = np.fromiter(
        # Over lists: iterating a pandas text column boxes each value (a second a million).
        (lookup[key] for key in zip(keys["currency"].tolist(), keys["day"].tolist(), strict=True)),
        dtype=float,
        count=len(keys),
    )
    cents = frame["amount"].astype(float).to_numpy() * factor * 100
    rounded = np.sign(cents) * np.floor(np.abs(cents) + 0.5)
    # A float product is off by a few units in the last place (|cents| * 1e-15 at most); where
    # that could flip a tie, the exact product decides.
    near_tie = np.abs(np.abs(cents) % 1 - 0.5) <= np.maximum(1e-6, np.abs(cents) * 1e-14)
    ties = np.flatnonzero(near_tie)
    if len(ties):
        currencies, days = keys["currency"].tolist(), keys["day"].tolist()
        amounts = frame["amount"].to_numpy()
        for index in ties:
            product = _as_decimal(amounts[index]) * exact[(currencies[index], days[index])]
            rounded[index] = float(quantize_money(product) * 100)
    return pd.Series(rounded / 100, index=frame.index)


def _as_decimal(amount: object) -> Decimal:
    if isinstance(amount, Decimal):
        return amount
    return Decimal(str(float(amount)) if isinstance(amount, float) else str(amount))


def people_frame() -> pd.DataFrame:
    """Everyone with a place in the forecast tree (integrators excluded): id, path, hire date."""
    rows = User.objects.exclude(role=Role.INTEGRATOR).values_list(
        "id", "ancestor_path", "role", "hire_date", "manager_id"
    )
    return pd.DataFrame(
        list(rows), columns=["person_id", "ancestor_path", "role", "hire_date", "manager_id"]
    )


def deals_frame(
    *,
    periods: list[Period],
    rates: RateTable,
    owner_ids: Iterable[int] | None = None,
    extra_ids: Iterable[int] | None = None,
    unscored: bool = False,
) -> pd.DataFrame:
    """Deals that count in any of ``periods``: open closing in it, or won in it.

    Columns: opportunity_id, owner_id, process_id, stage_id, chosen_category (the rep's,
    "" for none), stage_category, stage_order, status, amount (reporting), expected_close_on,
    closed_on, created_at, stage_entered_at, account_id, period_id. Open deals closing before
    the first period are left out (they show as "close date in the past" flags, not forecast).
    ``unscored``: only those without a ``DealProbability`` row (``deal_scores_frame``'s rest).
    """
    window = _deal_window(periods)
    qs = Opportunity.objects.filter(window)
    if unscored:
        qs = qs.filter(forecast__isnull=True)
    if owner_ids is not None:
        qs = qs.filter(owner_id__in=list(owner_ids))
    if extra_ids:
        qs = Opportunity.objects.filter(Q(pk__in=list(extra_ids)) & window) | qs
    frame = pd.DataFrame(list(qs.values_list(*DEAL_FIELDS)), columns=DEAL_FIELDS)
    frame = frame.rename(
        columns={
            "id": "opportunity_id",
            "forecast_category": "chosen_category",
            "stage__default_forecast_category": "stage_category",
            "stage__order": "stage_order",
        }
    )
    if frame.empty:
        frame["period_id"] = []
        return frame
    frame["day"] = frame["closed_on"].where(frame["closed_on"].notna(), frame["expected_close_on"])
    frame["amount"] = to_reporting(frame, rates, day_column="day")
    frame["period_id"] = assign_period(frame["day"], periods)
    return frame.drop(columns=["day", "currency"])


def _deal_window(periods: list[Period], prefix: str = "") -> Q:
    """Open deals expected to close in the span of ``periods``, or won in it (``prefix``: the
    path to the deal from another model)."""
    span = (min(p.start_on for p in periods), max(p.end_on for p in periods))
    return Q(**{f"{prefix}status": "open", f"{prefix}expected_close_on__range": span}) | Q(
        **{f"{prefix}status": "won", f"{prefix}closed_on__range": span}
    )


SCORE_FIELDS = ["opportunity_id", "owner_id", "status", "category", "amount", "probability"]


def deal_scores_frame(*, periods: list[Period]) -> pd.DataFrame:
    """The stored scores (``DealProbability``) of the deals that count in ``periods``, as
    ``deals_frame`` picks them, in deal order (1 query): opportunity_id, owner_id, status,
    category, amount (reporting, float), probability."""
    rows = (
        DealProbability.objects.filter(_deal_window(periods, prefix="opportunity__"))
        .order_by("opportunity_id")
        .values_list(
            "opportunity_id", "owner_id", "opportunity__status", "category", "amount", "probability"
        )
    )
    frame = pd.DataFrame(list(rows), columns=SCORE_FIELDS)
    # Stored in cents from the float ``to_reporting`` made (``quantize_money``), so this float
    # is the one the quarter's shard scored with.
    frame["amount"] = frame["amount"].astype(float)
    frame["probability"] = frame["probability"].astype(float)
    return frame


def assign_period(days: pd.Series, periods: list[Period]) -> pd.Series:
    """The id of the period (of ``periods``, same kind, non-overlapping) containing each day."""
    ordered = sorted(periods, key=lambda p: p.start_on)
    starts = np.array([np.datetime64(p.start_on) for p in ordered])
    ids = np.array([p.pk for p in ordered])
    idx = np.searchsorted(starts, days.to_numpy(dtype="datetime64[D]"), side="right") - 1
    return pd.Series(ids[np.clip(idx, 0, len(ids) - 1)], index=days.index)


def containing_period(days: pd.Series, periods: list[Period]) -> pd.Series:
    """The id of the period (of ``periods``, same kind) containing each day; 0 for none (a
    day in a gap between them, or outside them all)."""
    if not len(days) or not periods:
        return pd.Series(0, index=days.index, dtype="int64")
    ordered = sorted(periods, key=lambda p: p.start_on)
    ids = assign_period(days, ordered).to_numpy()
    ends = {p.pk: np.datetime64(p.end_on) for p in ordered}
    starts = {p.pk: np.datetime64(p.start_on) for p in ordered}
    values = days.to_numpy(dtype="datetime64[D]")
    lo = np.array([starts[i] for i in ids], dtype="datetime64[D]")
    hi = np.array([ends[i] for i in ids], dtype="datetime64[D]")
    inside = (values >= lo) & (values <= hi)
    return pd.Series(np.where(inside, ids, 0), index=days.index)


def milestone_events_frame(*, opportunity_ids: Iterable[int] | None = None) -> pd.DataFrame:
    """The milestone audit log: opportunity_id, milestone_id, at (UTC), counts (bool)."""
    qs = MilestoneCompletion.objects.all()
    if opportunity_ids is not None:
        qs = qs.filter(opportunity_id__in=list(opportunity_ids))
    # Unordered, then put in time order here: the server walked the whole log through its
    # time index (3.5 s at 1 M deals, 3 M rows) or sorted it on disk (2.6 s); a scan is 0.5 s.
    rows = qs.order_by().values_list(
        "opportunity_id", "milestone_id", "completed_at", "action", "verification_state", "id"
    )
    columns = ["opportunity_id", "milestone_id", "at", "action", "state", "id"]
    parsers = {"at": _timestamps, "action": _text, "state": _text}
    frame = _frame_of(rows, columns, typed=_events_part, parsers=parsers)
    return _in_time_order(frame)


def _in_time_order(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows in (at, id) order (the log's order), without ``id``."""
    if len(frame):
        at = frame["at"].array.asi8
        frame = frame.take(np.lexsort((frame["id"].to_numpy("int64"), at)))
    return frame.drop(columns="id").reset_index(drop=True)


def _timestamps(text: pd.Series) -> pd.Series:
    """PostgreSQL's text of ``timestamp with time zone`` values (UTC: Django's session zone)."""
    return pd.to_datetime(text, utc=True, format="ISO8601")


def _dates(text: pd.Series) -> pd.Series:
    """PostgreSQL's text of dates as ``datetime.date`` objects (None for NULL), as the ORM."""
    # A few thousand distinct days among a million rows: each parsed once.
    days = {day: dt.date.fromisoformat(day) for day in text.dropna().unique()}
    return pd.Series([days.get(day) for day in text.tolist()], index=text.index, dtype=object)


def _decimals(text: pd.Series) -> pd.Series:
    """PostgreSQL's text of numeric values as ``Decimal`` objects, exactly as the ORM gives."""
    return pd.Series([Decimal(v) for v in text.tolist()], index=text.index, dtype=object)


def _text(text: pd.Series) -> pd.Series:
    return text


STAGE_HISTORY_WORK_MEM_MB = 64
# Rows turned into a frame this many at a time (``_frame_of``).
LOAD_CHUNK = 100_000
# On PostgreSQL, read those loads with COPY (``_copied_parts``; off: through a cursor, as
# elsewhere; tests hold the two equal).
COPY_LOADS = True
# PostgreSQL's sort memory for those loads (the default 4 MB spilled a quarter's log to disk).
LOAD_WORK_MEM_MB = 64


def _frame_of(
    rows: QuerySet,
    columns: list[str],
    *,
    typed: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
    parsers: Mapping[str, Callable[[pd.Series], pd.Series]] | None = None,
) -> pd.DataFrame:
    """The rows of a ``values_list`` as one frame, built (and ``typed``) a chunk at a time.

    The whole milestone log (3 M rows at 1 M deals) as one list of tuples of Python datetimes
    and strings took 800 MB more than its frame: the learning step's peak memory.
    On PostgreSQL the rows come as CSV through ``COPY`` (``_copied_parts``); ``parsers``
    turn a column's text into the values the ORM gives (integers need none).
    """
    # The logs in time order (hundreds of thousands of rows) sort in memory, not on disk.
    with work_mem(LOAD_WORK_MEM_MB, every_row=True):
        if connection.vendor == "postgresql" and COPY_LOADS:
            parts = list(_copied_parts(rows, columns, parsers or {}))
        else:
            parts = [
                pd.DataFrame(chunk, columns=columns)
                for chunk in _chunks(rows.iterator(chunk_size=LOAD_CHUNK), LOAD_CHUNK)
            ]
    if typed is not None:
        parts = [typed(part) for part in parts] or [typed(pd.DataFrame([], columns=columns))]
    if not parts:
        return pd.DataFrame([], columns=columns)
    return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)


# How ``COPY ... TO STDOUT`` writes NULL: distinct from an empty string, which it quotes.
COPY_NULL = "\\N"


def _copied_parts(
    rows: QuerySet, columns: list[str], parsers: Mapping[str, Callable[[pd.Series], pd.Series]]
) -> Iterator[pd.DataFrame]:
    """The rows of a ``values_list`` as frames of ``LOAD_CHUNK`` rows, read with one ``COPY``.

    At 1 M deals the learning step's three loads (5.1 M rows) took 29 s, most of it psycopg2
    making a Python object of every value and pandas a frame of those objects; the same rows
    as CSV, parsed by pandas' C reader, take a fraction of that. The CSV is spooled to a
    temporary file and read a chunk at a time, so the peak memory stays a chunk's.
    """
    try:
        sql, params = rows.query.sql_with_params()
    except EmptyResultSet:  # ``__in`` an empty list: no row, as the ORM returns none
        return
    with connection.cursor() as cursor, tempfile.TemporaryFile() as spool:
        query = cursor.mogrify(sql, params).decode()
        copy = f"COPY ({query}) TO STDOUT WITH (FORMAT csv, NULL '{COPY_NULL}')"
        started = time.monotonic()
        cursor.cursor.copy_expert(copy, spool)
        if connection.queries_logged:  # as Django logs a query: query budgets count it
            connection.queries_log.append(
                {"sql": copy, "time": f"{time.monotonic() - started:.3f}"}
            )
        if not spool.tell():
            return
        spool.seek(0)
        # Text columns stay text (a code of digits is not a number), NULL alone is missing.
        text = {c: str for c in columns if c in parsers}
        reader = pd.read_csv(
            spool,
            names=columns,
            header=None,
            dtype=text,
            keep_default_na=False,
            na_values={c: [COPY_NULL] for c in columns},
            chunksize=LOAD_CHUNK,
        )
        with reader:
            for part in reader:
                for column, parse in parsers.items():
                    part[column] = parse(part[column])
                yield part


def _chunks(rows: Iterable[tuple], size: int) -> Iterator[list[tuple]]:
    iterator = iter(rows)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _events_part(frame: pd.DataFrame) -> pd.DataFrame:
    frame["counts"] = (frame["action"] == MilestoneCompletion.Action.COMPLETE) & frame[
        "state"
    ].isin(COUNTING_STATES)
    frame["at"] = pd.to_datetime(frame["at"], utc=True)
    return frame[["opportunity_id", "milestone_id", "at", "counts", "id"]]


def closed_deals_frame(
    *,
    rates: RateTable | None = None,
    won_between: tuple[dt.date, dt.date] | None = None,
    closed_between: tuple[dt.date, dt.date] | None = None,
) -> pd.DataFrame:
    """Every closed deal: opportunity_id, process_id, owner_id, created_at, closed_at, won, amount.

    ``closed_at`` is the end of the close day (dates carry no time), so every milestone event
    of that day counts as before the close. ``won_between`` (first and last day): only the
    deals won then (a run rate's previous periods), ``closed_between``: closed then; in id order.
    """
    fields = [
        "id",
        "process_id",
        "owner_id",
        "created_at",
        "closed_on",
        "status",
        "amount",
        "currency",
    ]
    qs = Opportunity.objects.exclude(status="open")
    if won_between is not None:
        qs = qs.filter(status="won", closed_on__range=won_between).order_by("id")
    if closed_between is not None:
        qs = qs.filter(closed_on__range=closed_between).order_by("id")
    parsers = {
        "created_at": _timestamps,
        "closed_on": _dates,
        "status": _text,
        "amount": _decimals,
        "currency": _text,
    }
    frame = _frame_of(qs.values_list(*fields), fields, parsers=parsers)
    frame = frame.rename(columns={"id": "opportunity_id"})
    frame["won"] = frame["status"] == Opportunity.Status.WON
    closed_on = pd.to_datetime(frame["closed_on"])
    frame["closed_at"] = (closed_on + pd.Timedelta(days=1)).dt.tz_localize(dt.UTC)
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
    if rates is not None and not frame.empty:
        frame["amount"] = to_reporting(frame, rates, day_column="closed_on")
    else:
        frame["amount"] = frame["amount"].astype(float)
    return frame


def close_date_changes_frame(
    *,
    opportunity_ids: Iterable[int] | None = None,
    won_between: tuple[dt.date, dt.date] | None = None,
) -> pd.DataFrame:
    """Every change of expected close date: opportunity_id, at, old_on, new_on; of the deals
    ``opportunity_ids``, or of those won between two days (``closed_deals_frame``'s)."""
    qs = OpportunityChange.objects.filter(field=OpportunityChange.Field.EXPECTED_CLOSE_ON)
    if opportunity_ids is not None:
        qs = qs.filter(opportunity_id__in=list(opportunity_ids))
    if won_between is not None:
        qs = qs.filter(opportunity__status="won", opportunity__closed_on__range=won_between)
    # In (changed_at, id) order, put in it here: see ``milestone_events_frame``.
    rows = qs.order_by().values_list("opportunity_id", "changed_at", "old_value", "new_value", "id")
    parsers = {"at": _timestamps, "old": _text, "new": _text}
    frame = _frame_of(rows, ["opportunity_id", "at", "old", "new", "id"], parsers=parsers)
    frame["at"] = pd.to_datetime(frame["at"], utc=True)
    frame = _in_time_order(frame)
    frame["old_on"] = pd.to_datetime(frame["old"].replace("", None))
    frame["new_on"] = pd.to_datetime(frame["new"].replace("", None))
    return frame[["opportunity_id", "at", "old_on", "new_on"]]


def changes_frame(
    *,
    fields: list[str],
    opportunity_ids: Iterable[int] | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> pd.DataFrame:
    """Raw change log rows of some fields: opportunity_id, field, at, old, new."""
    qs = OpportunityChange.objects.filter(field__in=fields)
    if since is not None:
        qs = qs.filter(changed_at__gte=since)
    if until is not None:
        qs = qs.filter(changed_at__lte=until)
    if opportunity_ids is not None:
        qs = qs.filter(opportunity_id__in=list(opportunity_ids))
    rows = qs.order_by("changed_at", "id").values_list(
        "opportunity_id", "field", "changed_at", "old_value", "new_value"
    )
    frame = pd.DataFrame(list(rows), columns=["opportunity_id", "field", "at", "old", "new"])
    frame["at"] = pd.to_datetime(frame["at"], utc=True)
    return frame


@contextmanager
def work_mem(megabytes: int, *, every_row: bool = False) -> Iterator[None]:
    """A transaction whose sorts and hashes may each take ``megabytes`` of the server's memory
    before they spill to disk (PostgreSQL's ``work_mem``, 4 MB by default; set for this
    transaction only). ``SET LOCAL`` ends with the transaction (within an outer one: with
    that, where it only touches cursors and sorts, which the recompute reads whole).

    ``every_row``: plan the server-side cursors opened inside for reading every row, as
    ``_frame_of`` does. PostgreSQL plans a cursor for its first tenth of rows
    (``cursor_tuple_fraction``): for a quarter's milestone log it walked the whole log in time
    order by index instead of scanning it once (7.6 s, not 1.9 s), for its close-date changes
    15.2 s, not 1.4 s, at 1 M deals.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                if every_row:
                    cursor.execute("SET LOCAL cursor_tuple_fraction = 1")
                cursor.execute("SET LOCAL work_mem = %s", [f"{int(megabytes)}MB"])
        yield


def stage_changes_frame(
    *, since: dt.datetime, during: tuple[dt.datetime, dt.datetime] | None = None
) -> pd.DataFrame:
    """Stage changes since ``since`` in change order: opportunity_id, at, new, owner_id, won
    (the deal is won now). ``during`` (from, before): only the deals with a stage change then,
    each with all its changes since ``since`` (a stay ending then began before it)."""
    stage = OpportunityChange.Field.STAGE
    qs = OpportunityChange.objects.filter(field=stage, changed_at__gte=since)
    if during is not None and during[0] > since:
        active = OpportunityChange.objects.filter(
            field=stage, changed_at__gte=during[0], changed_at__lt=during[1]
        )
        qs = qs.filter(opportunity_id__in=active.values("opportunity_id"))
    columns = ["opportunity_id", "at", "new", "owner_id", "status"]
    rows = qs.order_by("changed_at", "id").values_list(
        "opportunity_id", "changed_at", "new_value", "opportunity__owner_id", "opportunity__status"
    )
    # A year's deals: a million rows joined to their deals and sorted, which spilled to disk.
    with work_mem(STAGE_HISTORY_WORK_MEM_MB):
        frame = pd.DataFrame(list(rows), columns=columns)
    frame["at"] = pd.to_datetime(frame["at"], utc=True)
    frame["won"] = frame["status"] == Opportunity.Status.WON
    return frame.drop(columns=["status"])


def stage_change_count(*, since: dt.date, until: dt.date) -> int:
    """How many stage changes were made from ``since`` to ``until`` (days, inclusive; 1 query
    on the stage rows' own index)."""
    return OpportunityChange.objects.filter(
        field=OpportunityChange.Field.STAGE,
        changed_at__gte=_day_start(since),
        changed_at__lt=_day_start(until + dt.timedelta(days=1)),
    ).count()


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def first_wins() -> pd.Series:
    """Each owner's first won deal's close date (date objects), indexed by owner_id (1 query)."""
    rows = (
        Opportunity.objects.filter(status=Opportunity.Status.WON, closed_on__isnull=False)
        .values("owner_id")
        .annotate(first=Min("closed_on"))
        .values_list("owner_id", "first")
        .order_by()
    )
    return pd.Series(dict(rows), dtype=object)


def credited_bookings(
    *, period: Period, rates: RateTable, person_ids: Iterable[int] | None = None
) -> pd.Series:
    """Each person's (of ``person_ids``: an edit's) credited bookings in the period, from the
    credit ledger (float, indexed by person_id; 1 query): their closed amount in the forecast.
    """
    totals = ledger.bookings_by_person(
        start_on=period.start_on, end_on=period.end_on, rates=rates, person_ids=person_ids
    )
    return pd.Series(
        [float(amount) for amount in totals.values()],
        index=pd.Index(list(totals), dtype="int64", name="person_id"),
        dtype=float,
    )


def own_rollups_frame(*, period: Period) -> pd.DataFrame:
    """The stored own-scope rollup rows of a period, indexed by person_id (floats)."""
    fields = [
        "person_id",
        "pipeline_amount",
        "best_case_amount",
        "commit_amount",
        "closed_amount",
        "omitted_amount",
        "open_deal_count",
        "weighted_amount",
        "variance",
        "expected_new_amount",
    ]
    rows = ForecastRollup.objects.filter(period=period, scope=Scope.OWN).values_list(*fields)
    frame = pd.DataFrame(list(rows), columns=fields).set_index("person_id")
    return frame.astype(float)


def activities_frame(*, since: dt.datetime | None = None) -> pd.DataFrame:
    """Activities: owner_id, opportunity_id, kind, occurred_at, direction (captured mail:
    outbound or inbound; blank for everything else), is_two_way (the customer took part:
    accounts.querysets.two_way_contact; whether its time has come is the reader's ``now``)."""
    qs = Activity.objects.annotate(
        is_two_way=Case(When(two_way_contact(), then=True), default=False)
    )
    if since is not None:
        qs = qs.filter(occurred_at__gte=since)
    columns = ["owner_id", "opportunity_id", "kind", "occurred_at", "direction", "is_two_way"]
    frame = pd.DataFrame(list(qs.values_list(*columns)), columns=columns)
    frame["occurred_at"] = pd.to_datetime(frame["occurred_at"], utc=True)
    return frame


def buying_group_frame() -> pd.DataFrame:
    """Each deal's buying group: opportunity_id, contact_id of every customer contact who took
    part in its activities (captured mail and meetings), once each."""
    rows = (
        Activity.participants.through.objects.filter(activity__opportunity__isnull=False)
        .values_list("activity__opportunity_id", "contact_id")
        .distinct()
    )
    return pd.DataFrame(list(rows), columns=["opportunity_id", "contact_id"])


def contacts_frame() -> pd.DataFrame:
    """Contacts per account: account_id, buying_role."""
    rows = Contact.objects.values_list("account_id", "buying_role")
    return pd.DataFrame(list(rows), columns=["account_id", "buying_role"])


def now() -> dt.datetime:
    return timezone.now()
