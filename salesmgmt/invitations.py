"""Sign-in invitations: a signed, expiring set-password link for people who never signed in.

Imported and newly created people have no usable password. An administrator invites them:
the link is e-mailed when e-mail is configured (``INVITATIONS_SEND_EMAIL``, on by default
when ``EMAIL_HOST`` is set) and the person has an address, otherwise shown to copy.

The link is not stored. It is a ``TimestampSigner`` token carrying the person's id and a
fingerprint of their password hash and last log-in (as Django's password-reset tokens do):
setting the password or signing in changes the fingerprint, so a link works once; the
signature's age bounds it to ``INVITATION_MAX_AGE_DAYS``; any edit breaks the signature.
An ``Invitation`` row records who was invited by whom and until when.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from .audit import audit_record
from .errors import PermissionDeniedError
from .models import Invitation, Role, User
from .visibility import may_change_privileges, may_invite

logger = logging.getLogger(__name__)

_SALT = "salesmgmt.invitations"


@dataclass(frozen=True)
class InvitationSent:
    """One invitation made: the link (for the admin to copy when it was not e-mailed)."""

    invitation: Invitation
    link: str

    @property
    def emailed(self) -> bool:
        return bool(self.invitation.emailed_to)


# --- the token ---------------------------------------------------------------------------------


def _max_age() -> dt.timedelta:
    return dt.timedelta(days=settings.INVITATION_MAX_AGE_DAYS)


def _fingerprint(user: User) -> str:
    """Changes when the person sets a password or signs in: what makes a link single-use."""
    last_login = user.last_login.replace(microsecond=0, tzinfo=None) if user.last_login else ""
    value = f"{user.pk}|{user.password}|{last_login}|{user.is_active}"
    return salted_hmac(_SALT, value, algorithm="sha256").hexdigest()[:32]


def make_token(user: User) -> str:
    return signing.TimestampSigner(salt=_SALT).sign_object({"u": user.pk, "f": _fingerprint(user)})


_EXPIRED = "This invitation has expired. Ask your administrator for a new one."
_TAMPERED = "This invitation link is not valid. Check that it was copied whole."


@dataclass(frozen=True)
class TokenCheck:
    """A token read: the person it invites, or why it cannot be used (a sentence to show)."""

    user: User | None
    problem: str = ""


def check_token(token: str) -> TokenCheck:
    """Who ``token`` invites, if it is intact, recent enough and unused (reads only)."""
    try:
        data = signing.TimestampSigner(salt=_SALT).unsign_object(token, max_age=_max_age())
    except signing.SignatureExpired:
        return TokenCheck(None, _EXPIRED)
    except (signing.BadSignature, ValueError):
        return TokenCheck(None, _TAMPERED)
    user_id = data.get("u") if isinstance(data, dict) else None
    user = User.objects.filter(pk=user_id).first() if isinstance(user_id, int) else None
    if user is None or not user.is_active or user.is_integrator or user.is_org_unit:
        return TokenCheck(None, "This invitation is no longer valid.")
    if not constant_time_compare(str(data.get("f", "")), _fingerprint(user)):
        return TokenCheck(
            None, "This invitation has already been used. Sign in with your password."
        )
    return TokenCheck(user)


# --- who may be invited ------------------------------------------------------------------------


def _never_signed_in() -> Q:
    """Active people (not integrations, not office nodes) who never signed in and have no
    usable password."""
    return (
        Q(is_active=True, last_login__isnull=True, is_org_unit=False)
        & ~Q(role=Role.INTEGRATOR)
        # Django's unusable-password prefix (not a password).
        & (Q(password="") | Q(password__startswith=UNUSABLE_PASSWORD_PREFIX))
    )


def _current_invitation() -> Exists:
    return Exists(
        Invitation.objects.filter(
            user=OuterRef("pk"), expires_at__gt=timezone.now(), accepted_at__isnull=True
        )
    )


def pending_people() -> QuerySet[User]:
    """Who "invite everyone not yet invited" reaches: never signed in, no current invitation."""
    return User.objects.filter(_never_signed_in()).exclude(_current_invitation())


def people_with_invitations(*, viewer: User) -> QuerySet[User]:
    """The invitations page: everyone but integrations, with their latest invitation."""
    ensure_may_invite(viewer)
    latest = Invitation.objects.filter(user=OuterRef("pk")).order_by("-invited_at", "-id")
    return (
        User.objects.exclude(role=Role.INTEGRATOR)
        .annotate(
            invited_at=latest.values("invited_at")[:1],
            invitation_expires_at=latest.values("expires_at")[:1],
            invitation_emailed_to=latest.values("emailed_to")[:1],
            invitable=Exists(User.objects.filter(_never_signed_in(), pk=OuterRef("pk"))),
        )
        .order_by("last_name", "first_name", "id")
    )


def ensure_may_invite(actor: User) -> None:
    if not may_invite(actor):
        raise PermissionDeniedError("Only administrators invite people.")


def _refusal(*, actor: User, user: User, in_session: bool) -> str:
    if not user.is_active:
        return f"{user} is inactive; reactivate them before inviting."
    if user.is_integrator:
        return f"{user} is an integration: it uses API tokens, not a password."
    if user.is_org_unit:
        return f"{user} is an office of the hierarchy, not a person: it never signs in."
    if user.last_login is not None or user.has_usable_password():
        return f"{user} already has a password; an invitation is for people who never signed in."
    if (user.role == Role.ADMIN or user.is_superuser) and not may_change_privileges(
        actor, in_session=in_session
    ):
        # The link makes its holder that administrator: not something an API token may mint.
        return "Inviting an administrator needs an administrator signed in (not an API token)."
    return ""


# --- writes ------------------------------------------------------------------------------------


def _link(base_url: str, token: str) -> str:
    base = (settings.SITE_URL or base_url).rstrip("/")
    return f"{base}{reverse('invitation_accept', args=[token])}"


def _send_email(*, to: str, user: User, link: str, days: int) -> None:
    name = user.get_full_name() or user.username
    send_mail(
        subject="Your sign-in invitation to salesmgmt",
        message=(
            f"Hello {name},\n\nyou have been invited to salesmgmt. Choose your password here "
            f"(the link works once, for {days} days):\n\n{link}\n\n"
            f"Your username is {user.username}.\n"
        ),
        from_email=None,
        recipient_list=[to],
    )


def _invite_one(*, actor: User, user: User, base_url: str) -> InvitationSent:
    now = timezone.now()
    send = settings.INVITATIONS_SEND_EMAIL and bool(user.email)
    invitation = Invitation.objects.create(
        user=user,
        invited_by=actor,
        invited_at=now,
        expires_at=now + _max_age(),
        emailed_to=user.email if send else "",
    )
    link = _link(base_url, make_token(user))
    if send:
        days = settings.INVITATION_MAX_AGE_DAYS
        # After commit: a rolled-back invitation sends nothing. robust: a refused mail is
        # logged and does not turn the committed invitation into an error page.
        transaction.on_commit(
            lambda: _send_email(to=user.email, user=user, link=link, days=days), robust=True
        )
    audit_record(
        action="user.invited",
        actor=actor,
        target=user,
        details={"emailed": send, "expires_at": invitation.expires_at.isoformat()},
    )
    return InvitationSent(invitation=invitation, link=link)


@transaction.atomic
def user_invite(
    *, actor: User, user: User, base_url: str, in_session: bool = False
) -> InvitationSent:
    """Invite one person who never signed in (administrators only): e-mail or a link to copy.

    ``base_url`` is the site's address for the link when ``SITE_URL`` is not set (the
    admin's request host). Inviting an administrator needs an administrator in a session.
    """
    ensure_may_invite(actor)
    problem = _refusal(actor=actor, user=user, in_session=in_session)
    if problem:
        raise PermissionDeniedError(problem)
    return _invite_one(actor=actor, user=user, base_url=base_url)


@transaction.atomic
def users_invite_pending(
    *, actor: User, base_url: str, in_session: bool = False
) -> list[InvitationSent]:
    """Invite everyone who never signed in and has no current invitation (administrators).

    Administrators among them are skipped unless an administrator in a session asks."""
    people = pending_people().select_for_update().order_by("pk")
    return users_invite(actor=actor, users=people, base_url=base_url, in_session=in_session)


@transaction.atomic
def users_invite(
    *, actor: User, users: Iterable[User], base_url: str, in_session: bool = False
) -> list[InvitationSent]:
    """Invite each of ``users`` who may be invited; skip the others (administrators only).

    A CSV import of people calls this for the people it created: the links it returns are
    listed on the job for the administrator to copy (``base_url`` may be "": a link relative
    to the site, for a job that runs without a request)."""
    ensure_may_invite(actor)
    return [
        _invite_one(actor=actor, user=user, base_url=base_url)
        for user in users
        if not _refusal(actor=actor, user=user, in_session=in_session)
    ]


@transaction.atomic
def invitation_accept(*, token: str, password: str) -> User:
    """Set the invited person's password (already validated by the page's SetPasswordForm).

    The token is checked again under the person's row lock, so two tabs cannot both use it.
    """
    checked = check_token(token)
    if checked.user is None:
        raise PermissionDeniedError(checked.problem)
    user = User.objects.select_for_update().get(pk=checked.user.pk)
    if check_token(token).user is None:
        raise PermissionDeniedError("This invitation has already been used.")
    user.set_password(password)
    user.save(update_fields=["password", "updated_at"])
    Invitation.objects.filter(user=user, accepted_at__isnull=True).update(
        accepted_at=timezone.now()
    )
    audit_record(action="user.invitation_accepted", actor=user, target=user)
    return user
