"""Customer accounts (the CRM sense), contacts, the sales process and the deals in it."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from salesmgmt.models import BaseModel
from salesmgmt.money import MONEY_MAX, money_validators

from . import forecast_categories
from .domains import validate_domain
from .querysets import (
    AccountQuerySet,
    ActivityQuerySet,
    ContactQuerySet,
    OpportunityQuerySet,
)


class ForecastCategory(models.TextChoices):
    """How sure the owner is; "closed" is not set by hand, it follows from a won deal."""

    PIPELINE = "pipeline", "Pipeline"
    BEST_CASE = "best_case", "Best case"
    COMMIT = "commit", "Commit"
    OMITTED = "omitted", "Omitted"


class Account(BaseModel):
    name = models.CharField(max_length=200)
    industry = models.CharField(max_length=80, blank=True, db_index=True)
    employee_count = models.PositiveIntegerField(null=True, blank=True)
    annual_revenue = models.DecimalField(
        max_digits=16, decimal_places=2, null=True, blank=True, validators=money_validators()
    )
    country = models.CharField(max_length=80, blank=True)
    region = models.CharField(max_length=80, blank=True, db_index=True)
    state = models.CharField(max_length=80, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="accounts"
    )
    external_id = models.CharField(max_length=64, blank=True, db_index=True)
    # The customer's mail domain (``example.com``): captured mail from an unknown address at
    # it becomes a new contact of this account (capture.services). The services store it
    # normalised (accounts.domains: a pasted website becomes its domain).
    domain = models.CharField(
        max_length=253, blank=True, db_index=True, validators=[validate_domain]
    )

    objects = AccountQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            # The CSV import refused negative revenue; the API and pages now do too (issue 14).
            models.CheckConstraint(
                condition=models.Q(annual_revenue__isnull=True)
                | models.Q(annual_revenue__gte=0, annual_revenue__lte=MONEY_MAX),
                name="account_revenue_within_money_range",
            ),
            # The integrator's key for upserts: one account per id, whichever team owns it.
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~models.Q(external_id=""),
                name="account_external_id_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Contact(BaseModel):
    class BuyingRole(models.TextChoices):
        NONE = "", "—"
        DECISION_MAKER = "decision_maker", "Decision maker"
        CHAMPION = "champion", "Champion"
        INFLUENCER = "influencer", "Influencer"
        BLOCKER = "blocker", "Blocker"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="contacts")
    first_name = models.CharField(max_length=80)
    last_name = models.CharField(max_length=80)
    title = models.CharField(max_length=120, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    buying_role = models.CharField(max_length=16, choices=BuyingRole.choices, blank=True)
    external_id = models.CharField(max_length=64, blank=True, db_index=True)

    objects = ContactQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        constraints = [
            # Like accounts and deals: one contact per integrator id, whichever team has it.
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~models.Q(external_id=""),
                name="contact_external_id_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"


class SalesProcess(BaseModel):
    """A named, ordered set of stages with exit milestones (exit criteria)."""

    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    # Exit criteria with teeth: when set, a completed milestone counts towards the stage only
    # once the rep's manager has verified its evidence.
    requires_verification = models.BooleanField(default=False)
    is_default = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "sales processes"

    def __str__(self) -> str:
        return self.name


class Stage(BaseModel):
    process = models.ForeignKey(SalesProcess, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(max_length=80)
    order = models.PositiveSmallIntegerField()
    default_forecast_category = models.CharField(
        max_length=16, choices=ForecastCategory.choices, default=ForecastCategory.PIPELINE
    )

    class Meta:
        ordering = ["process_id", "order"]
        constraints = [
            models.UniqueConstraint(fields=["process", "order"], name="stage_unique_order"),
        ]

    def __str__(self) -> str:
        return self.name


class Milestone(BaseModel):
    """An exit criterion of a stage: something the buyer did or agreed, with evidence."""

    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="milestones")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    evidence_required = models.BooleanField(default=False)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["stage__process_id", "stage__order", "order", "id"]

    def __str__(self) -> str:
        return self.name


class Opportunity(BaseModel):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        WON = "won", "Won"
        LOST = "lost", "Lost"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="opportunities")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="opportunities"
    )
    process = models.ForeignKey(SalesProcess, on_delete=models.PROTECT, related_name="+")
    # Derived from completed milestones (accounts.stages); never set by hand.
    stage = models.ForeignKey(
        Stage, on_delete=models.PROTECT, related_name="opportunities", null=True, blank=True
    )
    stage_entered_at = models.DateTimeField(default=timezone.now)
    name = models.CharField(max_length=200)
    amount = models.DecimalField(max_digits=14, decimal_places=2, validators=money_validators())
    currency = models.CharField(max_length=3, default="USD")
    expected_close_on = models.DateField(db_index=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    closed_on = models.DateField(null=True, blank=True)
    lost_reason = models.CharField(max_length=200, blank=True)
    # The category the rep chose; blank means nobody chose one and the stage's default applies
    # (accounts.forecast_categories has the one rule). Only open deals get a choice.
    forecast_category = models.CharField(
        max_length=16, choices=ForecastCategory.choices, blank=True, default=""
    )
    next_step = models.CharField(max_length=255, blank=True)
    # Where the deal came from (a campaign, a referral, inbound web...): free text, so marketing
    # names its own channels; blank is "(none)" in the feed-back report (planning.feedback).
    lead_source = models.CharField(max_length=80, blank=True)
    # Optimistic locking: every write bumps it; a write based on an older version is refused.
    version = models.PositiveIntegerField(default=1)
    external_id = models.CharField(max_length=64, blank=True, db_index=True)
    # When an import brought the deal in (None: created here). A deal imported and not worked
    # since is history from the old system, not neglect: flags and labels tell the two apart.
    imported_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = OpportunityQuerySet.as_manager()

    class Meta:
        ordering = ["expected_close_on", "id"]
        verbose_name_plural = "opportunities"
        indexes = [
            models.Index(
                fields=["owner", "status", "expected_close_on"], name="opp_owner_status_close"
            ),
            models.Index(fields=["status", "expected_close_on"], name="opp_status_close"),
            models.Index(fields=["account", "status"], name="opp_account_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gte=Decimal(0)), name="opp_amount_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(status="open", closed_on__isnull=True)
                | (~models.Q(status="open") & models.Q(closed_on__isnull=False)),
                name="opp_closed_on_iff_closed",
            ),
            # The integrator's key for upserts: one deal per id, whichever team owns it.
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~models.Q(external_id=""),
                name="opportunity_external_id_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def stage_default_category(self) -> str | None:
        """The stage's default category (load ``stage`` with the deal: select_related)."""
        return self.stage.default_forecast_category if self.stage_id else None

    @property
    def effective_forecast_category(self) -> str | None:
        """The category the forecast counts the deal in (None: lost)."""
        return forecast_categories.effective_category(
            status=self.status,
            chosen=self.forecast_category,
            stage_default=self.stage_default_category,
        )

    @property
    def effective_forecast_category_label(self) -> str:
        """E.g. "Commit (chosen by rep)" or "Best case (stage default)"."""
        category = self.effective_forecast_category
        text = forecast_categories.label(category)
        if not self.is_open:
            return text
        return f"{text} (chosen by rep)" if self.forecast_category else f"{text} (stage default)"

    @property
    def proposed_stage_category(self) -> str | None:
        """The stage's default when it differs from the rep's choice: a hint, never written."""
        default = self.stage_default_category or forecast_categories.FALLBACK
        if self.is_open and self.forecast_category and self.forecast_category != default:
            return default
        return None


class Product(BaseModel):
    """What the company sells: the catalogue deals' line items point to."""

    name = models.CharField(max_length=120, unique=True)
    family = models.CharField(max_length=80, blank=True, db_index=True)
    list_price = models.DecimalField(
        max_digits=14, decimal_places=2, default=Decimal(0), validators=money_validators()
    )
    currency = models.CharField(max_length=3, default="USD")
    is_active = models.BooleanField(default=True)
    external_id = models.CharField(max_length=64, blank=True, db_index=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class OpportunityLineItem(BaseModel):
    """A product on a deal: quantity, the unit price agreed and the discount given."""

    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="line_items"
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="line_items")
    quantity = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal(1))
    unit_price = models.DecimalField(max_digits=14, decimal_places=2, validators=money_validators())
    discount_percent = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal(0))

    class Meta:
        ordering = ["opportunity_id", "id"]
        indexes = [models.Index(fields=["product", "opportunity"], name="line_item_product_opp")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gt=Decimal(0)), name="line_item_quantity_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(discount_percent__gte=Decimal(0))
                & models.Q(discount_percent__lte=Decimal(100)),
                name="line_item_discount_percent_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.product} on {self.opportunity_id}"


class OpportunityTeamMember(BaseModel):
    """Someone working a deal they do not own, e.g. a sales engineer overlay."""

    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="team_members"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="opportunity_teams"
    )
    team_role = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["opportunity_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["opportunity", "user"], name="team_member_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} on {self.opportunity}"


class MilestoneCompletion(BaseModel):
    """An audit record of completing (or undoing) a milestone; rows are never deleted.

    The milestone's current state is its latest record: an undo is a new record.
    """

    class Action(models.TextChoices):
        COMPLETE = "complete", "Completed"
        UNDO = "undo", "Undone"

    class Verification(models.TextChoices):
        NOT_REQUIRED = "not_required", "Not required"
        PENDING = "pending", "Pending verification"
        VERIFIED = "verified", "Verified"
        REJECTED = "rejected", "Rejected"
        # Recorded by an import from the deal's stage in the old system: counts as complete,
        # but nobody here did or verified it (shown as such).
        IMPORTED = "imported", "Imported"

    # Led by the index completion_opp_ms_at (Meta.indexes), which serves lookups on the deal
    # alone too: no index of its own, one less to maintain per row an import writes.
    opportunity = models.ForeignKey(
        Opportunity,
        on_delete=models.CASCADE,
        related_name="milestone_completions",
        db_index=False,
    )
    milestone = models.ForeignKey(Milestone, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=8, choices=Action.choices, default=Action.COMPLETE)
    # Empty on imported completions: the stage was reached in the old system, nobody here
    # completed them. Indexed only where set (completion_by), like the history's changed_by.
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        db_index=False,
    )
    completed_at = models.DateTimeField(default=timezone.now)
    evidence = models.TextField(blank=True)
    note = models.CharField(max_length=255, blank=True)
    verification_state = models.CharField(
        max_length=16, choices=Verification.choices, default=Verification.NOT_REQUIRED
    )
    # Indexed only where set (completion_verified_by): most completions (all imported ones)
    # are never verified, and each index entry is a cost an import pays per row.
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        db_index=False,
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["completed_at", "id"]
        indexes = [
            models.Index(
                fields=["opportunity", "milestone", "completed_at"], name="completion_opp_ms_at"
            ),
            # The audit trail's list order (oldest first, keyset pages): a page of everyone's
            # completions is one index range, not a sort of all of them (2,000,000: 1.7 s).
            models.Index(fields=["completed_at", "id"], name="completion_at_id"),
            # The verification queue reads the pending ones only.
            models.Index(
                fields=["verification_state"],
                name="completion_pending",
                condition=Q(verification_state="pending"),
            ),
            models.Index(
                fields=["completed_by"],
                name="completion_by",
                condition=Q(completed_by__isnull=False),
            ),
            models.Index(
                fields=["verified_by"],
                name="completion_verified_by",
                condition=Q(verified_by__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.milestone} on {self.opportunity}"

    @property
    def counts(self) -> bool:
        """Whether this record (as the latest for its milestone) makes the milestone complete."""
        return self.action == self.Action.COMPLETE and self.verification_state in COUNTING_STATES


# The verification states in which a completion counts (the latest record of its milestone).
COUNTING_STATES = (
    MilestoneCompletion.Verification.NOT_REQUIRED,
    MilestoneCompletion.Verification.VERIFIED,
    MilestoneCompletion.Verification.IMPORTED,
)


class OpportunityChange(models.Model):
    """Append-only history of the fields that matter for forecasting.

    Creation writes one row per tracked field with a value (old value empty; a field with no
    row yet was empty), so replaying the rows up to a moment rebuilds the deal as it stood then
    (accounts.selectors.opportunities_as_of).
    Values are stored as text: Decimal as str, dates ISO, foreign keys as ids.
    """

    class Field(models.TextChoices):
        AMOUNT = "amount", "Amount"
        CURRENCY = "currency", "Currency"
        EXPECTED_CLOSE_ON = "expected_close_on", "Close date"
        STAGE = "stage", "Stage"
        FORECAST_CATEGORY = "forecast_category", "Forecast category"
        OWNER = "owner", "Owner"
        STATUS = "status", "Status"
        CLOSED_ON = "closed_on", "Closed on"

    # Led by the index change_opp_at (Meta.indexes), which serves lookups on the deal alone
    # too: no index of its own (an import writes about twelve rows a deal). The database keeps
    # its foreign keys although PostgreSQL checks each at an import's commit (about a third of
    # a 100,000-deal import's server time): the change log is the audit trail figures are
    # rebuilt from, so no raw delete may orphan it.
    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="changes", db_index=False
    )
    field = models.CharField(max_length=24, choices=Field.choices)
    old_value = models.CharField(max_length=64, blank=True)
    new_value = models.CharField(max_length=64, blank=True)
    # Empty on history an import dates in the old system (nobody here made those changes):
    # indexed only where set (change_by), so imported rows cost no index entry.
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        db_index=False,
    )
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["changed_at", "id"]
        indexes = [
            models.Index(fields=["opportunity", "changed_at"], name="change_opp_at"),
            models.Index(fields=["changed_at"], name="change_at"),
            models.Index(
                fields=["changed_by"], name="change_by", condition=Q(changed_by__isnull=False)
            ),
            # The waterfall's "expected to close in the period at some point" (ISO dates as text)
            # and "owned by the team at some point": only those fields' rows, a fifth of the
            # log (each index entry is a cost an import pays per history row).
            models.Index(
                fields=["field", "new_value", "opportunity"],
                name="change_field_value",
                condition=Q(field__in=["expected_close_on", "owner"]),
            ),
            # The KPIs' deals with a stage change in a window (forecasting.selectors.frames
            # .stage_changes_frame): read from the index alone, not from a quarter of the
            # whole log filtered to its stage rows (a fourth of it).
            models.Index(
                fields=["changed_at", "opportunity"],
                name="change_stage_at",
                condition=Q(field="stage"),
            ),
            # The close-date changes the forecast reads (forecasting.selectors.frames
            # .close_date_changes_frame): a quarter's deals', the run rate's won deals', or all
            # of them, read from the index alone (it holds every column they read), not by
            # scanning all 9 M change rows for the 1.3 M of that field at 1 M deals.
            models.Index(
                fields=["opportunity"],
                name="change_close_opp",
                include=["changed_at", "id", "old_value", "new_value"],
                condition=Q(field="expected_close_on"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.opportunity_id} {self.field}: {self.old_value} → {self.new_value}"


class Activity(BaseModel):
    class Kind(models.TextChoices):
        CALL = "call", "Call"
        MEETING = "meeting", "Meeting"
        EMAIL = "email", "Email"
        DEMO = "demo", "Demo"
        TASK = "task", "Task"

    class Outcome(models.TextChoices):
        NONE = "", "—"
        CONNECTED = "connected", "Connected"
        NO_ANSWER = "no_answer", "No answer"
        LEFT_MESSAGE = "left_message", "Left message"
        POSITIVE = "positive", "Positive"
        NEGATIVE = "negative", "Negative"
        PLANNED = "planned", "Planned"

    class Direction(models.TextChoices):
        NONE = "", "—"
        OUTBOUND = "outbound", "Sent"
        INBOUND = "inbound", "Received"

    class Source(models.TextChoices):
        MANUAL = "manual", "Logged by hand"
        EMAIL = "email", "Captured email"
        CALENDAR = "calendar", "Captured meeting"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    # owner, account and opportunity lead a composite index below (Meta.indexes), which serves
    # every lookup on the column alone too: no single-column index of their own (db_index).
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="activities",
        db_index=False,
    )
    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="activities", db_index=False
    )
    opportunity = models.ForeignKey(
        Opportunity,
        on_delete=models.CASCADE,
        related_name="activities",
        null=True,
        blank=True,
        db_index=False,
    )
    milestone = models.ForeignKey(
        Milestone, on_delete=models.SET_NULL, related_name="+", null=True, blank=True
    )
    # The deal's owner, copied for visibility only: a manager's activity list asks for
    # "logged on a deal my team owns", which through ``opportunity`` is one index descent
    # per deal (1,200 for a typical team: most of the list's time). Kept by the services that
    # write an activity or reassign a deal (accounts.services), in the same transaction;
    # ``verify_figures --only activities`` reports any copy that differs from its deal's owner.
    deal_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        null=True,
        blank=True,
        editable=False,
        db_index=False,
    )
    occurred_at = models.DateTimeField(default=timezone.now)
    duration_minutes = models.PositiveIntegerField(default=0)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    notes = models.TextField(blank=True)
    next_step = models.CharField(max_length=255, blank=True)
    external_id = models.CharField(max_length=64, blank=True, db_index=True)
    # How the activity reached the record: typed in (page, API, import) or captured from the
    # owner's mail or calendar (the capture app keeps the captured message and links to it).
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.MANUAL)
    # For mail: sent to the customer, or received from them (a reply: two-way contact, which
    # the no-activity flag asks for; a one-way outbound email does not make a deal current).
    direction = models.CharField(max_length=8, choices=Direction.choices, blank=True)
    # The customer's people who took part (captured mail and meetings): the deal's buying
    # group, which the single-contact flag counts.
    participants = models.ManyToManyField(Contact, blank=True, related_name="activities")

    objects = ActivityQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name_plural = "activities"
        indexes = [
            # Ending on the id: a manager's list reads each person's, deal owner's and team
            # deal's newest rows as one index range in the list's full order (occurred_at,
            # id), ties included (accounts.selectors.listing.activity_ranges).
            models.Index(fields=["owner", "occurred_at", "id"], name="activity_owner_at_id"),
            models.Index(fields=["opportunity", "occurred_at", "id"], name="activity_opp_at_id"),
            models.Index(
                fields=["deal_owner", "occurred_at", "id"], name="activity_deal_owner_at_id"
            ),
            models.Index(fields=["account", "occurred_at"], name="activity_account_at"),
            # The lists' keyset order (newest first, read backwards): a page of everyone's
            # activities is one index range instead of a sort of all of them.
            models.Index(fields=["occurred_at", "id"], name="activity_at_id"),
        ]
        constraints = [
            # Like accounts and deals: one activity per integrator id, whichever team has it.
            # (A partial unique index: SQLite adds it without rebuilding the table.)
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~models.Q(external_id=""),
                name="activity_external_id_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_at:%Y-%m-%d}"
