"""API views of the core: people, API tokens and webhooks (CSV imports: csv_import.api)."""

from __future__ import annotations

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from salesmgmt import invitations, selectors, services, webhooks
from salesmgmt.models import ApiToken, User, WebhookDelivery, WebhookSubscription

from .filters import IdFilter, SyncFilterSet
from .serializers import (
    ApiTokenCreatedSerializer,
    ApiTokenSerializer,
    InvitationBatchSerializer,
    InvitationSerializer,
    NoBodySerializer,
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
        fields = [
            "role",
            "manager",
            "region",
            "sales_role",
            "is_active",
            "is_org_unit",
            "external_id",
        ]


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

    @extend_schema(request=None, responses={201: InvitationSerializer})
    @action(detail=True, methods=["post"])
    def invite(self, request, pk=None):
        """Administrators: send this person (who never signed in) a sign-in invitation. The
        link is in the answer when it was not e-mailed (e-mail off, or no address)."""
        NoBodySerializer(data=request.data).is_valid(raise_exception=True)
        invitations.ensure_may_invite(request.user)
        sent = invitations.user_invite(
            actor=request.user,
            user=self.get_object(),
            base_url=request.build_absolute_uri("/"),
            in_session=request.auth is None,
        )
        return Response(InvitationSerializer(sent).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={201: InvitationBatchSerializer})
    @action(detail=False, methods=["post"], url_path="invite-pending")
    def invite_pending(self, request):
        """Administrators: invite everyone who never signed in and has no current invitation
        (administrators among them only with a signed-in session, not an API token)."""
        NoBodySerializer(data=request.data).is_valid(raise_exception=True)
        sent = invitations.users_invite_pending(
            actor=request.user,
            base_url=request.build_absolute_uri("/"),
            in_session=request.auth is None,
        )
        data = InvitationBatchSerializer({"invited": len(sent), "invitations": sent}).data
        return Response(data, status=status.HTTP_201_CREATED)


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
