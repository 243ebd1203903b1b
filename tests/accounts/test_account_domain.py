"""An account's mail domain: normalised and checked in one place (accounts.domains, applied by
the services), whichever way it arrives: page, API or CSV import."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from accounts import services
from accounts.domains import normalize_domain

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("https://www.Acme.com/", "acme.com"),
        ("http://acme.com/about?x=1#top", "acme.com"),
        ("  WWW.Globex.co.uk  ", "globex.co.uk"),
        ("@initech.example", "initech.example"),
        ("acme.com:8443/login", "acme.com"),
        ("acme.com.", "acme.com"),
        ("mail.acme.com", "mail.acme.com"),
        ("", ""),
        (None, ""),
    ],
)
def test_normalize_domain_reads_a_website_as_its_domain(typed, stored):
    assert normalize_domain(typed) == stored


def test_create_and_update_store_the_normalised_domain(rep_a):
    account = services.account_create(actor=rep_a, name="Acme", domain="https://www.Acme.com/")
    assert account.domain == "acme.com"

    updated = services.account_update(actor=rep_a, account=account, domain="WWW.acme.de")
    assert updated.domain == "acme.de"
    assert services.account_update(actor=rep_a, account=account, domain="").domain == ""


@pytest.mark.parametrize("bad", ["acme", "not a domain", "acme..com", "ac_me.com", "acme.c0m"])
def test_a_value_that_is_not_a_domain_is_a_field_error_quoting_it(rep_a, bad):
    with pytest.raises(ValidationError) as refused:
        services.account_create(actor=rep_a, name="Acme", domain=bad)
    [message] = refused.value.message_dict["domain"]
    assert message == f"“{normalize_domain(bad)}” is not a domain (e.g. acme.com)."


def test_api_normalises_and_refuses_with_a_field_message(api_client_for, rep_a):
    client = api_client_for(rep_a)
    created = client.post(
        "/api/v1/accounts/", {"name": "Umbrella", "domain": "https://Umbrella.example/"}
    )
    assert created.status_code == 201, created.content
    assert created.json()["domain"] == "umbrella.example"

    pk = created.json()["id"]
    bad = client.patch(f"/api/v1/accounts/{pk}/", {"domain": "umbrella"}, format="json")
    assert bad.status_code == 400
    assert bad.json()["fields"]["domain"] == ["“umbrella” is not a domain (e.g. acme.com)."]
    changed = client.patch(f"/api/v1/accounts/{pk}/", {"domain": "www.umbrella.org"}, format="json")
    assert changed.json()["domain"] == "umbrella.org"


def test_the_admin_reads_a_website_as_the_domain_too(client, admin_user, rep_a):
    from accounts.models import Account

    client.force_login(admin_user)
    response = client.post(
        "/admin/accounts/account/add/",
        {
            "name": "Hooli",
            "owner": rep_a.pk,
            "domain": "https://www.Hooli.example/",
            "contacts-TOTAL_FORMS": "0",
            "contacts-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert Account.objects.get(name="Hooli").domain == "hooli.example"
