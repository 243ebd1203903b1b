"""OpenAPI documentation of the shared conventions (drf-spectacular).

``ApiAutoSchema`` adds to every operation what the shared code does, so no view repeats it:
the error responses (one ``Error`` shape), ``expand``, ``format=csv`` on lists,
``Idempotency-Key`` on POST, ``If-Match`` on PUT/PATCH, and ``If-None-Match`` with its 304 on
the GETs that answer an ``ETag`` (a record; a view with ``conditional_get = True``). The
extensions document the token authentication and ``VisibleRelatedField`` (an id in requests,
``{id, name}`` in responses).
"""

from __future__ import annotations

from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerFieldExtension,
)
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent, build_basic_type
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

from .pagination import MAX_PAGE_SIZE

ERROR_SCHEMA = {
    "type": "object",
    "required": ["detail", "code"],
    "properties": {
        "detail": {"type": "string", "description": "What went wrong, for people."},
        "code": {"type": "string", "description": "A stable code, e.g. `invalid`, `not_found`."},
        "fields": {
            "type": "object",
            "additionalProperties": {},
            "description": (
                "Validation errors only: messages per request field (`non_field_errors` for "
                "the request as a whole; the `Idempotency-Key` header by its name)."
            ),
        },
    },
}
ERROR_DESCRIPTIONS = {
    "400": "Invalid input: see `fields` for the message of each field.",
    "401": "No or invalid credentials.",
    "403": "Not allowed (e.g. a read-only token on a write, or a business rule).",
    "404": "No such record in what you may see (or an invalid page or cursor).",
    "409": "Conflict: a business state conflict, or the same Idempotency-Key still running.",
    "412": "If-Match does not match the record's current ETag; nothing was changed.",
    "415": "Unsupported request content type.",
    "422": "This Idempotency-Key was used for a different request.",
    "429": "Too many requests; retry after `Retry-After` seconds.",
}
__all__ = ["MAX_PAGE_SIZE", "ApiAutoSchema"]


NOT_MODIFIED = {
    "description": "Not modified: If-None-Match names the current ETag (no body).",
    "headers": {"ETag": {"schema": {"type": "string"}}},
}


class ApiAutoSchema(AutoSchema):
    def _is_conditional_get(self) -> bool:
        """A GET answering an ETag: a record's retrieve, or a view that says it does."""
        if self.method != "GET":
            return False
        action = getattr(self.view, "action", None)
        return action == "retrieve" or getattr(self.view, "conditional_get", False)

    def _error_codes(self) -> list[str]:
        codes = ["400", "401", "403", "404", "429"]
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            codes.append("409")
        if self.method in ("POST", "PUT", "PATCH"):
            codes.append("415")
        if self.method in ("PUT", "PATCH") or (self.method == "POST" and "{" in self.path):
            codes.append("412")
        if self.method == "POST":
            codes.append("422")
        return sorted(codes)

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for response in responses.values():
            csv = response.get("content", {}).get("text/csv")
            if csv is not None:  # a CSV export is text: one row per record, nested as a.b
                csv["schema"] = {"type": "string"}
        component = ResolvedComponent(
            name="Error", type=ResolvedComponent.SCHEMA, object="Error", schema=ERROR_SCHEMA
        )
        self.registry.register_on_missing(component)
        for code in self._error_codes():
            response = {
                "content": {"application/json": {"schema": component.ref}},
                "description": ERROR_DESCRIPTIONS[code],
            }
            if code == "429":
                response["headers"] = {
                    "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds."}
                }
            responses.setdefault(code, response)
        if self._is_conditional_get():
            responses.setdefault("304", NOT_MODIFIED)
        return responses

    def get_override_parameters(self):
        from .viewsets import VisibleGenericViewSet

        params = list(super().get_override_parameters())
        view = self.view
        if isinstance(view, VisibleGenericViewSet) and self.method in (
            "GET",
            "POST",
            "PUT",
            "PATCH",
        ):
            expandable = sorted(view.expandable_fields())
            if expandable:
                params.append(
                    OpenApiParameter(
                        "expand",
                        OpenApiTypes.STR,
                        many=True,
                        explode=False,
                        enum=expandable,
                        description="Related records to include in full instead of {id, name}.",
                    )
                )
            if getattr(view, "action", None) == "list" and view.csv_export:
                params.append(
                    OpenApiParameter(
                        "format",
                        OpenApiTypes.STR,
                        enum=["json", "csv"],
                        description="`csv` exports every filtered row (unpaginated) as CSV.",
                    )
                )
        if self.method == "POST":
            params.append(
                OpenApiParameter(
                    "Idempotency-Key",
                    OpenApiTypes.STR,
                    OpenApiParameter.HEADER,
                    description="Send a unique key; a retry with the same key returns the first "
                    "result (header Idempotent-Replayed: true) instead of doing it again.",
                )
            )
        if self._is_conditional_get():
            params.append(
                OpenApiParameter(
                    "If-None-Match",
                    OpenApiTypes.STR,
                    OpenApiParameter.HEADER,
                    description="The ETag you hold; if it is still current: 304, no body.",
                )
            )
        if self.method in ("PUT", "PATCH"):
            params.append(
                OpenApiParameter(
                    "If-Match",
                    OpenApiTypes.STR,
                    OpenApiParameter.HEADER,
                    description="The ETag you read; if the record changed since: 412, no change.",
                )
            )
        return params


class ApiTokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "salesmgmt.api.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token: `Authorization: Bearer <key>` (or `Token <key>`).",
        }


class VisibleRelatedFieldSchema(OpenApiSerializerFieldExtension):
    target_class = "salesmgmt.api.fields.VisibleRelatedField"

    def map_serializer_field(self, auto_schema, direction):
        field = self.target
        if direction == "request":
            return build_basic_type(OpenApiTypes.INT)
        if field.expanded is None:
            return {
                "type": "object",
                "required": ["id", "name"],
                "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
            }
        expanded = field.expanded()
        name = expanded.__class__.__name__.removesuffix("Serializer") + "Ref"
        component = ResolvedComponent(
            name=name, type=ResolvedComponent.SCHEMA, object=f"ref:{name}", schema=None
        )
        if component not in auto_schema.registry:
            schema = auto_schema._map_serializer(expanded, direction)
            # Always id and name; the other properties only with ?expand=.
            component.schema = {**schema, "required": ["id", "name"]}
            auto_schema.registry.register(component)
        return component.ref
