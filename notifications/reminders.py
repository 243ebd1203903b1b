"""The notifications the clock raises (no service emits them): forecast calls due and
overdue, the manager's roll-up of missing calls, action items overdue, development goals due.

Run hourly by ``tasks.raise_reminders``; each reminder's dedupe key names its window (the
forecast week, the item), so a second run in the window stores and mails nothing new.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from coaching.models import ActionItem, DevelopmentGoal, DevelopmentPlan
from coaching.selectors import plan_get, review_get
from forecasting.models import CallLayer, ForecastCall
from salesmgmt.company_settings import company_settings_get
from salesmgmt.models import Period, Role, User
from salesmgmt.selectors import period_current

from .drafts import Draft
from .events import manager_of
from .kinds import Kind
from .models import Notification
from .services import notifications_deliver

CALLERS = (Role.REP, Role.MANAGER)


@dataclass(frozen=True)
class CallWeek:
    """The forecast week ``now`` falls in, in the company's time zone, and its call deadline."""

    period: Period
    starts_at: dt.datetime
    deadline: dt.datetime
    label: str  # "2026-W49": the reminders' window

    @property
    def opens_reminders_at(self) -> dt.datetime:
        return self.deadline - dt.timedelta(hours=settings.NOTIFICATIONS_CALL_DUE_HOURS_BEFORE)


def call_week(*, now: dt.datetime) -> CallWeek | None:
    zone = ZoneInfo(company_settings_get().time_zone)
    local = now.astimezone(zone)
    monday = local.date() - dt.timedelta(days=local.weekday())
    period = period_current(day=local.date())
    if period is None or period.kind != Period.Kind.QUARTER:
        return None
    starts_at = dt.datetime.combine(monday, dt.time(0), tzinfo=zone)
    deadline_day = monday + dt.timedelta(days=settings.NOTIFICATIONS_CALL_DEADLINE_WEEKDAY)
    deadline = dt.datetime.combine(
        deadline_day, dt.time(settings.NOTIFICATIONS_CALL_DEADLINE_HOUR), tzinfo=zone
    )
    year, week, _ = monday.isocalendar()
    return CallWeek(period, starts_at, deadline, f"{year}-W{week:02d}")


def callers() -> QuerySet[User]:
    return User.objects.filter(is_active=True, is_org_unit=False, role__in=CALLERS)


def has_called(*, person_id: int, week: CallWeek) -> bool:
    """Whether the person's own call for the week's quarter was submitted this week."""
    return ForecastCall.objects.filter(
        person_id=person_id,
        period=week.period,
        layer=CallLayer.OWNER,
        submitted_at__gte=week.starts_at,
    ).exists()


def missing_callers(*, week: CallWeek) -> list[User]:
    called = ForecastCall.objects.filter(
        period=week.period, layer=CallLayer.OWNER, submitted_at__gte=week.starts_at
    ).values("person_id")
    return list(callers().exclude(pk__in=called).select_related("manager").order_by("pk"))


def call_drafts(*, now: dt.datetime) -> list[Draft]:
    """Due before the deadline, overdue after it (to each person), and the roll-up."""
    week = call_week(now=now)
    if week is None or now < week.opens_reminders_at:
        return []
    overdue = now >= week.deadline
    kind = Kind.CALL_OVERDUE if overdue else Kind.CALL_DUE
    link = reverse("forecasting:forecast") + f"?period={week.period.pk}"
    missing = missing_callers(week=week)
    when = f"{week.deadline:%A %H:%M} ({week.deadline.tzname()})"
    drafts = [
        Draft(
            recipient=person,
            kind=kind,
            title=(
                f"Your {week.period} call is overdue"
                if overdue
                else f"Your {week.period} call is due by {when}"
            ),
            body="Submit your commit and best case for the week's call of record.",
            link=link,
            dedupe_key=f"{kind}:{week.period.pk}:{week.label}",
            subject_label="salesmgmt.period",
            subject_id=week.period.pk,
        )
        for person in missing
    ]
    if overdue:
        drafts += _rollups(missing, week, link)
    return drafts


def _rollups(missing: list[User], week: CallWeek, link: str) -> list[Draft]:
    by_manager: dict[int, tuple[User, list[User]]] = {}
    for person in missing:
        manager = manager_of(person)
        if manager is not None:
            by_manager.setdefault(manager.pk, (manager, []))[1].append(person)
    return [
        Draft(
            recipient=manager,
            kind=Kind.CALLS_MISSING,
            title=f"{len(people)} of your team have not called {week.period}",
            body=", ".join(str(p) for p in people),
            link=link,
            dedupe_key=f"calls_missing:{week.period.pk}:{week.label}",
            subject_label="salesmgmt.period",
            subject_id=week.period.pk,
        )
        for manager, people in by_manager.values()
    ]


def _told(kind: str) -> QuerySet:
    """The records a once-only reminder was already stored for (so a batch moves on)."""
    return Notification.objects.filter(kind=kind, subject_id__isnull=False).values("subject_id")


def action_item_drafts(*, today: dt.date) -> list[Draft]:
    items = (
        ActionItem.objects.filter(done_at__isnull=True, due_on__lt=today)
        .exclude(pk__in=_told(Kind.ACTION_OVERDUE))
        .select_related("owner", "review__account")
    )
    return [
        Draft(
            recipient=item.owner,
            kind=Kind.ACTION_OVERDUE,
            title=f"Overdue since {item.due_on:%Y-%m-%d}: {item.description}",
            body=f"From the account review of {item.review.account}.",
            link=reverse("coaching:review_detail", args=[item.review_id]),
            dedupe_key=f"action_overdue:{item.pk}",
            subject_label="coaching.actionitem",
            subject_id=item.pk,
            fetch=lambda viewer, review_id=item.review_id: review_get(viewer=viewer, pk=review_id),
        )
        for item in items.order_by("pk")[: settings.NOTIFICATIONS_REMINDERS_BATCH]
    ]


def goal_drafts(*, today: dt.date) -> list[Draft]:
    soon = today + dt.timedelta(days=settings.NOTIFICATIONS_GOAL_DUE_DAYS)
    goals = (
        DevelopmentGoal.objects.filter(
            plan__status=DevelopmentPlan.Status.ACTIVE, target_on__gte=today, target_on__lte=soon
        )
        .exclude(pk__in=_told(Kind.GOAL_DUE))
        .select_related("plan__rep")
    )
    return [
        Draft(
            recipient=goal.plan.rep,
            kind=Kind.GOAL_DUE,
            title=f"Goal due {goal.target_on:%Y-%m-%d}: {goal.description}",
            body=f"Development plan “{goal.plan.title}”.",
            link=reverse("coaching:plan_detail", args=[goal.plan_id]),
            dedupe_key=f"goal_due:{goal.pk}",
            subject_label="coaching.developmentgoal",
            subject_id=goal.pk,
            fetch=lambda viewer, plan_id=goal.plan_id: plan_get(viewer=viewer, pk=plan_id),
        )
        for goal in goals.order_by("pk")[: settings.NOTIFICATIONS_REMINDERS_BATCH]
    ]


def reminders_raise(*, now: dt.datetime | None = None) -> int:
    """Store (and mail) every reminder due at ``now``; idempotent per window."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    drafts = call_drafts(now=now) + action_item_drafts(today=today) + goal_drafts(today=today)
    return len(notifications_deliver(drafts=drafts))
