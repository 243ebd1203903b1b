"""The API's request parsers: DRF's, behind the one sanitation point (salesmgmt.input_sanitation).

Every body is refused with a 4xx before any view sees it when it is too large (413), nested
deeper than MAX_JSON_DEPTH (400) or carries a lone surrogate or a NUL in any string, key
included (400 naming the field). Set as DEFAULT_PARSER_CLASSES in settings.
"""

from __future__ import annotations

from django.conf import settings
from rest_framework import exceptions, parsers, status
from rest_framework.settings import api_settings
from rest_framework.utils import json

from salesmgmt.input_sanitation import (
    MAX_JSON_DEPTH,
    find_pair_problem,
    find_text_problem,
    json_too_deep,
)


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


def _refuse(problem: tuple[str, str]) -> None:
    field, reason = problem
    raise exceptions.ValidationError({field: [reason]})


class JSONParser(parsers.JSONParser):
    """JSON, read whole (up to API_MAX_JSON_BYTES), its depth checked before decoding."""

    def parse(self, stream, media_type=None, parser_context=None):
        # In DRF since 3.17 (the charset check); the DRF stubs (3.16, 3.18) do not declare it.
        encoding = parsers.get_encoding(parser_context or {})  # type: ignore[attr-defined]
        limit = settings.API_MAX_JSON_BYTES
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise PayloadTooLarge(f"A JSON body may be at most {limit // 2**20} MB.")
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            raise exceptions.ParseError(f"JSON parse error - the body is not {encoding}.") from None
        if json_too_deep(text):
            raise exceptions.ParseError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels.")
        parse_constant = json.strict_constant if api_settings.STRICT_JSON else None
        try:
            data = json.loads(text, parse_constant=parse_constant)
        except (ValueError, RecursionError) as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from None
        problem = find_text_problem(data)
        if problem:
            _refuse(problem)
        return data


class FormParser(parsers.FormParser):
    """URL-encoded forms sent with PUT or PATCH (POST forms are checked by the middleware)."""

    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        problem = find_pair_problem(data.items())
        if problem:
            _refuse(problem)
        return data


class MultiPartParser(parsers.MultiPartParser):
    """Multipart forms sent with PUT or PATCH; file names are checked like the fields."""

    def parse(self, stream, media_type=None, parser_context=None):
        result = super().parse(stream, media_type, parser_context)
        names = [(key, f.name or "") for key, files in result.files.lists() for f in files]
        problem = find_pair_problem([*result.data.items(), *names])
        if problem:
            _refuse(problem)
        return result
