"""Replies posted by the ESP (anymail's inbound webhooks), at anymail's own path. anymail
checks the ESP's proof (signature or basic auth) as for the tracking webhooks."""

import logging

from anymail.exceptions import AnymailError, AnymailWebhookValidationFailure
from anymail.signals import inbound
from anymail.webhooks.amazon_ses import AmazonSESInboundWebhookView
from anymail.webhooks.mailgun import MailgunInboundWebhookView
from anymail.webhooks.postmark import PostmarkInboundWebhookView
from anymail.webhooks.sendgrid import SendGridInboundWebhookView
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

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
    view = INBOUND_VIEWS[esp].as_view()

    @csrf_exempt
    @login_not_required  # ESPs cannot log in: they prove themselves to anymail instead
    def inbound_webhook(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except AnymailWebhookValidationFailure as exc:
            log.warning("%s inbound post refused: %.200s", esp, exc)
            return _answer(
                400, "Refused: this post does not carry the expected signature or credentials."
            )
        except _READ_ERRORS as exc:
            log.warning("%s inbound post refused as unreadable: %.200s", esp, exc)
            return _answer(400, "This post is not an inbound message we can read.")
        except DatabaseError:
            # Not the ESP's fault: a non-2xx answer makes it post the message again later.
            log.exception("%s inbound message could not be stored", esp)
            return _answer(503, "The message could not be stored just now; please send it again.")

    return inbound_webhook


def _answer(status: int, text: str) -> HttpResponse:
    return HttpResponse(text, status=status, content_type="text/plain")


def inbound_urlpatterns(esp: str) -> list:
    if not esp:
        return []
    return [path(f"{esp}/inbound/", inbound_view(esp), name=f"{esp}_inbound_webhook")]
