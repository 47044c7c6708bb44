import datetime as dt
import re
from email.message import EmailMessage

import pytest
from anymail.signals import AnymailTrackingEvent, tracking
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from dunning.models import Run, Touch, TouchStatus
from dunning.planning import dunning_run
from dunning.services import touches_deliver
from dunning.tests.factories import MONDAY_10, ladder, overdue_customer  # noqa: F401
from inbox.parsing import mail_from_message
from inbox.services import inbound_mark_handled, inbound_store
from invoices.tests.factories import ContactFactory
from webhooks.events import EventType
from webhooks.services import deliveries_plan, endpoint_create
from webhooks.tasks import deliveries_send
from webhooks.tests import receiver as receiver_module

# The default ladder the data migration ships: an overdue customer gets its first email.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ladder")]

TOKEN = "a-metrics-token-long-enough-for-production-use"


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def scrape(client, token=TOKEN):
    return client.get("/metrics", headers={"Authorization": f"Bearer {token}"})


def without_csrf(response) -> str:
    """A page's text less its CSRF token, which every answer masks afresh."""
    return re.sub(r'"X-CSRFToken": "[^"]+"', "", response.content.decode())


def samples(response) -> dict:
    """{(name, (label values...)): value} of a scrape."""
    found = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.values())))] = sample.value
    return found


@pytest.fixture
def receiver(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True  # the receiver listens on the loopback
    receiver, server = receiver_module.start()
    yield receiver
    server.stop_hanging.set()
    server.shutdown()
    server.server_close()


def email_sent():
    """A customer chased by email through the outbox, as the scheduled run does."""
    overdue_customer(days=3)
    dunning_run(as_of=MONDAY_10)
    touches_deliver(as_of=MONDAY_10)


def webhooks_sent():
    now = timezone.now()
    deliveries_plan(now=now)
    deliveries_send(now=now, timeout=2)


def test_without_a_token_configured_it_does_not_exist(client, settings):
    settings.METRICS_TOKEN = ""

    response = client.get("/metrics", headers={"Authorization": "Bearer "})

    assert response.status_code == 404


def test_a_wrong_or_missing_token_gets_the_same_404_as_an_unknown_address(client, token):
    unknown = client.get("/no-such-page")

    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
        response = client.get("/metrics", headers=headers)
        assert response.status_code == 404
        assert without_csrf(response) == without_csrf(unknown)


def test_the_right_token_gets_prometheus_text(client, token):
    response = scrape(client)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert ("dunmore_messages_sent_24h", ("email",)) in samples(response)


def test_only_reading_is_allowed_even_with_the_token(client, token):
    response = client.post("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})

    assert response.status_code == 404


def test_a_sent_email_and_its_webhook_delivery_are_counted(client, token, receiver):
    endpoint_create(
        actor=None,
        url=receiver.url,
        description="ERP",
        event_types=[EventType.STEP_SENT],
        now=timezone.now(),
    )
    before = samples(scrape(client))

    email_sent()
    webhooks_sent()

    after = samples(scrape(client))
    assert before[("dunmore_messages_sent_24h", ("email",))] == 0
    assert after[("dunmore_messages_sent_24h", ("email",))] == 1
    assert after[("dunmore_webhook_deliveries_24h", ("succeeded",))] == 1
    assert len(receiver.received) == 1


def test_a_refused_webhook_delivery_is_counted_as_failed(client, token, receiver):
    endpoint_create(
        actor=None,
        url=receiver.url,
        description="ERP",
        event_types=[EventType.STEP_SENT],
        now=timezone.now(),
    )
    receiver.answers.append(500)

    email_sent()
    webhooks_sent()

    found = samples(scrape(client))
    assert found[("dunmore_webhook_deliveries_24h", ("failed",))] == 1
    assert found[("dunmore_webhook_deliveries_24h", ("succeeded",))] == 0


def test_a_customer_without_an_address_is_a_send_failure(client, token):
    overdue_customer(days=3, email=False)
    dunning_run(as_of=MONDAY_10)
    touches_deliver(as_of=MONDAY_10)

    found = samples(scrape(client))

    assert found[("dunmore_send_failures_24h", ("email",))] == 1
    assert found[("dunmore_outbox_touches", ("failed",))] == 1
    assert found[("dunmore_messages_sent_24h", ("email",))] == 0


def test_a_bounce_reported_by_the_email_service_is_counted(client, token, settings):
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"  # gives an ESP message id
    email_sent()
    touch = Touch.objects.get(status=TouchStatus.SENT)

    tracking.send(
        sender=object,
        esp_name="Test",
        event=AnymailTrackingEvent(
            event_type="bounced",
            event_id="ev-1",
            message_id=touch.esp_message_id,
            recipient=touch.to_email,
            timestamp=timezone.now(),
        ),
    )

    found = samples(scrape(client))
    assert found[("dunmore_bounces_24h", ("bounced",))] == 1
    assert found[("dunmore_bounces_24h", ("complained",))] == 0


def test_a_reply_from_a_customer_is_counted_and_waits_until_handled(client, token):
    contact = ContactFactory(email="ann@buyer.com")
    message = EmailMessage()
    message["From"] = contact.email
    message["To"] = "collections@example.com"
    message["Subject"] = "Re: your reminder"
    message["Message-ID"] = "<reply-1@buyer.com>"
    message.set_content("We paid this on Friday.")

    reply = inbound_store(mail=mail_from_message(message), source="webhook", mailbox="t")

    found = samples(scrape(client))
    assert found[("dunmore_replies_received_24h", ())] == 1
    assert found[("dunmore_replies_waiting", ())] == 1
    inbound_mark_handled(actor=None, message=reply)
    assert samples(scrape(client))[("dunmore_replies_waiting", ())] == 0


def test_dunning_runs_are_counted_by_outcome(client, token):
    now = timezone.now()
    for ago, success in ((1, True), (2, True), (3, False), (30, True)):
        finished = now - dt.timedelta(hours=ago)
        Run.objects.create(started_at=finished, finished_at=finished, succeeded=success)
    Run.objects.create(started_at=now)  # still running: counted once it ends

    found = samples(scrape(client))

    assert found[("dunmore_dunning_runs_24h", ("succeeded",))] == 2
    assert found[("dunmore_dunning_runs_24h", ("failed",))] == 1
    assert found[("dunmore_dunning_last_run_age_seconds", ())] == pytest.approx(3600, abs=5)


def test_a_scrape_costs_the_same_few_queries_however_much_has_happened(client, token, receiver):
    endpoint_create(
        actor=None,
        url=receiver.url,
        description="ERP",
        event_types=[EventType.STEP_SENT],
        now=timezone.now(),
    )
    with CaptureQueriesContext(connection) as quiet:
        scrape(client)

    for _ in range(3):
        email_sent()
    webhooks_sent()
    with CaptureQueriesContext(connection) as busy:
        scrape(client)

    assert len(busy.captured_queries) == len(quiet.captured_queries) <= 9
