"""Serializer fields shared by every app's API."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db.models import ForeignKey, QuerySet
from rest_framework import serializers

from salesmgmt.models import User
from salesmgmt.money import money_field_options

MAX_ID = 2**63 - 1


class MoneyField(serializers.DecimalField):
    """An entered amount in the one money range (salesmgmt.money): cents, at most MONEY_MAX.

    Zero or more unless ``signed``; ``min_value`` may raise the floor (e.g. 0.01).
    """

    def __init__(self, *, signed: bool = False, **kwargs) -> None:
        super().__init__(**money_field_options(signed=signed, **kwargs))


class VisibleRelatedField(serializers.PrimaryKeyRelatedField):
    """A foreign key as the API shows and accepts it.

    Writes take an id, looked up in ``visible(user)`` — the caller's visibility-scoped
    queryset — so an id outside it is the field error "does not exist", never a write. The
    one exception is the id the record being edited already holds (sent back unchanged, as
    a PUT of what a GET returned does): it is accepted as it is, since it changes nothing
    (a deal-team member sees the deal but not necessarily its owner).
    ``queryset`` names the model (and is what anonymous callers get: nothing of it).
    Reads give ``{"id", "name"}``, or with ``?expand=<field name>`` the ``expanded``
    serializer's representation (which must include ``id`` and ``name``). The serializer's
    selector must ``select_related`` the relation so a list costs no extra queries.
    """

    def __init__(
        self,
        *,
        visible: Callable[[User], QuerySet] | None = None,
        expanded: type[serializers.Serializer] | None = None,
        **kwargs,
    ) -> None:
        self.visible = visible
        self.expanded = expanded
        super().__init__(**kwargs)

    # Set by DRF's Field.__new__ (the arguments the field was built with); not in the stubs.
    _args: tuple
    _kwargs: dict[str, Any]

    def __deepcopy__(self, memo):
        # DRF copies every declared field per serializer instance, through the arguments it
        # was built with; a deep copy of ``queryset`` copies its whole query (a list request
        # spent more time there than in rendering its rows). The queryset is a template that
        # is never evaluated (get_queryset derives a new one per call), so it is shared.
        kwargs = {
            key: value if key == "queryset" else copy.deepcopy(value, memo)
            for key, value in self._kwargs.items()
        }
        return self.__class__(*self._args, **kwargs)

    def get_queryset(self) -> QuerySet:
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if self.visible is None or user is None or not user.is_authenticated:
            if self.queryset is None:
                raise ImproperlyConfigured(f"{type(self).__name__} needs queryset= (the model's)")
            return self.queryset.none()
        return self.visible(user)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not str(data).isdigit() or not 0 < int(data) <= MAX_ID:
            if isinstance(data, int | str) and not isinstance(data, bool):
                self.fail("does_not_exist", pk_value=data)
            self.fail("incorrect_type", data_type=type(data).__name__)
        unchanged = self._current_value(int(data))
        if unchanged is not None:
            return unchanged
        return super().to_internal_value(int(data))

    def _current_value(self, pk: int) -> object | None:
        """The related record the edited instance holds now, when ``pk`` names it."""
        instance = getattr(self.parent, "instance", None)
        source = self.source  # a str once bound (the stubs also allow the unbound forms)
        if (
            instance is None
            or isinstance(instance, list | QuerySet)
            or not isinstance(source, str)
            or "." in source
        ):
            return None
        try:
            field = instance._meta.get_field(source)
        except FieldDoesNotExist:
            return None
        if isinstance(field, ForeignKey) and getattr(instance, field.attname) == pk:
            return getattr(instance, source)
        return None

    def use_pk_only_optimization(self) -> bool:
        return False

    def to_representation(self, value):
        if self.expanded is not None and self.field_name in self.context.get("expand", ()):
            return self.expanded(value, context=self.context).data
        return {"id": value.pk, "name": str(value)}


def parse_expand(raw: str | None) -> set[str]:
    """``"owner,account"`` → ``{"owner", "account"}``."""
    if not raw:
        return set()
    return {name.strip() for name in raw.split(",") if name.strip()}
