"""The product catalogue and deals' line items through the services: who may write, the rule
that a deal with line items has their total as its amount, history and refresh marks."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from accounts import services
from accounts.models import OpportunityChange, OpportunityLineItem, Product
from salesmgmt.errors import ConflictError, PermissionDeniedError
from tests.factories import AccountFactory, ExchangeRateFactory


@pytest.fixture
def deal(process, rep_a):
    return services.opportunity_create(
        actor=rep_a,
        account=AccountFactory(owner=rep_a, name="Cardinal Freight"),
        name="Cardinal fleet refresh",
        amount=Decimal("12000"),
        expected_close_on=dt.date(2030, 3, 31),
    )


@pytest.fixture
def gtx_pro(admin_user):
    return services.product_create(
        actor=admin_user, name="GTX Pro", family="GTX", list_price=Decimal("4821")
    )


@pytest.fixture
def mg_special(admin_user):
    return services.product_create(
        actor=admin_user, name="MG Special", family="MG", list_price=Decimal("55")
    )


def amount_changes(deal) -> list[tuple[str, str]]:
    rows = OpportunityChange.objects.filter(opportunity=deal, field="amount").order_by("id")
    return [(row.old_value, row.new_value) for row in rows]


# --- the catalogue -------------------------------------------------------------------------


def test_admin_and_integrator_keep_the_catalogue(admin_user, integrator):
    made = services.product_create(
        actor=admin_user, name=" GTX Plus Pro ", family="GTX", list_price=Decimal("5482.5")
    )
    assert (made.name, made.currency, made.list_price) == (
        "GTX Plus Pro",
        "USD",
        Decimal("5482.50"),
    )

    renamed = services.product_update(actor=integrator, product=made, family="GTX Plus")
    archived = services.product_archive(actor=integrator, product=renamed)

    assert (archived.family, archived.is_active) == ("GTX Plus", False)


@pytest.mark.parametrize("persona", ["rep_a", "manager_a", "executive"])
def test_sellers_cannot_change_the_catalogue(personas, persona, gtx_pro):
    with pytest.raises(PermissionDeniedError):
        services.product_create(actor=personas[persona], name="GTX Basic")
    with pytest.raises(PermissionDeniedError):
        services.product_update(actor=personas[persona], product=gtx_pro, list_price=1)
    assert Product.objects.count() == 1


def test_a_product_name_is_unique_and_prices_are_checked(admin_user, gtx_pro):
    with pytest.raises(ValidationError) as duplicate:
        services.product_create(actor=admin_user, name="GTX Pro")
    with pytest.raises(ValidationError) as negative:
        services.product_create(actor=admin_user, name="GTX Basic", list_price=Decimal(-1))
    with pytest.raises(ValidationError) as currency:
        services.product_create(actor=admin_user, name="GTX Basic", currency="XYZ")
    with pytest.raises(ValidationError) as unknown:
        services.product_update(actor=admin_user, product=gtx_pro, version=3)

    assert "name" in duplicate.value.message_dict
    assert "list_price" in negative.value.message_dict
    assert "currency" in currency.value.message_dict
    assert "version" in unknown.value.message_dict


def test_an_external_id_names_one_product(admin_user, gtx_pro):
    services.product_update(actor=admin_user, product=gtx_pro, external_id="PRD-1")
    with pytest.raises(ValidationError) as taken:
        services.product_create(actor=admin_user, name="MG Advanced", external_id="PRD-1")
    assert "external_id" in taken.value.message_dict


# --- line items and the deal's amount -----------------------------------------------------


def test_line_items_set_the_amount_through_the_history(deal, rep_a, gtx_pro, mg_special):
    # given a deal entered at 12,000 by hand
    services.line_item_add(actor=rep_a, opportunity=deal, product=gtx_pro, quantity=Decimal(2))
    services.line_item_add(
        actor=rep_a,
        opportunity=deal,
        product=mg_special,
        quantity=Decimal(3),
        unit_price=Decimal("60"),
        discount_percent=Decimal("12.5"),
    )

    deal.refresh_from_db()
    # 2 x 4821 + 3 x 60 x 0.875 = 9642 + 157.50
    assert deal.amount == Decimal("9799.50")
    assert amount_changes(deal) == [
        ("", "12000.00"),
        ("12000.00", "9642.00"),
        ("9642.00", "9799.50"),
    ]
    assert deal.version == 3


def test_editing_and_removing_line_items_moves_the_amount(deal, rep_a, gtx_pro, mg_special):
    gtx = services.line_item_add(actor=rep_a, opportunity=deal, product=gtx_pro)
    mg = services.line_item_add(actor=rep_a, opportunity=deal, product=mg_special)

    services.line_item_update(actor=rep_a, line_item=gtx, discount_percent=Decimal(10))
    deal.refresh_from_db()
    assert deal.amount == Decimal("4338.90") + Decimal("55")

    services.line_item_remove(actor=rep_a, line_item=gtx)
    deal.refresh_from_db()
    assert deal.amount == Decimal("55.00")

    # the last one gone: the amount stays, and is the deal's own again
    services.line_item_remove(actor=rep_a, line_item=mg)
    deal.refresh_from_db()
    assert deal.amount == Decimal("55.00")
    updated = services.opportunity_update(actor=rep_a, opportunity=deal, amount=Decimal(7000))
    assert updated.amount == Decimal(7000)


def test_a_deal_with_line_items_refuses_another_amount(deal, rep_a, gtx_pro):
    services.line_item_add(actor=rep_a, opportunity=deal, product=gtx_pro)
    with pytest.raises(ValidationError) as refused:
        services.opportunity_update(actor=rep_a, opportunity=deal, amount=Decimal(99))
    assert "line items" in refused.value.message_dict["amount"][0]
    # the same amount (a form sent back unchanged) is fine
    services.opportunity_update(actor=rep_a, opportunity=deal, amount=Decimal(4821), name="Fleet")


def test_every_line_item_write_marks_the_deals_figures_stale(deal, rep_a, gtx_pro, monkeypatch):
    marked: list[list[int]] = []
    real = services.refresh.changed

    def spy(**keys):
        marked.append(list(keys.get("deals") or []))
        return real(**keys)

    monkeypatch.setattr(services.refresh, "changed", spy)
    item = services.line_item_add(actor=rep_a, opportunity=deal, product=gtx_pro)
    services.line_item_update(actor=rep_a, line_item=item, quantity=Decimal(4))
    services.line_item_remove(actor=rep_a, line_item=item)

    assert marked == [[deal.pk]] * 3


def test_who_may_edit_a_deals_line_items(deal, gtx_pro, rep_b, manager_a, manager_b, se_a):
    with pytest.raises(PermissionDeniedError):
        services.line_item_add(actor=rep_b, opportunity=deal, product=gtx_pro)
    with pytest.raises(PermissionDeniedError):
        services.line_item_add(actor=manager_b, opportunity=deal, product=gtx_pro)
    with pytest.raises(PermissionDeniedError):
        services.line_item_add(actor=se_a, opportunity=deal, product=gtx_pro)

    item = services.line_item_add(actor=manager_a, opportunity=deal, product=gtx_pro)
    with pytest.raises(PermissionDeniedError):
        services.line_item_remove(actor=rep_b, line_item=item)
    assert OpportunityLineItem.objects.count() == 1


def test_bad_line_items_are_refused_with_field_messages(deal, rep_a, gtx_pro, admin_user):
    cases = [
        ({"quantity": Decimal(0)}, "quantity"),
        ({"discount_percent": Decimal(101)}, "discount_percent"),
        ({"unit_price": Decimal(-5)}, "unit_price"),
    ]
    for values, field in cases:
        with pytest.raises(ValidationError) as refused:
            services.line_item_add(actor=rep_a, opportunity=deal, product=gtx_pro, **values)
        assert field in refused.value.message_dict
    services.product_archive(actor=admin_user, product=gtx_pro)
    with pytest.raises(ValidationError) as archived:
        services.line_item_add(actor=rep_a, opportunity=deal, product=gtx_pro)
    assert "product" in archived.value.message_dict
    deal.refresh_from_db()
    assert (deal.amount, OpportunityLineItem.objects.count()) == (Decimal(12000), 0)


def test_a_list_price_in_another_currency_needs_a_price(deal, rep_a, admin_user):
    ExchangeRateFactory(currency="EUR", rate_to_reporting=Decimal("1.1"))
    euro = services.product_create(
        actor=admin_user, name="MG Advanced", list_price=Decimal(40), currency="eur"
    )
    with pytest.raises(ValidationError) as refused:
        services.line_item_add(actor=rep_a, opportunity=deal, product=euro)
    assert "EUR" in refused.value.message_dict["unit_price"][0]

    services.line_item_add(actor=rep_a, opportunity=deal, product=euro, unit_price=Decimal(44))
    deal.refresh_from_db()
    assert deal.amount == Decimal(44)


def test_a_stale_version_is_refused(deal, rep_a, gtx_pro):
    with pytest.raises(ConflictError):
        services.line_item_add(
            actor=rep_a, opportunity=deal, product=gtx_pro, expected_version=deal.version + 5
        )
    assert not OpportunityLineItem.objects.exists()
