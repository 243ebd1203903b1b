"""The REST API's shared conventions, reusable by every app's ``api.py``.

- ``authentication``: API tokens (``Authorization: Token <key>`` or ``Bearer <key>``).
- ``permissions``: read-only tokens may only use safe methods.
- ``viewsets``: ``VisibleModelViewSet`` / ``VisibleReadOnlyViewSet`` — querysets from a
  visibility selector, ETag + ``If-Match`` (412), ``Idempotency-Key`` replays on POST, CSV
  export of any list (``?format=csv`` or ``Accept: text/csv``), ``?expand=``.
- ``fields``: ``VisibleRelatedField`` — a foreign key that only accepts ids the caller may see
  and renders as ``{"id", "name"}`` (or the expanded record).
- ``filters``: ``SyncFilterSet`` with ``updated_since``; ``IdFilter``.
- ``pagination``: page numbers by default, cursor (ordered by ``updated_at``) for sync.
- ``exceptions``: one JSON error shape for every failure; ``schema``: OpenAPI documentation.
"""
