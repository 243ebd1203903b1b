"""Forms that create and edit territories and assignment rules (executives and admins)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from salesmgmt.decorators import people_only
from salesmgmt.page_actions import call_service

from .. import selectors, services
from ..forms import RuleForm, TerritoryForm
from ..permissions import can_manage_territories
from .feedback import nav_flags

TERRITORY_FORM_FIELDS = (
    "name", "level", "parent", "owner", "effective_from", "effective_to", "description",
)  # fmt: skip


def _ensure_can_manage(request: HttpRequest) -> None:
    if not can_manage_territories(request.user):
        raise PermissionDenied("Only executives and admins change territories and rules.")


@people_only
@require_http_methods(["GET", "POST"])
def territory_form(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Create a territory, or edit one: fields, owner (with history) and overlays."""
    _ensure_can_manage(request)
    territory = selectors.territory_get(viewer=request.user, pk=pk) if pk else None
    if request.method == "POST":
        form = TerritoryForm(request.POST, territory=territory)
        if form.is_valid():
            data = dict(form.cleaned_data)
            saved, _ = call_service(
                form, lambda: _territory_save(request.user, territory, form, data)
            )
            if saved is not None:
                messages.success(request, f"Territory {saved.name} saved.")
                return redirect(reverse("territories:overview") + "#hierarchy")
    elif territory is not None:
        form = TerritoryForm(
            territory=territory,
            # foreign keys by id, as a submitted form carries them
            initial={
                name: getattr(territory, f"{name}_id" if name in ("parent", "owner") else name)
                for name in TERRITORY_FORM_FIELDS
            },
        )
    else:
        form = TerritoryForm()
    context = {"form": form, "territory": territory, **nav_flags(request.user)}
    return render(request, "territories/territory_form.html", context)


def _territory_save(actor, territory, form: TerritoryForm, data: dict):
    overlay = {"add_overlay": data.pop("add_overlay"), "overlay_role": data.pop("overlay_role")}
    if territory is None:
        saved = services.territory_create(
            actor=actor,
            name=data["name"],
            owner=data["owner"],
            level=data["level"],
            parent=data["parent"],
            effective_from=data["effective_from"],
            description=data["description"],
        )
        if overlay["add_overlay"] is not None:
            services.territory_edit(actor=actor, territory=saved, **overlay)
        return saved
    changes = {
        name: data[name]
        for name in form.changed_data
        if name in TERRITORY_FORM_FIELDS and name != "owner"
    }
    if "effective_from" in changes and changes["effective_from"] is None:
        del changes["effective_from"]  # left empty: keep the start date
    return services.territory_edit(
        actor=actor,
        territory=territory,
        owner=data["owner"],
        end_overlays=list(data.get("end_overlays") or []),
        **overlay,
        **changes,
    )


@people_only
@require_http_methods(["GET", "POST"])
def rule_form(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Create or edit an assignment rule; the coverage and rebalancing refresh after it."""
    _ensure_can_manage(request)
    rule = selectors.rule_get(viewer=request.user, pk=pk) if pk else None
    if request.method == "POST":
        form = RuleForm(request.POST)
        if form.is_valid():
            data = dict(form.cleaned_data)
            named, missing = selectors.named_accounts_get(
                viewer=request.user, ids=data.pop("named_account_ids")
            )
            if missing:
                form.add_error(
                    "named_account_ids", f"No such account: {', '.join(map(str, missing))}."
                )
            else:
                saved, _ = call_service(
                    form,
                    lambda: (
                        services.rule_create(actor=request.user, named_accounts=named, **data)
                        if rule is None
                        else services.rule_update(
                            actor=request.user, rule=rule, named_accounts=named, **data
                        )
                    ),
                )
                if saved is not None:
                    messages.success(request, f"Rule {saved.name} saved.")
                    return redirect(reverse("territories:overview") + "#rules")
    elif rule is not None:
        form = RuleForm(
            initial=RuleForm.initial_for(rule, [a.pk for a in rule.named_accounts.all()])
        )
    else:
        form = RuleForm()
    context = {"form": form, "rule": rule, **nav_flags(request.user)}
    return render(request, "territories/rule_form.html", context)
