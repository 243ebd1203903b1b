"""The weekly digest's content: what a person should look at this week, with links.

Read-only: every figure comes from what the pages already read (the precomputed attainment,
the weekly forecast snapshots, the inspection flags, the calls and the verification queue),
through the one visibility policy, so the digest never shows a number the person could not
open. ``weekly_digest`` builds it for one person and one week; ``digest_render`` turns it into
the e-mail's subject, plain text and HTML. Sending, preferences and scheduling belong to the
rest of this app (the hourly ``send_due_digests`` task).

A manager's digest (also an executive's or an admin's: anyone who leads people) covers their
reporting subtree: the team's attainment and each direct report's, the forecast change since
last week's snapshot, the deals flagged, who has not submitted a call this week, the
milestones waiting for their verification. A rep's covers their own: attainment, forecast
change, flagged deals, whether their call is in, and the verdicts on their milestones.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.models import MilestoneCompletion
from accounts.selectors import pending_verifications
from forecasting.models import CallLayer, FlagKind, ForecastCall, InspectionFlag
from forecasting.selectors.snapshots import SnapshotFigures, week_snapshot
from salesmgmt.company_settings import company_settings_get
from salesmgmt.models import Period, Role, User
from salesmgmt.selectors import period_containing
from salesmgmt.visibility import leads_people, owned_by_visible
from territories.selectors.attainment import Attainment, attainment_by_user

# The flags a digest reports (issue 18): pushed twice, stale, stuck, past close date,
# single-threaded on a large deal. The others stay on the flags page.
DIGEST_FLAGS = (
    FlagKind.PUSHED_TWICE,
    FlagKind.NO_ACTIVITY,
    FlagKind.STUCK_IN_STAGE,
    FlagKind.CLOSE_DATE_PAST,
    FlagKind.SINGLE_CONTACT,
)
SELLING_ROLES = (Role.REP, Role.MANAGER, Role.EXECUTIVE)
# Each list shows at most this many lines and says how many more there are.
LIST_LIMIT = 10
# Flag rows read at most: enough for LIST_LIMIT deals with every digest flag each.
FLAG_ROWS_READ = LIST_LIMIT * len(DIGEST_FLAGS)
FLAG_FIELDS = (
    "opportunity_id", "opportunity__name", "opportunity__account__name",
    "opportunity__amount", "opportunity__currency", "kind",
    "owner__first_name", "owner__last_name", "owner__username",
)  # fmt: skip
# make run's address, for links when SITE_URL is not set (production sets it).
DEFAULT_SITE_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class AttainmentLine:
    name: str
    bookings: Decimal
    quota: Decimal  # the ramped quota attainment is measured against
    percent: Decimal | None  # None without a quota
    url: str


@dataclass(frozen=True)
class ForecastChange:
    """Open pipeline closing in the period, this week's snapshot against last week's."""

    taken_on: dt.date
    previous_taken_on: dt.date | None  # None: no snapshot last week (all counts as change)
    commit_amount: Decimal
    best_case_amount: Decimal
    pipeline_amount: Decimal
    commit_change: Decimal
    best_case_change: Decimal
    pipeline_change: Decimal
    url: str


@dataclass(frozen=True)
class FlaggedDeal:
    name: str
    account: str
    owner: str
    amount: Decimal
    currency: str
    flags: tuple[str, ...]  # the flags' labels
    url: str


@dataclass(frozen=True)
class MissingCall:
    name: str
    url: str  # the forecast page of that person and period, where the call is made


@dataclass(frozen=True)
class MilestoneLine:
    deal: str
    milestone: str
    person: str  # who completed it (verification) or who decided (outcome)
    state: str  # "pending", "verified", "rejected"
    reason: str
    url: str


@dataclass
class WeeklyDigest:
    person: User
    is_manager: bool
    week_start: dt.date
    week_ending: dt.date
    period: Period | None
    home_url: str
    reporting_currency: str
    attainment: AttainmentLine | None = None
    team_attainment: list[AttainmentLine] = field(default_factory=list)
    forecast_change: ForecastChange | None = None
    flagged_deals: list[FlaggedDeal] = field(default_factory=list)
    flagged_deal_count: int = 0
    flags_url: str = ""
    missing_calls: list[MissingCall] = field(default_factory=list)
    missing_call_count: int = 0
    verifications_waiting: list[MilestoneLine] = field(default_factory=list)
    verifications_more: bool = False
    milestone_outcomes: list[MilestoneLine] = field(default_factory=list)

    @property
    def flagged_more(self) -> int:
        """Flagged deals beyond the list (on the flags page)."""
        return self.flagged_deal_count - len(self.flagged_deals)

    @property
    def missing_calls_more(self) -> int:
        return self.missing_call_count - len(self.missing_calls)

    @property
    def has_news(self) -> bool:
        """Whether anything needs the person (a digest without news may be skipped)."""
        return bool(
            self.flagged_deals
            or self.missing_calls
            or self.verifications_waiting
            or self.milestone_outcomes
            or (self.forecast_change and self.forecast_change.commit_change)
        )


@dataclass(frozen=True)
class RenderedDigest:
    subject: str
    text: str
    html: str


def absolute_url(path: str) -> str:
    """``path`` on the site's address (SITE_URL), for links that leave the site in e-mail."""
    return (settings.SITE_URL or DEFAULT_SITE_URL).rstrip("/") + path


def _forecast_url(person: User, period: Period) -> str:
    return absolute_url(f"{reverse('forecasting:forecast')}?person={person.pk}&period={period.pk}")


def _deal_url(opportunity_id: int) -> str:
    return absolute_url(reverse("accounts:opportunity_detail", args=[opportunity_id]))


def _window(week_ending: dt.date, time_zone: str) -> tuple[dt.datetime, dt.datetime]:
    """The digest's week: the seven days ending ``week_ending``, in the company's time zone."""
    zone = ZoneInfo(time_zone)
    start = dt.datetime.combine(week_ending - dt.timedelta(days=6), dt.time.min, tzinfo=zone)
    return start, dt.datetime.combine(week_ending + dt.timedelta(days=1), dt.time.min, tzinfo=zone)


def weekly_digest(*, person: User, week_ending: dt.date) -> WeeklyDigest:
    """The digest of ``person`` for the seven days ending ``week_ending`` (read-only).

    Queries, whatever the size of the team (17 for a manager, 16 for a rep): the company
    settings (1), the period (1), the team (1, managers), attainment (1), two weeks' snapshots
    (2 x 4), calls (2), flags (2), verifications waiting (managers) or verdicts (reps) (1).
    Attainment of a period never refreshed is computed live instead (a few more, fixed)."""
    company = company_settings_get()
    start, end = _window(week_ending, company.time_zone)
    is_manager = leads_people(person)
    period = period_containing(day=week_ending)
    digest = WeeklyDigest(
        person=person,
        is_manager=is_manager,
        week_start=start.date(),
        week_ending=week_ending,
        period=period,
        home_url=absolute_url(reverse(_home_page(person, is_manager=is_manager))),
        reporting_currency=company.reporting_currency,
    )
    if period is not None:
        _add_attainment(digest, period)
        _add_forecast_change(digest, period)
        _add_missing_calls(digest, period, start=start, end=end)
    _add_flags(digest)
    if is_manager:
        waiting = pending_verifications(viewer=person, limit=LIST_LIMIT + 1)
        digest.verifications_waiting = [_milestone_line(c, "pending") for c in waiting]
        digest.verifications_more = len(waiting) > LIST_LIMIT
        del digest.verifications_waiting[LIST_LIMIT:]
    else:
        digest.milestone_outcomes = _milestone_outcomes(person, start=start, end=end)
    return digest


def _home_page(person: User, *, is_manager: bool) -> str:
    """Where the person lands (salesmgmt.views.home): a manager's team, a rep's work."""
    if not is_manager:
        return "accounts:rep_home"
    return "coaching:team_dashboard" if person.role == Role.MANAGER else "home"


def _team(person: User) -> list[User]:
    """The manager's active direct reports who sell (1 query)."""
    return list(
        User.objects.filter(manager=person, is_active=True, role__in=SELLING_ROLES).order_by(
            "last_name", "first_name", "id"
        )
    )


def _attainment_line(person: User, figures: Attainment, url: str) -> AttainmentLine:
    return AttainmentLine(
        name=str(person),
        bookings=figures.bookings,
        quota=figures.ramped_quota,
        percent=figures.percent,
        url=url,
    )


def _add_attainment(digest: WeeklyDigest, period: Period) -> None:
    """The person's attainment (a manager's: their subtree's) and each direct report's, as
    last refreshed (1 query; +1 for a manager's team)."""
    person = digest.person
    team = _team(person) if digest.is_manager else []
    figures = attainment_by_user(period=period, user_ids=[person.pk, *(m.pk for m in team)])
    own_url = digest.home_url if digest.is_manager else _forecast_url(person, period)
    digest.attainment = _attainment_line(person, figures[person.pk], own_url)
    digest.team_attainment = [
        _attainment_line(member, figures[member.pk], _forecast_url(member, period))
        for member in team
    ]


def _figures(
    person: User, period: Period, day: dt.date, *, team: bool
) -> tuple[SnapshotFigures | None, dt.date | None]:
    """A week's snapshot figures and the day it was taken (4 queries)."""
    week = week_snapshot(person=person, period=period, day=day)
    return (week.team if team else week.own), week.taken_on


def _add_forecast_change(digest: WeeklyDigest, period: Period) -> None:
    """This week's snapshot of the open pipeline closing in the period against last week's
    (8 queries); nothing without a snapshot this week."""
    person, team = digest.person, digest.is_manager
    now, taken_on = _figures(person, period, digest.week_ending, team=team)
    if now is None or taken_on is None:
        return
    last_week = digest.week_ending - dt.timedelta(days=7)
    before, previous_taken_on = _figures(person, period, last_week, team=team)
    before = before or SnapshotFigures(person=person, scope=now.scope)
    digest.forecast_change = ForecastChange(
        taken_on=taken_on,
        previous_taken_on=previous_taken_on,
        commit_amount=now.commit_amount,
        best_case_amount=now.best_case_amount,
        pipeline_amount=now.pipeline_amount,
        commit_change=now.commit_amount - before.commit_amount,
        best_case_change=now.best_case_amount - before.best_case_amount,
        pipeline_change=now.pipeline_amount - before.pipeline_amount,
        url=_forecast_url(person, period),
    )


def _in_scope(person: User, owner_field: str = "owner") -> Q:
    """Rows owned by ``person`` or anyone in their reporting subtree (a rep: their own)."""
    return Q(**{owner_field: person.pk}) | Q(
        **{f"{owner_field}__ancestor_path__startswith": person.subtree_path}
    )


def _owner_name(row: dict) -> str:
    full = f"{row['owner__first_name']} {row['owner__last_name']}".strip()
    return full or row["owner__username"]


def _add_flags(digest: WeeklyDigest) -> None:
    """The deals in scope with a digest flag, by close date, a line per deal (2 queries)."""
    person = digest.person
    flags = (
        InspectionFlag.objects.visible_to(person)
        .filter(_in_scope(person), kind__in=DIGEST_FLAGS)
        .order_by()
    )
    digest.flagged_deal_count = flags.values("opportunity_id").distinct().count()
    digest.flags_url = absolute_url(f"{reverse('forecasting:flags')}?person={person.pk}")
    if not digest.flagged_deal_count:
        return
    rows = flags.values(*FLAG_FIELDS).order_by(
        "opportunity__expected_close_on", "opportunity_id", "kind"
    )[:FLAG_ROWS_READ]
    labels = dict(FlagKind.choices)
    deals: dict[int, dict] = {}
    for row in rows:
        deal = deals.setdefault(row["opportunity_id"], {**row, "flags": []})
        deal["flags"].append(labels[row["kind"]])
    digest.flagged_deals = [
        FlaggedDeal(
            name=deal["opportunity__name"],
            account=deal["opportunity__account__name"],
            owner=_owner_name(deal),
            amount=deal["opportunity__amount"],
            currency=deal["opportunity__currency"],
            flags=tuple(deal["flags"]),
            url=_deal_url(pk),
        )
        for pk, deal in list(deals.items())[:LIST_LIMIT]
    ]


def _add_missing_calls(
    digest: WeeklyDigest, period: Period, *, start: dt.datetime, end: dt.datetime
) -> None:
    """Who in scope sells and has not submitted a call of their own for the period in the
    digest's week (2 queries). A call carries over, but the forecast is called weekly: a
    week without a new call is a missing call."""
    person = digest.person
    subtree = Q(pk=person.pk) | Q(ancestor_path__startswith=person.subtree_path)
    owing = User.objects.filter(
        subtree if digest.is_manager else Q(pk=person.pk),
        is_active=True,
        is_org_unit=False,
        role__in=SELLING_ROLES,
    )
    called = set(
        ForecastCall.objects.filter(
            period=period,
            layer=CallLayer.OWNER,
            submitted_at__gte=start,
            submitted_at__lt=end,
            person__in=owing,
        ).values_list("person_id", flat=True)
    )
    missing = [
        user for user in owing.order_by("last_name", "first_name", "id") if user.pk not in called
    ]
    digest.missing_call_count = len(missing)
    digest.missing_calls = [
        MissingCall(name=str(user), url=_forecast_url(user, period))
        for user in missing[:LIST_LIMIT]
    ]


def _milestone_line(completion: MilestoneCompletion, state: str) -> MilestoneLine:
    who = completion.completed_by if state == "pending" else completion.verified_by
    return MilestoneLine(
        deal=completion.opportunity.name,
        milestone=completion.milestone.name,
        person=str(who) if who else "",
        state=state,
        reason=completion.rejection_reason,
        url=_deal_url(completion.opportunity_id),
    )


def _milestone_outcomes(
    person: User, *, start: dt.datetime, end: dt.datetime
) -> list[MilestoneLine]:
    """The verdicts given in the week on milestones of the person's deals or evidence
    (1 query)."""
    decided = (
        MilestoneCompletion.objects.filter(
            Q(completed_by=person) | owned_by_visible(person, "opportunity__owner"),
            verification_state__in=[
                MilestoneCompletion.Verification.VERIFIED,
                MilestoneCompletion.Verification.REJECTED,
            ],
            verified_at__gte=start,
            verified_at__lt=end,
        )
        .select_related("milestone", "opportunity", "verified_by")
        .order_by("verified_at", "id")[:LIST_LIMIT]
    )
    return [_milestone_line(c, c.verification_state) for c in decided]


def digest_subject(digest: WeeklyDigest) -> str:
    week = digest.week_ending.strftime("%-d %b %Y")
    whose = "Your team's week" if digest.is_manager else "Your week"
    return f"{whose} to {week}: salesmgmt digest"


def digest_render(digest: WeeklyDigest) -> RenderedDigest:
    """The digest as an e-mail: subject, plain text and HTML (the same content)."""
    subject = digest_subject(digest)
    context = {"digest": digest, "subject": subject}
    return RenderedDigest(
        subject=subject,
        text=render_to_string("notifications/digest_email.txt", context),
        html=render_to_string("notifications/digest_email.html", context),
    )
