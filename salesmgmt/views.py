"""Pages of the organisation core."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import REDIRECT_FIELD_NAME, login
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm, SetPasswordForm
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from . import invitations, selectors, services, two_factor
from .decorators import AuthenticatedHttpRequest, people_only
from .forms import ApiTokenForm, ThrottledAuthenticationForm, TwoFactorCodeForm
from .models import Role, User
from .page_actions import call_service, call_service_or_flash
from .visibility import may_invite


@people_only
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
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


_Response = TypeVar("_Response", bound=HttpResponseBase)


def _lockout_status(response: _Response) -> _Response:
    """A log-in refused for a lockout answers 429, so clients and monitors can tell it apart."""
    form = (getattr(response, "context_data", None) or {}).get("form")
    if form is not None and form.has_error(NON_FIELD_ERRORS, code="locked"):
        response.status_code = 429
    return response


if TYPE_CHECKING:
    # The mixin's super() and self are Django's log-in view's, which it always comes before.
    _LoginViewBase = auth_views.LoginView
else:
    _LoginViewBase = object


class TwoStepLoginMixin(_LoginViewBase):
    """The password step: a person who needs a second factor is left pending, not logged in."""

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        user = form.get_user()
        if not two_factor.needs_second_step(user):
            return super().form_valid(form)
        two_factor.begin_pending_login(self.request, user=user, next_url=self.get_success_url())
        if two_factor.confirmed_device(user) is None:
            return redirect("two_factor_login_enrol")  # required, but no authenticator yet
        return redirect("two_factor_verify")


class LoginView(TwoStepLoginMixin, auth_views.LoginView):
    """Django's log-in page with the throttle of salesmgmt.security and the two-factor step."""

    authentication_form = ThrottledAuthenticationForm

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        return _lockout_status(super().form_invalid(form))


class AdminLoginView(TwoStepLoginMixin, auth_views.LoginView):
    pass


def admin_login(request: HttpRequest) -> HttpResponseBase:
    """The admin's own log-in page, through the same password and two-factor steps.

    Mirrors ``AdminSite.login`` (Django 5.2) with our view in place of Django's, whose
    form_valid would log the person in after the password alone.
    """
    site = admin.site
    if request.method == "GET" and site.has_permission(request):
        return redirect("admin:index")
    context = {
        **site.each_context(request),
        "title": "Log in",
        "subtitle": None,
        "app_path": request.get_full_path(),
        "username": request.user.get_username(),
    }
    if REDIRECT_FIELD_NAME not in request.GET and REDIRECT_FIELD_NAME not in request.POST:
        context[REDIRECT_FIELD_NAME] = reverse("admin:index", current_app=site.name)
    request.current_app = site.name
    view = AdminLoginView.as_view(
        extra_context=context,
        authentication_form=site.login_form,  # throttled (salesmgmt.admin)
        template_name=site.login_template or "admin/login.html",
    )
    return _lockout_status(view(request))


def _pending_or_restart(request: HttpRequest) -> two_factor.PendingLogin | HttpResponse:
    pending = two_factor.pending_login(request)
    if pending is None:
        messages.info(request, "Your log-in timed out. Please enter your password again.")
        return redirect("login")
    return pending


def _code_error(form: TwoFactorCodeForm, exc: ValidationError) -> int:
    """Show a refused code on the form; the status: 429 for a lockout, else 400."""
    if isinstance(exc, two_factor.SecondFactorLockedError):
        form.add_error(None, exc)
        return 429
    form.add_error("code", exc)
    return 400


def _recovery_codes_page(request: HttpRequest, codes: list[str], continue_url: str) -> HttpResponse:
    response = render(
        request,
        "registration/two_factor_recovery_codes.html",
        {"codes": codes, "continue_url": continue_url},
    )
    response["Cache-Control"] = "no-store"  # the codes must not linger in any cache
    return response


def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """The second step: a code from the authenticator app, or a recovery code."""
    pending = _pending_or_restart(request)
    if isinstance(pending, HttpResponse):
        return pending
    form = TwoFactorCodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            method = two_factor.verify(
                user=pending.user, code=form.cleaned_data["code"], request=request
            )
        except ValidationError as exc:
            status = _code_error(form, exc)
        else:
            two_factor.complete_login(request, pending=pending)
            if method == "recovery":
                left = two_factor.recovery_codes_left(pending.user)
                messages.warning(
                    request,
                    f"You logged in with a recovery code; {left} left. "
                    "Make new ones in your two-factor settings.",
                )
            return redirect(pending.next_url or settings.LOGIN_REDIRECT_URL)
    return render(request, "registration/two_factor_verify.html", {"form": form}, status=status)


def two_factor_login_enrol(request: HttpRequest) -> HttpResponse:
    """The forced set-up for a role that requires two factors and has no authenticator yet."""
    pending = _pending_or_restart(request)
    if isinstance(pending, HttpResponse):
        return pending
    if two_factor.confirmed_device(pending.user) is not None:
        return redirect("two_factor_verify")
    return _enrol(
        request,
        user=pending.user,
        on_confirmed=lambda codes: _confirmed_at_login(request, pending, codes),
        action=reverse("two_factor_login_enrol"),
    )


def _confirmed_at_login(
    request: HttpRequest, pending: two_factor.PendingLogin, codes: list[str]
) -> HttpResponse:
    two_factor.complete_login(request, pending=pending)
    return _recovery_codes_page(
        request, codes, resolve_url(pending.next_url or settings.LOGIN_REDIRECT_URL)
    )


def _enrol(
    request: HttpRequest,
    *,
    user: User,
    on_confirmed: Callable[[list[str]], HttpResponse],
    action: str,
) -> HttpResponse:
    """Show the secret and QR code; a code from the app confirms the device."""
    device = two_factor.device_start_enrolment(user=user)
    form = TwoFactorCodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            codes = two_factor.device_confirm(
                device=device, code=form.cleaned_data["code"], request=request
            )
        except ValidationError as exc:
            status = _code_error(form, exc)
        else:
            return on_confirmed(codes)
    context = {
        "form": form,
        "action": action,
        "secret": two_factor.secret_for_display(device),
        "qr_code": two_factor.qr_code_data_uri(device),
        "is_required": two_factor.is_required_for(user),
    }
    response = render(request, "registration/two_factor_enrol.html", context, status=status)
    response["Cache-Control"] = "no-store"  # the page shows the secret
    return response


# --- Two-factor settings --------------------------------------------------------------------


@people_only
def two_factor_settings(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Turn two-factor sign-in on or off, and make new recovery codes (each after a code)."""
    user = request.user
    form = TwoFactorCodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["code"]
        try:
            if request.POST.get("action") == "disable":
                two_factor.disable(user=user, code=code, request=request)
                messages.success(request, "Two-factor sign-in is off.")
                return redirect("two_factor_settings")
            codes = two_factor.regenerate_recovery_codes(user=user, code=code, request=request)
        except ValidationError as exc:
            status = _code_error(form, exc)
        else:
            return _recovery_codes_page(request, codes, reverse("two_factor_settings"))
    context = {
        "form": form,
        "device": two_factor.confirmed_device(user),
        "is_required": two_factor.is_required_for(user),
        "codes_left": two_factor.recovery_codes_left(user),
    }
    return render(request, "salesmgmt/two_factor_settings.html", context, status=status)


@people_only
def two_factor_enrol(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Set up an authenticator app from the settings page."""
    if two_factor.confirmed_device(request.user) is not None:
        return redirect("two_factor_settings")
    return _enrol(
        request,
        user=request.user,
        on_confirmed=lambda codes: _recovery_codes_page(
            request, codes, reverse("two_factor_settings")
        ),
        action=reverse("two_factor_enrol"),
    )


# --- API tokens -----------------------------------------------------------------------------


@people_only
def api_tokens(request: AuthenticatedHttpRequest) -> HttpResponse:
    """List your tokens and create one; a new key is shown once, on this response only."""
    new_key = None
    form = ApiTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        _token, new_key = services.api_token_create(user=request.user, **form.cleaned_data)
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
def api_token_revoke(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    token = selectors.api_token_get(user=request.user, pk=pk)
    services.api_token_revoke(token=token)
    messages.success(request, f"Token “{token.name}” revoked; it no longer works.")
    return redirect("api_tokens")


# --- Invitations ----------------------------------------------------------------------------


def _people_page(
    request: AuthenticatedHttpRequest, sent: list[invitations.InvitationSent] | None = None
) -> HttpResponse:
    context = {
        "people": invitations.people_with_invitations(viewer=request.user),
        "pending_count": invitations.pending_people().count(),
        "sent": sent or [],
        "sends_email": settings.INVITATIONS_SEND_EMAIL,
        "max_age_days": settings.INVITATION_MAX_AGE_DAYS,
        "now": timezone.now(),
    }
    response = render(request, "salesmgmt/people_invitations.html", context)
    if sent:
        response["Cache-Control"] = "no-store"  # the links must not linger in any cache
    return response


def _admins_only(request: AuthenticatedHttpRequest) -> None:
    if not may_invite(request.user):
        raise PermissionDenied("Only administrators invite people.")


@people_only
def people_invitations(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Administrators: everyone's sign-in state, an Invite button each, and the bulk button."""
    _admins_only(request)
    return _people_page(request)


@people_only
@require_POST
def person_invite(request: AuthenticatedHttpRequest, user_id: int) -> HttpResponse:
    """Invite one person; the page shows the link to copy (or that it was e-mailed)."""
    _admins_only(request)
    person = get_object_or_404(User, pk=user_id)
    sent, ok = call_service_or_flash(
        request,
        lambda: invitations.user_invite(
            actor=request.user,
            user=person,
            base_url=request.build_absolute_uri("/"),
            in_session=True,
        ),
    )
    if not ok or sent is None:
        return redirect("people_invitations")
    return _people_page(request, [sent])


@people_only
@require_POST
def people_invite_pending(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Invite everyone who never signed in and has no current invitation."""
    _admins_only(request)
    sent, ok = call_service_or_flash(
        request,
        lambda: invitations.users_invite_pending(
            actor=request.user, base_url=request.build_absolute_uri("/"), in_session=True
        ),
    )
    if not ok or not sent:
        if ok:
            messages.info(request, "Everyone who never signed in already has an invitation.")
        return redirect("people_invitations")
    return _people_page(request, sent)


def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """The invited person chooses a password and is signed in (through two-factor if needed).

    Anonymous by design: the signed token is the credential. An expired, used or edited link
    gets a page that says which, never an error."""
    checked = invitations.check_token(token)
    if checked.user is None:
        problem = {"problem": checked.problem}
        return render(request, "registration/invitation_accept.html", problem, status=400)
    person = checked.user
    form = SetPasswordForm(person, request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        password = form.cleaned_data["new_password1"]
        user, status = call_service(
            form, lambda: invitations.invitation_accept(token=token, password=password)
        )
        if user is not None:
            return _sign_in_invited(request, user)
    elif request.method == "POST":
        status = 400
    context = {"form": form, "person": person}
    response = render(request, "registration/invitation_accept.html", context, status=status)
    response["Cache-Control"] = "no-store"
    # The token is in the address: never sent to another site. Not "no-referrer": with it a
    # browser posts the form with "Origin: null", which the CSRF check refuses (403).
    response["Referrer-Policy"] = "same-origin"
    return response


def _sign_in_invited(request: HttpRequest, user: User) -> HttpResponse:
    """The password is set: sign in, or start the second step when the role requires one."""
    user.backend = settings.AUTHENTICATION_BACKENDS[0]
    next_url = resolve_url(settings.LOGIN_REDIRECT_URL)
    if two_factor.needs_second_step(user):
        two_factor.begin_pending_login(request, user=user, next_url=next_url)
        if two_factor.confirmed_device(user) is None:
            return redirect("two_factor_login_enrol")
        return redirect("two_factor_verify")
    login(request, user, backend=user.backend)
    messages.success(request, "Your password is set. Welcome to salesmgmt.")
    return redirect(next_url)
