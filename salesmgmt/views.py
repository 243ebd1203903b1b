"""Pages of the organisation core."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect

from .decorators import people_only


@people_only
def home(request: HttpRequest) -> HttpResponse:
    """Everyone lands on their own work first."""
    return redirect("accounts:rep_home")


def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness for load balancers: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
