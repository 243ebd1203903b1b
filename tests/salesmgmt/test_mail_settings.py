"""Outgoing mail settings: EMAIL_URL or the EMAIL_HOST... variables; unconfigured, a backend
that keeps the mail readable (files under make run, the outbox in tests)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import environ
import pytest
from django.conf import settings

from salesmgmt.settings.mail import (
    CONSOLE_BACKEND,
    FILE_BACKEND,
    MEMORY_BACKEND,
    SMTP_BACKEND,
    email_settings,
)

MAIL_VARIABLES = [
    "EMAIL_URL", "EMAIL_HOST", "EMAIL_PORT", "EMAIL_HOST_USER", "EMAIL_HOST_PASSWORD",
    "EMAIL_USE_TLS", "EMAIL_USE_SSL", "EMAIL_TIMEOUT", "INVITATIONS_SEND_EMAIL",
]  # fmt: skip


@pytest.fixture
def clean_env(monkeypatch):
    for name in MAIL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_an_email_url_says_everything_at_once(clean_env):
    clean_env.setenv("EMAIL_URL", "smtp+tls://mailer:s%40cret%2F1@smtp.example.com:587")
    clean_env.setenv("EMAIL_HOST", "ignored.example.com")

    mail = email_settings(environ.Env(), unconfigured_backend=CONSOLE_BACKEND)

    assert mail == {
        "EMAIL_BACKEND": SMTP_BACKEND,
        "EMAIL_HOST": "smtp.example.com",
        "EMAIL_PORT": 587,
        "EMAIL_HOST_USER": "mailer",
        "EMAIL_HOST_PASSWORD": "s@cret/1",
        "EMAIL_USE_TLS": True,
        "EMAIL_USE_SSL": False,
        "EMAIL_TIMEOUT": 10,
        "EMAIL_CONFIGURED": True,
    }


def test_an_ssl_url_and_a_plain_one(clean_env):
    clean_env.setenv("EMAIL_URL", "smtp+ssl://u:p@smtp.example.com:465")
    ssl = email_settings(environ.Env(), unconfigured_backend=CONSOLE_BACKEND)
    clean_env.setenv("EMAIL_URL", "smtp://127.0.0.1:2525")
    plain = email_settings(environ.Env(), unconfigured_backend=CONSOLE_BACKEND)

    assert (ssl["EMAIL_USE_SSL"], ssl["EMAIL_USE_TLS"], ssl["EMAIL_PORT"]) == (True, False, 465)
    assert (plain["EMAIL_HOST"], plain["EMAIL_PORT"], plain["EMAIL_HOST_USER"]) == (
        "127.0.0.1",
        2525,
        "",
    )


def test_the_separate_variables_still_work(clean_env):
    clean_env.setenv("EMAIL_HOST", "smtp.example.com")
    clean_env.setenv("EMAIL_PORT", "587")
    clean_env.setenv("EMAIL_HOST_USER", "mailer")
    clean_env.setenv("EMAIL_HOST_PASSWORD", "secret")
    clean_env.setenv("EMAIL_USE_TLS", "true")
    clean_env.setenv("EMAIL_TIMEOUT", "30")

    mail = email_settings(environ.Env(), unconfigured_backend=CONSOLE_BACKEND)

    assert mail["EMAIL_BACKEND"] == SMTP_BACKEND
    assert (mail["EMAIL_HOST"], mail["EMAIL_PORT"], mail["EMAIL_USE_TLS"]) == (
        "smtp.example.com",
        587,
        True,
    )
    assert (mail["EMAIL_TIMEOUT"], mail["EMAIL_CONFIGURED"]) == (30, True)


def test_unconfigured_mail_goes_to_the_given_backend(clean_env):
    mail = email_settings(environ.Env(), unconfigured_backend=FILE_BACKEND)

    assert (mail["EMAIL_BACKEND"], mail["EMAIL_CONFIGURED"]) == (FILE_BACKEND, False)


def _settings_of(module: str, **variables: str) -> dict:
    """EMAIL_* of a settings module loaded in a fresh process with only these mail variables."""
    env = {k: v for k, v in os.environ.items() if k not in MAIL_VARIABLES}
    env.update(variables, DJANGO_SETTINGS_MODULE=module)
    code = (
        "import json; from django.conf import settings as s; print(json.dumps({k: "
        "str(getattr(s, k)) for k in ('EMAIL_BACKEND', 'EMAIL_FILE_PATH', 'EMAIL_HOST', "
        "'INVITATIONS_SEND_EMAIL')}))"
    )
    result = subprocess.run(  # noqa: S603 - fixed argv
        [sys.executable, "-c", code],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_make_run_writes_unconfigured_mail_to_var_mail():
    local = _settings_of("salesmgmt.settings.local")

    assert local["EMAIL_BACKEND"] == FILE_BACKEND
    assert local["EMAIL_FILE_PATH"] == str(settings.BASE_DIR / "var" / "mail")
    assert local["INVITATIONS_SEND_EMAIL"] == "False"  # links to copy, as before


def test_configured_mail_is_sent_in_every_environment():
    url = "smtp://127.0.0.1:2525"

    assert _settings_of("salesmgmt.settings.local", EMAIL_URL=url)["EMAIL_BACKEND"] == SMTP_BACKEND
    # the worker a mail test starts gets the test SMTP server this way
    test = _settings_of("salesmgmt.settings.test", EMAIL_URL=url)
    assert (test["EMAIL_BACKEND"], test["EMAIL_HOST"]) == (SMTP_BACKEND, "127.0.0.1")
    assert test["INVITATIONS_SEND_EMAIL"] == "True"
    assert _settings_of("salesmgmt.settings.test")["EMAIL_BACKEND"] == MEMORY_BACKEND
