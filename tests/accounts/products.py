"""Catalogue helpers for the product tests: products made the way admins make them."""

from __future__ import annotations

from decimal import Decimal

from accounts import services
from salesmgmt.models import Role, User


def catalogue_admin() -> User:
    return User.objects.filter(role=Role.ADMIN).first() or User.objects.create(
        username="sales_ops", role=Role.ADMIN
    )


def make_product(name: str, price: str = "100", family: str = "", **fields):
    return services.product_create(
        actor=catalogue_admin(), name=name, family=family, list_price=Decimal(price), **fields
    )
