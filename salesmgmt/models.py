"""The sales organisation: people, roles, the reporting hierarchy, fiscal periods, currencies."""

from __future__ import annotations

import uuid
import zoneinfo
from decimal import Decimal
from typing import ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models.functions import Lower
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


class SalesUserManager(UserManager["User"]):
    """``createsuperuser`` makes the first administrator: role admin, not the default rep.

    The rights follow the role as everywhere else (``salesmgmt.services``: staff and superuser
    exactly when the role is admin), so a superuser with any other role is refused."""

    def create_superuser(self, username, email=None, password=None, **extra_fields):
        extra_fields.setdefault("role", Role.ADMIN)
        if extra_fields["role"] != Role.ADMIN:
            raise ValueError("A superuser must have the admin role.")
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    """A person (or an integration) with a role and a place in the reporting hierarchy.

    The hierarchy is stored twice: ``manager`` is the truth, ``ancestor_path`` a materialized
    path of the manager chain ("/1/4/" for someone whose manager is 4, reporting to 1). We chose
    a materialized path over a recursive CTE or a closure table because "everyone below this
    manager" becomes one indexed ``LIKE 'prefix%'`` that is identical on SQLite and
    PostgreSQL, needs no extra table, and re-parenting a subtree is one UPDATE
    (see ``salesmgmt.services.user_set_manager``). Hierarchies are shallow, so paths stay short.

    The e-mail is optional (people imported by name have none; they sign in with their
    username), unique among those given whatever the case. ``is_org_unit`` marks a node of the
    hierarchy that is not a person (an office, region or team from an import): it has reports
    and figures like a manager, but never signs in, owns no deals and is never invited.
    """

    email = models.EmailField(blank=True)
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
    is_org_unit = models.BooleanField(
        "office or team",
        default=False,
        help_text="A node of the hierarchy (office, region, team), not a person: never signs in.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    objects: ClassVar[SalesUserManager] = SalesUserManager()
    # Not a column: the authentication backend's path, set by django.contrib.auth.authenticate().
    backend: str

    # What __str__ reads: API lists load only these (and the summary's) columns of a person.
    STR_FIELDS = ("first_name", "last_name", "username")

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(manager=models.F("id")), name="user_not_own_manager"
            ),
            # Two people may both have no e-mail; a given address belongs to one, in any case.
            models.UniqueConstraint(
                Lower("email"),
                condition=~models.Q(email=""),
                name="user_unique_email_ci",
                violation_error_message="Another person already has this e-mail address.",
            ),
            # An office node is a manager-like node without rights or a way to sign in.
            models.CheckConstraint(
                condition=models.Q(is_org_unit=False)
                | models.Q(role="manager", is_staff=False, is_superuser=False),
                name="user_org_unit_is_plain_manager",
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
        if self.manager is not None and self.manager.ancestor_path.startswith(self.subtree_path):
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


class WeekStart(models.TextChoices):
    MONDAY = "monday", "Monday"
    SUNDAY = "sunday", "Sunday"


def validate_time_zone(value: str) -> None:
    """An IANA time zone name that zoneinfo knows (e.g. "Europe/Berlin")."""
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            f"“{value}” is not a time zone name; use an IANA name such as Europe/Berlin.",
            code="invalid",
        )


currency_code_validator = RegexValidator(
    r"^[A-Z]{3}\Z", "Enter a three-letter ISO 4217 currency code in capitals, e.g. EUR."
)


class CompanySettings(BaseModel):
    """The company's own settings: one row (pk 1), read by ``selectors.company_settings_get``.

    Until an administrator saves them, the defaults come from the environment
    (``REPORTING_CURRENCY``, ``TIME_ZONE``); from then on this row is the one source of truth.
    """

    SINGLETON_PK = 1

    name = models.CharField(max_length=120, blank=True)
    reporting_currency = models.CharField(
        max_length=3, default="USD", validators=[currency_code_validator]
    )
    fiscal_year_start_month = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
        help_text="The month the fiscal year starts in (1 January … 12 December).",
    )
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    week_start = models.CharField(max_length=8, choices=WeekStart.choices, default=WeekStart.MONDAY)

    class Meta:
        ordering = ["id"]
        verbose_name = "company settings"
        verbose_name_plural = "company settings"
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="company_settings_single_row"),
            models.CheckConstraint(
                condition=models.Q(fiscal_year_start_month__gte=1, fiscal_year_start_month__lte=12),
                name="company_settings_month_1_to_12",
            ),
        ]

    def __str__(self) -> str:
        return self.name or "Company settings"

    @property
    def first_weekday(self) -> int:
        """The first day of a week as ``date.weekday()`` counts (0 Monday, 6 Sunday)."""
        return 6 if self.week_start == WeekStart.SUNDAY else 0


# --- Integrations: API tokens, idempotent requests, webhooks, bulk imports ---------------------


class ApiToken(BaseModel):
    """A bearer credential for the API; only a SHA-256 digest of the key is stored.

    The key is shown once when the token is created (``salesmgmt.services.api_token_create``);
    revoking keeps the row, so the admin can still see who used which token and when.
    """

    class Scope(models.TextChoices):
        READ = "read", "Read only"
        READ_WRITE = "read_write", "Read and write"

    name = models.CharField(max_length=80)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    scope = models.CharField(max_length=16, choices=Scope.choices, default=Scope.READ)
    # The first characters of the key, so a person can tell their tokens apart in a list.
    key_prefix = models.CharField(max_length=12, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def is_read_only(self) -> bool:
        return self.scope == self.Scope.READ


class IdempotencyRecord(BaseModel):
    """The first response to a POST sent with an ``Idempotency-Key``, replayed on retries.

    ``status_code`` is null while the first request is still running, so a concurrent retry
    gets 409 rather than a second write (see ``salesmgmt.api.idempotency``).
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=512)
    request_fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    response_headers = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_unique_user_key"),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"


class WebhookEvent(models.TextChoices):
    OPPORTUNITY_CREATED = "opportunity.created", "Opportunity created"
    OPPORTUNITY_STAGE_CHANGED = "opportunity.stage_changed", "Opportunity stage changed"
    OPPORTUNITY_WON = "opportunity.won", "Opportunity won"
    OPPORTUNITY_LOST = "opportunity.lost", "Opportunity lost"
    # Emitted by the forecasting app once forecast calls exist.
    FORECAST_SUBMITTED = "forecast.submitted", "Forecast submitted"
    # The events people are notified of too (the notifications app listens to every event).
    MILESTONE_COMPLETED = "milestone.completed", "Milestone completed"
    MILESTONE_VERIFIED = "milestone.verified", "Milestone verified"
    MILESTONE_REJECTED = "milestone.rejected", "Milestone rejected"
    OPPORTUNITY_FLAGGED = "opportunity.flagged", "Opportunity flagged for inspection"
    QUOTA_CHANGED = "quota.changed", "Quota set or changed"
    STATEMENT_READY = "statement.ready", "Statement ready"
    STATEMENT_APPROVED = "statement.approved", "Statement approved"
    DISPUTE_RAISED = "dispute.raised", "Dispute raised"
    DISPUTE_RESOLVED = "dispute.resolved", "Dispute resolved"
    RESOURCE_REQUEST_RAISED = "resource_request.raised", "Resource request raised"
    RESOURCE_REQUEST_DECIDED = "resource_request.decided", "Resource request decided"
    ACTION_ITEM_ASSIGNED = "action_item.assigned", "Action item assigned"
    # Someone joined the organisation (coaching listens: new hires join their programme).
    USER_CREATED = "user.created", "Person created"


class WebhookSubscription(BaseModel):
    """A receiver URL for some events; each delivery is signed with ``secret`` (HMAC-SHA256)."""

    owner = models.ForeignKey(User, on_delete=models.CASCADE, related_name="webhook_subscriptions")
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=128)
    events = models.JSONField(default=list)
    is_active = models.BooleanField(default=True)
    description = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(BaseModel):
    """One event sent (or being sent) to one subscription: the delivery log."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.CharField(max_length=64, choices=WebhookEvent.choices)
    event_id = models.UUIDField(default=uuid.uuid4, editable=False)
    payload = models.JSONField(encoder=DjangoJSONEncoder)
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due"),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.subscription_id} ({self.status})"


class ImportKind(models.TextChoices):
    USERS = "users", "Sales organisation (users)"
    ACCOUNTS = "accounts", "Accounts"
    CONTACTS = "contacts", "Contacts"
    OPPORTUNITIES = "opportunities", "Opportunities"
    ACTIVITIES = "activities", "Activities"
    PRODUCTS = "products", "Products (catalogue)"


class ImportJob(BaseModel):
    """A CSV file to import: validated (dry run) or applied all-or-nothing by a Celery task.

    ``rows_done`` is the committed progress; while the job runs, live progress is kept in the
    cache (see ``csv_import.jobs``) because the rows are written in one transaction.
    ``errors`` holds ``{"row", "column", "reason"}`` dicts; ``row`` is the line in the file
    (the header is line 1).
    """

    class Status(models.TextChoices):
        # Uploaded, its column and value mapping not yet confirmed: not queued.
        MAPPING = "mapping", "Waiting for its mapping"
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=16, choices=ImportKind.choices)
    created_by = models.ForeignKey(User, on_delete=models.CASCADE, related_name="import_jobs")
    file_name = models.CharField(max_length=255, blank=True)
    content = models.TextField()
    dry_run = models.BooleanField(default=True)
    # Explicit header mapping {"their header": "our column"}, on top of the built-in aliases.
    # A header may feed several columns: {"Deal Stage": ["stage", "status"]}.
    column_map = models.JSONField(default=dict, blank=True)
    # File values → accepted values per column: {"status": {"Won": "won"}, "stage": {...}}.
    value_map = models.JSONField(default=dict, blank=True)
    # What to do with gaps, chosen before the dry run: {"created_at": "close_date", ...}
    # (csv_import.review.OPTIONS lists the choices).
    options = models.JSONField(default=dict, blank=True)
    # Uploaded by a person signed in (a page or the API with session cookies), not with an API
    # token: only such a job, by an administrator, may change people's roles (users imports).
    created_in_session = models.BooleanField(default=False, editable=False)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    summary = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} import #{self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)


class ImportMapping(BaseModel):
    """A confirmed mapping of one kind's file headers, offered again for the same headers.

    Company-wide: whoever imports the same export next starts from it. ``headers_key`` names
    the set of headers (normalised, sorted) so a reordered export still matches."""

    kind = models.CharField(max_length=16, choices=ImportKind.choices)
    headers_key = models.CharField(max_length=64)
    headers = models.JSONField(default=list)
    column_map = models.JSONField(default=dict, blank=True)
    value_map = models.JSONField(default=dict, blank=True)
    options = models.JSONField(default=dict, blank=True)
    updated_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "headers_key"], name="import_mapping_once")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} mapping of {len(self.headers)} headers"


class AuditEvent(BaseModel):
    """One security- or money-relevant action: who did what to which record, from where.

    Append-only: written by ``salesmgmt.audit.audit_record``, shown read-only in the admin.
    """

    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    action = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    details = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        return f"{self.action} {self.target_type}#{self.target_id}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValidationError("Audit events are append-only.")
        super().save(*args, **kwargs)


# --- Two-factor sign-in (salesmgmt.two_factor) -------------------------------------------------


class TOTPDevice(BaseModel):
    """A person's authenticator app: the shared TOTP secret (RFC 6238, 30-second steps).

    Unconfirmed until the person types a code from it; only a confirmed device is asked for at
    log-in. The secret is shown once, while enrolling, and never again (not even in the admin).
    ``last_used_step`` refuses a replayed code: a step at or before it is never accepted again.
    """

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="totp_device")
    secret = models.CharField(max_length=64, editable=False)
    confirmed_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_used_step = models.BigIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "TOTP device"

    def __str__(self) -> str:
        return f"Authenticator of {self.user}"

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None


class RecoveryCode(BaseModel):
    """A single-use code for signing in without the authenticator; only its SHA-256 is kept."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="recovery_codes")
    code_hash = models.CharField(max_length=64, editable=False)
    used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "code_hash"], name="recovery_code_unique"),
        ]

    def __str__(self) -> str:
        return f"Recovery code #{self.pk} of user {self.user_id}"


# --- Background tasks -----------------------------------------------------------------------


class FailedTask(BaseModel):
    """A Celery task that failed for good: a permanent error, or every retry used up.

    Written by ``salesmgmt.task_failures`` from Celery's ``task_failure`` signal, read-only in
    the admin, so a task that keeps failing is recorded rather than retried forever.
    """

    task_name = models.CharField(max_length=200, db_index=True)
    task_id = models.CharField(max_length=64, blank=True, db_index=True)
    args = models.JSONField(default=list, blank=True, encoder=DjangoJSONEncoder)
    kwargs = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    exception = models.TextField()
    attempts = models.PositiveIntegerField(default=1)
    failed_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-failed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.task_name} [{self.task_id}] after {self.attempts} attempt(s)"


class StaleMark(models.Model):
    """An aggregate to recompute: its kind and key (salesmgmt.refresh, the one refresh path).

    Pending marks (not started) coalesce: one per kind and key. A batch sets ``started_at``
    when it claims a mark and deletes it when the recompute is stored; a mark whose batch
    never finished is claimed again by the sweep. Keys are plain numbers, not foreign keys:
    0 where the kind is not keyed by a person or a period, and a mark outliving its person
    or period is simply refreshed to nothing.
    """

    kind = models.CharField(max_length=40)
    person_key = models.BigIntegerField(default=0)
    period_key = models.BigIntegerField(default=0)
    requested_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["requested_at", "id"]
        indexes = [models.Index(fields=["kind", "started_at"], name="stale_mark_kind_state")]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "person_key", "period_key"],
                condition=models.Q(started_at__isnull=True),
                name="stale_mark_one_pending_per_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.person_key}/{self.period_key}"


class Invitation(models.Model):
    """A sign-in invitation sent to a person (salesmgmt.invitations): who, by whom, until when.

    The link itself is a signed token, not stored: it carries the person and a fingerprint of
    their password and last log-in, so it dies when either changes (used once) or after
    ``expires_at``. The row records that someone was invited, for the "not yet invited" list.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="invitations")
    invited_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    invited_at = models.DateTimeField(default=timezone.now, db_index=True)
    expires_at = models.DateTimeField(db_index=True)
    emailed_to = models.EmailField(blank=True)  # empty: the link was shown to copy
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-invited_at", "-id"]

    def __str__(self) -> str:
        return f"Invitation of {self.user} at {self.invited_at:%Y-%m-%d %H:%M}"
