import pytest
from django.urls import reverse

from inbox.models import InboundMessage, Status
from inbox.parsing import mail_from_message
from inbox.services import inbound_mark_handled, inbound_store
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


def _handled(client, count, handler):
    for n in range(count):
        ContactFactory(email=f"h{count}-{n}@x.com")
        inbound_mark_handled(actor=handler, message=_reply(sender=f"h{count}-{n}@x.com"))


def _handled_page(client, page=1):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(reverse("inbox:handled_list"))  # warm the session
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("inbox:handled_list"), {"page": page})
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_handled_replies_are_listed_apart_with_who_and_when_at_a_fixed_cost(
    manager_client, manager
):
    manager.first_name, manager.last_name = "Maria", "Moss"
    manager.save()
    ContactFactory(email="w@x.com")
    waiting = _reply(sender="w@x.com", subject="Still waiting")
    _handled(manager_client, 5, manager)
    few, _ = _handled_page(manager_client)

    _handled(manager_client, 25, manager)
    many, first = _handled_page(manager_client)
    _, second = _handled_page(manager_client, page=2)

    assert few == many
    assert first.count('data-testid="reply-') == 25 and second.count('data-testid="reply-') == 5
    assert "Handled by Maria Moss on" in first and "Page 1 of 2" in first
    assert "Still waiting" not in first + second
    inbox = manager_client.get(reverse("inbox:list")).content.decode()
    assert f'data-testid="reply-{waiting.pk}"' in inbox and inbox.count('data-testid="reply-') == 1


def test_confirming_a_promise_opens_the_promise_form_filled_in_from_the_reply(
    collector_client, collector
):
    import datetime as dt

    from django.utils import timezone

    contact = ContactFactory(email="p@x.com", customer__collector=collector)
    day = timezone.localdate() + dt.timedelta(days=10)
    reply = _reply(sender="p@x.com", body=f"We will pay £1,250.50 on {day.isoformat()}")

    response = collector_client.post(
        reverse("inbox:handled", args=[reply.pk]),
        {"next": _confirm_url(collector_client, reply)},
    )

    assert response.status_code == 302
    assert InboundMessage.objects.get(pk=reply.pk).status == Status.HANDLED
    form = collector_client.get(response["Location"]).content.decode()
    assert reverse("customer_promise", args=[contact.customer_id]) in response["Location"]
    assert f'value="{day.isoformat()}"' in form
    assert 'value="1250.50"' in form


def _confirm_url(client, reply) -> str:
    """The one click's destination, as the inbox page gives it."""
    import re

    page = client.get(reverse("inbox:list")).content.decode()
    found = re.search(
        rf'action="{reverse("inbox:handled", args=[reply.pk])}".*?name="next" value="([^"]+)"',
        page,
        re.DOTALL,
    )
    assert "Confirm: record the promise" in page
    return found.group(1).replace("&amp;", "&")
