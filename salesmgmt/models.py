"""The sales organisation: people, roles, the reporting hierarchy, fiscal periods, currencies."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone


class BaseModel(models.Model):
    """Every table carries when a row was created and last changed."""

    # A default rather than auto_now_add so imports and demo data can keep historical dates.
    created_at = models.DateTimeField(default=timezone.now, db_index=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        abstract = True


class Role(models.TextChoices):
    REP = "rep", "Sales rep"
    MANAGER = "manager", "Manager"
    EXECUTIVE = "executive", "Executive"
    ADMIN = "admin", "Administrator"
    INTEGRATOR = "integrator", "Integrator"


class SalesRole(models.TextChoices):
    NONE = "", "—"
    SDR = "sdr", "SDR"
    AE = "ae", "Account executive"
    AM = "am", "Account manager"
    SE = "se", "Sales engineer"


class User(AbstractUser):
    """A person (or an integration) with a role and a place in the reporting hierarchy.

    The hierarchy is stored twice: ``manager`` is the truth, ``ancestor_path`` a materialized
    path of the manager chain ("/1/4/" for someone whose manager is 4, reporting to 1). We chose
    a materialized path over a recursive CTE or a closure table because "everyone below this
    manager" becomes one indexed ``LIKE 'prefix%'`` that is identical on SQLite and
    PostgreSQL, needs no extra table, and re-parenting a subtree is one UPDATE
    (see ``salesmgmt.services.set_manager``). Hierarchies are shallow, so paths stay short.
    """

    email = models.EmailField(unique=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.REP, db_index=True)
    manager = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="direct_reports",
    )
    ancestor_path = models.CharField(max_length=512, default="/", db_index=True, editable=False)
    title = models.CharField(max_length=120, blank=True)
    sales_role = models.CharField(max_length=8, choices=SalesRole.choices, blank=True)
    region = models.CharField(max_length=80, blank=True)
    hire_date = models.DateField(null=True, blank=True)
    external_id = models.CharField(max_length=64, blank=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    objects = UserManager()

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(manager=models.F("id")), name="user_not_own_manager"
            ),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def subtree_path(self) -> str:
        """The ancestor_path prefix shared by everyone who reports to this user, at any depth."""
        return f"{self.ancestor_path}{self.pk}/"

    @property
    def sees_everyone(self) -> bool:
        return self.is_superuser or self.role in (Role.EXECUTIVE, Role.ADMIN, Role.INTEGRATOR)

    @property
    def is_integrator(self) -> bool:
        return self.role == Role.INTEGRATOR

    def clean(self) -> None:
        super().clean()
        if self.manager_id is None or self.pk is None:
            return
        if self.manager_id == self.pk:
            raise ValidationError({"manager": "A person cannot report to themselves."})
        if self.manager.ancestor_path.startswith(self.subtree_path):
            raise ValidationError(
                {"manager": f"{self.manager} reports to {self}; that would make a cycle."}
            )


class Period(BaseModel):
    """A fiscal period; ``end_on`` is inclusive."""

    class Kind(models.TextChoices):
        MONTH = "month", "Month"
        QUARTER = "quarter", "Quarter"
        YEAR = "year", "Year"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    name = models.CharField(max_length=32)
    start_on = models.DateField()
    end_on = models.DateField()

    class Meta:
        ordering = ["start_on", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "start_on"], name="period_unique_kind_start"),
            models.CheckConstraint(
                condition=models.Q(end_on__gte=models.F("start_on")), name="period_end_after_start"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def contains(self, day) -> bool:
        return self.start_on <= day <= self.end_on


class ExchangeRate(BaseModel):
    """How many units of the reporting currency one unit of ``currency`` buys from a date on."""

    currency = models.CharField(max_length=3)
    rate_to_reporting = models.DecimalField(max_digits=18, decimal_places=8)
    effective_on = models.DateField()

    class Meta:
        ordering = ["currency", "effective_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["currency", "effective_on"], name="exchange_rate_unique_currency_day"
            ),
            models.CheckConstraint(
                condition=models.Q(rate_to_reporting__gt=Decimal(0)),
                name="exchange_rate_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.currency} {self.rate_to_reporting} from {self.effective_on}"
