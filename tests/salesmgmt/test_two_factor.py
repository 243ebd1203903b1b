"""Two-factor sign-in: the password step never logs in a person who needs a second factor."""

from __future__ import annotations

import ipaddress
import secrets
import time

import pyotp
import pytest
from django.test import Client
from rest_framework.test import APIClient

from salesmgmt import security, services, two_factor
from salesmgmt.models import AuditEvent, RecoveryCode, TOTPDevice

LOGIN_URL = "/login/"
ADMIN_LOGIN_URL = "/admin/login/"
VERIFY_URL = "/login/verify/"
LOGIN_ENROL_URL = "/login/two-factor-setup/"
SETTINGS_URL = "/settings/two-factor/"


@pytest.fixture
def ip():
    # The cache may be a Redis shared with other test runs: each test uses its own IP.
    return str(ipaddress.IPv4Address(0x0C000000 + secrets.randbelow(2**24)))


@pytest.fixture
def client(ip):
    return Client(REMOTE_ADDR=ip)


@pytest.fixture(autouse=True)
def _settings(settings, ip):
    settings.TWO_FACTOR_REQUIRED_ROLES = ["admin", "executive"]
    settings.LOGIN_FAILURE_LIMIT = 3
    yield
    for username in ("rep_a", "exec", "admin"):
        security.login_succeeded(username=username, ip=ip)


def _enrol(user) -> tuple[TOTPDevice, list[str]]:
    """A confirmed authenticator; confirmed with the previous step's code, so the current
    step's code is still unused."""
    device = two_factor.device_start_enrolment(user=user)
    codes = two_factor.device_confirm(device=device, code=_code(device, offset=-1))
    device.refresh_from_db()
    return device, codes


def _code(device: TOTPDevice, offset: int = 0) -> str:
    return pyotp.TOTP(device.secret).at(time.time(), counter_offset=offset)


def _password(client, username, url=LOGIN_URL, **data):
    return client.post(url, {"username": username, "password": "pw", **data})


def _is_logged_in(client) -> bool:
    return "_auth_user_id" in client.session


# --- the password step ------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["executive", "admin_user"])
def test_password_only_login_of_required_role_cannot_reach_pages(client, persona, request):
    user = request.getfixturevalue(persona)

    response = _password(client, user.username)

    assert response.status_code == 302
    assert response.url == LOGIN_ENROL_URL  # no authenticator yet: forced set-up
    assert not _is_logged_in(client)
    home = client.get("/")
    assert home.status_code == 302
    assert home.url.startswith("/login/")
    assert client.get("/coaching/executive/").status_code == 302


def test_required_role_with_device_goes_to_verify_not_logged_in(client, executive):
    _enrol(executive)

    response = _password(client, "exec")

    assert (response.status_code, response.url) == (302, VERIFY_URL)
    assert not _is_logged_in(client)


def test_optional_role_without_device_logs_in_with_one_step(client, rep_a):
    response = _password(client, "rep_a")

    assert response.status_code == 302
    assert response.url == "/"
    assert _is_logged_in(client)


def test_optional_role_with_device_gets_the_second_step(client, rep_a):
    device, _ = _enrol(rep_a)

    response = _password(client, "rep_a")

    assert (response.status_code, response.url) == (302, VERIFY_URL)
    assert not _is_logged_in(client)
    response = client.post(VERIFY_URL, {"code": _code(device)})
    assert response.status_code == 302
    assert _is_logged_in(client)


def test_verify_without_password_step_goes_back_to_login(client, executive):
    response = client.get(VERIFY_URL)

    assert (response.status_code, response.url) == (302, "/login/")


def test_pending_login_expires(client, executive, settings):
    device, _ = _enrol(executive)
    _password(client, "exec")
    settings.TWO_FACTOR_PENDING_SECONDS = -1

    response = client.post(VERIFY_URL, {"code": _code(device)})

    assert (response.status_code, response.url) == (302, "/login/")
    assert not _is_logged_in(client)


# --- enrolment at log-in -----------------------------------------------------------------------


def test_enrolment_at_login_confirms_device_and_logs_in(client, executive):
    _password(client, "exec", next="/forecast/")

    page = client.get(LOGIN_ENROL_URL)
    assert page.status_code == 200
    assert "data:image/svg+xml" in page.content.decode()
    device = TOTPDevice.objects.get(user=executive)
    assert device.confirmed_at is None
    assert device.secret[:4] in page.content.decode()  # the key, for typing by hand
    assert page["Cache-Control"] == "no-store"

    response = client.post(LOGIN_ENROL_URL, {"code": _code(device)})

    assert response.status_code == 200
    assert _is_logged_in(client)
    codes = response.context["codes"]
    assert len(codes) == 10
    assert len(set(codes)) == 10
    assert response.context["continue_url"] == "/forecast/"
    # Only hashes are stored.
    stored = set(RecoveryCode.objects.filter(user=executive).values_list("code_hash", flat=True))
    assert len(stored) == 10
    assert not stored & set(codes)
    device.refresh_from_db()
    assert device.confirmed_at is not None
    assert AuditEvent.objects.filter(action="two_factor.enrolled", actor=executive).count() == 1
    # The secret is never shown again once confirmed.
    assert client.get("/settings/two-factor/setup/").status_code == 302


def test_enrolment_with_wrong_code_is_refused(client, executive):
    _password(client, "exec")
    client.get(LOGIN_ENROL_URL)
    device = TOTPDevice.objects.get(user=executive)

    response = client.post(LOGIN_ENROL_URL, {"code": _wrong_code(device)})

    assert response.status_code == 400
    assert not _is_logged_in(client)
    device.refresh_from_db()
    assert device.confirmed_at is None


# --- the verify step ----------------------------------------------------------------------------


def _wrong_code(device: TOTPDevice) -> str:
    valid = {_code(device, offset) for offset in (-1, 0, 1, 2)}
    return next(code for code in (f"{n:06d}" for n in range(1000)) if code not in valid)


def test_verify_with_pyotp_code_logs_in(client, admin_user):
    device, _ = _enrol(admin_user)
    _password(client, "admin")

    response = client.post(VERIFY_URL, {"code": _code(device)})

    assert (response.status_code, response.url) == (302, "/")
    assert _is_logged_in(client)
    assert int(client.session["_auth_user_id"]) == admin_user.pk
    assert AuditEvent.objects.filter(action="login.succeeded", actor=admin_user).count() == 1


def test_verify_wrong_code_refused_and_audited(client, executive):
    device, _ = _enrol(executive)
    _password(client, "exec")

    response = client.post(VERIFY_URL, {"code": _wrong_code(device)})

    assert response.status_code == 400
    assert not _is_logged_in(client)
    event = AuditEvent.objects.get(action="two_factor.failed")
    assert (event.actor, event.details["step"]) == (executive, "verify")


def test_verify_replayed_code_refused(client, executive):
    device, _ = _enrol(executive)
    code = _code(device)
    _password(client, "exec")
    assert client.post(VERIFY_URL, {"code": code}).status_code == 302
    client.logout()

    _password(client, "exec")
    response = client.post(VERIFY_URL, {"code": code})

    assert response.status_code == 400
    assert not _is_logged_in(client)


def test_verify_locks_out_after_repeated_wrong_codes(client, executive):
    device, _ = _enrol(executive)
    _password(client, "exec")
    wrong = _wrong_code(device)
    assert client.post(VERIFY_URL, {"code": wrong}).status_code == 400
    assert client.post(VERIFY_URL, {"code": wrong}).status_code == 400
    assert client.post(VERIFY_URL, {"code": wrong}).status_code == 429  # the limit is 3

    response = client.post(VERIFY_URL, {"code": _code(device)})

    assert response.status_code == 429
    assert "Too many wrong codes" in response.content.decode()
    assert not _is_logged_in(client)
    # The shared lockout also refuses the password step.
    assert _password(client, "exec").status_code == 429


def test_reentering_password_does_not_reset_wrong_code_count(client, executive):
    device, _ = _enrol(executive)
    wrong = _wrong_code(device)
    _password(client, "exec")
    client.post(VERIFY_URL, {"code": wrong})
    client.post(VERIFY_URL, {"code": wrong})

    _password(client, "exec")
    response = client.post(VERIFY_URL, {"code": wrong})

    assert response.status_code == 429


def test_recovery_code_works_once(client, executive):
    _device, codes = _enrol(executive)
    _password(client, "exec")

    response = client.post(VERIFY_URL, {"code": codes[3].upper()})

    assert response.status_code == 302
    assert _is_logged_in(client)
    event = AuditEvent.objects.get(action="two_factor.recovery_code_used")
    assert event.details == {"remaining": 9}
    client.logout()

    _password(client, "exec")
    again = client.post(VERIFY_URL, {"code": codes[3]})
    assert again.status_code == 400
    assert not _is_logged_in(client)


# --- the admin log-in and the API ----------------------------------------------------------------


def test_admin_login_path_enforces_second_factor(client, admin_user):
    device, _ = _enrol(admin_user)

    response = _password(client, "admin", url=ADMIN_LOGIN_URL, next="/admin/")

    assert (response.status_code, response.url) == (302, VERIFY_URL)
    assert not _is_logged_in(client)
    assert client.get("/admin/").status_code == 302
    response = client.post(VERIFY_URL, {"code": _code(device)})
    assert (response.status_code, response.url) == (302, "/admin/")
    assert client.get("/admin/").status_code == 200


def test_admin_login_without_device_forces_enrolment(client, admin_user):
    response = _password(client, "admin", url=ADMIN_LOGIN_URL, next="/admin/")

    assert (response.status_code, response.url) == (302, LOGIN_ENROL_URL)
    assert not _is_logged_in(client)


def test_admin_login_page_still_renders(client):
    response = client.get(ADMIN_LOGIN_URL)

    assert response.status_code == 200
    assert 'name="username"' in response.content.decode()


def test_api_token_requests_unaffected(executive):
    _enrol(executive)
    _, key = services.api_token_create(user=executive, name="bi")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    response = api.get("/api/v1/users/me/")

    assert response.status_code == 200
    assert response.json()["id"] == executive.pk


# --- the settings page --------------------------------------------------------------------------


def test_optional_role_enrols_and_disables_from_settings(client, rep_a):
    client.force_login(rep_a)
    assert client.get(SETTINGS_URL).status_code == 200
    client.get("/settings/two-factor/setup/")
    device = TOTPDevice.objects.get(user=rep_a)

    response = client.post("/settings/two-factor/setup/", {"code": _code(device, offset=-1)})
    assert response.status_code == 200
    assert len(response.context["codes"]) == 10

    response = client.post(SETTINGS_URL, {"action": "disable", "code": _code(device)})

    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=rep_a).exists()
    assert not RecoveryCode.objects.filter(user=rep_a).exists()
    assert AuditEvent.objects.filter(action="two_factor.disabled", actor=rep_a).count() == 1


def test_disable_needs_a_current_code(client, rep_a):
    device, _ = _enrol(rep_a)
    client.force_login(rep_a)

    response = client.post(SETTINGS_URL, {"action": "disable", "code": _wrong_code(device)})

    assert response.status_code == 400
    assert TOTPDevice.objects.filter(user=rep_a).exists()


def test_required_role_cannot_disable(client, executive):
    device, _ = _enrol(executive)
    client.force_login(executive)

    response = client.post(SETTINGS_URL, {"action": "disable", "code": _code(device)})

    assert response.status_code == 400
    assert "requires two-factor" in response.content.decode()
    assert TOTPDevice.objects.filter(user=executive, confirmed_at__isnull=False).exists()


def test_regenerate_recovery_codes_replaces_the_old_ones(client, rep_a):
    device, old_codes = _enrol(rep_a)
    client.force_login(rep_a)

    response = client.post(SETTINGS_URL, {"action": "regenerate", "code": _code(device)})

    assert response.status_code == 200
    new_codes = response.context["codes"]
    assert len(new_codes) == 10
    assert not set(new_codes) & set(old_codes)
    with pytest.raises(two_factor.ValidationError):
        two_factor.verify(user=rep_a, code=old_codes[0])
    assert two_factor.verify(user=rep_a, code=new_codes[0]) == "recovery"


def test_regenerate_needs_a_current_code(client, rep_a):
    device, old_codes = _enrol(rep_a)
    client.force_login(rep_a)

    response = client.post(SETTINGS_URL, {"action": "regenerate", "code": _wrong_code(device)})

    assert response.status_code == 400
    assert two_factor.verify(user=rep_a, code=old_codes[0]) == "recovery"


def test_admin_lists_devices_without_the_secret(client, admin_user, rep_a):
    device, _ = _enrol(rep_a)
    client.force_login(admin_user)

    changelist = client.get("/admin/salesmgmt/totpdevice/")
    detail = client.get(f"/admin/salesmgmt/totpdevice/{device.pk}/change/")

    assert changelist.status_code == 200
    assert detail.status_code == 200
    assert device.secret not in changelist.content.decode()
    assert device.secret not in detail.content.decode()
