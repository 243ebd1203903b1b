"""DemoDataBuilder and load_demo_data: one seeded run that draws and bulk-inserts the demo."""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import (
    Account,
    Activity,
    Contact,
    MilestoneCompletion,
    Opportunity,
    OpportunityChange,
    OpportunityTeamMember,
)
from compensation.models import CreditSplit, DealCancellation
from forecasting.models import CallOfRecord, ForecastCall
from salesmgmt.errors import ApplicationError
from salesmgmt.models import Role, SalesRole

from .accounts import AccountsMixin
from .calls import CallsMixin
from .deals import DealsMixin
from .org import DemoLogin, OrgMixin, demo_logins, demo_org_exists, demo_users
from .reference import ReferenceMixin
from .reset import delete_demo_data
from .vocabulary import HISTORY_QUARTERS, WARMUP_DAYS


@dataclass
class DemoResult:
    created: bool
    counts: dict[str, int]
    logins: list[DemoLogin]


def demo_counts() -> dict[str, int]:
    users = demo_users()
    deals = Opportunity.objects.filter(owner__in=users)
    return {
        "users": users.count(),
        "reps": users.filter(role=Role.REP).count(),
        "accounts": Account.objects.filter(owner__in=users).count(),
        "contacts": Contact.objects.filter(account__owner__in=users).count(),
        "opportunities": deals.count(),
        "won": deals.filter(status=Opportunity.Status.WON).count(),
        "lost": deals.filter(status=Opportunity.Status.LOST).count(),
        "open": deals.filter(status=Opportunity.Status.OPEN).count(),
        "milestone_completions": MilestoneCompletion.objects.filter(opportunity__in=deals).count(),
        "opportunity_changes": OpportunityChange.objects.filter(opportunity__in=deals).count(),
        "activities": Activity.objects.filter(opportunity__in=deals).count(),
        "team_members": OpportunityTeamMember.objects.filter(opportunity__in=deals).count(),
        "credit_splits": CreditSplit.objects.filter(opportunity__in=deals).count(),
        "cancellations": DealCancellation.objects.filter(opportunity__in=deals).count(),
        "forecast_calls": ForecastCall.objects.filter(person__in=users).count(),
        "calls_of_record": CallOfRecord.objects.filter(person__in=users).count(),
    }


@transaction.atomic
def load_demo_data(
    *,
    reps: int = 24,
    opportunities: int = 4000,
    seed: int = 42,
    activities_per_deal: float = 10.0,
    reset: bool = False,
    today: dt.date | None = None,
    progress: Callable[[str], None] | None = None,
) -> DemoResult:
    """Create the demo organisation unless it exists (``reset`` deletes and rebuilds it)."""
    if reps < 1 or opportunities < 0 or activities_per_deal < 0:
        raise ApplicationError("Give at least one rep and no negative counts.")
    if reset:
        delete_demo_data()
    elif demo_org_exists():
        return DemoResult(created=False, counts=demo_counts(), logins=demo_logins())
    builder = DemoDataBuilder(
        seed=seed, today=today or timezone.localdate(), progress=progress or (lambda _: None)
    )
    builder.build(reps=reps, opportunities=opportunities, activities_per_deal=activities_per_deal)
    return DemoResult(created=True, counts=builder.counts, logins=demo_logins())


class DemoDataBuilder(ReferenceMixin, OrgMixin, AccountsMixin, DealsMixin, CallsMixin):
    """Draws the organisation, accounts and deal histories and bulk-inserts them.

    Each part lives in its own module as a mixin; all share this object's one ``rng`` (the
    order of the draws is what makes a seed reproducible), clock and counts.
    """

    def __init__(self, *, seed: int, today: dt.date, progress: Callable[[str], None]) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - demo data wants reproducible, not secret
        self.today = today
        self.midnight = dt.datetime.combine(
            today, dt.time(), tzinfo=timezone.get_current_timezone()
        )
        self.progress = progress
        quarter_start = dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
        months = quarter_start.year * 12 + quarter_start.month - 1 - 3 * HISTORY_QUARTERS
        self.history_start = dt.date(months // 12, months % 12 + 1, 1)
        # Deals start a quarter before the history, so its first quarter has closings too.
        self.first_deal_t = float((self.history_start - today).days - 90)
        # The pipeline is simulated from a quarter earlier still, so the first quarter opens
        # with a pipeline like any other; deals that ended in that warm-up are not kept.
        self.warmup_t = self.first_deal_t - WARMUP_DAYS
        self.counts: dict[str, int] = {}
        self.stored_at = connection.ops.adapt_datetimefield_value

    # --- time -----------------------------------------------------------------------------

    def at(self, t: float) -> dt.datetime:
        return self.midnight + dt.timedelta(days=t)

    def db_at(self, t: float) -> object:
        """``at(t)`` as the database stores it, for rows inserted by insert_rows."""
        return self.stored_at(self.midnight + dt.timedelta(days=t))

    def db_day(self, t: float) -> object:
        """``day(t)`` as the database stores it, for rows inserted by insert_rows."""
        return connection.ops.adapt_datefield_value(self.day(t))

    def day(self, t: float) -> dt.date:
        return self.today + dt.timedelta(days=math.floor(t))

    def pick(self, weighted: list[tuple[object, float]]) -> object:
        return self.rng.choices([v for v, _ in weighted], [w for _, w in weighted])[0]

    # --- the whole run ----------------------------------------------------------------------

    def build(self, *, reps: int, opportunities: int, activities_per_deal: float) -> None:
        self.build_reference_data()
        self.progress("Reference data: periods, exchange rates, sales processes")
        team_reps = self.build_org(reps=reps)
        self.progress(f"Organisation: {reps} reps")
        sellers = [rep for rep in team_reps if rep.user.sales_role in (SalesRole.AE, SalesRole.AM)]
        self.build_accounts(sellers=sellers, opportunities=opportunities)
        self.progress(f"Accounts: {self.counts['accounts']}")
        self.build_deals(
            sellers=sellers,
            team_reps=team_reps,
            opportunities=opportunities,
            activities_per_deal=activities_per_deal,
        )
        self.build_calls()
        self.progress(f"Forecast calls: {self.counts.get('forecast_calls', 0)}")
