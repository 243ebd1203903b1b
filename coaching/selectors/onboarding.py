"""Reads for onboarding programmes: the curriculum, enrolments with their progress, and how
fast new hires become productive (by cohort, and before/after a programme)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
from django.db.models import Count, F, Prefetch, QuerySet
from django.http import Http404
from django.utils import timezone

from accounts.models import MilestoneCompletion, Opportunity
from accounts.stages import current_completions
from salesmgmt.models import Period, Role, User
from salesmgmt.visibility import owned_by_visible
from territories.selectors.attainment import attainment_by_period

from .. import time_to_productivity as ttp
from ..models import CallDebrief, Enrolment, Programme, ProgrammeStep, StepCompletion
from ..programme_progress import Progress, progress_of

# New hires compared by cohort: those who started in the last this many quarters.
COHORT_QUARTERS = 8


# --- programmes -----------------------------------------------------------------------------------


def programme_list() -> QuerySet[Programme]:
    """Every programme with its number of steps and enrolments (1 query)."""
    return Programme.objects.annotate(
        step_count=Count("steps", distinct=True), enrolment_count=Count("enrolments", distinct=True)
    ).order_by("name", "id")


def programme_get(*, pk: int) -> Programme:
    """The programme with its steps in order (2 queries); a missing one is a 404."""
    programme = (
        Programme.objects.filter(pk=pk)
        .prefetch_related(
            Prefetch(
                "steps",
                queryset=ProgrammeStep.objects.select_related("milestone").order_by("order", "id"),
            )
        )
        .first()
    )
    if programme is None:
        raise Http404("No such programme.")
    return programme


def step_get(*, programme: Programme, pk: int) -> ProgrammeStep:
    step = ProgrammeStep.objects.filter(programme=programme, pk=pk).first()
    if step is None:
        raise Http404("No such step.")
    return step


# --- enrolments -----------------------------------------------------------------------------------


def enrolment_list(*, viewer: User) -> QuerySet[Enrolment]:
    """Enrolments of the people ``viewer`` sees (a rep: their own), newest first."""
    return (
        Enrolment.objects.filter(owned_by_visible(viewer, "rep"))
        .select_related("programme", "rep", "enrolled_by")
        .order_by("-started_on", "-id")
    )


def enrolment_get(*, viewer: User, pk: int) -> Enrolment:
    enrolment = enrolment_list(viewer=viewer).filter(pk=pk).first()
    if enrolment is None:
        raise Http404("No such enrolment.")
    return enrolment


def practice_hits(
    *, rep_ids: list[int], milestone_ids: list[int]
) -> dict[int, dict[int, list[tuple[dt.date, int]]]]:
    """Per rep and milestone, the days (ascending) it counts as complete on one of the rep's own
    deals, with the deal: read from the deals' milestone records, never copied (1 query)."""
    if not rep_ids or not milestone_ids:
        return {}
    records = (
        MilestoneCompletion.objects.filter(
            opportunity__owner_id__in=rep_ids, milestone_id__in=milestone_ids
        )
        .annotate(owner_id=F("opportunity__owner_id"))
        .only("opportunity_id", "milestone_id", "action", "verification_state", "completed_at")
        .order_by("completed_at", "id")
    )
    by_deal: dict[tuple[int, int], list[MilestoneCompletion]] = defaultdict(list)
    for row in records:
        by_deal[(row.owner_id, row.opportunity_id)].append(row)
    hits: dict[int, dict[int, list[tuple[dt.date, int]]]] = defaultdict(lambda: defaultdict(list))
    for (owner_id, deal_id), deal_records in by_deal.items():
        for milestone_id, latest in current_completions(deal_records).items():
            if latest.counts:
                day = timezone.localtime(latest.completed_at).date()
                hits[owner_id][milestone_id].append((day, deal_id))
    for by_milestone in hits.values():
        for days in by_milestone.values():
            days.sort()
    return hits


def enrolment_progress(
    *, enrolments: list[Enrolment], today: dt.date | None = None
) -> dict[int, Progress]:
    """Each enrolment's progress (3 queries however many: steps, completions, practice)."""
    if not enrolments:
        return {}
    today = today or timezone.localdate()
    programme_ids = {e.programme_id for e in enrolments}
    steps: dict[int, list[ProgrammeStep]] = defaultdict(list)
    for step in (
        ProgrammeStep.objects.filter(programme_id__in=programme_ids)
        .select_related("milestone")
        .order_by("programme_id", "order", "id")
    ):
        steps[step.programme_id].append(step)
    completions: dict[int, list[StepCompletion]] = defaultdict(list)
    for completion in (
        StepCompletion.objects.filter(enrolment_id__in=[e.pk for e in enrolments])
        .select_related("completed_by", "debrief")
        .order_by("completed_on", "id")
    ):
        completions[completion.enrolment_id].append(completion)
    milestone_ids = [
        s.milestone_id for group in steps.values() for s in group if s.milestone_id is not None
    ]
    practice = practice_hits(rep_ids=[e.rep_id for e in enrolments], milestone_ids=milestone_ids)
    return {
        e.pk: progress_of(
            steps=steps[e.programme_id],
            completions=completions[e.pk],
            practice=practice.get(e.rep_id, {}),
            started_on=e.started_on,
            today=today,
        )
        for e in enrolments
    }


def debriefs_for_evidence(*, viewer: User, rep: User) -> list[CallDebrief]:
    """The rep's debriefs ``viewer`` sees, newest first, to cite as a certification's evidence."""
    return list(
        CallDebrief.objects.filter(rep=rep)
        .filter(owned_by_visible(viewer, "rep"))
        .select_related("manager")
        .order_by("-held_on", "-id")[:50]
    )


# --- time to first deal and to quota ----------------------------------------------------------


def cohort_quarters(*, today: dt.date) -> list[Period]:
    """The last ``COHORT_QUARTERS`` quarters begun by ``today``, oldest first (1 query)."""
    quarters = Period.objects.filter(kind=Period.Kind.QUARTER, start_on__lte=today)
    return list(reversed(quarters.order_by("-start_on")[:COHORT_QUARTERS]))


@dataclass
class RampFigures:
    """Days to first deal and to quota of recent hires (and any other people asked for)."""

    figures: pd.DataFrame
    cohorts: pd.DataFrame
    window_start: dt.date | None


def ramp_figures(*, today: dt.date | None = None, extra_ids: Sequence[int] = ()) -> RampFigures:
    """Reps who started in the cohort window (and ``extra_ids``), with their days to first deal
    and to quota. Queries: quarters, hires, their won deals, then one attainment read over
    all the quarters (the stored figures)."""
    today = today or timezone.localdate()
    quarters = cohort_quarters(today=today)
    window_start = quarters[0].start_on if quarters else None
    hires_qs = User.objects.filter(role=Role.REP, is_org_unit=False, hire_date__isnull=False)
    if window_start is not None:
        hires_qs = hires_qs.filter(hire_date__gte=window_start) | hires_qs.filter(
            pk__in=list(extra_ids)
        )
    else:
        hires_qs = hires_qs.filter(pk__in=list(extra_ids))
    hires = pd.DataFrame(
        list(hires_qs.order_by("pk").values_list("pk", "hire_date")),
        columns=["person_id", "hire_date"],
    )
    ids = hires["person_id"].tolist()
    wins = pd.DataFrame(
        list(
            Opportunity.objects.filter(
                owner_id__in=ids, status=Opportunity.Status.WON, closed_on__isnull=False
            ).values_list("owner_id", "closed_on")
        ),
        columns=["owner_id", "closed_on"],
    )
    rows = []
    if ids:
        by_period = attainment_by_period(periods=quarters, user_ids=ids)
        for quarter in quarters:
            for person_id, figure in by_period[quarter.pk].items():
                rows.append((person_id, quarter.end_on, figure.percent))
    attainment = pd.DataFrame(rows, columns=["person_id", "end_on", "percent"])
    figures = ttp.new_hire_figures(hires=hires, wins=wins, attainment=attainment, today=today)
    return RampFigures(
        figures=figures, cohorts=ttp.cohort_table(figures), window_start=window_start
    )


@dataclass
class NewHireRow:
    enrolment: Enrolment
    progress: Progress
    cohort: str | None
    days_to_first_deal: float | None
    days_to_quota: float | None
    earlier_first_deal: float | None
    earlier_quota: float | None


@dataclass
class ProgrammeEffect:
    programme: Programme
    table: pd.DataFrame


@dataclass
class OnboardingView:
    rows: list[NewHireRow]
    cohorts: pd.DataFrame
    effects: list[ProgrammeEffect]
    window_start: dt.date | None


def _value(frame: pd.DataFrame, person_id: int, column: str) -> float | None:
    if person_id not in frame.index:
        return None
    value = frame.at[person_id, column]
    return None if pd.isna(value) else float(value)


def programme_effects(
    *, programmes: list[Programme], figures: pd.DataFrame
) -> list[ProgrammeEffect]:
    """Per programme: reps enrolled against reps of its role hired before it launched (2
    queries: the enrolled reps, the earlier hires' roles)."""
    if not programmes:
        return []
    enrolled: dict[int, list[int]] = defaultdict(list)
    for programme_id, rep_id in Enrolment.objects.filter(programme__in=programmes).values_list(
        "programme_id", "rep_id"
    ):
        enrolled[programme_id].append(rep_id)
    roles = dict(User.objects.filter(pk__in=figures.index.tolist()).values_list("pk", "sales_role"))
    effects = []
    for programme in programmes:
        before = [
            person_id
            for person_id, hire_date in figures["hire_date"].items()
            if hire_date < programme.launched_on
            and person_id not in enrolled[programme.pk]
            and (not programme.sales_role or roles.get(person_id) == programme.sales_role)
        ]
        table = ttp.programme_effect(
            figures, enrolled_ids=enrolled[programme.pk], before_ids=before
        )
        effects.append(ProgrammeEffect(programme=programme, table=table))
    return effects


def onboarding_view(
    *, viewer: User, today: dt.date | None = None, limit: int = 100, with_figures: bool = True
) -> OnboardingView:
    """The onboarding page: each visible enrolment's progress and, for people who lead,
    each new hire's days to first deal and to quota against earlier cohorts, the cohorts,
    and each programme's effect. A fixed number of queries, whatever the number of rows."""
    today = today or timezone.localdate()
    enrolments = list(enrolment_list(viewer=viewer)[:limit])
    progress = enrolment_progress(enrolments=enrolments, today=today)
    if not with_figures:
        rows = [NewHireRow(e, progress[e.pk], None, None, None, None, None) for e in enrolments]
        return OnboardingView(rows, ttp.cohort_table(pd.DataFrame()), [], None)
    ramp = ramp_figures(today=today, extra_ids=[e.rep_id for e in enrolments])
    figures = ramp.figures
    rows = []
    for e in enrolments:
        cohort = figures.at[e.rep_id, "cohort"] if e.rep_id in figures.index else None
        rows.append(
            NewHireRow(
                enrolment=e,
                progress=progress[e.pk],
                cohort=cohort,
                days_to_first_deal=_value(figures, e.rep_id, "days_to_first_deal"),
                days_to_quota=_value(figures, e.rep_id, "days_to_quota"),
                earlier_first_deal=ttp.earlier_cohorts_median(
                    figures, cohort=cohort, column="days_to_first_deal"
                )
                if cohort
                else None,
                earlier_quota=ttp.earlier_cohorts_median(
                    figures, cohort=cohort, column="days_to_quota"
                )
                if cohort
                else None,
            )
        )
    programmes = list(Programme.objects.order_by("name", "id"))
    return OnboardingView(
        rows=rows,
        cohorts=ramp.cohorts,
        effects=programme_effects(programmes=programmes, figures=figures),
        window_start=ramp.window_start,
    )
