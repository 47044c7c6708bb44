"""Replies posted by the ESP (anymail's inbound webhooks), at anymail's own path. anymail
checks the ESP's proof (signature or basic auth) as for the tracking webhooks."""

import logging

from anymail.exceptions import AnymailError
from anymail.signals import inbound
from anymail.webhooks.amazon_ses import AmazonSESInboundWebhookView
from anymail.webhooks.mailgun import MailgunInboundWebhookView
from anymail.webhooks.postmark import PostmarkInboundWebhookView
from anymail.webhooks.sendgrid import SendGridInboundWebhookView
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ImproperlyConfigured, RequestDataTooBig
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

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
    endpoint = anymail_endpoint(
        INBOUND_VIEWS[esp].as_view(),
        esp=esp,
        what="inbound",
        unreadable=_READ_ERRORS,
        thing="an inbound message",
        kept="message",
    )

    @csrf_exempt
    @login_not_required  # as the endpoint it wraps: the ESP proves itself to anymail
    def webhook(request, *args, **kwargs):
        limit = int(settings.INBOX_MESSAGE_MAX_MB * 1_000_000)
        try:
            if _body_read(request, limit):
                return endpoint(request, *args, **kwargs)
        except RequestDataTooBig:
            pass  # one form field past Django's own limit (a raw MIME field over 2.5 MB)
        log.warning("%s inbound post refused: larger than %s bytes", esp, limit)
        return HttpResponse(
            f"This message is larger than the {settings.INBOX_MESSAGE_MAX_MB:g} MB we accept, "
            "so it was not stored. Please send it without the large files.",
            status=413,
            content_type="text/plain",
        )

    return webhook


def _body_read(request, limit: int) -> bool:
    """Read the post under the inbox's own limit, False when it is over. Django would refuse
    any body over DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB), which one scanned remittance passes;
    a body read here is the one request.body and request.POST use from now on."""
    if int(request.META.get("CONTENT_LENGTH") or 0) > limit:
        return False
    body = request.read(limit + 1)
    if len(body) > limit:
        return False
    request._body = body
    return True


def inbound_verified(esp: str) -> bool:
    """Whether anymail can prove an inbound post comes from the ESP. Mailgun signs every
    post; SendGrid's, Postmark's and Amazon SES's inbound posts carry nothing anymail checks
    but basic auth, and without it anyone could post mail as a customer (a forged STOP
    from a consumer opts them out)."""
    return esp == "mailgun" or bool(settings.ANYMAIL.get("WEBHOOK_SECRET"))


def inbound_urlpatterns(esp: str) -> list:
    if not esp:
        return []
    if not inbound_verified(esp):
        log.warning("No %s inbound webhook: set ANYMAIL_WEBHOOK_SECRET to receive replies", esp)
        return []
    return [path(f"{esp}/inbound/", inbound_view(esp), name=f"{esp}_inbound_webhook")]
