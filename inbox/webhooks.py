"""Replies posted by the ESP (anymail's inbound webhooks), at anymail's own path. anymail
checks the ESP's proof (signature or basic auth) as for the tracking webhooks."""

import logging

from anymail.exceptions import AnymailError
from anymail.signals import inbound
from anymail.webhooks.amazon_ses import AmazonSESInboundWebhookView
from anymail.webhooks.mailgun import MailgunInboundWebhookView
from anymail.webhooks.postmark import PostmarkInboundWebhookView
from anymail.webhooks.sendgrid import SendGridInboundWebhookView
from django.core.exceptions import ImproperlyConfigured
from django.urls import path

from dunning.webhooks import anymail_endpoint

from .models import Source
from .parsing import mail_from_message
from .services import inbound_store

log = logging.getLogger(__name__)

# What reading a hostile body can raise; refusals and database errors are answered apart.
_READ_ERRORS = (
    AnymailError,
    ImproperlyConfigured,
    KeyError,
    IndexError,
    ValueError,
    TypeError,
    AttributeError,
    UnicodeError,
)

INBOUND_VIEWS = {
    "mailgun": MailgunInboundWebhookView,
    "postmark": PostmarkInboundWebhookView,
    "sendgrid": SendGridInboundWebhookView,
    "amazon_ses": AmazonSESInboundWebhookView,
}


def connect() -> None:
    inbound.connect(on_inbound, dispatch_uid="inbox.webhooks.on_inbound")


def on_inbound(sender, event, esp_name, **kwargs) -> None:
    message = event.message
    if message is None:
        return
    mail = mail_from_message(message)
    envelope_to = getattr(message, "envelope_recipient", None)
    if isinstance(envelope_to, str) and envelope_to:
        mail.to_addresses.append(envelope_to.strip().lower())
    if not message.get("Message-ID") and event.event_id:
        mail.message_id = f"<{esp_name}-{event.event_id}>"[:255]
    inbound_store(mail=mail, source=Source.WEBHOOK, mailbox=esp_name)


def inbound_view(esp: str):
    return anymail_endpoint(
        INBOUND_VIEWS[esp].as_view(),
        esp=esp,
        what="inbound",
        unreadable=_READ_ERRORS,
        thing="an inbound message",
        kept="message",
    )


def inbound_urlpatterns(esp: str) -> list:
    if not esp:
        return []
    return [path(f"{esp}/inbound/", inbound_view(esp), name=f"{esp}_inbound_webhook")]
