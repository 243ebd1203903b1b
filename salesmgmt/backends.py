"""Who may sign in with a password: people, not the office nodes of the hierarchy."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend


class PeopleBackend(ModelBackend):
    """Django's username and password check; an office node (``User.is_org_unit``) never
    signs in, even if someone gave it a password in the admin."""

    def user_can_authenticate(self, user) -> bool:
        return super().user_can_authenticate(user) and not getattr(user, "is_org_unit", False)
