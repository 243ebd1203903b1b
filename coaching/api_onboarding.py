"""API of onboarding programmes: programmes with their steps, enrolments with their progress,
and completing or certifying a step.

Programmes are the company's curriculum: everyone signed in reads them; managers, executives
and administrators write them (``services.may_edit_programmes``, else 403). Enrolments follow
the one visibility policy on their rep: a rep sees their own, a manager their subtree, admins
and executives all; anything else is a 404.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import Model, Prefetch
from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.decorators import action

from accounts.models import Milestone
from salesmgmt.api.fields import VisibleRelatedField
from salesmgmt.api.filters import IdFilter, SyncFilterSet
from salesmgmt.api.serializers import UserSummarySerializer
from salesmgmt.api.viewsets import (
    CreateMixin,
    ListMixin,
    RetrieveMixin,
    VisibleGenericViewSet,
)
from salesmgmt.models import User
from salesmgmt.visibility import owned_by_visible, visible_users

from . import selectors, services
from .models import CallDebrief, Enrolment, Programme, ProgrammeStep
from .programme_progress import Progress


def _all_programmes(user: User):
    return Programme.objects.all()


def _visible_debriefs(user: User):
    return CallDebrief.objects.filter(owned_by_visible(user, "rep"))


# --- programmes -----------------------------------------------------------------------------------


class ProgrammeStepSerializer(serializers.ModelSerializer):
    milestone = serializers.PrimaryKeyRelatedField(
        queryset=Milestone.objects.all(), required=False, allow_null=True
    )

    class Meta:
        model = ProgrammeStep
        fields = ["id", "order", "kind", "title", "description", "due_after_days", "milestone"]
        read_only_fields = ["id", "order"]


class ProgrammeSerializer(serializers.ModelSerializer):
    created_by = VisibleRelatedField(read_only=True)
    steps = ProgrammeStepSerializer(many=True, read_only=True)

    class Meta:
        model = Programme
        fields = [
            "id", "name", "description", "sales_role", "is_default", "launched_on",
            "created_by", "steps", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["id", "created_by", "steps", "created_at", "updated_at"]


class ProgrammeViewSet(ListMixin, RetrieveMixin, CreateMixin, VisibleGenericViewSet):
    """Onboarding programmes: ordered curricula of modules, certifications and practice."""

    queryset = Programme.objects.none()
    serializer_class = ProgrammeSerializer
    ordering_fields = ["name", "created_at", "updated_at"]
    csv_export = False

    def get_serializer_class(self):
        if getattr(self, "action", None) == "add_step":
            return ProgrammeStepSerializer
        return ProgrammeSerializer

    def visible_queryset(self):
        return (
            Programme.objects.select_related("created_by")
            .prefetch_related(
                Prefetch("steps", queryset=ProgrammeStep.objects.order_by("order", "id"))
            )
            .order_by("name", "id")
        )

    def perform_create(self, data: dict) -> Model:
        return services.programme_create(actor=self.request.user, **data)

    @extend_schema(request=ProgrammeStepSerializer, responses=ProgrammeSerializer)
    @action(detail=True, methods=["post"], url_path="steps")
    def add_step(self, request, pk=None):
        """Add a step at the end of the programme (managers and administrators)."""
        programme = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.step_add(actor=request.user, programme=programme, **serializer.validated_data)
        return self.record_response(
            self.reload(programme), status.HTTP_201_CREATED, serializer_class=ProgrammeSerializer
        )


# --- enrolments -----------------------------------------------------------------------------------


class StepStateSerializer(serializers.Serializer):
    step = serializers.IntegerField(source="step.pk")
    kind = serializers.CharField(source="step.kind")
    title = serializers.CharField(source="step.title")
    due_on = serializers.DateField()
    done_on = serializers.DateField(allow_null=True)
    is_overdue = serializers.BooleanField()
    deal = serializers.IntegerField(source="deal_id", allow_null=True)
    debrief = serializers.IntegerField(allow_null=True)
    note = serializers.CharField()
    certified_by = serializers.CharField(allow_null=True)


class ProgressSerializer(serializers.Serializer):
    done = serializers.IntegerField()
    total = serializers.IntegerField()
    percent = serializers.IntegerField()
    overdue = serializers.IntegerField()
    next_step = serializers.IntegerField(allow_null=True)
    steps = StepStateSerializer(many=True)


def progress_data(progress: Progress) -> dict:
    today = progress.today
    next_step = progress.next_step
    return {
        "done": progress.done,
        "total": progress.total,
        "percent": progress.percent,
        "overdue": len(progress.overdue),
        "next_step": next_step.step.pk if next_step else None,
        "steps": [
            {
                "step": state.step.pk,
                "kind": state.step.kind,
                "title": state.step.title,
                "due_on": state.due_on,
                "done_on": state.done_on,
                "is_overdue": state.is_overdue(today),
                "deal": state.deal_id,
                "debrief": state.completion.debrief_id if state.completion else None,
                "note": state.completion.note if state.completion else "",
                "certified_by": str(state.completion.completed_by) if state.completion else None,
            }
            for state in progress.states
        ],
    }


class EnrolmentSerializer(serializers.ModelSerializer):
    programme = VisibleRelatedField(queryset=Programme.objects.all(), visible=_all_programmes)
    rep = VisibleRelatedField(
        queryset=User.objects.all(), visible=visible_users, expanded=UserSummarySerializer
    )
    enrolled_by = VisibleRelatedField(read_only=True, allow_null=True)
    progress = serializers.SerializerMethodField()

    class Meta:
        model = Enrolment
        fields = [
            "id", "programme", "rep", "started_on", "enrolled_by", "progress", "created_at",
            "updated_at",
        ]  # fmt: skip
        read_only_fields = ["id", "enrolled_by", "progress", "created_at", "updated_at"]
        extra_kwargs = {"started_on": {"required": False}}

    @extend_schema_field(ProgressSerializer)
    def get_progress(self, enrolment: Enrolment) -> dict:
        known = self.context.get("progress") or {}
        progress = known.get(enrolment.pk)
        if progress is None:  # one record (retrieve, create): 3 queries
            progress = selectors.enrolment_progress(enrolments=[enrolment])[enrolment.pk]
        return progress_data(progress)


class StepCompletionInputSerializer(serializers.Serializer):
    step = serializers.IntegerField(min_value=1)
    debrief = VisibleRelatedField(
        queryset=CallDebrief.objects.all(),
        visible=_visible_debriefs,
        required=False,
        allow_null=True,
    )
    note = serializers.CharField(required=False, allow_blank=True, default="")


class EnrolmentFilter(SyncFilterSet):
    rep = IdFilter(field_name="rep_id")
    programme = IdFilter(field_name="programme_id")

    class Meta:
        model = Enrolment
        fields = ["rep", "programme"]


class EnrolmentViewSet(ListMixin, RetrieveMixin, CreateMixin, VisibleGenericViewSet):
    """Who follows which programme and how far they are; managers enrol their reps by hand
    (new hires are enrolled automatically) and certify steps with evidence."""

    queryset = Enrolment.objects.none()
    serializer_class = EnrolmentSerializer
    filterset_class = EnrolmentFilter
    ordering_fields = ["started_on", "created_at", "updated_at"]
    csv_export = False

    def get_serializer_class(self):
        if getattr(self, "action", None) == "complete_step":
            return StepCompletionInputSerializer
        return EnrolmentSerializer

    def visible_queryset(self):
        return selectors.enrolment_list(viewer=self.request.user)

    def row_serializer(self, rows: Sequence) -> serializers.Serializer:
        serializer = super().row_serializer(rows)
        # The page's progress at once (3 queries), not per row.
        serializer.context["progress"] = selectors.enrolment_progress(
            enrolments=list(rows), today=timezone.localdate()
        )
        return serializer

    def perform_create(self, data: dict) -> Model:
        return services.enrolment_create(actor=self.request.user, **data)

    @extend_schema(request=StepCompletionInputSerializer, responses=EnrolmentSerializer)
    @action(detail=True, methods=["post"], url_path="complete-step")
    def complete_step(self, request, pk=None):
        """Mark a module done (the rep or their manager) or certify a step (the manager, with
        a debrief or a note as evidence)."""
        enrolment = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            step = selectors.step_get(programme=enrolment.programme, pk=data["step"])
        except Http404:
            raise serializers.ValidationError(
                {"step": ["This step is not part of the rep's programme."]}
            ) from None
        services.step_complete(
            actor=request.user,
            enrolment=enrolment,
            step=step,
            debrief=data.get("debrief"),
            note=data.get("note", ""),
        )
        return self.record_response(
            self.reload(enrolment), status.HTTP_201_CREATED, serializer_class=EnrolmentSerializer
        )
