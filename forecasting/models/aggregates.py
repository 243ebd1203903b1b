"""The aggregates the workers compute and dashboards read (rebuilt by delete + insert)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone

from salesmgmt.models import BaseModel

from ..querysets import ForecastRollupQuerySet, InspectionFlagQuerySet
from .records import Category, Scope

MONEY = {"max_digits": 16, "decimal_places": 2, "default": Decimal("0.00")}


class ProbabilityModel(BaseModel):
    """A fitted win-probability model (tables of rates, see forecasting.analytics.probability)."""

    deal_count = models.PositiveIntegerField(default=0)
    params = models.JSONField(default=dict)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"model {self.pk} on {self.deal_count} deals"


class DealProbability(models.Model):
    """Per open or won in-period deal: its effective category, amount and win probability."""

    opportunity = models.OneToOneField(
        "accounts.Opportunity", on_delete=models.CASCADE, related_name="forecast"
    )
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    period = models.ForeignKey("salesmgmt.Period", on_delete=models.CASCADE, related_name="+")
    category = models.CharField(max_length=16, choices=Category.choices)
    amount = models.DecimalField(**MONEY)
    probability = models.FloatField()
    milestones_done = models.PositiveSmallIntegerField(default=0)
    age_ratio = models.FloatField(default=0.0)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["opportunity_id"]
        indexes = [models.Index(fields=["owner", "period"], name="dealprob_owner_period")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(probability__gte=0, probability__lte=1),
                name="dealprob_probability_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.opportunity_id}: {self.probability:.2f}"


class ForecastRollup(models.Model):
    """Forecast figures of a person for a period, own deals or rolled up over their subtree.

    Single-category totals, cumulative ones (commit = commit + closed; best case = best case +
    commit + closed), weighted pipeline Σ a·p and its variance Σ a²·p(1-p), two projections
    and the Monte Carlo range of the period's bookings (closed won included).
    """

    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    period = models.ForeignKey("salesmgmt.Period", on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(max_length=8, choices=Scope.choices)
    pipeline_amount = models.DecimalField(**MONEY)
    best_case_amount = models.DecimalField(**MONEY)
    commit_amount = models.DecimalField(**MONEY)
    closed_amount = models.DecimalField(**MONEY)
    omitted_amount = models.DecimalField(**MONEY)
    cumulative_best_case_amount = models.DecimalField(**MONEY)
    cumulative_commit_amount = models.DecimalField(**MONEY)
    open_deal_count = models.PositiveIntegerField(default=0)
    weighted_amount = models.DecimalField(**MONEY)
    variance = models.FloatField(default=0.0)
    expected_new_amount = models.DecimalField(**MONEY)
    projection_weighted_amount = models.DecimalField(**MONEY)
    projection_run_rate_amount = models.DecimalField(**MONEY)
    p10_amount = models.DecimalField(**MONEY)
    p50_amount = models.DecimalField(**MONEY)
    p90_amount = models.DecimalField(**MONEY)
    computed_at = models.DateTimeField(default=timezone.now)

    objects = ForecastRollupQuerySet.as_manager()

    class Meta:
        ordering = ["period_id", "person_id", "scope"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "period", "scope"], name="rollup_unique_node_period_scope"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.period_id} {self.scope}"


class _TrialsOfPerson(models.Model):
    """A person's bookings in one period, one float32 per Monte Carlo trial."""

    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    period = models.ForeignKey("salesmgmt.Period", on_delete=models.CASCADE, related_name="+")
    trials = models.BinaryField()
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True
        ordering = ["period_id", "person_id"]


class TrialVector(_TrialsOfPerson):
    """One person's simulated bookings from their own open deals.

    Kept so an incremental recompute re-simulates only the edited person's deals and adds the
    stored vectors of their managers' other reports (``SubtreeTrialVector``).
    """

    class Meta(_TrialsOfPerson.Meta):
        constraints = [
            models.UniqueConstraint(fields=["person", "period"], name="trials_unique_node_period"),
        ]

    def __str__(self) -> str:
        return f"trials {self.person_id}/{self.period_id}"


class SubtreeTrialVector(_TrialsOfPerson):
    """A manager's subtree bookings per trial: their own vector plus each direct report's
    subtree total (``montecarlo.subtree_totals``); empty when nobody below has a simulated
    deal.

    Kept so an edit's recompute sums only the direct reports of each manager above the edited
    person (a few dozen vectors), not everyone below the top (5,753 at 1 M deals: 0.8 s of
    reading a period). Both runs add the same stored totals in the same order, so an edit's
    ranges equal a full run's.
    """

    class Meta(_TrialsOfPerson.Meta):
        constraints = [
            models.UniqueConstraint(fields=["person", "period"], name="subtree_trials_unique"),
        ]

    def __str__(self) -> str:
        return f"subtree trials {self.person_id}/{self.period_id}"


class CalibrationBucket(models.Model):
    """Predicted vs actual win rate of held-out past deals, by probability bucket."""

    process = models.ForeignKey("accounts.SalesProcess", on_delete=models.CASCADE, related_name="+")
    bucket_low = models.FloatField()
    bucket_high = models.FloatField()
    predicted_rate = models.FloatField()
    actual_rate = models.FloatField()
    count = models.PositiveIntegerField()
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["process_id", "bucket_low"]

    def __str__(self) -> str:
        return f"{self.process_id} [{self.bucket_low:.1f}, {self.bucket_high:.1f})"


class KpiSnapshot(models.Model):
    """The KPIs of a person for a period (own or subtree); definitions in analytics.kpis."""

    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    period = models.ForeignKey("salesmgmt.Period", on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(max_length=8, choices=Scope.choices)
    won_count = models.PositiveIntegerField(default=0)
    lost_count = models.PositiveIntegerField(default=0)
    won_amount = models.DecimalField(**MONEY)
    lost_amount = models.DecimalField(**MONEY)
    win_rate_count = models.FloatField(null=True, blank=True)
    win_rate_value = models.FloatField(null=True, blank=True)
    pipeline_amount = models.DecimalField(**MONEY)
    average_deal_amount = models.DecimalField(max_digits=16, decimal_places=2, null=True)
    median_cycle_days = models.FloatField(null=True, blank=True)
    required_coverage = models.FloatField(null=True, blank=True)
    quota_amount = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    attainment = models.FloatField(null=True, blank=True)
    coverage = models.FloatField(null=True, blank=True)
    coverage_gap = models.FloatField(null=True, blank=True)
    stage_conversion = models.JSONField(default=dict, blank=True)
    days_in_stage = models.JSONField(default=dict, blank=True)
    activities_by_kind = models.JSONField(default=dict, blank=True)
    hire_cohort = models.CharField(max_length=8, blank=True)
    days_to_first_win = models.FloatField(null=True, blank=True)
    days_to_full_quota = models.FloatField(null=True, blank=True)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["period_id", "person_id", "scope"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "period", "scope"], name="kpi_unique_node_period_scope"
            ),
        ]

    def __str__(self) -> str:
        return f"KPIs {self.person_id} {self.period_id} {self.scope}"

    @property
    def win_rate_percent(self) -> float | None:
        """The win rate by count in percent (the KPI page shows it to a tenth)."""
        return None if self.win_rate_count is None else self.win_rate_count * 100


class OpportunitySnapshot(models.Model):
    """The weekly picture of an open deal (history is exact anyway; these feed fast pages)."""

    opportunity = models.ForeignKey(
        "accounts.Opportunity", on_delete=models.CASCADE, related_name="snapshots"
    )
    taken_on = models.DateField()
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    amount = models.DecimalField(**MONEY)
    expected_close_on = models.DateField()
    stage = models.ForeignKey(
        "accounts.Stage", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    category = models.CharField(max_length=16, choices=Category.choices)
    probability = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["taken_on", "opportunity_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["opportunity", "taken_on"], name="snapshot_unique_opp_day"
            ),
        ]
        indexes = [models.Index(fields=["owner", "taken_on"], name="snapshot_owner_day")]

    def __str__(self) -> str:
        return f"{self.opportunity_id} on {self.taken_on}"


class FlagKind(models.TextChoices):
    PUSHED_TWICE = "pushed_twice", "Close date pushed 2+ times"
    NO_ACTIVITY = "no_activity", "No two-way contact in 14 days"
    STUCK_IN_STAGE = "stuck_in_stage", "Stuck in stage (over the team's 80th percentile)"
    CLOSE_DATE_PAST = "close_date_past", "Close date in the past"
    MILESTONE_SKIPPED = "milestone_skipped", "A milestone skipped"
    SINGLE_CONTACT = "single_contact", "Single contact on a large deal"
    NO_DECISION_MAKER = "no_decision_maker", "No decision maker identified"
    LATE_AMOUNT_CHANGE = "late_amount_change", "Amount changed > 20% late in the period"
    # Not neglect: an imported deal nobody has worked here yet (analytics.flags.NEGLECT_KINDS
    # set aside; its detail names them).
    IMPORTED_UNWORKED = "imported_unworked", "Imported, not yet worked here"


class InspectionFlag(models.Model):
    """A process smell on an open deal, for the manager's inspection list."""

    opportunity = models.ForeignKey(
        "accounts.Opportunity", on_delete=models.CASCADE, related_name="inspection_flags"
    )
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=24, choices=FlagKind.choices)
    detail = models.CharField(max_length=255, blank=True)
    computed_at = models.DateTimeField(default=timezone.now)

    objects = InspectionFlagQuerySet.as_manager()

    class Meta:
        ordering = ["owner_id", "opportunity_id", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["opportunity", "kind"], name="flag_unique_opp_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.opportunity_id} {self.kind}"


class ForecastSource(models.TextChoices):
    MODEL_WEIGHTED = "model_weighted", "Model: closed + weighted pipeline"
    MODEL_RUN_RATE = "model_run_rate", "Model: weighted + expected new (run rate)"
    CALL = "call", "Person's call (commit)"
    MANAGER_ADJUSTED = "manager_adjusted", "Manager-adjusted call"


class AccuracyEntry(models.Model):
    """What one source forecast for a person's subtree at one past week, and what closed."""

    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    period = models.ForeignKey("salesmgmt.Period", on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=16, choices=ForecastSource.choices)
    as_of = models.DateField()
    forecast_amount = models.DecimalField(**MONEY)
    actual_amount = models.DecimalField(**MONEY)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["period_id", "person_id", "source", "as_of"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "period", "source", "as_of"], name="accuracy_unique_entry"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.source} {self.as_of}"
