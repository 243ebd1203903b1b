"""List rows rendered without DRF's per-field machinery where a field only passes a value on.

DRF renders each field of each row through ``get_attribute`` and ``to_representation``: a
handful of calls, a try/except and a timezone lookup per field, about 1,000 times for a page
of 50 deals — a third of a list request's Python time. Most fields do nothing to the value a
database column gives them (a ``CharField`` returns the ``str`` it was given, an
``IntegerField`` the ``int``), so ``represent_rows`` plans each field once per list:

- a plain column shown by one of those fields is read as it is;
- a ``DateTimeField`` column in ISO 8601 is converted to the current time zone read once per
  list, not once per value;
- a related record shown as ``{id, name}`` (a ``VisibleRelatedField`` the request does not
  expand) is read from the row's joined record, as the field's ``to_representation`` does;
- everything else (decimals, dates, expanded related records, computed fields) goes through
  DRF.

The output is DRF's own, value for value: tests/salesmgmt/api/test_list_representation.py
compares every list row with its record's detail, which DRF renders as usual.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone
from rest_framework import ISO_8601, serializers
from rest_framework import fields as drf_fields
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject
from rest_framework.settings import api_settings

from .fields import VisibleRelatedField

# Serializer fields whose to_representation returns the value of a model column of these
# kinds unchanged (the database gives them str, int or bool). Exact serializer types only: a
# subclass may render differently.
PASS_THROUGH = {
    drf_fields.CharField: (models.CharField, models.TextField),
    drf_fields.EmailField: (models.CharField,),
    drf_fields.URLField: (models.CharField,),
    drf_fields.SlugField: (models.CharField,),
    drf_fields.ChoiceField: (models.CharField, models.IntegerField),
    drf_fields.IntegerField: (models.IntegerField,),
    drf_fields.BooleanField: (models.BooleanField,),
}

Step = Callable[[object], object]


def _column(serializer: serializers.Serializer, field: drf_fields.Field) -> models.Field | None:
    """The plain column ``field`` shows, if it shows one."""
    meta = getattr(serializer, "Meta", None)
    model = getattr(meta, "model", None)
    # A bound field's source is a str (the stubs also allow the unbound forms).
    source = field.source
    if model is None or not isinstance(source, str) or "." in source or source == "*":
        return None
    try:
        column = model._meta.get_field(field.source)
    except FieldDoesNotExist:
        return None
    if not column.concrete or column.is_relation:
        return None
    return column


def _iso_datetime(field: drf_fields.DateTimeField, attname: str, zone) -> Step:
    def step(row):
        value = getattr(row, attname)
        if not value:
            return None
        if value.tzinfo is None:
            return field.to_representation(value)  # naive: DRF decides what it means
        text = value.astimezone(zone).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return step


def _through_drf(field: drf_fields.Field) -> Step:
    def step(row):
        attribute = field.get_attribute(row)
        check = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
        return None if check is None else field.to_representation(attribute)

    return step


def _related_summary(field: VisibleRelatedField, source: str) -> Step:
    slow = _through_drf(field)

    def step(row):
        try:
            value = getattr(row, source)
        except AttributeError:
            return slow(row)  # a missing related record: DRF decides (default, null, skip)
        return None if value is None else {"id": value.pk, "name": str(value)}

    return step


def _step(
    serializer: serializers.Serializer, field: drf_fields.Field, zone, expand: set[str]
) -> Step:
    source = field.source
    if (
        type(field) is VisibleRelatedField
        and isinstance(source, str)
        and source.isidentifier()  # one attribute, not a path or "*"
        and (field.expanded is None or field.field_name not in expand)
    ):
        return _related_summary(field, source)
    column = _column(serializer, field)
    if column is None:
        return _through_drf(field)
    attname = column.attname
    if isinstance(column, PASS_THROUGH.get(type(field), ())):
        return lambda row: getattr(row, attname)
    output_format = getattr(field, "format", api_settings.DATETIME_FORMAT)
    if (
        isinstance(column, models.DateTimeField)
        and type(field) is drf_fields.DateTimeField
        and not hasattr(field, "timezone")
        and isinstance(output_format, str)
        and output_format.lower() == ISO_8601
        and zone is not None
    ):
        return _iso_datetime(field, attname, zone)
    return _through_drf(field)


def represent_rows(serializer: serializers.Serializer, rows: Iterable) -> list[dict]:
    """``serializer``'s representation of each of ``rows`` (its ``many=True`` data)."""
    if type(serializer).to_representation is not serializers.Serializer.to_representation:
        return [serializer.to_representation(row) for row in rows]  # it renders its own way
    zone = timezone.get_current_timezone() if settings.USE_TZ else None
    expand = serializer.context.get("expand", set())
    plan = [
        (field.field_name, _step(serializer, field, zone, expand))
        for field in serializer._readable_fields
    ]
    data = []
    for row in rows:
        item = {}
        for name, step in plan:
            try:
                item[name] = step(row)
            except SkipField:
                continue
        data.append(item)
    return data
