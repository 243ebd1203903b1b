"""The territory hierarchy, its owners and overlays, and the assignment rules."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from salesmgmt.models import BaseModel
from salesmgmt.money import money_validators

from ..querysets import AssignmentRuleQuerySet, TerritoryQuerySet
from .dates import ends_after_start


class Territory(BaseModel):
    """A node of the territory hierarchy (region → district → territory) with an owner."""

    class Level(models.TextChoices):
        REGION = "region", "Region"
        DISTRICT = "district", "District"
        TERRITORY = "territory", "Territory"

    name = models.CharField(max_length=120, unique=True)
    level = models.CharField(max_length=16, choices=Level.choices, default=Level.TERRITORY)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_territories"
    )
    overlay_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="TerritoryOverlay",
        through_fields=("territory", "user"),
        related_name="overlay_territories",
        blank=True,
    )
    effective_from = models.DateField(default=timezone.localdate)
    effective_to = models.DateField(null=True, blank=True, help_text="Exclusive; empty = open.")
    description = models.TextField(blank=True)

    objects = TerritoryQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        verbose_name_plural = "territories"
        constraints = [
            ends_after_start("territory_ends_after_start"),
            models.CheckConstraint(condition=~Q(parent=F("id")), name="territory_not_own_parent"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_leaf_level(self) -> bool:
        """Accounts are assigned to territories of the lowest level only."""
        return self.level == self.Level.TERRITORY

    def is_active_on(self, day) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day < self.effective_to)

    def clean(self) -> None:
        super().clean()
        order = [choice.value for choice in self.Level]
        parent = self.parent if self.parent_id is not None else None
        if parent is not None and order.index(parent.level) >= order.index(self.level):
            below, above = self.get_level_display(), parent.get_level_display()
            raise ValidationError(
                {"parent": f"A {below.lower()} cannot sit under a {above.lower()}."}
            )


class TerritoryOwnership(BaseModel):
    """Who owned a territory when: one row per owner, closed when the owner changes."""

    territory = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="ownerships")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    effective_from = models.DateField()
    effective_to = models.DateField(null=True, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    class Meta:
        ordering = ["territory_id", "effective_from", "id"]
        constraints = [
            ends_after_start("ownership_ends_after_start"),
            models.UniqueConstraint(
                fields=["territory"],
                condition=Q(effective_to__isnull=True),
                name="ownership_one_open_per_territory",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.owner} owns {self.territory} from {self.effective_from}"


class TerritoryOverlay(BaseModel):
    """An overlay seller (e.g. a sales engineer) covering a territory next to its owner."""

    territory = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="overlays")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="territory_overlays"
    )
    overlay_role = models.CharField(max_length=40, blank=True)
    effective_from = models.DateField(default=timezone.localdate)
    effective_to = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["territory_id", "effective_from", "id"]
        constraints = [
            ends_after_start("overlay_ends_after_start"),
            models.UniqueConstraint(
                fields=["territory", "user"],
                condition=Q(effective_to__isnull=True),
                name="overlay_one_open_per_user",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} overlays {self.territory}"


class AssignmentRule(BaseModel):
    """Which accounts belong to a territory; every non-empty criterion must match.

    Lists match case-insensitively (any entry); ranges are half-open, ``min <= value < max``,
    so adjacent bands such as 0-500 and 500-5000 employees never overlap. An account with an
    empty value never matches a range. A rule with no criteria is a catch-all. A lower
    ``priority`` number wins; several matching rules at the winning priority are an overlap.
    """

    name = models.CharField(max_length=120)
    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="rules")
    priority = models.PositiveIntegerField(default=100, db_index=True)
    is_active = models.BooleanField(default=True)
    countries = models.JSONField(default=list, blank=True)
    regions = models.JSONField(default=list, blank=True)
    states = models.JSONField(default=list, blank=True)
    industries = models.JSONField(default=list, blank=True)
    employee_count_min = models.PositiveIntegerField(null=True, blank=True)
    employee_count_max = models.PositiveIntegerField(null=True, blank=True)
    annual_revenue_min = models.DecimalField(
        max_digits=16, decimal_places=2, null=True, blank=True, validators=money_validators()
    )
    annual_revenue_max = models.DecimalField(
        max_digits=16, decimal_places=2, null=True, blank=True, validators=money_validators()
    )
    named_accounts = models.ManyToManyField(
        "accounts.Account", blank=True, related_name="territory_rules"
    )

    objects = AssignmentRuleQuerySet.as_manager()

    class Meta:
        ordering = ["priority", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(employee_count_min__isnull=True)
                | Q(employee_count_max__isnull=True)
                | Q(employee_count_max__gt=F("employee_count_min")),
                name="rule_employee_range_valid",
            ),
            models.CheckConstraint(
                condition=Q(annual_revenue_min__isnull=True)
                | Q(annual_revenue_max__isnull=True)
                | Q(annual_revenue_max__gt=F("annual_revenue_min")),
                name="rule_revenue_range_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (priority {self.priority})"

    def clean(self) -> None:
        super().clean()
        for name in ("countries", "regions", "states", "industries"):
            value = getattr(self, name)
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValidationError({name: "Give a list of names."})
            setattr(self, name, [v.strip() for v in value if v.strip()])
        if (
            self.employee_count_min is not None
            and self.employee_count_max is not None
            and self.employee_count_max <= self.employee_count_min
        ):
            raise ValidationError({"employee_count_max": "The maximum must exceed the minimum."})
        if (
            self.annual_revenue_min is not None
            and self.annual_revenue_max is not None
            and self.annual_revenue_max <= self.annual_revenue_min
        ):
            raise ValidationError({"annual_revenue_max": "The maximum must exceed the minimum."})
        if self.territory_id is not None and not self.territory.is_leaf_level:
            raise ValidationError(
                {"territory": "Rules assign accounts to territories of the lowest level."}
            )
