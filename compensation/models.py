"""Compensation: plans and their components, credit, payout runs, statements and disputes.

Two kinds of tables live here:

- configuration people edit (``Plan``, ``PlanComponent``, ``PlanAssignment``) with effective
  dates, so a period is always paid by the plan that was in force then;
- records (``CreditSplit``, ``DealCancellation``, ``PayoutRun``, ``Statement``,
  ``StatementLine``, ``StatementAdjustment``, ``Dispute``) written only by
  ``compensation.services``. A processed run is an immutable snapshot; an approved statement
  is locked and changes only through ``StatementAdjustment`` rows with a reason.

Dates: ``effective_from``/``effective_to`` are half-open (``from <= day < to``; empty ``to`` =
still in force), as in the territories app. Money: reporting currency, rounded as the engine
module says (``compensation.engine``: each line quantized to cents ROUND_HALF_UP, totals are
sums of lines).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from salesmgmt.models import BaseModel, Role, SalesRole
from salesmgmt.money import money_validators

from .engine import LineKind
from .parameters import parse_parameters
from .querysets import StatementQuerySet

MONEY = {"max_digits": 16, "decimal_places": 2}
LINE_KIND_CHOICES = [
    (LineKind.COMMISSION.value, "Commission"),
    (LineKind.BONUS.value, "Bonus"),
    (LineKind.SPIF.value, "SPIF"),
    (LineKind.COMPLIANCE.value, "Compliance multiplier"),
    (LineKind.CLAWBACK.value, "Clawback"),
    (LineKind.GUARANTEE.value, "Guarantee or draw"),
    (LineKind.DRAW_RECOVERY.value, "Draw recovery"),
]


def _ends_after_start(name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(effective_to__isnull=True) | Q(effective_to__gt=F("effective_from")),
        name=name,
    )


class Plan(BaseModel):
    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    # Overlay credit: managers on this plan are credited with their whole subtree's bookings.
    manager_overlay_credit = models.BooleanField(default=False)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class ComponentKind(models.TextChoices):
    COMMISSION = "commission", "Commission (tiers by attainment)"
    THRESHOLD_BONUS = "threshold_bonus", "Bonus at an attainment threshold"
    SPIF = "spif", "SPIF"
    GUARANTEE = "guarantee", "Draw or guarantee"
    COMPLIANCE = "compliance", "Documentation-compliance multiplier"


class PlanComponent(BaseModel):
    """One rule of a plan; ``parameters`` hold its terms (see ``compensation.parameters``)."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="components")
    kind = models.CharField(max_length=16, choices=ComponentKind.choices)
    name = models.CharField(max_length=120)
    parameters = models.JSONField(default=dict, blank=True)
    # A won deal cancelled within this many days of closing is clawed back (commission, SPIF).
    clawback_days = models.PositiveIntegerField(null=True, blank=True)
    effective_from = models.DateField()
    effective_to = models.DateField(null=True, blank=True, help_text="Exclusive; empty = open.")
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["plan_id", "order", "id"]
        constraints = [_ends_after_start("plan_component_ends_after_start")]

    def __str__(self) -> str:
        return f"{self.plan}: {self.name}"

    def clean(self) -> None:
        super().clean()
        self.parameters = parse_parameters(self.kind, self.parameters)


class PlanAssignment(BaseModel):
    """Who is paid by a plan when: one person, or everyone with a role or sales role.

    A person's own assignment wins over a sales-role one, which wins over a role one.
    """

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="assignments")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="plan_assignments",
    )
    role = models.CharField(
        max_length=16,
        blank=True,
        choices=[*Role.choices, *[c for c in SalesRole.choices if c[0]]],
        help_text="A role (rep, manager) or a sales role (AE, SE); empty when for a person.",
    )
    effective_from = models.DateField()
    effective_to = models.DateField(null=True, blank=True, help_text="Exclusive; empty = open.")

    class Meta:
        ordering = ["effective_from", "id"]
        constraints = [
            _ends_after_start("plan_assignment_ends_after_start"),
            models.CheckConstraint(
                condition=(Q(user__isnull=False) & Q(role=""))
                | (Q(user__isnull=True) & ~Q(role="")),
                name="assignment_person_xor_role",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan} → {self.user or self.get_role_display()} from {self.effective_from}"


class CreditSplit(BaseModel):
    """A share of a deal's credit; a deal without rows credits its owner 100 %."""

    opportunity = models.ForeignKey(
        "accounts.Opportunity", on_delete=models.CASCADE, related_name="credit_splits"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    percent = models.DecimalField(max_digits=5, decimal_places=2)

    class Meta:
        ordering = ["opportunity_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["opportunity", "user"], name="split_unique_user"),
            models.CheckConstraint(
                condition=Q(percent__gt=0, percent__lte=100), name="split_percent_in_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.percent}% of {self.opportunity_id}"


class DealCancellation(BaseModel):
    """A won deal the customer cancelled; the core has no such state, so it lives here."""

    opportunity = models.OneToOneField(
        "accounts.Opportunity", on_delete=models.CASCADE, related_name="cancellation"
    )
    cancelled_on = models.DateField()
    reason = models.CharField(max_length=255)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["cancelled_on", "id"]

    def __str__(self) -> str:
        return f"{self.opportunity_id} cancelled {self.cancelled_on}"


class PayoutRun(BaseModel):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PROCESSED = "processed", "Processed"

    period = models.ForeignKey("salesmgmt.Period", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    # SHA-256 of the engine inputs: an unchanged hash means a recompute has nothing to do.
    inputs_hash = models.CharField(max_length=64, blank=True)
    computed_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    processed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["period"], condition=Q(status="draft"), name="run_one_draft_per_period"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.period} run #{self.pk} ({self.status})"

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT


class Statement(BaseModel):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PROCESSED = "processed", "Awaiting approval"
        LOCKED = "locked", "Approved and locked"

    run = models.ForeignKey(PayoutRun, on_delete=models.CASCADE, related_name="statements")
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="statements"
    )
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    bookings_amount = models.DecimalField(**MONEY, default=Decimal(0))
    quota_amount = models.DecimalField(**MONEY, null=True, blank=True)
    # The attainment the tiers used, as a fraction (1 = 100 %); empty when there was no quota.
    attainment = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    compliance_score = models.DecimalField(max_digits=7, decimal_places=6, null=True, blank=True)
    total_amount = models.DecimalField(**MONEY, default=Decimal(0))
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    approved_at = models.DateTimeField(null=True, blank=True)

    objects = StatementQuerySet.as_manager()

    class Meta:
        ordering = ["run_id", "rep_id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "rep"], name="statement_unique_rep"),
        ]

    def __str__(self) -> str:
        return f"{self.rep} — {self.run.period}"

    @property
    def is_locked(self) -> bool:
        return self.status == self.Status.LOCKED


class StatementLine(BaseModel):
    """One explained amount: the rule, the inputs and the arithmetic, in words."""

    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField()
    component = models.ForeignKey(
        PlanComponent, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    opportunity = models.ForeignKey(
        "accounts.Opportunity", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=LINE_KIND_CHOICES)
    amount = models.DecimalField(**MONEY)
    explanation = models.TextField()
    inputs = models.JSONField(default=dict, blank=True)
    # For a clawback: the line it reverses.
    linked_line = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversals"
    )

    class Meta:
        ordering = ["statement_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["statement", "position"], name="line_unique_position"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount}"


class StatementAdjustment(BaseModel):
    """The only way a locked statement changes: an amount, a reason and who made it."""

    statement = models.ForeignKey(Statement, on_delete=models.PROTECT, related_name="adjustments")
    amount = models.DecimalField(**MONEY, validators=money_validators(signed=True))
    reason = models.CharField(max_length=500)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="adjustment_not_zero"),
        ]

    def __str__(self) -> str:
        return f"{self.statement_id}: {self.amount} ({self.reason})"

    def clean(self) -> None:
        super().clean()
        if not self.reason.strip():
            raise ValidationError({"reason": "Say why the statement is adjusted."})


class Dispute(BaseModel):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    line = models.ForeignKey(StatementLine, on_delete=models.PROTECT, related_name="disputes")
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    resolution_note = models.TextField(blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open") | ~Q(resolution_note=""),
                name="dispute_resolved_has_note",
            ),
        ]

    def __str__(self) -> str:
        return f"Dispute on line {self.line_id} ({self.status})"
