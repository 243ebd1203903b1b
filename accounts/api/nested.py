"""A list nested under a deal in the API: ``/api/v1/opportunities/{deal_id}/<things>/``.

The deal's team and its line items are both such lists: the deal must be one the caller sees
(else 404, from ``selectors.opportunity_get``), the rows are the deal's, and removing one is a
service call answering 204. ``DealNestedViewSet`` is that once; a subclass names its rows
(``rows_of``), its services (``perform_create``, ``perform_update``, ``remove``) and carries
``@deal_nested_schema`` for the path parameter in the OpenAPI schema.
"""

from __future__ import annotations

from django.db.models import Model, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.response import Response

from salesmgmt.api.viewsets import VisibleModelViewSet

from .. import selectors
from ..models import Opportunity

DEAL_PARAMETER = OpenApiParameter(
    "deal_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The deal's id."
)

# Applied to each subclass (drf-spectacular reads the schema of the class it is given).
deal_nested_schema = extend_schema_view(
    list=extend_schema(parameters=[DEAL_PARAMETER]),
    create=extend_schema(parameters=[DEAL_PARAMETER]),
    retrieve=extend_schema(parameters=[DEAL_PARAMETER]),
    update=extend_schema(parameters=[DEAL_PARAMETER]),
    partial_update=extend_schema(parameters=[DEAL_PARAMETER]),
    destroy=extend_schema(parameters=[DEAL_PARAMETER], responses={204: None}),
)


class DealNestedViewSet(VisibleModelViewSet):
    """Rows of one deal the caller can see; subclasses say which rows and how they change."""

    ordering_fields = ["created_at", "updated_at"]
    csv_export = False

    def deal(self) -> Opportunity:
        return selectors.opportunity_get(viewer=self.request.user, pk=int(self.kwargs["deal_id"]))

    def visible_queryset(self) -> QuerySet:
        return self.rows_of(self.deal())

    def rows_of(self, deal: Opportunity) -> QuerySet:
        raise NotImplementedError

    def remove(self, instance: Model) -> None:
        raise NotImplementedError

    def destroy(self, request, *args, **kwargs):
        """Remove it from the deal."""
        self.remove(self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
