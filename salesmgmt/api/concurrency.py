"""Optimistic concurrency over HTTP: ``ETag`` on every record, ``If-Match`` on writes.

The tag is the record's ``version`` where the model has one (Opportunity), else its
``updated_at`` in microseconds. A write whose ``If-Match`` names another tag gets 412 and
changes nothing; without ``If-Match`` the write is unconditional. A read whose
``If-None-Match`` names the current tag gets 304 and no body (RFC 9110 §13.1.2).
"""

from __future__ import annotations

import hashlib
import json

from django.db.models import Model
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.request import Request

from salesmgmt.models import BaseModel, User


class PreconditionFailed(APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = (
        "The record changed since you read it (If-Match does not match its ETag). "
        "Fetch it again and retry."
    )
    default_code = "precondition_failed"


def etag_value(instance: Model) -> str:
    version = getattr(instance, "version", None)
    if version is not None:
        return str(version)
    if not isinstance(instance, BaseModel | User):
        raise TypeError(f"{type(instance).__name__} has neither a version nor updated_at")
    return str(int(instance.updated_at.timestamp() * 1_000_000))


def etag_for(instance: Model) -> str:
    return f'"{etag_value(instance)}"'


def _tags(header: str) -> list[str]:
    tags = []
    for part in header.split(","):
        tag = part.strip()
        tag = tag.removeprefix("W/").strip('"')
        if tag:
            tags.append(tag)
    return tags


def if_match_tags(request: Request) -> list[str] | None:
    """The tags in ``If-Match`` (quotes and ``W/`` stripped), or None without the header."""
    header = request.headers.get("If-Match")
    return None if header is None else _tags(header)


def is_not_modified(request: Request, etag: str) -> bool:
    """Whether a GET or HEAD names ``etag`` (quoted, as sent) in ``If-None-Match``: the
    caller's copy is current. The comparison is weak, as the RFC asks for this header."""
    header = request.headers.get("If-None-Match")
    if header is None or request.method not in ("GET", "HEAD"):
        return False
    tags = _tags(header)
    return "*" in tags or etag.strip('"') in tags


def content_etag(data: object) -> str:
    """A tag for a computed read (no record, no version): a digest of the JSON it answers."""
    body = json.dumps(data, sort_keys=True, default=str, separators=(",", ":"))
    return '"' + hashlib.blake2b(body.encode(), digest_size=12).hexdigest() + '"'


def check_if_match(request: Request, instance: Model) -> None:
    """Raise 412 if the request is conditional on a tag the record no longer has."""
    tags = if_match_tags(request)
    if tags is None or "*" in tags:
        return
    if etag_value(instance) not in tags:
        raise PreconditionFailed()


def expected_version(request: Request) -> int | None:
    """The version an ``If-Match`` names, for services that re-check it under a row lock."""
    tags = if_match_tags(request)
    if not tags or len(tags) != 1 or not tags[0].isdigit():
        return None
    return int(tags[0])
