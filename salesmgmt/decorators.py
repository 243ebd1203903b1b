"""View decorators for server-rendered pages."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse


def people_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Login required; integrator accounts use the API only, never the pages."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.user.is_integrator:
            raise PermissionDenied("Integrator accounts use the API.")
        return view(request, *args, **kwargs)

    return wrapper
