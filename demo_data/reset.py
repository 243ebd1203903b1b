"""Removing the demo: every demo person and what they own; processes, periods and rates stay."""

from __future__ import annotations

from django.db import connection, transaction
from django.db.models import DO_NOTHING, SET_NULL, ProtectedError, Q, QuerySet

from accounts.models import Account, Activity, Opportunity
from coaching.models import Enrolment, Programme, StepCompletion
from forecasting.models import CallOfRecord, ForecastCall
from salesmgmt.errors import ApplicationError
from salesmgmt.models import User

from .org import demo_users


@transaction.atomic
def delete_demo_data() -> None:
    """Remove every demo person and what they own; processes, periods and rates stay."""
    try:
        _delete_demo_rows()
    except ProtectedError as exc:
        raise ApplicationError(
            "Demo people have worked on records outside the demo data "
            f"({len(exc.protected_objects)} found); remove those first."
        ) from exc


def _delete_demo_rows() -> None:
    users = demo_users()
    accounts = Account.objects.filter(owner__in=users)
    _delete_deals_quietly(Opportunity.objects.filter(owner__in=users))
    Activity.objects.filter(Q(account__in=accounts) | Q(owner__in=users)).delete()
    accounts.delete()
    # Calls name who submitted them (PROTECT): the demo's calls go before the demo people.
    CallOfRecord.objects.filter(person__in=users).delete()
    ForecastCall.objects.filter(Q(person__in=users) | Q(submitted_by__in=users)).delete()
    _delete_demo_onboarding(users)
    # Deepest first: a manager is PROTECTed by their reports.
    by_depth: dict[int, list[int]] = {}
    for pk, path in users.values_list("pk", "ancestor_path"):
        by_depth.setdefault(path.count("/"), []).append(pk)
    for depth in sorted(by_depth, reverse=True):
        User.objects.filter(pk__in=by_depth[depth]).delete()


def _delete_demo_onboarding(users: QuerySet[User]) -> None:
    """The demo's programme (its author, a demo admin, is kept by PROTECT) with its
    enrolments, and whatever demo people enrolled or certified elsewhere."""
    programmes = Programme.objects.filter(created_by__in=users)
    enrolments = Enrolment.objects.filter(
        Q(programme__in=programmes) | Q(rep__in=users) | Q(enrolled_by__in=users)
    )
    StepCompletion.objects.filter(Q(enrolment__in=enrolments) | Q(completed_by__in=users)).delete()
    enrolments.delete()
    programmes.delete()


def _delete_deals_quietly(deals: QuerySet[Opportunity]) -> None:
    """Delete deals and every row that points at them, relation by relation.

    One statement per relation instead of the ORM collector loading every deal and row first;
    the rows that point at the deals go first, through the ORM, so their own cascades still
    apply. A reset marks nothing stale: the demo's full recompute rebuilds the aggregates.
    """
    for relation in Opportunity._meta.related_objects:
        if relation.many_to_many:
            through = relation.through
            field_name = relation.field.m2m_reverse_field_name()
        else:
            through, field_name = relation.related_model, relation.field.name
        rows = through._base_manager.filter(**{f"{field_name}__in": deals})
        if relation.on_delete is SET_NULL:
            rows.update(**{field_name: None})
        elif relation.on_delete is not DO_NOTHING:
            # PROTECTed too: what points at a demo deal was made from demo data.
            rows.delete()
    ops = connection.ops
    table = ops.quote_name(Opportunity._meta.db_table)
    pk = ops.quote_name(Opportunity._meta.pk.column)
    sql, params = deals.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        # Identifiers from model metadata; the subquery is the ORM's, with its parameters.
        cursor.execute(f"DELETE FROM {table} WHERE {pk} IN ({sql})", params)  # noqa: S608  # nosec B608
