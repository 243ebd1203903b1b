"""Mail through a real SMTP server on loopback (tests/fixtures/mail.py): sent from the request
process, and from a real Celery worker that reads the server from EMAIL_URL."""

from __future__ import annotations

import re

import pytest
from django.core.mail import EmailMultiAlternatives

from csv_import import tasks as import_tasks
from csv_import.jobs import create_import_job
from salesmgmt.models import ImportJob, Invitation
from tests.fixtures.mail import SITE_URL, wait_until


def test_a_message_sent_here_arrives_with_its_parts_and_envelope(smtp_server):
    message = EmailMultiAlternatives(
        subject="Your weekly digest",
        body="Plain text part",
        to=["dana.reyes@example.com"],
        bcc=["audit@example.com"],
    )
    message.attach_alternative("<p>HTML part</p>", "text/html")

    assert message.send() == 1

    [received] = smtp_server.received
    assert received.recipients == ["dana.reyes@example.com", "audit@example.com"]
    assert received.sender == "salesmgmt@example.com"
    assert received.message["To"] == "dana.reyes@example.com"  # Bcc only on the envelope
    assert received.message["Subject"] == "Your weekly digest"
    assert received.message.get_body(("plain",)).get_content().strip() == "Plain text part"
    assert received.message.get_body(("html",)).get_content().strip() == "<p>HTML part</p>"


def test_nothing_arrives_before_a_message_is_sent(smtp_server):
    assert smtp_server.received == []
    assert smtp_server.url == f"smtp://127.0.0.1:{smtp_server.port}"


@pytest.mark.django_db(transaction=True)
def test_a_worker_mails_the_invitations_of_a_people_import(
    admin_user, smtp_worker, smtp_server, client
):
    # given a people file an administrator uploaded (held back, then sent to our worker)
    text = (
        "Name,Email,Manager's email\n"
        "Max Manager,max@corp.example,\n"
        "Rae Rep,rae@corp.example,max@corp.example\n"
    )
    job = create_import_job(
        actor=admin_user, kind="users", content=text, dry_run=False, map_first=True
    )
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.PENDING)

    # when the worker runs the import
    import_tasks.run_import.apply_async(args=[job.pk], queue=smtp_worker.queue)

    # then each new person gets their invitation through SMTP, sent by the worker
    received = smtp_server.wait_for(2)
    wait_until(
        lambda: Invitation.objects.filter(emailed_to__endswith="@corp.example").count() == 2,
        worker=smtp_worker,
        what="two e-mailed invitations recorded",
    )
    by_recipient = {mail.recipients[0]: mail.message for mail in received}
    assert sorted(by_recipient) == ["max@corp.example", "rae@corp.example"]
    rae = by_recipient["rae@corp.example"]
    assert rae["Subject"] == "Your sign-in invitation to salesmgmt"
    assert rae["From"] == "salesmgmt@example.com"
    # the worker's links use SITE_URL and open Rae's set-password page here
    link = re.search(re.escape(SITE_URL) + r"(/invitations/\S+/)", rae.get_content())
    assert link is not None, rae.get_content()
    page = client.get(link.group(1))
    assert page.status_code == 200
    assert b"new_password1" in page.content
    assert client.get(link.group(1).replace("/invitations/", "/invitations/x")).status_code == 400
