"""Reads for pages and the API, every one scoped by salesmgmt.visibility (a miss is a 404)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd
from django.db.models import Avg, FloatField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Abs, Cast
from django.http import Http404

from accounts.models import Opportunity, OpportunityChange
from salesmgmt.models import Period, User
from salesmgmt.money import RateTable
from salesmgmt.selectors import periods_with_pending, subtree_user_ids
from salesmgmt.visibility import can_see_user, visible_users

from ..analytics import accuracy, waterfall
from ..models import (
    AccuracyEntry,
    CalibrationBucket,
    CallLayer,
    CallOfRecord,
    DealProbability,
    FlagKind,
    ForecastCall,
    ForecastRollup,
    ForecastSource,
    InspectionFlag,
    KpiSnapshot,
    OpportunitySnapshot,
    Scope,
)
from .frames import to_reporting
from .history import History

MODEL_SOURCES = [ForecastSource.MODEL_WEIGHTED, ForecastSource.MODEL_RUN_RATE]
# Up to this many people, the waterfall first narrows the moved deals to those of the team.
EVER_OWNED_LIMIT = 200


def person_get(*, viewer: User, pk: int) -> User:
    """A person whose forecast ``viewer`` may see; otherwise 404."""
    person = User.objects.filter(pk=pk).first()
    if person is None or not can_see_user(viewer, person):
        raise Http404("No such person.")
    return person


def period_list(*, kind: str = Period.Kind.QUARTER) -> QuerySet[Period]:
    return Period.objects.filter(kind=kind).order_by("start_on")


def period_status_list() -> QuerySet[Period]:
    """Every period with its pending stale marks (``pending_changes``), newest first (1 query)."""
    return periods_with_pending(Period.objects.order_by("-start_on", "kind", "id"))


@dataclass(frozen=True)
class PeriodChoices:
    """The period picker's options: years, quarters and months, newest first (1 query)."""

    years: list[Period]
    quarters: list[Period]
    months: list[Period]


def period_choices() -> PeriodChoices:
    """Every period, by kind, for the picker of the forecast and KPI pages (1 query)."""
    by_kind: dict[str, list[Period]] = {kind: [] for kind in Period.Kind.values}
    for period in Period.objects.order_by("-start_on", "kind"):
        by_kind.setdefault(period.kind, []).append(period)
    return PeriodChoices(
        years=by_kind[Period.Kind.YEAR],
        quarters=by_kind[Period.Kind.QUARTER],
        months=by_kind[Period.Kind.MONTH],
    )


def rollup_list(*, viewer: User, period: Period | None = None) -> QuerySet[ForecastRollup]:
    qs = ForecastRollup.objects.visible_to(viewer).select_related("person", "period")
    if period is not None:
        qs = qs.filter(period=period)
    return qs.order_by("period__start_on", "period_id", "person_id", "scope")


def call_list(*, viewer: User, period: Period | None = None, layer: str | None = None):
    qs = ForecastCall.objects.visible_to(viewer).select_related("person", "period", "submitted_by")
    if period is not None:
        qs = qs.filter(period=period)
    if layer:
        qs = qs.filter(layer=layer)
    return qs.order_by("-submitted_at", "-id")


def kpi_list(*, viewer: User, period: Period | None = None) -> QuerySet[KpiSnapshot]:
    qs = KpiSnapshot.objects.filter(person__in=visible_users(viewer)).select_related(
        "person", "period"
    )
    if period is not None:
        qs = qs.filter(period=period)
    return qs.order_by("period__start_on", "period_id", "person_id", "scope")


def snapshot_list(*, viewer: User, taken_on: dt.date | None = None):
    qs = OpportunitySnapshot.objects.filter(owner__in=visible_users(viewer)).select_related(
        "opportunity", "owner", "stage"
    )
    if taken_on is not None:
        qs = qs.filter(taken_on=taken_on)
    return qs.order_by("-taken_on", "opportunity_id")


def flag_list(
    *, viewer: User, person: User | None = None, kind: str = "", imported_apart: bool = False
):
    """Flags on deals the viewer sees, optionally of one person's subtree and one kind.

    ``imported_apart``: without a kind, leave out the "imported, not yet worked here" group
    (the flags page lists it on its own: history from the old system, not neglect).
    """
    qs = InspectionFlag.objects.visible_to(viewer).select_related("opportunity", "owner")
    if person is not None:
        qs = qs.filter(owner_id__in=subtree_user_ids(manager=person))
    if kind:
        qs = qs.filter(kind=kind)
    elif imported_apart:
        qs = qs.exclude(kind=FlagKind.IMPORTED_UNWORKED)
    return qs.order_by(
        "owner__last_name", "owner_id", "opportunity__expected_close_on", "opportunity_id", "kind"
    )


def calibration_frame() -> pd.DataFrame:
    rows = CalibrationBucket.objects.values_list(
        "process__name", "bucket_low", "bucket_high", "predicted_rate", "actual_rate", "count"
    )
    return pd.DataFrame(
        list(rows),
        columns=["process", "bucket_low", "bucket_high", "predicted_rate", "actual_rate", "count"],
    )


@dataclass
class NodeRow:
    """One person in a forecast table: the system's figures and each call layer."""

    person: User
    depth: int
    rollup: ForecastRollup | None
    call: ForecastCall | None
    adjustment: ForecastCall | None
    record: CallOfRecord | None

    @property
    def system_commit(self):
        return self.rollup.cumulative_commit_amount if self.rollup else None

    @property
    def call_commit(self):
        if self.adjustment:
            return self.adjustment.commit_amount
        return self.call.commit_amount if self.call else None

    @property
    def difference(self):
        if self.call_commit is None or self.system_commit is None:
            return None
        return self.call_commit - self.system_commit


@dataclass
class ForecastView:
    person: User
    period: Period
    own: ForecastRollup | None
    team: ForecastRollup | None
    self_row: NodeRow
    rows: list[NodeRow] = field(default_factory=list)


def forecast_people(*, person: User, whole_tree: bool) -> QuerySet[User]:
    """The people a forecast table lists under ``person``: the direct reports, or the whole
    subtree in tree order. A page of it goes to ``forecast_view``."""
    if whole_tree:
        return User.objects.filter(ancestor_path__startswith=person.subtree_path).order_by(
            "ancestor_path", "last_name", "id"
        )
    return User.objects.filter(manager=person).order_by("last_name", "first_name", "id")


def forecast_view(
    *,
    viewer: User,
    person: User,
    period: Period,
    whole_tree: bool = False,
    people: list[User] | None = None,
) -> ForecastView:
    """The person's figures and, for each direct report (or the whole subtree), every layer.

    ``people``: the rows to show, a page of ``forecast_people`` (the page reads the figures
    of its own rows only: an organisation's whole tree runs to thousands); all when None.
    Queries: people (1, none when given), rollups (1), calls (1), calls of record (1) —
    whatever the number of rows.
    """
    if people is None:
        people = list(forecast_people(person=person, whole_tree=whole_tree))
    ids = [person.pk, *[p.pk for p in people]]
    # The rows show each person's subtree figures; only ``person`` shows their own too.
    rollups = {
        (r.person_id, r.scope): r
        for r in ForecastRollup.objects.filter(
            Q(scope=Scope.SUBTREE) | Q(person=person), period=period, person_id__in=ids
        )
    }
    # Only each person's latest call per layer and latest call of record: every earlier
    # submission and weekly lock stays in the table as history, a dozen rows a person a
    # quarter, and loading them all cost the executive's page 2,400 rows (make load).
    latest_call = ForecastCall.objects.filter(
        person=OuterRef("person"), period=OuterRef("period"), layer=OuterRef("layer")
    ).order_by("-submitted_at", "-id")
    calls = ForecastCall.objects.filter(
        period=period, person_id__in=ids, pk=Subquery(latest_call.values("pk")[:1])
    ).select_related("submitted_by")  # who adjusted shows on each row
    latest = {(call.person_id, call.layer): call for call in calls}
    latest_record = CallOfRecord.objects.filter(
        person=OuterRef("person"), period=OuterRef("period")
    ).order_by("-locked_on")
    records = {
        record.person_id: record
        for record in CallOfRecord.objects.filter(
            period=period, person_id__in=ids, pk=Subquery(latest_record.values("pk")[:1])
        )
    }
    base_depth = person.ancestor_path.count("/")

    def row(p: User) -> NodeRow:
        return NodeRow(
            person=p,
            depth=p.ancestor_path.count("/") - base_depth,
            rollup=rollups.get((p.pk, Scope.SUBTREE)),
            call=latest.get((p.pk, CallLayer.OWNER)),
            adjustment=latest.get((p.pk, CallLayer.MANAGER)),
            record=records.get(p.pk),
        )

    view = ForecastView(
        person=person,
        period=period,
        own=rollups.get((person.pk, Scope.OWN)),
        team=rollups.get((person.pk, Scope.SUBTREE)),
        self_row=row(person),
        rows=[row(p) for p in people],
    )
    return view


def accuracy_summary(*, viewer: User, person: User | None = None) -> pd.DataFrame:
    """Accuracy, MAPE, bias and tracking signal per visible person and source."""
    qs = AccuracyEntry.objects.filter(person__in=visible_users(viewer))
    if person is not None:
        qs = qs.filter(person_id__in=subtree_user_ids(manager=person))
    rows = qs.values_list("person_id", "source", "forecast_amount", "actual_amount")
    entries = pd.DataFrame(
        list(rows), columns=["person_id", "source", "forecast_amount", "actual_amount"]
    )
    return accuracy.summarize(entries)


def accuracy_of_person(*, person: User) -> pd.DataFrame:
    """``accuracy_summary``'s rows of the person alone (the forecast page shows only those);
    the caller has checked the viewer sees them."""
    rows = AccuracyEntry.objects.filter(person=person).values_list(
        "person_id", "source", "forecast_amount", "actual_amount"
    )
    entries = pd.DataFrame(
        list(rows), columns=["person_id", "source", "forecast_amount", "actual_amount"]
    )
    return accuracy.summarize(entries)


def best_projection_source() -> str:
    """The projection method whose backtest is better everywhere (default: run rate).

    ``analytics.accuracy.best_model_source`` weighs each person's MAPE by their entries, which
    is the MAPE over all entries: one aggregate query, not every entry into pandas.
    """
    # As floats, like pandas (SQLite would divide whole-number decimals as integers).
    forecast, actual = Cast("forecast_amount", FloatField()), Cast("actual_amount", FloatField())
    error = Abs(forecast - actual) / actual
    mapes = (
        AccuracyEntry.objects.filter(source__in=MODEL_SOURCES, actual_amount__gt=0)
        .order_by()
        .values("source")
        .annotate(mape=Avg(error, output_field=FloatField()))
    )
    ranked = sorted((float(row["mape"]), row["source"]) for row in mapes)
    return ranked[0][1] if ranked else ForecastSource.MODEL_RUN_RATE


def deal_probability_list(*, viewer: User, person: User, period: Period):
    return (
        DealProbability.objects.filter(period=period, owner_id__in=subtree_user_ids(manager=person))
        .filter(owner__in=visible_users(viewer))
        .select_related("opportunity", "owner")
        .order_by("-amount", "opportunity_id")
    )


def waterfall_for(
    *, person: User, period: Period, start_at: dt.datetime, end_at: dt.datetime
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The person's subtree's open-pipeline waterfall for ``period`` between two moments.

    Exact for any two moments (``start_at`` <= ``end_at``), and as exact as replaying every
    deal: a deal with nothing in its change log (category choices included) after ``start_at``
    stood at both moments exactly as it stands now, so it adds the same to the start and the
    end and is no change; only the deals that moved since ``start_at`` are replayed. The
    usual weekly comparison replays a week of changes, not the quarter's history.
    A deal belongs to the node when its owner at that moment is in the subtree.
    """
    owner_ids = set(subtree_user_ids(manager=person))
    moved_log = OpportunityChange.objects.filter(changed_at__gt=start_at).values("opportunity_id")
    among = [moved_log]
    if len(owner_ids) <= EVER_OWNED_LIMIT:
        # A team's waterfall: only deals the log shows in the team at some point (creation
        # logs the first owner), not every deal that moved in the company.
        ever_owned = OpportunityChange.objects.filter(
            field=OpportunityChange.Field.OWNER, new_value__in=[str(pk) for pk in owner_ids]
        ).values("opportunity_id")
        among = [query.filter(opportunity_id__in=ever_owned) for query in among]
    steps, changes = _replayed_waterfall(
        owner_ids=owner_ids,
        period=period,
        start_at=start_at,
        end_at=end_at,
        among=among,
    )
    # Deals that did not move: open, in the period and in the subtree now, hence at the start.
    steady = (
        Opportunity.objects.open()
        .closing_between(period.start_on, period.end_on)
        .filter(owner_id__in=owner_ids)
        .exclude(pk__in=moved_log)
        .values_list("amount", "currency", "expected_close_on")
    )
    frame = pd.DataFrame(list(steady), columns=["amount", "currency", "day"])
    rates = RateTable.load()
    frame["currency"] = frame["currency"].replace("", rates.reporting)
    steady_total = float(to_reporting(frame, rates, day_column="day").sum())
    start_total = steady_total + float(steps.iloc[0]["amount"])
    return waterfall.waterfall_steps(start_total, changes), changes


def waterfall_replayed(
    *, person: User, period: Period, start_at: dt.datetime, end_at: dt.datetime
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The same waterfall replaying every deal ever expected in the period (slow; the
    reference ``waterfall_for`` is tested against)."""
    return _replayed_waterfall(
        owner_ids=set(subtree_user_ids(manager=person)),
        period=period,
        start_at=start_at,
        end_at=end_at,
        among=None,
    )


def _replayed_waterfall(
    *,
    owner_ids: set[int],
    period: Period,
    start_at: dt.datetime,
    end_at: dt.datetime,
    among: list[QuerySet] | None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Replay the deals (among those of the ``among`` id queries, if given) that were expected
    to close in the period at some point by ``end_at``: only those can enter its pipeline."""
    expected = OpportunityChange.objects.filter(
        field=OpportunityChange.Field.EXPECTED_CLOSE_ON,
        new_value__gte=period.start_on.isoformat(),  # ISO dates compare as text
        new_value__lte=period.end_on.isoformat(),
        changed_at__lte=end_at,
    ).order_by()  # the model's ordering would make DISTINCT keep every row
    # One query per id source: an OR of two IN-subqueries would scan the whole log.
    queries = (
        [expected] if among is None else [expected.filter(opportunity_id__in=q) for q in among]
    )
    ids: set[int] = set()
    for query in queries:
        ids.update(query.values_list("opportunity_id", flat=True).distinct())
    history = History(opportunity_ids=sorted(ids), rates=RateTable.load(), until=end_at)
    start = history.as_of(start_at)
    end = history.as_of(end_at)
    start = start[start["owner_id"].isin(owner_ids)]
    end = end[end["owner_id"].isin(owner_ids)]
    changes = waterfall.classify_changes(
        start, end, period_start=period.start_on, period_end=period.end_on
    )
    close = pd.to_datetime(start["expected_close_on"])
    in_start = (
        (start["status"] == "open")
        & (close >= pd.Timestamp(period.start_on))
        & (close <= pd.Timestamp(period.end_on))
    )
    steps = waterfall.waterfall_steps(float(start.loc[in_start, "amount"].sum()), changes)
    return steps, changes


def probability_list(*, viewer: User) -> QuerySet[DealProbability]:
    return (
        DealProbability.objects.filter(owner__in=visible_users(viewer))
        .select_related("opportunity", "owner", "period")
        .order_by("period_id", "opportunity_id")
    )


@dataclass(frozen=True)
class KpiRow:
    """One node of the KPI page: the person (a rep, a manager, an office) and their rows."""

    person: User
    own: KpiSnapshot | None
    team: KpiSnapshot | None


def kpi_rows(*, person: User, period: Period) -> tuple[KpiRow, QuerySet[User]]:
    """The person's KPI rows and their direct reports (a queryset: the page paginates it and
    loads the rows of one page with ``kpi_rows_of``); the caller checked the viewer sees them."""
    reports = User.objects.filter(manager=person).order_by("last_name", "first_name", "id")
    return kpi_rows_of(people=[person], period=period)[0], reports


def kpi_rows_of(*, people: list[User], period: Period) -> list[KpiRow]:
    """Each person's own and subtree KPI rows for the period, in order (1 query)."""
    rows = {
        (k.person_id, k.scope): k
        for k in KpiSnapshot.objects.filter(period=period, person_id__in=[p.pk for p in people])
    }
    return [
        KpiRow(person=p, own=rows.get((p.pk, Scope.OWN)), team=rows.get((p.pk, Scope.SUBTREE)))
        for p in people
    ]


def kpis_for(*, person: User, period: Period) -> dict[str, KpiSnapshot]:
    """The person's KPI rows for the period by scope ("own", "subtree"); one query."""
    return {k.scope: k for k in KpiSnapshot.objects.filter(person=person, period=period)}
