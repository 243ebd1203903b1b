"""API views of the core: people, API tokens, webhooks and CSV imports."""

from __future__ import annotations

from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import parsers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ParseError
from rest_framework.response import Response

from salesmgmt import selectors, services, webhooks
from salesmgmt.csv_import import create_import_job, rerun_for_real
from salesmgmt.models import ApiToken, ImportJob, User, WebhookDelivery, WebhookSubscription

from . import parsers as safe_parsers
from .filters import IdFilter, SyncFilterSet
from .serializers import (
    ApiTokenCreatedSerializer,
    ApiTokenSerializer,
    ImportJobSerializer,
    ImportUploadSerializer,
    UserSerializer,
    WebhookDeliverySerializer,
    WebhookSubscriptionCreatedSerializer,
    WebhookSubscriptionSerializer,
)
from .viewsets import (
    CreateMixin,
    ListMixin,
    RetrieveMixin,
    UpdateMixin,
    VisibleGenericViewSet,
    VisibleReadOnlyViewSet,
)


class UserFilter(SyncFilterSet):
    manager = IdFilter(field_name="manager_id")

    class Meta:
        model = User
        fields = ["role", "manager", "region", "sales_role", "is_active", "external_id"]


class UserViewSet(VisibleReadOnlyViewSet):
    """People: yourself; managers also everyone below them; executives, admins, integrators
    everyone."""

    queryset = User.objects.none()
    serializer_class = UserSerializer
    filterset_class = UserFilter
    search_fields = ["first_name", "last_name", "email", "username"]
    ordering_fields = ["last_name", "first_name", "hire_date", "created_at", "updated_at"]

    def visible_queryset(self):
        return selectors.user_list(viewer=self.request.user)

    @action(detail=False, methods=["get"])
    def me(self, request):
        """The person the credentials belong to."""
        return self.record_response(self.reload(request.user))


class ApiTokenViewSet(ListMixin, RetrieveMixin, VisibleGenericViewSet):
    """Your API tokens. The key is only in the response that creates the token."""

    queryset = ApiToken.objects.none()
    serializer_class = ApiTokenSerializer
    filterset_class = None
    csv_export = False
    search_fields: list[str] = []
    ordering_fields = ["created_at", "last_used_at"]

    def visible_queryset(self):
        return selectors.api_token_list(user=self.request.user)

    @extend_schema(request=ApiTokenSerializer, responses={201: ApiTokenCreatedSerializer})
    def create(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, key = services.api_token_create(user=request.user, **serializer.validated_data)
        data = ApiTokenCreatedSerializer(token, context={"key": key}).data
        return Response(data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        """Revoke the token: it stops working at once (the record stays, for the log)."""
        services.api_token_revoke(token=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookSubscriptionViewSet(
    ListMixin, RetrieveMixin, CreateMixin, UpdateMixin, VisibleGenericViewSet
):
    """Your webhook subscriptions (admins and integrators create them; internal addresses are
    refused unless allow-listed); events only about records you may see are sent."""

    queryset = WebhookSubscription.objects.none()
    serializer_class = WebhookSubscriptionSerializer
    filterset_class = None
    search_fields = ["url", "description"]
    ordering_fields = ["created_at", "updated_at"]

    def visible_queryset(self):
        return selectors.webhook_subscription_list(viewer=self.request.user)

    def get_serializer_class(self):
        if getattr(self, "action", None) == "create":
            return WebhookSubscriptionCreatedSerializer
        return WebhookSubscriptionSerializer

    def create(self, request, *args, **kwargs):
        # The role decides before the body is read: a rep gets 403 whatever they send.
        webhooks.ensure_may_own_webhooks(request.user)
        return super().create(request, *args, **kwargs)

    def perform_create(self, data):
        return webhooks.subscribe(owner=self.request.user, **data)

    def perform_update(self, instance, data, expected_version):
        return webhooks.update_subscription(subscription=instance, **data)

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        """Delete the subscription and its delivery log."""
        webhooks.delete_subscription(subscription=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookDeliveryFilter(SyncFilterSet):
    subscription = IdFilter(field_name="subscription_id")
    status = filters.ChoiceFilter(choices=WebhookDelivery.Status.choices)

    class Meta:
        model = WebhookDelivery
        fields = ["subscription", "event", "status"]


class WebhookDeliveryViewSet(VisibleReadOnlyViewSet):
    """The delivery log of your subscriptions: status, attempts, last error."""

    queryset = WebhookDelivery.objects.none()
    serializer_class = WebhookDeliverySerializer
    filterset_class = WebhookDeliveryFilter
    ordering_fields = ["created_at", "updated_at"]

    def visible_queryset(self):
        return selectors.webhook_delivery_list(viewer=self.request.user)

    @extend_schema(request=None, responses={201: WebhookDeliverySerializer})
    @action(detail=True, methods=["post"])
    def redeliver(self, request, pk=None):
        """Send the event again as a new delivery (same event id)."""
        copy = webhooks.redeliver(delivery=self.get_object())
        return self.record_response(self.reload(copy), status.HTTP_201_CREATED)


class CSVTextParser(parsers.BaseParser):
    """A raw ``text/csv`` body; ``kind`` and ``dry_run`` then come from the query string."""

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None):
        request = parser_context["request"]
        try:
            content = (stream.read() if stream else b"").decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ParseError("Send the CSV in UTF-8.") from None
        return {
            "content": content,
            "kind": request.query_params.get("kind", ""),
            "dry_run": request.query_params.get("dry_run", "true"),
        }


class ImportJobFilter(SyncFilterSet):
    class Meta:
        model = ImportJob
        fields = ["kind", "status", "dry_run"]


class ImportJobViewSet(ListMixin, RetrieveMixin, VisibleGenericViewSet):
    """CSV imports you started: upload, then follow ``status`` and ``rows_done/rows_total``;
    ``errors`` lists every bad row (row = line in the file, column, reason)."""

    queryset = ImportJob.objects.none()
    serializer_class = ImportJobSerializer
    filterset_class = ImportJobFilter
    ordering_fields = ["created_at", "updated_at"]
    parser_classes = [
        safe_parsers.MultiPartParser,
        safe_parsers.FormParser,
        safe_parsers.JSONParser,
        CSVTextParser,
    ]

    def visible_queryset(self):
        return selectors.import_job_list(viewer=self.request.user)

    @extend_schema(
        request={
            "multipart/form-data": ImportUploadSerializer,
            "application/json": ImportUploadSerializer,
            "text/csv": OpenApiTypes.STR,
        },
        parameters=[
            OpenApiParameter("kind", OpenApiTypes.STR, description="With a text/csv body."),
            OpenApiParameter("dry_run", OpenApiTypes.BOOL, description="With a text/csv body."),
        ],
        responses={202: ImportJobSerializer},
    )
    def create(self, request):
        """Upload a CSV; it is checked (``dry_run``, the default) or imported all-or-nothing
        by a background job."""
        serializer = ImportUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        upload = data.get("file")
        content = upload.read() if upload is not None else data["content"]
        job = create_import_job(
            actor=request.user,
            kind=data["kind"],
            content=content,
            file_name=getattr(upload, "name", "") or "",
            dry_run=data["dry_run"],
            column_map=data.get("column_map"),
            # A token is ``request.auth``; session cookies leave it None.
            in_session=request.auth is None,
        )
        return self.record_response(self.reload(job), status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={202: ImportJobSerializer})
    @action(detail=True, methods=["post"], url_path="import")
    def run_for_real(self, request, pk=None):
        """After a dry run without errors: import the same file for real (a new job)."""
        job = rerun_for_real(
            actor=request.user, job=self.get_object(), in_session=request.auth is None
        )
        return self.record_response(self.reload(job), status.HTTP_202_ACCEPTED)
