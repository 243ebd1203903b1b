"""API token authentication: ``Authorization: Token <key>`` or ``Authorization: Bearer <key>``."""

from __future__ import annotations

from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from salesmgmt import selectors, services
from salesmgmt.models import ApiToken, User

KEYWORDS = (b"token", b"bearer")


class ApiTokenAuthentication(BaseAuthentication):
    """Authenticates with an ``ApiToken``; ``request.auth`` is the token (its scope applies)."""

    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in KEYWORDS:
            return None
        if len(parts) != 2:
            raise AuthenticationFailed("Give the key after the keyword: `Token <key>`.")
        try:
            key = parts[1].decode()
        except UnicodeDecodeError:
            raise AuthenticationFailed("Invalid token.") from None
        token = selectors.api_token_for_key(key=key)
        if token is None or not token.user.is_active:
            raise AuthenticationFailed("Invalid or revoked token.")
        services.api_token_touch(token=token)
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        # Makes unauthenticated calls 401 (with this challenge) rather than 403.
        return 'Bearer realm="api"'
