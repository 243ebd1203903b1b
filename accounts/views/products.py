"""The product catalogue page (everyone reads it; administrators add, edit and archive) and
the line items of a deal (whoever works on the deal adds, edits and removes them).

Each write is one accounts.services call; a refusal shows on the form (catalogue) or as a
message on the deal page (a line item's row).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from salesmgmt.decorators import people_only
from salesmgmt.page_actions import call_service, call_service_or_flash

from .. import selectors, services
from ..models import Opportunity
from ..product_forms import LineItemEditForm, LineItemForm, ProductFilterForm, ProductForm
from ..selectors import products as catalogue
from .pagination import paginate
from .processes import run_row_form


def _ensure_may_manage(request: HttpRequest) -> None:
    if not services.may_manage_products(request.user):
        raise PermissionDenied("Only an administrator can change the product catalogue.")


def _filtered_products(request: HttpRequest) -> tuple[ProductFilterForm, object]:
    form = ProductFilterForm(request.GET)
    data = form.cleaned_data if form.is_valid() else {}
    active = {"1": True, "0": False}.get(data.get("active") or "")
    products = catalogue.product_list(
        family=data.get("family") or "", is_active=active, query=data.get("q") or ""
    )
    return form, products


@people_only
def product_list(request: HttpRequest) -> HttpResponse:
    """The catalogue, 25 a page; administrators add products below it."""
    form = ProductForm(request.POST or None, initial={"is_active": True})
    status = 200
    if request.method == "POST":
        _ensure_may_manage(request)
        status = 400
        if form.is_valid():
            product, status = call_service(
                form, lambda: services.product_create(actor=request.user, **form.cleaned_data)
            )
            if product is not None:
                messages.success(request, f"Added {product} to the catalogue.")
                return redirect("accounts:product_list")
    filter_form, products = _filtered_products(request)
    context = {
        "products": paginate(request, products),
        "filter_form": filter_form,
        "families": catalogue.product_families(),
        "form": form,
        "can_manage": services.may_manage_products(request.user),
    }
    return render(request, "accounts/product_list.html", context, status=status)


@people_only
def product_detail(request: HttpRequest, product_id: int) -> HttpResponse:
    product = catalogue.product_get(pk=product_id)
    initial = {name: getattr(product, name) for name in ProductForm.base_fields}
    form = ProductForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        _ensure_may_manage(request)
        status = 400
        if form.is_valid():
            updated, status = call_service(
                form,
                lambda: services.product_update(
                    actor=request.user, product=product, **form.cleaned_data
                ),
            )
            if updated is not None:
                messages.success(request, f"Saved {updated}.")
                return redirect("accounts:product_detail", product_id=product.pk)
    context = {
        "product": product,
        "form": form,
        "can_manage": services.may_manage_products(request.user),
    }
    return render(request, "accounts/product_detail.html", context, status=status)


@people_only
@require_POST
def product_archive(request: HttpRequest, product_id: int) -> HttpResponse:
    product = catalogue.product_get(pk=product_id)
    _ensure_may_manage(request)
    archived, ok = call_service_or_flash(
        request, lambda: services.product_archive(actor=request.user, product=product)
    )
    if ok:
        messages.success(request, f"Archived {archived}: no new line items with it.")
    return redirect("accounts:product_detail", product_id=product.pk)


# --- a deal's line items -------------------------------------------------------------------


def line_items_context(request: HttpRequest, deal: Opportunity) -> dict[str, object]:
    """The deal page's line items section: rows with totals, and the forms if editable."""
    items = list(catalogue.line_item_list(opportunity=deal))
    editable = services.may_work_on(request.user, deal)
    products = catalogue.product_choices() if editable else None
    return {
        "rows": [
            (
                item,
                catalogue.line_total(
                    quantity=item.quantity,
                    unit_price=item.unit_price,
                    discount_percent=item.discount_percent,
                ),
                LineItemEditForm(initial=_initial(item), prefix=f"li{item.pk}")
                if editable
                else None,
            )
            for item in items
        ],
        "can_edit": editable,
        "add_form": LineItemForm(products=products, auto_id="line-%s") if editable else None,
    }


def _initial(item) -> dict[str, object]:
    return {
        "quantity": item.quantity,
        "unit_price": item.unit_price,
        "discount_percent": item.discount_percent,
    }


def _back_to(deal_id: int) -> HttpResponse:
    return redirect(reverse("accounts:opportunity_detail", args=[deal_id]) + "#line-items")


def _run(request: HttpRequest, form: LineItemEditForm, deal_id: int, write, done: str):
    """A line item's form, then back to the deal."""
    run_row_form(request, form, write, done)
    return _back_to(deal_id)


@people_only
@require_POST
def line_item_add(request: HttpRequest, pk: int) -> HttpResponse:
    deal = selectors.opportunity_get(viewer=request.user, pk=pk)
    form = LineItemForm(request.POST, products=catalogue.product_choices())
    return _run(
        request,
        form,
        deal.pk,
        lambda data: services.line_item_add(actor=request.user, opportunity=deal, **data),
        "Line item added; the deal's amount is their total.",
    )


@people_only
@require_POST
def line_item_edit(request: HttpRequest, line_item_id: int) -> HttpResponse:
    item = catalogue.line_item_get(viewer=request.user, pk=line_item_id)
    form = LineItemEditForm(request.POST, prefix=f"li{item.pk}")
    return _run(
        request,
        form,
        item.opportunity_id,
        lambda data: services.line_item_update(actor=request.user, line_item=item, **data),
        f"Saved the line item {item.product}.",
    )


@people_only
@require_POST
def line_item_remove(request: HttpRequest, line_item_id: int) -> HttpResponse:
    item = catalogue.line_item_get(viewer=request.user, pk=line_item_id)
    _, ok = call_service_or_flash(
        request, lambda: services.line_item_remove(actor=request.user, line_item=item)
    )
    if ok:
        messages.success(request, f"Removed {item.product} from the deal.")
    return _back_to(item.opportunity_id)
