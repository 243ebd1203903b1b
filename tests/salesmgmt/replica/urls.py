"""Probe views for the router tests: each answers where its reads went."""

from django.db import OperationalError, router, transaction
from django.http import HttpRequest, JsonResponse
from django.urls import path

from salesmgmt.models import User


def reads(request: HttpRequest) -> JsonResponse:
    """Where a plain read, a read inside an atomic block and a locking read go."""
    read = User.objects.all().db
    with transaction.atomic():
        in_atomic = User.objects.all().db
        locked = User.objects.select_for_update().db
    return JsonResponse({"read": read, "in_atomic": in_atomic, "locked": locked})


def write_then_read(request: HttpRequest) -> JsonResponse:
    """A request that writes reads the rest of the way from the primary."""
    before = User.objects.all().db
    wrote_to = router.db_for_write(User)  # where a save() would go
    return JsonResponse({"before": before, "wrote_to": wrote_to, "after": User.objects.all().db})


def replica_dies(request: HttpRequest) -> JsonResponse:
    """The replica drops the connection mid-request; the primary answers."""
    alias = User.objects.all().db
    if alias == "replica":
        raise OperationalError("server closed the connection unexpectedly")
    return JsonResponse({"read": alias})


urlpatterns = [
    path("reads/", reads),
    path("write-then-read/", write_then_read),
    path("replica-dies/", replica_dies),
]
