"""Creating and editing an account on its pages, mail domain included (normalised and checked
by the services: accounts.domains), as each role."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Account
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def form_data(**changes) -> dict:
    return {"name": "Acme", "domain": "", "industry": "", "country": "", **changes}


def test_a_rep_creates_an_account_from_the_list_with_its_website(client, rep_a):
    client.force_login(rep_a)
    listing = client.get(reverse("accounts:account_list"))
    assert reverse("accounts:account_create") in listing.content.decode()
    assert client.get(reverse("accounts:account_create")).status_code == 200

    response = client.post(
        reverse("accounts:account_create"),
        form_data(domain="https://www.Acme.com/", employee_count="120"),
    )

    account = Account.objects.get(name="Acme")
    assert response.status_code == 302
    assert response.url == reverse("accounts:account_detail", args=[account.pk])
    assert (account.domain, account.owner, account.employee_count) == ("acme.com", rep_a, 120)
    page = client.get(response.url)
    assert 'data-testid="account-domain">acme.com<' in page.content.decode()


def test_a_value_that_is_not_a_domain_is_shown_on_the_field(client, rep_a):
    client.force_login(rep_a)

    response = client.post(reverse("accounts:account_create"), form_data(domain="acme"))

    assert response.status_code == 400
    assert response.context["form"].errors["domain"] == ["“acme” is not a domain (e.g. acme.com)."]
    assert not Account.objects.filter(name="Acme").exists()


@pytest.mark.parametrize(
    ("viewer", "status"),
    [
        ("rep_a", 302),
        ("manager_a", 302),
        ("executive", 302),
        ("admin", 302),
        ("rep_b", 404),
        ("manager_b", 404),
        ("integrator", 403),
    ],
)
def test_who_edits_an_accounts_domain(client, personas, rep_a, viewer, status):
    account = AccountFactory(owner=rep_a, name="Initech", domain="initech.example")
    client.force_login(personas[viewer])

    response = client.post(
        reverse("accounts:account_edit", args=[account.pk]),
        form_data(name="Initech", domain="WWW.Initech.com"),
    )

    assert response.status_code == status
    account.refresh_from_db()
    assert account.domain == ("initech.com" if status == 302 else "initech.example")


def test_an_edit_based_on_an_old_read_is_refused_and_shown(client, rep_a):
    account = AccountFactory(owner=rep_a, name="Initech")
    client.force_login(rep_a)
    page = client.get(reverse("accounts:account_detail", args=[account.pk]))
    read_at = page.context["edit_form"].initial["expected_updated_at"]
    Account.objects.filter(pk=account.pk).update(updated_at=account.updated_at.replace(year=2031))

    response = client.post(
        reverse("accounts:account_edit", args=[account.pk]),
        form_data(name="Initech", domain="initech.com", expected_updated_at=read_at),
    )

    assert response.status_code == 409
    assert "changed by someone else" in str(response.context["edit_form"].non_field_errors())
    assert Account.objects.get(pk=account.pk).domain == ""


def test_a_bad_edit_re_renders_the_account_page_with_the_form_open(client, rep_a):
    account = AccountFactory(owner=rep_a, name="Initech")
    client.force_login(rep_a)

    response = client.post(
        reverse("accounts:account_edit", args=[account.pk]),
        form_data(name="", domain="not a domain"),
    )

    assert response.status_code == 400
    errors = response.context["edit_form"].errors
    assert set(errors) == {"name"}  # the form's own check first: the service is not asked
    assert 'data-testid="account-edit-form"' in response.content.decode()
