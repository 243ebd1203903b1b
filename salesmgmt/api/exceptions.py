"""One JSON error shape for the whole API: ``{"detail", "code", "fields"?}``.

``fields`` maps a field name to its messages (``non_field_errors`` for the rest). Service
errors map as STYLE.md says: Django ``ValidationError`` → 400 with field messages,
``ApplicationError`` → its ``status_code`` (400/403/409), ``Http404`` → 404,
``PermissionDenied`` → 403; 412 and 429 come from the concurrency and throttling modules.
A lost database connection → 503 with ``Retry-After`` (code ``service_unavailable``).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from salesmgmt.api.parsers import PayloadTooLarge
from salesmgmt.db_router import current_reads
from salesmgmt.errors import ApplicationError
from salesmgmt.middleware import RETRY_AFTER_SECONDS, UNAVAILABLE_MESSAGE, database_error_in

NON_FIELD = api_settings.NON_FIELD_ERRORS_KEY
logger = logging.getLogger(__name__)


class ServiceError(exceptions.APIException):
    """An ``ApplicationError`` raised by a service, with the status it asks for."""

    def __init__(self, error: ApplicationError) -> None:
        super().__init__(detail=error.message, code=_code_for(error.status_code))
        self.status_code = error.status_code


class ServiceUnavailable(exceptions.APIException):
    """The database is unreachable (restarting, failing over): retry shortly."""

    status_code = 503
    default_detail = UNAVAILABLE_MESSAGE
    default_code = "service_unavailable"
    # DRF's handler turns ``wait`` into the Retry-After header.
    wait = RETRY_AFTER_SECONDS


def _code_for(status_code: int) -> str:
    return {403: "permission_denied", 404: "not_found", 409: "conflict"}.get(status_code, "invalid")


def _field_messages(error: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {
            (NON_FIELD if name == NON_FIELD_ERRORS else name): messages
            for name, messages in error.message_dict.items()
        }
    return {NON_FIELD: error.messages}


def _translate(exc: Exception) -> Exception:
    if isinstance(exc, RequestDataTooBig):
        # DRF reads a JSON or form body through HttpRequest.body, which stops at
        # DATA_UPLOAD_MAX_MEMORY_SIZE: a JSON 413, not Django's HTML 400 page.
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / 2**20
        return PayloadTooLarge(
            f"The request body is larger than {limit:.1f} MB; send a large CSV import as a "
            "file (multipart/form-data)."
        )
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(_field_messages(exc))
    if isinstance(exc, ApplicationError):
        return ServiceError(exc)
    if isinstance(exc, Http404):
        return exceptions.NotFound(str(exc) or None)
    if isinstance(exc, PermissionDenied):
        return exceptions.PermissionDenied(str(exc) or None)
    if database_error_in(exc) is not None:
        logger.error("Database unavailable, API answered 503: %s: %s", type(exc).__name__, exc)
        return ServiceUnavailable()
    return exc


def exception_handler(exc: Exception, context: dict):
    if current_reads() is not None and database_error_in(exc) is not None:
        # Reading from the read replica: left to ReplicaReadsMiddleware, which runs the
        # request again on the primary (a 503 only if that fails too).
        return None
    exc = _translate(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real bug: Django's 500 handling (and error reporting) takes over
    if isinstance(exc, exceptions.ValidationError):
        fields = exc.detail if isinstance(exc.detail, dict) else {NON_FIELD: exc.detail}
        response.data = {"detail": "Invalid input.", "code": "invalid", "fields": fields}
    else:
        detail = getattr(exc, "detail", response.data)
        code = detail.code if isinstance(detail, exceptions.ErrorDetail) else "error"
        response.data = {"detail": str(detail), "code": code}
    return response


@csrf_exempt  # no CSRF page for unsafe methods either: this answers every method with 404
def not_found(request, *args, **kwargs) -> JsonResponse:
    """A JSON 404 for any /api/ path that names no resource."""
    return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)
