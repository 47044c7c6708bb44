import pytest
from django.urls import reverse

from inbox.models import InboundMessage, Status
from inbox.parsing import mail_from_message
from inbox.services import inbound_store
from invoices.tests.factories import ContactFactory, CustomerFactory

from .test_inbox import _mail

pytestmark = pytest.mark.django_db


def _reply(**kwargs):
    return inbound_store(mail=mail_from_message(_mail(**kwargs)), source="webhook", mailbox="t")


def test_collector_handles_own_customers_reply_not_anothers(collector_client, collector):
    mine = ContactFactory(email="m@x.com", customer__collector=collector)
    ContactFactory(email="o@x.com")
    own, other = _reply(sender="m@x.com"), _reply(sender="o@x.com")
    assert collector_client.post(reverse("inbox:handled", args=[other.pk])).status_code == 403
    response = collector_client.post(reverse("inbox:handled", args=[own.pk]))
    assert response.status_code == 302
    assert InboundMessage.objects.get(pk=own.pk).status == Status.HANDLED
    assert InboundMessage.objects.get(pk=other.pk).status == Status.NEW
    assert mine.customer.pk == own.customer_id


def test_manager_assigns_unmatched_reply_and_bad_input_changes_nothing(manager_client):
    customer = CustomerFactory()
    reply = _reply(sender="nobody@else.com")
    bad = manager_client.post(reverse("inbox:assign", args=[reply.pk]), {"customer": "nope"})
    assert bad.status_code == 400 and b"No customer has that" in bad.content
    url = reverse("inbox:assign", args=[reply.pk])
    manager_client.post(url, {"customer": customer.external_id})
    reply.refresh_from_db()
    assert (reply.customer, reply.status) == (customer, Status.NEW)
    page = manager_client.get(reverse("customer_detail", args=[customer.pk]))
    assert b"Reply from" in page.content


def _inbox_queries(client, count):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for n in range(count):
        ContactFactory(email=f"s{count}-{n}@x.com")
        _reply(sender=f"s{count}-{n}@x.com", body=f"note {n}")
    client.get(reverse("inbox:list"))  # warm the session
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("inbox:list"))
    assert page.status_code == 200
    return len(queries), page.content.count(b'data-testid="reply-')


def test_inbox_page_costs_the_same_for_5_or_50(manager_client):
    few, shown = _inbox_queries(manager_client, 5)
    assert shown == 5
    many, shown = _inbox_queries(manager_client, 45)
    assert shown == 50
    assert few == many


def test_queue_page_links_to_the_inbox(collector_client):
    page = collector_client.get(reverse("queue"))
    assert reverse("inbox:list").encode() in page.content


def test_fetch_replies_command_needs_a_mailbox(settings):
    from django.core.management import CommandError, call_command

    settings.INBOX_IMAP_URL = ""
    with pytest.raises(CommandError):
        call_command("fetch_replies")


def test_polling_is_scheduled_only_with_a_mailbox(settings):
    from django_q.models import Schedule

    from inbox.imap import imap_settings
    from inbox.schedule import NAME, schedule_ensure

    settings.INBOX_IMAP_URL = ""
    assert schedule_ensure() is None and not Schedule.objects.filter(name=NAME).exists()
    settings.INBOX_IMAP_URL = "imaps://me%40firm.com:s3cret@imap.firm.com/Replies"
    assert schedule_ensure().func == "inbox.tasks.fetch_replies_task"
    assert imap_settings(settings.INBOX_IMAP_URL) == {
        "host": "imap.firm.com",
        "port": 993,
        "user": "me@firm.com",
        "password": "s3cret",
        "folder": "Replies",
        "ssl": True,
    }
