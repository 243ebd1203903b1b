"""Serializers of the core resources: people, tokens, webhooks, imports. Parse and format only."""

from __future__ import annotations

from rest_framework import serializers

from salesmgmt.csv_import import live_rows_done
from salesmgmt.models import (
    ApiToken,
    ImportJob,
    ImportKind,
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


class ImportErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(allow_null=True, help_text="Line in the file; 1 is the header.")
    column = serializers.CharField(allow_blank=True)
    reason = serializers.CharField()


class ImportSummarySerializer(serializers.Serializer):
    created = serializers.IntegerField(required=False)
    updated = serializers.IntegerField(required=False)
    ignored_columns = serializers.ListField(child=serializers.CharField(), required=False)


class ImportJobSerializer(serializers.ModelSerializer):
    rows_done = serializers.SerializerMethodField(
        help_text="Rows processed so far (live while the job runs)."
    )
    # DRF's metaclass takes declared fields off the class: this does not hide Serializer.errors.
    errors = ImportErrorSerializer(many=True, read_only=True)  # type: ignore[assignment]
    summary = ImportSummarySerializer(read_only=True)

    def get_rows_done(self, job: ImportJob) -> int:
        return live_rows_done(job)

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "kind",
            "file_name",
            "dry_run",
            "status",
            "rows_total",
            "rows_done",
            "errors",
            "summary",
            "started_at",
            "finished_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ImportUploadSerializer(serializers.Serializer):
    """Multipart upload (``file``) or JSON with the CSV text in ``content``."""

    kind = serializers.ChoiceField(choices=ImportKind.choices)
    dry_run = serializers.BooleanField(default=True)
    file = serializers.FileField(required=False)
    content = serializers.CharField(required=False, trim_whitespace=False)
    column_map = serializers.DictField(
        child=serializers.CharField(max_length=64),
        required=False,
        help_text='Extra header mapping, e.g. {"Sales Rep": "owner_email"}.',
    )

    def validate(self, attrs: dict) -> dict:
        if not attrs.get("file") and not attrs.get("content"):
            raise serializers.ValidationError({"file": "Upload a CSV file (or send `content`)."})
        return attrs
