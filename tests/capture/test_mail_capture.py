"""Capturing mail for a person: matching, contacts, unfiled items, duplicates, privacy."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from accounts.models import Activity, Contact
from capture import services
from capture.models import CapturedItem
from capture.parsing import capture_token, parse_mail
from capture.selectors import capture_owner_id
from salesmgmt.errors import PermissionDeniedError
from tests.capture.scenario import customer_of, raw_mail, thread, unknown_mail
from tests.factories import AccountFactory, OpportunityFactory

pytestmark = pytest.mark.django_db


def capture(rep, raw: bytes) -> CapturedItem | None:
    return services.captured_mail_record(owner=rep, mail=parse_mail(raw))


def test_parse_keeps_headers_and_excerpt_not_attachments():
    raw = raw_mail(
        sender="A <a@x.example>",
        to=["b@y.example"],
        subject="Hi   there #42",
        message_id="<id@x>",
        body="Body text",
        attachment=b"SECRET-ATTACHMENT",
    )
    mail = parse_mail(raw)
    assert mail.sender.email == "a@x.example"
    assert [a.email for a in mail.recipients] == ["b@y.example"]
    assert (mail.subject, mail.deal_tag, mail.excerpt) == ("Hi there #42", 42, "Body text")
    assert "SECRET" not in mail.excerpt


def test_capture_address_token_and_owner(rep_a, settings):
    settings.CAPTURE_DOMAIN = "cap.example"
    address = services.capture_settings_ensure(user=rep_a).address
    assert address.startswith("log+")
    assert address.endswith("@cap.example")
    assert capture_token(address, domain="cap.example") is not None
    assert capture_owner_id(address) == rep_a.pk
    assert capture_owner_id(address.replace("cap.example", "other.example")) is None
    assert capture_owner_id("log+0000000000000000@cap.example") is None


def test_rotated_token_refuses_the_old_address(rep_a):
    old = services.capture_settings_ensure(user=rep_a).address
    new = services.capture_token_rotate(user=rep_a).address
    assert old != new
    assert capture_owner_id(old) is None
    assert capture_owner_id(new) == rep_a.pk


def test_integrator_has_no_capture_address(integrator):
    with pytest.raises(PermissionDeniedError):
        services.capture_settings_ensure(user=integrator)


def test_thread_files_tagged_and_matched_mail_and_drops_personal(rep_a):
    customer = customer_of(rep_a)
    services.capture_settings_ensure(user=rep_a)
    tagged, reply, personal = (capture(rep_a, raw) for raw in thread(rep_a, customer))

    # the #tag wins over the more recently active deal
    assert tagged.status == CapturedItem.Status.FILED
    assert tagged.activity.opportunity == customer.tagged_deal
    assert tagged.activity.source == Activity.Source.EMAIL
    assert tagged.activity.kind == Activity.Kind.EMAIL
    assert tagged.direction == CapturedItem.Direction.OUTBOUND
    assert "secret price list" not in tagged.activity.notes
    # the unknown colleague at the account's domain becomes a contact; no tag: the most
    # recently active open deal of that account
    nina = Contact.objects.get(email="nina.newman@acme.example")
    assert (nina.account, nina.first_name, nina.last_name) == (customer.account, "Nina", "Newman")
    assert reply.activity.opportunity == customer.older_deal
    assert reply.direction == CapturedItem.Direction.INBOUND
    assert list(reply.contacts.all()) == [nina]
    # personal mail (gmail.com is excluded by default) is not kept at all
    assert personal is None
    assert CapturedItem.objects.count() == 2
    assert Activity.objects.filter(source=Activity.Source.EMAIL).count() == 2


def test_redelivered_message_is_not_logged_twice(rep_a):
    customer = customer_of(rep_a)
    raw = thread(rep_a, customer)[0]
    first = capture(rep_a, raw)
    again = capture(rep_a, raw)
    assert again.pk == first.pk
    assert Activity.objects.filter(source=Activity.Source.EMAIL).count() == 1


def test_unmatched_mail_waits_unfiled_then_is_filed(rep_a):
    customer = customer_of(rep_a)
    item = capture(rep_a, unknown_mail(rep_a))
    assert item.status == CapturedItem.Status.UNFILED
    assert item.activity is None
    assert not Contact.objects.filter(email="olga@other.example").exists()

    filed = services.captured_item_file(actor=rep_a, item=item, opportunity=customer.older_deal)
    assert filed.status == CapturedItem.Status.FILED
    assert filed.activity.opportunity == customer.older_deal
    assert filed.activity.owner == rep_a
    with pytest.raises(ValidationError):
        services.captured_item_file(actor=rep_a, item=item, opportunity=customer.older_deal)


def test_filing_refuses_someone_elses_item_or_invisible_deal(rep_a, rep_b):
    customer_of(rep_a)
    item = capture(rep_a, unknown_mail(rep_a))
    foreign_deal = OpportunityFactory(owner=rep_b)
    with pytest.raises(PermissionDeniedError):
        services.captured_item_file(actor=rep_b, item=item, opportunity=foreign_deal)
    with pytest.raises(ValidationError):
        services.captured_item_file(actor=rep_a, item=item, opportunity=foreign_deal)


def test_mail_from_unrelated_company_does_not_create_contacts_on_invisible_accounts(rep_a, rep_b):
    # rep_b's account has the domain, rep_a may not see it: no contact, unfiled
    AccountFactory(owner=rep_b, domain="other.example")
    item = capture(rep_a, unknown_mail(rep_a))
    assert item.status == CapturedItem.Status.UNFILED
    assert not Contact.objects.filter(email="olga@other.example").exists()


def test_paused_capture_keeps_nothing(rep_a):
    customer = customer_of(rep_a)
    services.capture_settings_update(user=rep_a, is_paused=True)
    assert capture(rep_a, thread(rep_a, customer)[0]) is None
    assert not CapturedItem.objects.exists()


def test_excluded_domain_edit_and_validation(rep_a):
    customer_of(rep_a)
    capture_settings = services.capture_settings_update(
        user=rep_a, excluded_domains="Other.example, gmail.com"
    )
    assert capture_settings.excluded_domains == ["other.example", "gmail.com"]
    assert capture(rep_a, unknown_mail(rep_a)) is None
    with pytest.raises(ValidationError) as error:
        services.capture_settings_update(user=rep_a, excluded_domains="not a domain")
    assert "excluded_domains" in error.value.message_dict


def test_personal_mail_is_unfiled_when_gmail_is_not_excluded(rep_a):
    customer = customer_of(rep_a)
    services.capture_settings_update(user=rep_a, excluded_domains=[])
    item = capture(rep_a, thread(rep_a, customer)[2])
    assert item.status == CapturedItem.Status.UNFILED


def test_delete_removes_activity_and_content_and_stays_deleted(rep_a):
    customer = customer_of(rep_a)
    raw = thread(rep_a, customer)[0]
    item = capture(rep_a, raw)
    activity_id = item.activity_id

    services.captured_item_delete(actor=rep_a, item=item)

    item.refresh_from_db()
    assert not Activity.objects.filter(pk=activity_id).exists()
    assert (item.status, item.subject, item.excerpt, item.sender) == ("deleted", "", "", "")
    assert capture(rep_a, raw).status == CapturedItem.Status.DELETED  # a re-delivery stays out
    assert not Activity.objects.filter(source=Activity.Source.EMAIL).exists()
