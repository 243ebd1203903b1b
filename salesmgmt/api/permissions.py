"""API permissions on top of IsAuthenticated; record-level rules live in the services."""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

from salesmgmt.models import ApiToken


class TokenScopePermission(BasePermission):
    """A read-only token may only read. Sessions and read-write tokens are unrestricted here.

    Integrators use the API like everyone else (the pages refuse them, see
    ``salesmgmt.decorators.people_only``); what they see follows the visibility policy.
    """

    message = "This token is read-only; use a read-write token to make changes."

    def has_permission(self, request, view) -> bool:
        token = request.auth
        if isinstance(token, ApiToken) and token.is_read_only:
            return request.method in SAFE_METHODS
        return True
