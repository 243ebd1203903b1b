"""The first administrator: ``createsuperuser`` makes a person with the admin role."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from salesmgmt.models import Role, User


@pytest.mark.django_db
def test_createsuperuser_makes_an_admin(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-first-password")
    call_command(
        "createsuperuser", interactive=False, username="boss", email="boss@example.com", verbosity=0
    )
    user = User.objects.get(username="boss")
    assert user.role == Role.ADMIN
    # The rights that come with the admin role everywhere else (salesmgmt.services).
    assert user.is_staff
    assert user.is_superuser
    assert user.sees_everyone
    assert user.check_password("a-long-first-password")


@pytest.mark.django_db
def test_a_superuser_with_another_role_is_refused():
    with pytest.raises(ValueError, match="admin role"):
        User.objects.create_superuser("x", "x@example.com", "pw-long-enough", role=Role.REP)
    assert not User.objects.exists()


@pytest.mark.django_db
def test_create_user_still_makes_a_rep():
    user = User.objects.create_user("plain", "plain@example.com", "pw-long-enough")
    assert user.role == Role.REP
    assert not user.is_staff
    assert not user.is_superuser
