"""Replies posted by an ESP to anymail's inbound URL: Postmark's inbound JSON, with basic
auth, as Postmark sends it."""

import base64
import importlib
import json

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import clear_url_caches, reverse

from audit.models import AuditEvent
from dunning.reply_tokens import reply_token
from inbox.models import InboundMessage, MatchedBy, Status, Suggestion
from invoices.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
SECRET = "dunmore-esp:a-long-webhook-password-for-tests"


def _urls_reload():
    importlib.reload(importlib.import_module(django_settings.ROOT_URLCONF))
    clear_url_caches()


@pytest.fixture
def postmark(settings):
    settings.ESP = "postmark"
    settings.ANYMAIL = {"POSTMARK_SERVER_TOKEN": "t", "WEBHOOK_SECRET": SECRET}
    _urls_reload()
    yield reverse("anymail_inbound:postmark_inbound_webhook")
    settings.ESP = ""
    _urls_reload()


def _payload(to: str) -> dict:
    # Shaped like Postmark's documented inbound example.
    return {
        "FromName": "Ann Buyer",
        "MessageStream": "inbound",
        "From": "ann@buyer.com",
        "FromFull": {"Email": "ann@buyer.com", "Name": "Ann Buyer", "MailboxHash": ""},
        "To": to,
        "ToFull": [{"Email": to, "Name": "", "MailboxHash": to.split("+")[1].split("@")[0]}],
        "Cc": "",
        "CcFull": [],
        "Bcc": "",
        "BccFull": [],
        "OriginalRecipient": to,
        "Subject": "Re: Invoice INV-1 is overdue",
        "MessageID": "22c74902-a0c1-4511-804f-341342852c90",
        "ReplyTo": "",
        "MailboxHash": "",
        "Date": "Mon, 2 Mar 2026 10:00:00 +0000",
        "TextBody": "We already paid this on Friday, remittance attached.\n\n"
        "On Mon, 2 Mar 2026, Collections <c@example.com> wrote:\n> Please pay",
        "HtmlBody": "",
        "StrippedTextReply": "We already paid this on Friday, remittance attached.",
        "Tag": "",
        "Headers": [
            {"Name": "Return-Path", "Value": "<ann@buyer.com>"},
            {"Name": "X-Spam-Status", "Value": "No"},
            {"Name": "Message-ID", "Value": "<CAE1234@mail.buyer.com>"},
            {"Name": "MIME-Version", "Value": "1.0"},
        ],
        "Attachments": [
            {
                "Name": "remittance.pdf",
                "Content": base64.b64encode(b"%PDF-1.4 remittance").decode(),
                "ContentType": "application/pdf",
                "ContentLength": 19,
            }
        ],
    }


def _post(url, payload, credentials=SECRET):
    auth = "Basic " + base64.b64encode(credentials.encode()).decode()
    return Client().post(
        url, json.dumps(payload), content_type="application/json", HTTP_AUTHORIZATION=auth
    )


def test_postmark_reply_is_stored_once_matched_by_token(postmark, manager_client):
    customer = CustomerFactory()
    payload = _payload(f"replies+{reply_token(customer.pk)}@example.com")
    assert _post(postmark, payload).status_code == 200
    assert _post(postmark, payload).status_code == 200  # Postmark retried

    reply = InboundMessage.objects.get()
    assert (reply.customer, reply.matched_by, reply.status) == (
        customer,
        MatchedBy.TOKEN,
        Status.NEW,
    )
    assert reply.text == "We already paid this on Friday, remittance attached."
    assert reply.suggestion == Suggestion.ALREADY_PAID
    (file,) = reply.attachments.all()
    assert (file.filename, file.size) == ("remittance.pdf", 19)
    assert AuditEvent.objects.filter(action="inbox.reply.received").count() == 1

    page = manager_client.get(reverse("customer_detail", args=[customer.pk]))
    assert b"remittance.pdf" in page.content
    download = manager_client.get(reverse("inbox:attachment", args=[file.pk]))
    assert download.content == b"%PDF-1.4 remittance"
    assert "attachment" in download["Content-Disposition"]


def test_postmark_post_without_the_password_is_refused(postmark):
    customer = CustomerFactory()
    response = _post(postmark, _payload(f"replies+{reply_token(customer.pk)}@x.com"), "a:b")
    assert response.status_code == 400
    assert not InboundMessage.objects.exists()


def test_unreadable_post_is_refused(postmark):
    response = _post(postmark, {"FromFull": "not an object", "Attachments": [{}]})
    assert response.status_code == 400
    assert not InboundMessage.objects.exists()
