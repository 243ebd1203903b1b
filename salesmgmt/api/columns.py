"""Which columns a list response reads, so a list loads only those of its related rows.

A list joins each row's related records (``select_related``) to show them as ``{id, name}``
or, with ``?expand=``, as their summary. Loading every column of every related row (a
person's password hash, permissions flags, a deal's twenty fields) was a good part of a page's
cost; ``related_only`` narrows each joined relation to what its representation can read: the
columns its summary serializer shows and those its ``__str__`` uses (``STR_FIELDS`` on the
model, ``("name",)`` by default). The list's own rows keep every column.
"""

from __future__ import annotations

from functools import cache

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Model, QuerySet
from rest_framework import serializers

from .fields import VisibleRelatedField


def str_fields(model: type[Model]) -> tuple[str, ...]:
    """The columns ``str(instance)`` reads."""
    return tuple(getattr(model, "STR_FIELDS", ("name",)))


def _summary_columns(model: type[Model], expanded) -> set[str] | None:
    columns = {model._meta.pk.name, *str_fields(model)}
    if expanded is None:
        return columns
    for name in expanded.Meta.fields:
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            if name == "name":  # the summaries' ``name`` is ``__str__``
                continue
            return None  # something computed: cannot tell what it reads
        if not field.concrete or field.is_relation:
            return None
        columns.add(name)
    return columns


@cache
def related_columns(serializer_class: type[serializers.ModelSerializer]) -> tuple[str, ...] | None:
    """``only()`` arguments for a list of ``serializer_class``, or ``None`` to load everything."""
    model: type[Model] = serializer_class.Meta.model
    own = [field.name for field in model._meta.concrete_fields]
    related: list[str] = []
    for name, field in serializer_class().fields.items():
        if not isinstance(field.source, str):
            return None  # bound fields have a str source (the stubs also allow other forms)
        if not isinstance(field, VisibleRelatedField):
            if field.source == "*" or "." in field.source:
                return None  # computed, or read through a relation: it may need any column
            continue
        if field.source != name or "." in field.source:
            return None
        try:
            relation = model._meta.get_field(name)
        except FieldDoesNotExist:
            return None
        target = relation.related_model  # a model class once the apps are loaded
        if not (relation.many_to_one or relation.one_to_one) or not relation.concrete:
            return None
        if not isinstance(target, type):
            return None
        columns = _summary_columns(target, field.expanded)
        if columns is None:
            return None
        related += [f"{name}__{column}" for column in sorted(columns)]
    return (*own, *related)


def related_only(queryset: QuerySet, serializer_class) -> QuerySet:
    """``queryset`` loading only the related columns the serializer shows (see module doc)."""
    select_related = queryset.query.select_related
    deferred, defer = queryset.query.deferred_loading
    if not isinstance(select_related, dict) or deferred or not defer:
        return queryset  # nothing joined by name, or already narrowed by its selector
    if not issubclass(serializer_class, serializers.ModelSerializer):
        return queryset
    columns = related_columns(serializer_class)
    if columns is None:
        return queryset
    relations = {name.split("__")[0] for name in columns if "__" in name}
    if not relations <= select_related.keys():
        return queryset  # a relation it shows is not joined: leave the list as it is
    # A relation joined further (``opportunity__account``) keeps the key it is joined by;
    # the rows beyond it load whole.
    joined_on = [
        f"{relation}__{nested}" for relation in relations for nested in select_related[relation]
    ]
    return queryset.only(*columns, *joined_on)
