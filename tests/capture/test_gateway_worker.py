"""Real SMTP to the capture gateway on a loopback port, parsed and captured by a real worker."""

from __future__ import annotations

import datetime as dt
import smtplib
import socket

import pytest
from django.utils import timezone

from accounts.models import Activity, Contact
from capture import services
from capture.gateway import gateway_controller
from capture.models import CapturedItem
from tests.capture.scenario import (
    compliance_of,
    customer_of,
    flags_of,
    raw_mail,
    thread,
    unknown_mail,
)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def gateway(celery_worker_process):
    """The gateway on a free loopback port, queueing to the test's real worker."""
    controller = gateway_controller("127.0.0.1", free_port(), queue=celery_worker_process)
    controller.start()
    yield controller
    controller.stop()


def send(gateway, address: str, raw: bytes) -> None:
    with smtplib.SMTP("127.0.0.1", gateway.port, timeout=10) as smtp:
        smtp.sendmail("mta@rep.example", [address], raw)


def marker(rep, n: int) -> bytes:
    return raw_mail(
        sender="m@marker.example", to=[rep.email], subject="marker", message_id=f"<mk{n}@x>"
    )


def test_gateway_refuses_unknown_recipients(gateway, rep_a):
    services.capture_settings_ensure(user=rep_a)
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(gateway, "log+ffffffffffffffff@capture.localhost", b"Subject: x\r\n\r\nx\r\n")
    assert next(iter(refused.value.recipients.values()))[0] == 550
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        send(gateway, "someone@example.com", b"Subject: x\r\n\r\nx\r\n")


def test_thread_over_smtp_gives_exactly_the_expected_records(gateway, wait_for_worker, rep_a):
    # given a rep's customer (domain acme.example) with two open deals and one known buyer;
    # neither deal has had two-way contact lately, and the tagged one no activity for 60 days
    customer = customer_of(rep_a)
    address = services.capture_settings_ensure(user=rep_a).address
    contacts_before = Contact.objects.count()
    assert "no_activity" in flags_of(customer.tagged_deal)
    assert "no_activity" in flags_of(customer.older_deal)
    assert compliance_of(rep_a).failing_recent_activity == 1  # the tagged deal

    # when the thread (tagged, unknown colleague, personal; sent two days ago) and an unknown
    # company's mail arrive by SMTP, then a marker (a solo worker takes its queue in order)
    mails = thread(rep_a, customer, sent=timezone.now() - dt.timedelta(days=2))
    for raw in [*mails, unknown_mail(rep_a), marker(rep_a, 1)]:
        send(gateway, address, raw)
    wait_for_worker(
        lambda: CapturedItem.objects.filter(subject="marker").exists(), what="marker captured"
    )

    # then: two Email activities (the tag's deal, the most active deal), one new contact,
    # the unknown company's mail and the marker unfiled, the personal mail nowhere
    captured = Activity.objects.filter(source=Activity.Source.EMAIL)
    assert sorted(captured.values_list("opportunity_id", flat=True)) == sorted(
        [customer.tagged_deal.pk, customer.older_deal.pk]
    )
    assert Contact.objects.count() == contacts_before + 1
    assert Contact.objects.filter(email="nina.newman@acme.example", account=customer.account)
    unfiled = CapturedItem.objects.filter(owner=rep_a, status=CapturedItem.Status.UNFILED)
    assert sorted(unfiled.values_list("subject", flat=True)) == ["Intro call", "marker"]
    assert not CapturedItem.objects.filter(subject__icontains="dinner").exists()
    assert CapturedItem.objects.count() == 4

    # and downstream: the colleague's reply is two-way contact on the deal it was filed to
    # (its no-activity flag clears), the rep's own sent mail is not (the tagged deal keeps
    # the flag) but is recent activity on that deal for the rep's compliance
    assert "no_activity" in flags_of(customer.tagged_deal)
    assert "no_activity" not in flags_of(customer.older_deal)
    assert compliance_of(rep_a).failing_recent_activity == 0

    # when every message is delivered again, then a new marker
    for raw in [*mails, unknown_mail(rep_a), marker(rep_a, 1)]:
        send(gateway, address, raw)
    send(gateway, address, marker(rep_a, 2))
    wait_for_worker(
        lambda: CapturedItem.objects.filter(subject="marker").count() == 2, what="second marker"
    )

    # then nothing else was created
    assert captured.count() == 2
    assert Contact.objects.count() == contacts_before + 1
    assert CapturedItem.objects.count() == 5
