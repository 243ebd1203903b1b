"""Base viewsets for every app's API: visibility first, then the integrator conventions.

Subclass ``VisibleModelViewSet`` (or ``VisibleReadOnlyViewSet``, or combine the mixins) and

- set ``queryset = Model.objects.none()`` (names the model for routers and the schema) and
  implement ``visible_queryset()`` by calling the app's visibility selector for
  ``self.request.user`` — records outside it are 404 on every method, lists never show them;
- implement ``perform_create(data) -> instance`` and ``perform_update(instance, data,
  expected_version) -> instance`` by calling the app's services with the serializer's
  ``validated_data`` (serializers only parse and format);
- set ``serializer_class`` (related fields as ``salesmgmt.api.fields.VisibleRelatedField``),
  ``filterset_class`` (a ``SyncFilterSet``), ``search_fields``, ``ordering_fields``.

You get: ``ETag`` on single-record responses, 304 on a GET whose ``If-None-Match`` names it
and 412 on a stale ``If-Match``,
``Idempotency-Key`` replays on POST, ``?expand=``, CSV export of lists (``?format=csv`` or
``Accept: text/csv``, unpaginated, streamed), JSON errors, and ids limited to 18 digits in
URLs (a bigger number is a 404, not a database overflow). Example: ``accounts/api/views.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import islice
from typing import TYPE_CHECKING, cast

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Model
from django.http import StreamingHttpResponse
from django.urls import NoReverseMatch, reverse
from rest_framework import serializers, status, viewsets
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from salesmgmt.errors import ConflictError

if TYPE_CHECKING:
    from salesmgmt.models import User

from .columns import related_only
from .concurrency import (
    PreconditionFailed,
    check_if_match,
    etag_for,
    expected_version,
    if_match_tags,
    is_not_modified,
)
from .fields import VisibleRelatedField, parse_expand
from .idempotency import IdempotencyMixin
from .renderers import CSVRenderer, iter_csv
from .representation import represent_rows

CSV_CHUNK = 500


class AuthenticatedRequest(Request):
    """For the type checker: a request past authentication, whose ``user`` is a person (every
    visible viewset requires one; ``get_queryset`` answers nothing without). Never
    instantiated."""

    user: User


class VisibleGenericViewSet(IdempotencyMixin, viewsets.GenericViewSet):
    request: AuthenticatedRequest
    lookup_value_regex = r"[0-9]{1,18}"
    csv_export = True

    def visible_queryset(self):
        raise NotImplementedError(f"{type(self).__name__} must scope its queryset by a selector.")

    def get_queryset(self):
        user = getattr(self.request, "user", None)
        if getattr(self, "swagger_fake_view", False) or user is None or not user.is_authenticated:
            if self.queryset is None:
                raise ImproperlyConfigured(
                    f"{type(self).__name__}: set queryset = Model.objects.none()"
                )
            return self.queryset.none()  # schema generation (and never data for nobody)
        return self.visible_queryset()

    # --- expand ----------------------------------------------------------------------------

    def expandable_fields(self) -> set[str]:
        serializer_class = self.get_serializer_class()
        fields = getattr(serializer_class, "_declared_fields", {})
        return {
            name
            for name, field in fields.items()
            if isinstance(field, VisibleRelatedField) and field.expanded is not None
        }

    def get_serializer_context(self) -> dict:
        context = super().get_serializer_context()
        # Unknown names are ignored; each VisibleRelatedField looks for its own name.
        context["expand"] = parse_expand(
            self.request.query_params.get("expand") if self.request else None
        )
        return context

    # --- rendering -------------------------------------------------------------------------

    def get_renderers(self):
        renderers = super().get_renderers()
        if self.csv_export and getattr(self, "action", None) == "list":
            renderers.append(CSVRenderer())
        return renderers

    def wants_csv(self) -> bool:
        renderer = getattr(self.request, "accepted_renderer", None)
        return renderer is not None and renderer.format == "csv"

    def finalize_response(self, request, response, *args, **kwargs):
        if response.status_code >= 400 and isinstance(response, Response) and self.wants_csv():
            # Errors are JSON even when the caller asked for a CSV export.
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)

    # --- single-record helpers -------------------------------------------------------------

    def reload(self, instance: Model) -> Model:
        """The record again through the selector (related rows loaded for the response)."""
        return self.get_queryset().get(pk=instance.pk)

    def record_response(
        self,
        instance: Model,
        status_code: int = status.HTTP_200_OK,
        serializer_class=None,
        **headers: str,
    ) -> Response:
        """One record, with its ETag; ``serializer_class`` for actions that parse another."""
        if serializer_class is None:
            data = self.get_serializer(instance).data
        else:
            data = serializer_class(instance, context=self.get_serializer_context()).data
        response = Response(data, status=status_code, headers=headers)
        response["ETag"] = etag_for(instance)
        return response

    def check_if_match(self, instance: Model) -> None:
        check_if_match(self.request, instance)


if TYPE_CHECKING:
    # The mixins below always come before VisibleGenericViewSet in a viewset's bases.
    _ViewSetBase = VisibleGenericViewSet
else:
    _ViewSetBase = object


class ListMixin(_ViewSetBase):
    def list(self, request, *args, **kwargs):
        queryset = related_only(
            self.filter_queryset(self.get_queryset()), self.get_serializer_class()
        )
        if self.wants_csv():
            return self.csv_response(queryset)
        page = self.paginate_queryset(queryset)
        if page is None:
            raise ImproperlyConfigured(f"{type(self).__name__}: lists are paginated")
        return self.get_paginated_response(represent_rows(self.row_serializer(page), page))

    def row_serializer(self, rows: Sequence) -> serializers.Serializer:
        """The serializer of one of ``rows``: the child of the list ``many=True`` builds."""
        many = cast(serializers.ListSerializer, self.get_serializer(rows, many=True))
        return cast(serializers.Serializer, many.child)

    def csv_response(self, queryset) -> StreamingHttpResponse:
        """Every filtered row, unpaginated, serialized a chunk at a time as it streams."""

        def rows():
            iterator = queryset.iterator(chunk_size=CSV_CHUNK)
            while chunk := list(islice(iterator, CSV_CHUNK)):
                yield from represent_rows(self.row_serializer(chunk), chunk)

        response = StreamingHttpResponse(iter_csv(rows()), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{self.basename}.csv"'
        return response


class RetrieveMixin(_ViewSetBase):
    def retrieve(self, request, *args, **kwargs):
        instance = self.get_object()
        etag = etag_for(instance)
        if is_not_modified(request, etag):
            # The caller's copy is current: no body, no serializer (its related rows unread).
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
        return self.record_response(instance)


class CreateMixin(_ViewSetBase):
    def perform_create(self, data: dict) -> Model:
        raise NotImplementedError

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        instance = self.reload(self.perform_create(serializer.validated_data))
        headers = {}
        try:
            lookup = {self.lookup_url_kwarg or self.lookup_field: instance.pk}
            headers["Location"] = request.build_absolute_uri(
                reverse(f"{self.basename}-detail", kwargs=lookup)
            )
        except NoReverseMatch:
            pass
        return self.record_response(instance, status.HTTP_201_CREATED, **headers)


class UpdateMixin(_ViewSetBase):
    def perform_update(self, instance: Model, data: dict, expected_version: int | None) -> Model:
        raise NotImplementedError

    def update(self, request, *args, partial: bool = False, **kwargs):
        instance = self.get_object()
        self.check_if_match(instance)
        serializer = self.get_serializer(instance, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        version = expected_version(request) if hasattr(instance, "version") else None
        try:
            updated = self.perform_update(instance, serializer.validated_data, version)
        except ConflictError:
            # The service re-checked the version under its row lock and lost a race.
            if if_match_tags(request) is not None:
                raise PreconditionFailed() from None
            raise
        return self.record_response(self.reload(updated))

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)


class VisibleReadOnlyViewSet(ListMixin, RetrieveMixin, VisibleGenericViewSet):
    """List and retrieve what the caller may see."""


class VisibleModelViewSet(
    ListMixin, RetrieveMixin, CreateMixin, UpdateMixin, VisibleGenericViewSet
):
    """List, retrieve, create and update (PUT/PATCH) through services; no deletes."""


__all__ = [
    "CreateMixin",
    "ListMixin",
    "RetrieveMixin",
    "UpdateMixin",
    "VisibleGenericViewSet",
    "VisibleModelViewSet",
    "VisibleReadOnlyViewSet",
]
