"""Replies as each supported ESP posts them to anymail's inbound webhook: stored once,
matched to the customer, attachments kept; forged posts refused; size limits kept."""

import importlib

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import clear_url_caches, reverse

from audit.models import AuditEvent
from dunning.reply_tokens import reply_token
from inbox.models import InboundAttachment, InboundMessage, MatchedBy, Status, Suggestion
from invoices.models import Contact, DebtorType
from invoices.tests.factories import ContactFactory, CustomerFactory

from .inbound_posts import ESPS, SENDER, Reply

pytestmark = [
    pytest.mark.django_db,
    # anymail warns that it no longer supports SendGrid officially; its inbound view works.
    pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailNotSupportedWarning"),
]
PDF = b"%PDF-1.4 remittance"


def _urls_reload():
    importlib.reload(importlib.import_module(django_settings.ROOT_URLCONF))
    clear_url_caches()


@pytest.fixture(params=ESPS, ids=lambda esp: esp.name)
def esp(request, settings):
    settings.ESP = request.param.name
    settings.ANYMAIL = request.param.anymail
    _urls_reload()
    request.param.url = reverse(f"anymail_inbound:{request.param.name}_inbound_webhook")
    yield request.param
    settings.ESP = ""
    _urls_reload()


def _post(esp, reply, *, forged=False):
    post = esp.post(reply, forged=forged)
    # As an ESP posts: no session, no CSRF token.
    return Client(enforce_csrf_checks=True).post(
        esp.url, data=post.body, content_type=post.content_type, headers=post.headers
    )


def _reply(customer, *files):
    return Reply(to=f"replies+{reply_token(customer.pk)}@example.com", files=list(files))


def test_a_reply_is_stored_once_matched_by_its_token_with_its_attachment(esp, manager_client):
    customer = CustomerFactory()
    reply = _reply(customer, ("remittance.pdf", "application/pdf", PDF))

    assert _post(esp, reply).status_code == 200
    assert _post(esp, reply).status_code == 200  # the ESP posted it again

    stored = InboundMessage.objects.get()
    assert (stored.customer, stored.matched_by, stored.status) == (
        customer,
        MatchedBy.TOKEN,
        Status.NEW,
    )
    assert stored.text == "We already paid this on Friday, remittance attached."
    assert stored.suggestion == Suggestion.ALREADY_PAID
    (file,) = stored.attachments.all()
    assert (file.filename, bytes(file.content)) == ("remittance.pdf", PDF)
    assert AuditEvent.objects.filter(action="inbox.reply.received").count() == 1
    page = manager_client.get(reverse("inbox:list"))
    assert b"remittance.pdf" in page.content and b"We already paid this" in page.content


def test_stop_from_a_consumer_opts_their_address_out(esp):
    customer = CustomerFactory(debtor_type=DebtorType.CONSUMER)
    contact = ContactFactory(customer=customer, email=SENDER)
    reply = Reply(to=f"replies+{reply_token(customer.pk)}@example.com", text="STOP\n")

    assert _post(esp, reply).status_code == 200

    assert Contact.objects.get(pk=contact.pk).email_opt_out is True
    stopped = AuditEvent.objects.get(action="inbox.contact.stopped")
    assert stopped.data["contact_id"] == contact.pk


def test_a_forged_post_is_refused_and_nothing_is_stored(esp):
    customer = CustomerFactory()

    response = _post(esp, _reply(customer, ("remittance.pdf", "application/pdf", PDF)), forged=True)

    assert response.status_code == 400
    assert b"does not carry the expected signature or credentials" in response.content
    assert not InboundMessage.objects.exists()
    assert not AuditEvent.objects.filter(action="inbox.reply.received").exists()


def test_an_attachment_over_the_limit_is_noted_not_kept(esp, settings, manager_client):
    # 3 MB: past Django's own 2.5 MB body limit too, which the inbound webhook reads past.
    settings.INBOX_ATTACHMENT_MAX_MB = 2
    customer = CustomerFactory()
    scan = bytes(3_000_000)
    reply = _reply(
        customer, ("scan.pdf", "application/pdf", scan), ("remittance.pdf", "application/pdf", PDF)
    )

    assert _post(esp, reply).status_code == 200

    big, small = InboundMessage.objects.get().attachments.all()
    assert (big.filename, big.size) == ("scan.pdf", 3_000_000)
    assert not big.kept and bytes(big.content) == b""
    assert small.kept and bytes(small.content) == PDF
    page = manager_client.get(reverse("inbox:list")).content.decode()
    assert "Attachment scan.pdf (3.0 MB) was too large to keep" in page
    assert reverse("inbox:attachment", args=[big.pk]) not in page
    assert manager_client.get(reverse("inbox:attachment", args=[big.pk])).status_code == 404
    timeline = manager_client.get(reverse("customer_detail", args=[customer.pk])).content
    assert b"Too large to keep: scan.pdf (3.0 MB)" in timeline


def test_a_message_over_the_hard_limit_is_refused_politely(esp, settings):
    settings.INBOX_MESSAGE_MAX_MB = 1
    customer = CustomerFactory()

    response = _post(esp, _reply(customer, ("scan.pdf", "application/pdf", bytes(1_200_000))))

    assert response.status_code == 413
    assert b"larger than the 1 MB we accept" in response.content
    assert not InboundMessage.objects.exists()
    assert not InboundAttachment.objects.exists()


def test_without_basic_auth_an_unsigned_esps_inbound_webhook_is_not_there(settings):
    # SendGrid's inbound posts are not signed: only the basic auth proves them.
    settings.ESP = "sendgrid"
    settings.ANYMAIL = {"SENDGRID_API_KEY": "k", "SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY": "x"}
    _urls_reload()
    try:
        assert Client().post("/anymail/sendgrid/inbound/", {"email": ""}).status_code == 404
    finally:
        settings.ESP = ""
        _urls_reload()
