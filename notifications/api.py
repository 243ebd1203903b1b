"""API of the notifications app: the requesting person's own inbox and preferences only.

``/api/v1/notifications/`` (list, filter by kind and unread, mark read, mark all read) and
``/api/v1/notifications/preferences/`` (read, change). Someone else's notification is a 404.
"""

from __future__ import annotations

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from salesmgmt.api.filters import SyncFilterSet
from salesmgmt.api.viewsets import ListMixin, RetrieveMixin, VisibleGenericViewSet

from . import selectors, services
from .kinds import Channel, Kind
from .models import Notification


class NotificationSerializer(serializers.ModelSerializer):
    is_read = serializers.BooleanField(read_only=True)

    class Meta:
        model = Notification
        fields = [
            "id",
            "kind",
            "title",
            "body",
            "link",
            "subject_label",
            "subject_id",
            "created_at",
            "read_at",
            "is_read",
        ]
        read_only_fields = fields


class NotificationFilter(SyncFilterSet):
    kind = filters.ChoiceFilter(choices=Kind.choices)
    unread = filters.BooleanFilter(field_name="read_at", lookup_expr="isnull", label="Unread only")

    class Meta:
        model = Notification
        fields = ["kind", "unread"]


class MarkAllReadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Kind.choices, required=False, allow_blank=True)


class MarkAllReadResultSerializer(serializers.Serializer):
    marked = serializers.IntegerField()
    unread = serializers.IntegerField()


class DigestScheduleSerializer(serializers.Serializer):
    is_enabled = serializers.BooleanField(required=False)
    weekday = serializers.IntegerField(min_value=0, max_value=6, required=False)
    hour = serializers.IntegerField(min_value=0, max_value=23, required=False)
    time_zone = serializers.CharField(max_length=64, required=False, allow_blank=True)


class PreferencesSerializer(serializers.Serializer):
    channels = serializers.DictField(
        child=serializers.ChoiceField(choices=Channel.choices),
        required=False,
        help_text="Kind → channel (in_app, immediate, digest, off).",
    )
    digest = DigestScheduleSerializer(required=False)


def preferences_data(user) -> dict:
    prefs = selectors.preferences_get(user=user)
    schedule = prefs.schedule
    return {
        "channels": {choice.kind: choice.channel for choice in prefs.kinds},
        "digest": {
            "is_enabled": schedule.is_enabled,
            "weekday": schedule.weekday,
            "hour": schedule.hour,
            "time_zone": schedule.time_zone,
        },
    }


class NotificationViewSet(ListMixin, RetrieveMixin, VisibleGenericViewSet):
    """The requesting person's notifications, newest first."""

    queryset = Notification.objects.none()
    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter
    ordering_fields = ["created_at"]

    def visible_queryset(self):
        return selectors.notification_list(user=self.request.user)

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        """Mark one notification read."""
        notification = services.notification_mark_read(
            actor=request.user, notification=self.get_object()
        )
        return self.record_response(self.reload(notification))

    @extend_schema(request=MarkAllReadSerializer, responses=MarkAllReadResultSerializer)
    @action(
        detail=False, methods=["post"], url_path="read-all", serializer_class=MarkAllReadSerializer
    )
    def read_all(self, request):
        """Mark every unread notification read (of one kind, if given)."""
        serializer = MarkAllReadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        marked = services.notifications_mark_all_read(
            actor=request.user, kind=serializer.validated_data.get("kind", "")
        )
        return Response({"marked": marked, "unread": selectors.unread_count(user=request.user)})

    @extend_schema(methods=["GET"], request=None, responses=PreferencesSerializer)
    @extend_schema(
        methods=["PATCH"], request=PreferencesSerializer, responses=PreferencesSerializer
    )
    @action(detail=False, methods=["get", "patch"], serializer_class=PreferencesSerializer)
    def preferences(self, request):
        """Your channel per kind and your weekly digest's day and hour (your time zone)."""
        if request.method == "PATCH":
            serializer = PreferencesSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            services.preferences_update(
                actor=request.user,
                channels=serializer.validated_data.get("channels"),
                digest=serializer.validated_data.get("digest"),
            )
        return Response(preferences_data(request.user))
