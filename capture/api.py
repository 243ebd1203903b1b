"""Capture in the API: the caller's own captured items (list, file, delete) and settings.

``/api/v1/capture/items/`` lists only the caller's items (``?status=unfiled`` for the unfiled
list), like the pages: captured mail is its owner's mailbox (salesmgmt.visibility).
``/api/v1/capture/settings/`` reads and changes the caller's address, pause and exclusions.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Model
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from accounts.models import Opportunity
from salesmgmt.api import parsers as safe_parsers
from salesmgmt.api.fields import VisibleRelatedField
from salesmgmt.api.filters import SyncFilterSet
from salesmgmt.api.viewsets import CreateMixin, VisibleReadOnlyViewSet
from salesmgmt.models import User
from salesmgmt.visibility import may_capture

from . import selectors, services
from .models import CalendarSubscription, CapturedItem, CaptureSettings


class MayCapture(permissions.BasePermission):
    message = "Capture is for people who sell or lead, not integrations."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and may_capture(request.user))


class CapturedItemSerializer(serializers.ModelSerializer):
    """A captured email or meeting; ``opportunity`` and ``activity`` once filed."""

    account = VisibleRelatedField(read_only=True)
    opportunity = serializers.SerializerMethodField()

    class Meta:
        model = CapturedItem
        fields = [
            "id",
            "kind",
            "status",
            "direction",
            "sender",
            "recipients",
            "subject",
            "occurred_at",
            "excerpt",
            "account",
            "activity",
            "opportunity",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_opportunity(self, item: CapturedItem) -> int | None:
        return item.activity.opportunity_id if item.activity else None


def _open_deals(user: User):
    return Opportunity.objects.visible_to(user).open()


class FileSerializer(serializers.Serializer):
    opportunity = VisibleRelatedField(queryset=Opportunity.objects.all(), visible=_open_deals)


class CapturedItemFilter(SyncFilterSet):
    class Meta:
        model = CapturedItem
        fields = ["status", "kind"]


class CapturedItemViewSet(VisibleReadOnlyViewSet):
    """Your captured items (never anyone else's); file an unfiled one on a deal, delete one
    (its activity goes with it)."""

    queryset = CapturedItem.objects.none()
    serializer_class = CapturedItemSerializer
    filterset_class = CapturedItemFilter
    ordering_fields = ["occurred_at", "updated_at"]
    csv_export = False

    def visible_queryset(self):
        return selectors.captured_items(viewer=self.request.user)

    @extend_schema(request=FileSerializer, responses=CapturedItemSerializer)
    @action(detail=True, methods=["post"], url_path="file")
    def file(self, request, pk=None):
        """File an unfiled item on an open deal you can see: it becomes an activity there."""
        item = self.get_object()
        serializer = FileSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        filed = services.captured_item_file(
            actor=request.user, item=item, opportunity=serializer.validated_data["opportunity"]
        )
        return self.record_response(self.reload(filed))

    @extend_schema(responses={204: None})
    def destroy(self, request, *args, **kwargs):
        """Delete the item (its content is forgotten) and its activity."""
        services.captured_item_delete(actor=request.user, item=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    def reload(self, instance: Model) -> Model:
        return self.visible_queryset().get(pk=instance.pk)


class CaptureSettingsSerializer(serializers.ModelSerializer):
    address = serializers.CharField(read_only=True)
    excluded_domains = serializers.ListField(
        child=serializers.CharField(max_length=253), max_length=200, required=False
    )

    class Meta:
        model = CaptureSettings
        fields = ["address", "is_paused", "excluded_domains", "updated_at"]
        read_only_fields = ["address", "updated_at"]


class CaptureSettingsView(APIView):
    """Your capture address, whether capture is paused, the domains it never keeps mail of."""

    permission_classes = [*api_settings.DEFAULT_PERMISSION_CLASSES, MayCapture]

    @extend_schema(responses=CaptureSettingsSerializer)
    def get(self, request):
        capture = services.capture_settings_ensure(user=request.user)
        return Response(CaptureSettingsSerializer(capture).data)

    @extend_schema(request=CaptureSettingsSerializer, responses=CaptureSettingsSerializer)
    def patch(self, request):
        """Pause or resume capture, replace the excluded domains (400 on a bad domain)."""
        serializer = CaptureSettingsSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        saved = services.capture_settings_update(user=request.user, **serializer.validated_data)
        return Response(CaptureSettingsSerializer(saved).data)


class CaptureAddressRotateView(APIView):
    """A new capture address; the old one refuses mail from now on."""

    permission_classes = [*api_settings.DEFAULT_PERMISSION_CLASSES, MayCapture]

    @extend_schema(request=None, responses=CaptureSettingsSerializer)
    def post(self, request):
        request.data  # noqa: B018  # a body is not needed, but one that does not parse is a 400
        return Response(
            CaptureSettingsSerializer(services.capture_token_rotate(user=request.user)).data
        )


class CalendarSubscriptionSerializer(serializers.ModelSerializer):
    """A calendar read by its ICS URL every 15 minutes (the webhooks' address policy)."""

    class Meta:
        model = CalendarSubscription
        fields = ["id", "url", "name", "last_fetched_at", "last_error", "created_at"]
        read_only_fields = ["id", "last_fetched_at", "last_error", "created_at"]


class CalendarSubscriptionViewSet(CreateMixin, VisibleReadOnlyViewSet):
    """Your subscribed calendars: subscribe (400 on a refused or repeated URL), unsubscribe."""

    queryset = CalendarSubscription.objects.none()
    serializer_class = CalendarSubscriptionSerializer
    permission_classes = [*api_settings.DEFAULT_PERMISSION_CLASSES, MayCapture]
    ordering_fields = ["created_at"]
    csv_export = False

    def visible_queryset(self):
        return selectors.calendar_subscriptions(viewer=self.request.user)

    def perform_create(self, data: dict) -> Model:
        return services.calendar_subscription_add(user=self.request.user, **data)

    @extend_schema(responses={204: None})
    def destroy(self, request, *args, **kwargs):
        """Unsubscribe; meetings already captured from it stay."""
        services.calendar_subscription_remove(user=request.user, subscription=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class CalendarUploadSerializer(serializers.Serializer):
    file = serializers.FileField()


class CalendarReadSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    removed = serializers.IntegerField()


class CalendarUploadView(APIView):
    """Read an uploaded ``.ics`` file: its meetings with outside people become Meeting
    activities (uploading it again changes nothing; moved or cancelled ones follow)."""

    permission_classes = [*api_settings.DEFAULT_PERMISSION_CLASSES, MayCapture]
    parser_classes = [safe_parsers.MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": CalendarUploadSerializer},
        responses=CalendarReadSerializer,
    )
    def post(self, request):
        serializer = CalendarUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        if upload.size > settings.CAPTURE_CALENDAR_MAX_BYTES:
            raise serializers.ValidationError({"file": "The file is too large."})
        result = services.calendar_upload(user=request.user, data=upload.read())
        return Response(CalendarReadSerializer(result).data)
