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


def page_for(
    rule: Callable[[User], bool], refusal: str
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """``people_only``, and 403 (as every forbidden page) for a person ``rule`` (one of
    ``salesmgmt.visibility``'s) does not serve. The navigation shows a section's link by the
    same rule (``salesmgmt.navigation.SECTIONS``), so a hidden page is also a closed one."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @people_only
        @wraps(view)
        def wrapper(request: AuthenticatedHttpRequest, *args, **kwargs) -> HttpResponse:
            if not rule(request.user):
                raise PermissionDenied(refusal)
            return view(request, *args, **kwargs)

        wrapper.serves = rule  # type: ignore[attr-defined]  # read by the navigation's test
        return wrapper

    return decorate
