"""The one visibility policy: who may see whose records.

- rep: their own records (and, per model, records they work on as a team member);
- manager: their own plus everything owned anywhere in their reporting subtree;
- executive, admin, integrator: everything (integrators only reach the API; see decorators).

Every page, API view and selector that reads records named in a request goes through this
module, usually via a model queryset's ``visible_to(user)``.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from .models import Role, User


def visible_users(viewer: User) -> QuerySet[User]:
    """The people whose records ``viewer`` sees as owner-visible (including themselves)."""
    if viewer.sees_everyone:
        return User.objects.all()
    if viewer.role == Role.MANAGER:
        return User.objects.filter(
            Q(pk=viewer.pk) | Q(ancestor_path__startswith=viewer.subtree_path)
        )
    return User.objects.filter(pk=viewer.pk)


def visible_user_ids(viewer: User) -> list[int]:
    """``visible_users``' ids, read now: one query for a manager, none for anyone else.

    For long lists that test many rows against them: a literal array is a plain index
    condition, where a subquery costs planning and compiling on every request. Not for
    viewers who see everyone (their lists need no condition at all).
    """
    if viewer.role == Role.MANAGER and not viewer.sees_everyone:
        return list(visible_users(viewer).order_by().values_list("pk", flat=True))
    return [viewer.pk]


def owned_by_visible(viewer: User, owner_field: str = "owner") -> Q:
    """A filter on ``owner_field`` that keeps rows owned by someone ``viewer`` sees."""
    if viewer.sees_everyone:
        return Q()
    if viewer.role == Role.MANAGER:
        return Q(**{f"{owner_field}": viewer.pk}) | Q(
            **{f"{owner_field}__ancestor_path__startswith": viewer.subtree_path}
        )
    return Q(**{f"{owner_field}": viewer.pk})


def can_see_user(viewer: User, person: User) -> bool:
    """Whether ``person`` is ``viewer`` or in the part of the organisation ``viewer`` sees."""
    if viewer.sees_everyone or viewer.pk == person.pk:
        return True
    return viewer.role == Role.MANAGER and person.ancestor_path.startswith(viewer.subtree_path)


def manages(manager: User, person: User) -> bool:
    """Whether ``manager`` is above ``person`` in the hierarchy (or an executive/admin)."""
    if manager.pk == person.pk:
        return False
    if manager.role in (Role.EXECUTIVE, Role.ADMIN) or manager.is_superuser:
        return True
    return person.ancestor_path.startswith(manager.subtree_path)


def may_reassign(actor: User, owner: User) -> bool:
    """Whether ``actor`` may give a record that ``owner`` holds to someone else.

    The one reassignment policy (deals, accounts; every page, API call, import and admin
    form): the owner's managers (anyone above them), executives, admins and integrators
    (sales-ops sync) may. The owner and the people working on the record with them may not,
    not even to a teammate: a transfer moves pipeline and commission credit, which is the
    owner's manager's call.
    """
    return actor.sees_everyone or manages(actor, owner)


def leads_people(user: User) -> bool:
    """Whether ``user`` leads people (managers, executives, admins): the pages of a team's
    figures, territories and quotas serve them; a rep finds their own quota and attainment on
    their home page (salesmgmt.navigation shows those sections by this rule)."""
    return user.is_superuser or user.role in (Role.MANAGER, Role.EXECUTIVE, Role.ADMIN)


def administers(user: User) -> bool:
    """Whether ``user`` runs the company's setup (processes, products, imports, people)."""
    return user.is_superuser or user.role == Role.ADMIN


def may_change_privileges(actor: User | None, *, in_session: bool) -> bool:
    """Whether ``actor`` may change someone's role or admin rights (staff, superuser, groups).

    Only an active administrator person signed in with a session (a page, the admin, the
    API with session cookies): never an API token, never an integration, never a system job
    without an actor. A leaked or over-broad token cannot make anyone an admin.
    """
    return (
        actor is not None
        and in_session
        and actor.is_active
        and not actor.is_integrator
        and (actor.role == Role.ADMIN or actor.is_superuser)
    )


def may_invite(actor: User | None) -> bool:
    """Whether ``actor`` may send sign-in invitations (salesmgmt.invitations): administrators.

    An invitation hands its holder a way to become the invited person, so it stays with the
    people who may already create and edit people in the admin (not managers, not
    integrations). Who may be invited is narrowed further there: never-signed-in people only.
    """
    return (
        actor is not None
        and actor.is_active
        and not actor.is_integrator
        and (actor.role == Role.ADMIN or actor.is_superuser)
    )


def may_capture(user: User) -> bool:
    """Whether ``user`` has a capture address (mail and calendars logged as their activities):
    active people who sell or lead, never an integration or an office node."""
    return user.is_active and not user.is_integrator and not user.is_org_unit


def captured_items_visible(viewer: User, owner_field: str = "owner") -> Q:
    """Captured messages ``viewer`` sees as messages: only their own, whatever the role.

    What was filed is an activity and reaches managers like any activity (``Activity``'s
    ``visible_to``); the rest — unfiled mail, sender lists, excerpts — is the person's
    mailbox, which nobody above them reads.
    """
    return Q(**{owner_field: viewer.pk})


def plans_sales_force(user: User) -> bool:
    """Whether ``user`` sizes the sales force (planning: segments, coverage, scenarios):
    executives and administrators. A headcount plan is the company's, not a team's, so
    managers and reps neither see nor change it."""
    return user.is_active and (user.is_superuser or user.role in (Role.EXECUTIVE, Role.ADMIN))


def reads_feedback(user: User) -> bool:
    """Whether ``user`` reads the feed-back report (win/loss and productivity against the sales
    task): those who plan the sales force (the whole company), and managers (the deals their
    subtree owns: ``owned_by_visible``). Reps and integrations do not."""
    return plans_sales_force(user) or (
        user.is_active and not user.is_integrator and user.role == Role.MANAGER
    )
