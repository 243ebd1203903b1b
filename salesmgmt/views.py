"""Pages of the organisation core."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from . import selectors, services
from .csv_import import create_import_job, live_rows_done, rerun_for_real
from .decorators import people_only
from .errors import ApplicationError
from .forms import ApiTokenForm, ImportForm, ThrottledAuthenticationForm
from .models import Role


@people_only
def home(request: HttpRequest) -> HttpResponse:
    """Managers land on their team, executives and admins on the rollup, reps on their work."""
    user = request.user
    if user.is_superuser or user.role in (Role.EXECUTIVE, Role.ADMIN):
        return redirect("coaching:executive_rollup")
    if user.role == Role.MANAGER:
        return redirect("coaching:team_dashboard")
    return redirect("accounts:rep_home")


def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness for load balancers: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


# --- Log-in ---------------------------------------------------------------------------------


def _lockout_status(response: HttpResponse) -> HttpResponse:
    """A log-in refused for a lockout answers 429, so clients and monitors can tell it apart."""
    form = (getattr(response, "context_data", None) or {}).get("form")
    if form is not None and form.has_error(NON_FIELD_ERRORS, code="locked"):
        response.status_code = 429
    return response


class LoginView(auth_views.LoginView):
    """Django's log-in page with the throttle of salesmgmt.security."""

    authentication_form = ThrottledAuthenticationForm

    def form_invalid(self, form: ThrottledAuthenticationForm) -> HttpResponse:
        return _lockout_status(super().form_invalid(form))


def admin_login(request: HttpRequest) -> HttpResponse:
    """The admin's own log-in page; throttled through admin.site.login_form (salesmgmt.admin)."""
    return _lockout_status(admin.site.login(request))


# --- API tokens -----------------------------------------------------------------------------


@people_only
def api_tokens(request: HttpRequest) -> HttpResponse:
    """List your tokens and create one; a new key is shown once, on this response only."""
    new_key = None
    form = ApiTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        _token, new_key = services.create_api_token(user=request.user, **form.cleaned_data)
        form = ApiTokenForm()
    context = {
        "form": form,
        "new_key": new_key,
        "tokens": selectors.api_token_list(user=request.user),
    }
    response = render(request, "salesmgmt/api_tokens.html", context)
    if new_key:
        response["Cache-Control"] = "no-store"  # the key must not linger in any cache
    return response


@people_only
@require_POST
def api_token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = selectors.api_token_get(user=request.user, pk=pk)
    services.revoke_api_token(token=token)
    messages.success(request, f"Token “{token.name}” revoked; it no longer works.")
    return redirect("api_tokens")


# --- CSV imports ----------------------------------------------------------------------------


@people_only
def imports(request: HttpRequest) -> HttpResponse:
    """Upload a CSV (dry run by default) and list your recent imports."""
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = create_import_job(
                actor=request.user,
                kind=form.cleaned_data["kind"],
                content=upload.read(),
                file_name=upload.name,
                dry_run=form.cleaned_data["dry_run"],
            )
        except (ValidationError, ApplicationError) as exc:
            form.add_error(None, getattr(exc, "message", None) or "; ".join(exc.messages))
        else:
            return redirect("import_job", pk=job.pk)
    context = {"form": form, "jobs": selectors.import_job_list(viewer=request.user)[:20]}
    return render(request, "salesmgmt/imports.html", context)


@people_only
def import_job(request: HttpRequest, pk: int) -> HttpResponse:
    """Progress (rows done of total) while it runs, then the result and every bad row."""
    job = selectors.import_job_get(viewer=request.user, pk=pk)
    if request.method == "POST":
        try:
            job = rerun_for_real(actor=request.user, job=job)
        except ValidationError as exc:
            messages.error(request, "; ".join(exc.messages))
        return redirect("import_job", pk=job.pk)
    context = {"job": job, "rows_done": live_rows_done(job)}
    return render(request, "salesmgmt/import_job.html", context)
