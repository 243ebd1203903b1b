"""Serializers of the core resources: people, tokens, webhooks. Parse and format only."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from salesmgmt.models import (
    ApiToken,
    User,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)

from .fields import VisibleRelatedField


class UserSummarySerializer(serializers.ModelSerializer):
    """A person as ``?expand=owner`` shows them."""

    name = serializers.CharField(source="__str__", read_only=True)

    class Meta:
        model = User
        fields = ["id", "name", "email", "role", "title", "region"]
        read_only_fields = fields


class UserSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="__str__", read_only=True)
    manager = VisibleRelatedField(expanded=UserSummarySerializer, read_only=True, allow_null=True)

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "name",
            "first_name",
            "last_name",
            "email",
            "role",
            "manager",
            "title",
            "sales_role",
            "region",
            "hire_date",
            "external_id",
            "is_active",
            "is_org_unit",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ApiTokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "scope", "key_prefix", "created_at", "last_used_at", "revoked_at"]
        read_only_fields = ["id", "key_prefix", "created_at", "last_used_at", "revoked_at"]


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    """The only response that carries the key: store it now, it cannot be shown again."""

    key = serializers.SerializerMethodField()

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "key"]

    def get_key(self, token: ApiToken) -> str:
        return self.context.get("key", "")


class WebhookSubscriptionSerializer(serializers.ModelSerializer):
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEvent.choices), min_length=1, max_length=20
    )
    secret = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=128,
        help_text="HMAC-SHA256 key for X-Salesmgmt-Signature; generated if omitted.",
    )

    class Meta:
        model = WebhookSubscription
        fields = [
            "id",
            "url",
            "events",
            "is_active",
            "description",
            "secret",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]


class WebhookSubscriptionCreatedSerializer(WebhookSubscriptionSerializer):
    """Creation shows the signing secret once."""

    signing_secret = serializers.CharField(source="secret", read_only=True)

    class Meta(WebhookSubscriptionSerializer.Meta):
        fields = [*WebhookSubscriptionSerializer.Meta.fields, "signing_secret"]


class WebhookDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "subscription",
            "event",
            "event_id",
            "payload",
            "status",
            "attempts",
            "last_status_code",
            "last_error",
            "next_attempt_at",
            "delivered_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class InvitationSerializer(serializers.Serializer):
    """An invitation made (salesmgmt.invitations.InvitationSent): the link only when it was
    not e-mailed, for the administrator to pass on."""

    user = serializers.IntegerField(source="invitation.user_id")
    name = serializers.CharField(source="invitation.user.__str__")
    invited_at = serializers.DateTimeField(source="invitation.invited_at")
    expires_at = serializers.DateTimeField(source="invitation.expires_at")
    emailed_to = serializers.CharField(
        source="invitation.emailed_to", help_text="Empty when the link was not e-mailed."
    )
    link = serializers.SerializerMethodField()

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_link(self, sent) -> str | None:
        return None if sent.emailed else sent.link


class InvitationBatchSerializer(serializers.Serializer):
    """The answer to "invite everyone not yet invited": how many, and each invitation."""

    invited = serializers.IntegerField()
    invitations = InvitationSerializer(many=True)


class NoBodySerializer(serializers.Serializer):
    """For POST actions that take no fields: any field sent is refused, by name (a body that
    is not JSON is refused by the parser), rather than silently ignored."""

    def validate(self, attrs):
        unknown = sorted(self.initial_data)  # a mapping here: anything else failed before
        if unknown:
            raise serializers.ValidationError(
                {name: "This action takes no fields." for name in unknown}
            )
        return attrs
