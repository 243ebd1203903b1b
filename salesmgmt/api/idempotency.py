"""``Idempotency-Key`` on POST: a retried request returns the first result, never a duplicate.

The first request with a key claims it (a row with no status yet), runs, and stores a 2xx
response; a retry with the same key and the same request replays that response with
``Idempotent-Replayed: true``. A retry while the first is still running gets 409; the same key
with a different request gets 422 (as in the IETF Idempotency-Key draft). Failed requests
(non-2xx) release the key, so the corrected request can reuse it. Keys are per user and kept
for ``IDEMPOTENCY_TTL_HOURS``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import tempfile
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from salesmgmt.models import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
STORED_HEADERS = ("Location", "ETag")
CHUNK = 64 * 1024
SPOOL_IN_MEMORY = 2 * 1024 * 1024


class KeyInUse(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "A request with this Idempotency-Key is still being processed; retry shortly."
    default_code = "idempotency_key_in_use"


class KeyMismatch(APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was already used for a different request."
    default_code = "idempotency_key_mismatch"


class _Replay(Exception):
    def __init__(self, record: IdempotencyRecord) -> None:
        self.record = record


def _digest_stream(raw, digest) -> None:
    """Hash the whole unread body in chunks and leave an equal stream for the view to read.

    What ``HttpRequest.body`` does, without its in-memory size limit (imports send up to
    ``IMPORT_MAX_BYTES``) and spilling to disk past ``SPOOL_IN_MEMORY`` bytes.
    """
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115 - the request reads it
    while chunk := raw.read(CHUNK):
        digest.update(chunk)
        spool.write(chunk)
    spool.seek(0)
    raw._stream = spool  # as Django's own ``body`` does (it puts a BytesIO there)
    raw._read_started = False


def _digest_form(raw, digest) -> None:
    """A form the CSRF check already parsed: its fields, and every file's whole content."""
    digest.update(repr(sorted(raw.POST.lists())).encode())
    for name, upload in sorted(raw.FILES.items()):
        digest.update(f"\n{name}:{upload.name}:{upload.size}\n".encode())
        for chunk in upload.chunks():
            digest.update(chunk)
        upload.seek(0)


def _fingerprint(request) -> str:
    """sha256 of method, full path and the entire body: equal only for the same request."""
    digest = hashlib.sha256(f"{request.method} {request.get_full_path()}\n".encode())
    raw = request._request
    if hasattr(raw, "_body"):
        digest.update(raw._body)
    elif raw._read_started:
        _digest_form(raw, digest)
    else:
        _digest_stream(raw, digest)
    return digest.hexdigest()


def _claim(request, key: str) -> IdempotencyRecord:
    fingerprint = _fingerprint(request)
    ttl_start = timezone.now() - dt.timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS)
    IdempotencyRecord.objects.filter(user=request.user, key=key, created_at__lt=ttl_start).delete()
    try:
        with transaction.atomic():
            return IdempotencyRecord.objects.create(
                user=request.user,
                key=key,
                method=request.method,
                path=request.path[:512],
                request_fingerprint=fingerprint,
            )
    except IntegrityError:
        existing = IdempotencyRecord.objects.filter(user=request.user, key=key).first()
    if existing is None:  # released by a failing first request a moment ago
        raise KeyInUse()
    if existing.request_fingerprint != fingerprint:
        raise KeyMismatch()
    if existing.status_code is None:
        raise KeyInUse()
    raise _Replay(existing)


def _store(record: IdempotencyRecord, response) -> None:
    if 200 <= response.status_code < 300 and isinstance(response, Response):
        record.status_code = response.status_code
        record.response_body = response.data
        record.response_headers = {h: response[h] for h in STORED_HEADERS if response.has_header(h)}
        record.save(
            update_fields=["status_code", "response_body", "response_headers", "updated_at"]
        )
    else:
        record.delete()


def purge_expired() -> int:
    cutoff = timezone.now() - dt.timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted


if TYPE_CHECKING:
    # The mixin's super() is the DRF view it always comes before.
    _APIViewBase = APIView
else:
    _APIViewBase = object


class IdempotencyMixin(_APIViewBase):
    """For DRF views: honour ``Idempotency-Key`` on POST (create and POST actions)."""

    idempotent_methods = ("POST",)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self._idempotency_record = None
        key = request.headers.get(HEADER)
        if key is None or request.method not in self.idempotent_methods:
            return
        key = key.strip()
        if not key or len(key) > 255:
            raise ValidationError({HEADER: ["Give a key of 1 to 255 characters."]})
        self._idempotency_record = _claim(request, key)

    def handle_exception(self, exc):
        if isinstance(exc, _Replay):
            record = exc.record
            headers = {**record.response_headers, REPLAYED_HEADER: "true"}
            return Response(record.response_body, status=record.status_code, headers=headers)
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        record = getattr(self, "_idempotency_record", None)
        if record is not None:
            self._idempotency_record = None
            _store(record, response)
        return response

    def dispatch(self, request, *args, **kwargs):
        try:
            return super().dispatch(request, *args, **kwargs)
        except BaseException:
            # An unhandled error (a 500): release the key so a retry is not stuck on 409.
            record = getattr(self, "_idempotency_record", None)
            if record is not None:
                record.delete()
            raise
