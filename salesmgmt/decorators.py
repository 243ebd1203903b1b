"""View decorators for server-rendered pages."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

if TYPE_CHECKING:
    from .models import User


class AuthenticatedHttpRequest(HttpRequest):
    """For the type checker: the request of a view behind ``people_only`` or ``login_required``,
    whose ``user`` is a person, never ``AnonymousUser``. Never instantiated."""

    user: User


def people_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Login required; integrator accounts use the API only, never the pages."""

    @login_required
    @wraps(view)
    def wrapper(request: AuthenticatedHttpRequest, *args, **kwargs) -> HttpResponse:
        if request.user.is_integrator:
            raise PermissionDenied("Integrator accounts use the API.")
        return view(request, *args, **kwargs)

    return wrapper
