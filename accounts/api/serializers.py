"""Serializers for accounts, contacts, the sales process, deals and activities.

They parse and format only: every rule (ownership, visibility, stage derivation) lives in
``accounts.services``. Related records are ``VisibleRelatedField``s: an id in requests,
``{id, name}`` in responses (or the full summary with ``?expand=``).
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from salesmgmt.api.fields import MoneyField, VisibleRelatedField
from salesmgmt.api.serializers import UserSummarySerializer
from salesmgmt.models import User
from salesmgmt.visibility import visible_users

from .. import forecast_categories, selectors
from ..models import (
    Account,
    Activity,
    Contact,
    ForecastCategory,
    Milestone,
    MilestoneCompletion,
    Opportunity,
    SalesProcess,
    Stage,
)

MAX_INT = 2**31 - 1
# Renders a datetime as every DateTimeField does (the current time zone is read per call):
# one for the module, not one built per row of a list.
DATETIME = serializers.DateTimeField(read_only=True)


def _visible_accounts(user: User):
    return Account.objects.visible_to(user)


def _visible_opportunities(user: User):
    return Opportunity.objects.visible_to(user).select_related("account", "process")


def _milestones(user: User):
    return Milestone.objects.select_related("stage")


def _processes(user: User):
    return SalesProcess.objects.all()


def _owner_field(**kwargs) -> VisibleRelatedField:
    return VisibleRelatedField(
        queryset=User.objects.all(),
        visible=visible_users,
        expanded=UserSummarySerializer,
        **kwargs,
    )


# --- summaries for ?expand= -----------------------------------------------------------------


class AccountSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Account
        fields = ["id", "name", "industry", "region", "country", "external_id"]
        read_only_fields = fields


class StageSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Stage
        fields = ["id", "name", "order", "default_forecast_category"]
        read_only_fields = fields


class MilestoneSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Milestone
        fields = ["id", "name", "evidence_required", "order"]
        read_only_fields = fields


class OpportunitySummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Opportunity
        fields = ["id", "name", "amount", "currency", "status", "expected_close_on"]
        read_only_fields = fields


# --- resources ------------------------------------------------------------------------------


class AccountSerializer(serializers.ModelSerializer):
    owner = _owner_field(required=False)
    # A website is accepted too: the service stores its domain and checks it (accounts.domains).
    domain = serializers.CharField(max_length=2000, required=False, allow_blank=True)

    class Meta:
        model = Account
        fields = [
            "id",
            "name",
            "industry",
            "employee_count",
            "annual_revenue",
            "country",
            "region",
            "state",
            "owner",
            "external_id",
            "domain",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        extra_kwargs = {"employee_count": {"max_value": MAX_INT}}


class ContactSerializer(serializers.ModelSerializer):
    account = VisibleRelatedField(
        queryset=Account.objects.all(),
        visible=_visible_accounts,
        expanded=AccountSummarySerializer,
    )
    name = serializers.CharField(source="__str__", read_only=True)

    class Meta:
        model = Contact
        fields = [
            "id",
            "account",
            "name",
            "first_name",
            "last_name",
            "title",
            "email",
            "phone",
            "buying_role",
            "external_id",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]


def _stages(user: User):
    return Stage.objects.all()


class MilestoneSerializer(serializers.ModelSerializer):
    """An exit milestone; ``stage`` is chosen when it is created (then fixed), ``order`` is set
    by ``POST /stages/{id}/reorder-milestones/``."""

    stage = VisibleRelatedField(queryset=Stage.objects.all(), visible=_stages)

    class Meta:
        model = Milestone
        fields = [
            "id",
            "stage",
            "name",
            "description",
            "evidence_required",
            "order",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "order", "created_at", "updated_at"]


class StageSerializer(serializers.ModelSerializer):
    """A stage; ``process`` is chosen when it is created (then fixed), ``order`` is set by
    ``POST /processes/{id}/reorder-stages/``."""

    process = VisibleRelatedField(queryset=SalesProcess.objects.all(), visible=_processes)

    class Meta:
        model = Stage
        fields = [
            "id",
            "process",
            "name",
            "order",
            "default_forecast_category",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "order", "created_at", "updated_at"]


class ProcessStageSerializer(serializers.ModelSerializer):
    milestones = MilestoneSummarySerializer(many=True, read_only=True)

    class Meta:
        model = Stage
        fields = ["id", "name", "order", "default_forecast_category", "milestones"]
        read_only_fields = fields


class SalesProcessSerializer(serializers.ModelSerializer):
    stages = ProcessStageSerializer(many=True, read_only=True)

    class Meta:
        model = SalesProcess
        fields = [
            "id",
            "name",
            "description",
            "requires_verification",
            "is_default",
            "stages",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "stages", "created_at", "updated_at"]


class ReorderSerializer(serializers.Serializer):
    """The new order: every id of the list, each once, first to last."""

    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_INT), allow_empty=False
    )


class WonOverrideSerializer(serializers.Serializer):
    """How a deal was closed won without its closing milestones (read-only)."""

    reason = serializers.CharField(read_only=True)
    by = serializers.IntegerField(read_only=True, allow_null=True, help_text="Who: a person's id.")
    at = serializers.DateTimeField(read_only=True)


@extend_schema_field(
    {
        "type": "object",
        "nullable": True,
        "properties": {
            "reason": {"type": "string"},
            "by": {"type": "integer", "nullable": True, "description": "Who: a person's id."},
            "at": {"type": "string", "format": "date-time"},
        },
        "required": ["reason", "by", "at"],
    }
)
class WonOverrideField(serializers.Field):
    """A deal's ``won_override`` (read-only). Its source is a plain name, not ``*``, so a list
    still loads only the related columns it shows (salesmgmt.api.columns)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(read_only=True, **kwargs)

    def get_attribute(self, instance: Opportunity) -> Opportunity:
        return instance

    def to_representation(self, deal: Opportunity) -> dict | None:
        """From the list's annotation (``selectors.with_won_override``); a deal a write just
        returned has none: then its won deal's record is read (1 query, won deals only)."""
        if hasattr(deal, "won_override_at"):
            reason, by, at = deal.won_override_reason, deal.won_override_by_id, deal.won_override_at
        elif deal.status == Opportunity.Status.WON and (
            event := selectors.opportunity_won_override(opportunity=deal)
        ):
            reason, by, at = event.details.get("reason", ""), event.actor_id, event.created_at
        else:
            return None
        if at is None:
            return None
        return WonOverrideSerializer({"reason": reason or "", "by": by, "at": at}).data


@extend_schema_field({"type": "string", "format": "date-time", "nullable": True})
class LastTwoWayContactField(serializers.Field):
    """A deal's ``last_two_way_contact_at`` (read-only): from the list's annotation
    (``selectors.with_last_two_way_contact``); a deal a write just returned has none, so its
    activities are read (1 query)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(read_only=True, **kwargs)

    def get_attribute(self, instance: Opportunity) -> Opportunity:
        return instance

    def to_representation(self, deal: Opportunity) -> str | None:
        at = selectors.last_two_way_contact(opportunity=deal)
        return None if at is None else DATETIME.to_representation(at)


class OpportunitySerializer(serializers.ModelSerializer):
    """A deal. ``stage`` follows from completed milestones; ``version`` is the ETag."""

    account = VisibleRelatedField(
        queryset=Account.objects.all(),
        visible=_visible_accounts,
        expanded=AccountSummarySerializer,
    )
    owner = _owner_field(required=False)
    process = VisibleRelatedField(read_only=True)
    stage = VisibleRelatedField(read_only=True, allow_null=True, expanded=StageSummarySerializer)
    amount = MoneyField()
    # The rep's choice ("" = none: the stage's default applies); the one the forecast counts:
    forecast_category = serializers.ChoiceField(
        choices=ForecastCategory.choices,
        allow_blank=True,
        required=False,
        help_text='The chosen category; "" clears the choice (the stage default applies).',
    )
    effective_forecast_category = serializers.ChoiceField(
        choices=forecast_categories.EffectiveCategory.choices,
        read_only=True,
        allow_null=True,
        help_text="What the forecast counts: closed when won, null when lost, else the chosen "
        "category, else the stage's default.",
    )
    # A deal closed won by a manager without its closing milestones: why, who, when (the
    # audit log's record). One nullable object: a list's open deals pay 19 bytes for it.
    won_override = WonOverrideField(
        help_text="Set when a manager closed it won without its closing milestones: the "
        "reason, who (a person's id) and when; null otherwise."
    )
    last_two_way_contact_at = LastTwoWayContactField(
        help_text="When the customer last took part (a reply received, a meeting held, a call "
        "answered; one scheduled for later counts once its time has passed); null if never."
    )

    class Meta:
        model = Opportunity
        fields = [
            "id",
            "name",
            "account",
            "owner",
            "process",
            "stage",
            "stage_entered_at",
            "amount",
            "currency",
            "expected_close_on",
            "status",
            "closed_on",
            "lost_reason",
            "won_override",
            "last_two_way_contact_at",
            "forecast_category",
            "effective_forecast_category",
            "next_step",
            "lead_source",
            "version",
            "external_id",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "process",
            "stage",
            "stage_entered_at",
            "status",
            "closed_on",
            "lost_reason",
            "version",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {
            "currency": {"required": False},
            "external_id": {"required": False},
            "lead_source": {"required": False},
        }


class OpportunityCreateSerializer(OpportunitySerializer):
    """Creation may choose the sales process (default: the default process)."""

    process = VisibleRelatedField(
        queryset=SalesProcess.objects.all(), visible=_processes, required=False
    )


class MilestoneActionSerializer(serializers.Serializer):
    milestone = VisibleRelatedField(queryset=Milestone.objects.all(), visible=_milestones)
    evidence = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    note = serializers.CharField(required=False, allow_blank=True, max_length=255)


class AsOfQuerySerializer(serializers.Serializer):
    """``?as_of=YYYY-MM-DD`` on a deal: the end of that day in the company's time zone."""

    as_of = serializers.DateField(
        help_text="A day up to today; the deal as it stood at the end of it (company time zone)."
    )

    def validate_as_of(self, value):
        if value > selectors.company_today():
            raise serializers.ValidationError(
                "Choose a day up to today: the future has no history yet."
            )
        return value


def _named(record) -> dict | None:
    return None if record is None else {"id": record.pk, "name": str(record)}


class CompletedMilestoneSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="milestone.pk")
    name = serializers.CharField(source="milestone.name")
    stage = serializers.CharField(source="milestone.stage.name")
    completed_at = serializers.DateTimeField()


class OpportunityAsOfSerializer(serializers.Serializer):
    """A deal as it stood at the end of ``as_of``, rebuilt from its history (read only)."""

    id = serializers.IntegerField(source="deal.pk")
    name = serializers.CharField(source="deal.name")
    as_of = serializers.DateField(source="state.day")
    at = serializers.DateTimeField(source="state.at")
    owner = serializers.SerializerMethodField()
    stage = serializers.SerializerMethodField()
    amount = serializers.DecimalField(source="state.amount", max_digits=16, decimal_places=2)
    currency = serializers.CharField(source="state.currency")
    expected_close_on = serializers.DateField(source="state.expected_close_on", allow_null=True)
    status = serializers.CharField(source="state.status")
    closed_on = serializers.DateField(source="state.closed_on", allow_null=True)
    forecast_category = serializers.CharField(
        source="state.chosen_category", help_text='The rep\'s choice then ("" = none).'
    )
    effective_forecast_category = serializers.CharField(
        source="state.forecast_category", allow_null=True
    )
    completed_milestones = CompletedMilestoneSerializer(
        source="state.completed_milestones", many=True
    )

    def get_owner(self, row) -> dict | None:
        return _named(row.state.owner)

    def get_stage(self, row) -> dict | None:
        return _named(row.state.stage)


class WinSerializer(serializers.Serializer):
    closed_on = serializers.DateField(required=False)
    override_reason = serializers.CharField(
        max_length=255,
        required=False,
        allow_blank=True,
        help_text="A manager closing won without the closing milestones says why (audited).",
    )


class LoseSerializer(serializers.Serializer):
    lost_reason = serializers.CharField(max_length=200)
    closed_on = serializers.DateField(required=False)


class CompletionRejectSerializer(serializers.Serializer):
    # The page form's wording, so a caller sees the same message as a manager on the page.
    reason = serializers.CharField(
        max_length=255,
        error_messages={
            "required": "Say what is wrong with the evidence.",
            "blank": "Say what is wrong with the evidence.",
        },
    )


class MilestoneCompletionSerializer(serializers.ModelSerializer):
    opportunity = VisibleRelatedField(read_only=True)
    milestone = VisibleRelatedField(read_only=True)
    completed_by = VisibleRelatedField(read_only=True)
    verified_by = VisibleRelatedField(read_only=True, allow_null=True)

    class Meta:
        model = MilestoneCompletion
        fields = [
            "id",
            "opportunity",
            "milestone",
            "action",
            "completed_by",
            "completed_at",
            "evidence",
            "note",
            "verification_state",
            "verified_by",
            "verified_at",
            "rejection_reason",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ActivitySerializer(serializers.ModelSerializer):
    """Owned by the caller unless ``owner`` names someone in their part of the organisation;
    on a deal, the account follows from the deal."""

    owner = _owner_field(required=False)
    account = VisibleRelatedField(
        queryset=Account.objects.all(),
        visible=_visible_accounts,
        expanded=AccountSummarySerializer,
        required=False,
    )
    opportunity = VisibleRelatedField(
        queryset=Opportunity.objects.all(),
        visible=_visible_opportunities,
        expanded=OpportunitySummarySerializer,
        required=False,
        allow_null=True,
    )
    milestone = VisibleRelatedField(
        queryset=Milestone.objects.all(), visible=_milestones, required=False, allow_null=True
    )

    class Meta:
        model = Activity
        fields = [
            "id",
            "kind",
            "owner",
            "account",
            "opportunity",
            "milestone",
            "occurred_at",
            "duration_minutes",
            "outcome",
            "notes",
            "next_step",
            "external_id",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "external_id", "created_at", "updated_at"]
        extra_kwargs = {"duration_minutes": {"max_value": 60 * 24 * 31}}
