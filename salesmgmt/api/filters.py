"""Filter sets shared by every list: ``updated_since`` for incremental sync, bounded ids."""

from __future__ import annotations

import datetime as dt

from django import forms
from django_filters import rest_framework as filters
from django_filters.fields import IsoDateTimeField
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from .fields import MAX_ID


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(filters.NumberFilter):
    """An id filter that refuses what no row can have (negative, beyond 64 bits) with a 400."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class UtcIsoDateTimeField(IsoDateTimeField):
    """ISO 8601, any offset Python accepts, converted to UTC before it reaches the database
    (PostgreSQL refuses offsets beyond ±16 h; a year-9999 edge can overflow): a 400, not a 500.
    """

    def to_python(self, value):
        parsed = super().to_python(value)
        if parsed is None:
            return None
        try:
            return parsed.astimezone(dt.UTC)
        except OverflowError:
            raise forms.ValidationError("This date and time is out of range.") from None


class UtcIsoDateTimeFilter(filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


# Query parameters that are not filters: paging, expansion, search and ordering, the format.
NOT_FILTERS = frozenset(
    {"page", "page_size", "cursor", "after", "expand", "search", "ordering", "format"}
)


class FilterBackend(filters.DjangoFilterBackend):
    """django-filter's backend, skipped when the request names no filter at all.

    Building and validating the filter set's form costs a list request a few milliseconds
    and, with no filter parameter, can only return the list unchanged.
    """

    def filter_queryset(self, request, queryset, view):
        if NOT_FILTERS.issuperset(request.query_params.keys()):
            return queryset
        return super().filter_queryset(request, queryset, view)


class SyncFilterSet(filters.FilterSet):
    """Base for every API filter set. ``updated_since`` also switches to cursor pagination."""

    updated_since = UtcIsoDateTimeFilter(
        field_name="updated_at",
        lookup_expr="gte",
        label="Only rows changed at or after this time (ISO 8601); for incremental sync.",
    )
