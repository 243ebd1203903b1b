"""Optimistic concurrency over HTTP: ``ETag`` on every record, ``If-Match`` on writes.

The tag is the record's ``version`` where the model has one (Opportunity), else its
``updated_at`` in microseconds. A write whose ``If-Match`` names another tag gets 412 and
changes nothing; without ``If-Match`` the write is unconditional.
"""

from __future__ import annotations

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


def if_match_tags(request: Request) -> list[str] | None:
    """The tags in ``If-Match`` (quotes and ``W/`` stripped), or None without the header."""
    header = request.headers.get("If-Match")
    if header is None:
        return None
    tags = []
    for part in header.split(","):
        tag = part.strip()
        tag = tag.removeprefix("W/").strip('"')
        if tag:
            tags.append(tag)
    return tags


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
