"""Log-in throttling: failures per username and IP lock that pair out; success clears."""

from __future__ import annotations

import ipaddress
import secrets

import pytest

from salesmgmt import security

LOGIN_URL = "/login/"
ADMIN_LOGIN_URL = "/admin/login/"
# The cache may be a Redis shared with other test runs: each test logs in from its own IPs.
IP = str(ipaddress.IPv4Address(0x0A000000 + secrets.randbelow(2**24)))
OTHER_IP = str(ipaddress.IPv4Address(0x0B000000 + secrets.randbelow(2**24)))


@pytest.fixture(autouse=True)
def _throttle(settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    yield
    for username in ("rep_a", "rep_b", "admin"):
        for ip in (IP, OTHER_IP):
            security.login_succeeded(username=username, ip=ip)


def _login(client, username, password, ip=IP, url=LOGIN_URL):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=ip)


def _fail(client, username, times, ip=IP):
    for _ in range(times):
        _login(client, username, "wrong", ip=ip)


def test_login_locked_after_limit_failures(client, rep_a):
    _fail(client, "rep_a", 2)
    assert _login(client, "rep_a", "wrong").status_code == 429  # the third failure locks

    response = _login(client, "rep_a", "wrong")

    assert response.status_code == 429
    assert "Too many failed log-ins" in response.content.decode()


def test_login_right_password_during_lockout_refused(client, rep_a):
    _fail(client, "rep_a", 3)

    response = _login(client, "rep_a", "pw")

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_login_lockout_leaves_other_username_and_ip_alone(client, rep_a, rep_b):
    _fail(client, "rep_a", 3)

    assert _login(client, "rep_b", "pw").status_code == 302
    client.logout()
    assert _login(client, "rep_a", "pw", ip=OTHER_IP).status_code == 302


def test_login_success_clears_failures(client, rep_a):
    _fail(client, "rep_a", 2)
    assert _login(client, "rep_a", "pw").status_code == 302
    client.logout()

    # Two more failures would have locked without the reset.
    _fail(client, "rep_a", 2)
    assert _login(client, "rep_a", "pw").status_code == 302


def test_admin_login_shares_the_lockout(client, admin_user):
    _fail(client, "admin", 3)

    response = _login(client, "admin", "pw", url=ADMIN_LOGIN_URL)

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
