"""Every row lock of the accounts app, taken in primary-key order to avoid deadlocks."""

from __future__ import annotations

from .models import Account, Contact, Opportunity, Product


def lock_account(pk: int) -> Account:
    return Account.objects.select_for_update().get(pk=pk)


def lock_contact(pk: int) -> Contact:
    return Contact.objects.select_for_update().get(pk=pk)


def lock_opportunity(pk: int) -> Opportunity:
    # Only the deal's row: the joined sales process is read, never locked, so writes to two
    # deals of one process do not queue behind each other.
    return Opportunity.objects.select_for_update(of=("self",)).select_related("process").get(pk=pk)


def lock_opportunities(pks: list[int]) -> list[Opportunity]:
    return list(Opportunity.objects.select_for_update().filter(pk__in=pks).order_by("pk"))


def lock_product(pk: int) -> Product:
    return Product.objects.select_for_update().get(pk=pk)
