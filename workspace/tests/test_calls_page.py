import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dunning.models import PromiseToPay, Task, TaskKind, TaskStatus
from dunning.planning import dunning_run
from dunning.sending import next_step_send_now
from dunning.services import promise_record
from dunning.tests.factories import MONDAY_10, ladder  # noqa: F401
from dunning.tests.test_sending import at_step
from invoices.models import ContactRole, Customer
from invoices.tests.factories import ContactFactory
from letters.models import Template, TemplateVersion
from workspace.call_selectors import PROMISE_FLAGS

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ladder")]
NEW_YORK = ZoneInfo("America/New_York")
NINE_IN_NEW_YORK = dt.datetime(2026, 3, 16, 9, 0, tzinfo=NEW_YORK)  # 13:00 UTC


@pytest.fixture(autouse=True)
def monday_morning(time_machine):
    time_machine.move_to(MONDAY_10, tick=False)


def phone_task(collector, *, run_at=MONDAY_10, **customer_fields):
    """A customer at the phone step of the ladder, and the call task a run made for it."""
    customer = at_step(5, days=31, collector=collector, **customer_fields)
    dunning_run(as_of=run_at, customer_ids=[customer.pk])
    return Task.objects.get(customer=customer, kind=TaskKind.CALL)


def listed(response):
    return list(response.context["page"].object_list)


def calls_page(client, **params):
    return client.get(reverse("calls"), params)


def log_call(client, task, **data):
    return client.post(reverse("task_complete", args=[task.pk]), data)


def message_texts(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- who sees what ----------------------------------------------------------------------


def test_a_collector_sees_their_own_calls_only(collector_client, collector, manager):
    mine = phone_task(collector)
    phone_task(manager)

    assert listed(calls_page(collector_client)) == [mine]


def test_a_collector_cannot_look_at_another_collectors_calls(collector_client, manager):
    phone_task(manager)

    assert listed(calls_page(collector_client, collector=manager.pk)) == []


def test_a_manager_can_pick_a_collector(manager_client, collector):
    task = phone_task(collector)

    assert listed(calls_page(manager_client, collector=collector.pk)) == [task]


def test_a_user_without_a_role_is_refused(client, no_role_user):
    client.force_login(no_role_user)

    assert calls_page(client).status_code == 403


def test_a_call_whose_customer_went_to_a_colleague_is_read_only(
    collector_client, collector, manager
):
    task = phone_task(collector)
    Customer.objects.filter(pk=task.customer_id).update(collector=manager)

    text = calls_page(collector_client).text

    assert "maria&#x27;s customer: read only" in text
    assert reverse("task_complete", args=[task.pk]) not in text


# --- which calls, in what order ---------------------------------------------------------


def test_calls_due_after_today_wait_for_their_day(collector_client, collector):
    task = phone_task(collector)
    Task.objects.filter(pk=task.pk).update(due_at=MONDAY_10 + dt.timedelta(days=1))

    assert listed(calls_page(collector_client)) == []


def test_a_call_left_from_yesterday_is_listed_and_stands_out(collector_client, collector):
    task = phone_task(collector)
    yesterday = MONDAY_10 - dt.timedelta(days=1)
    Task.objects.filter(pk=task.pk).update(
        due_at=yesterday, window_end=yesterday + dt.timedelta(hours=11)
    )

    response = calls_page(collector_client)

    [row] = listed(response)
    assert row.overdue
    page = response.content.decode()
    assert '<span class="badge badge-danger">Overdue</span>' in page
    assert "call is-overdue" in page


def test_calls_are_in_the_order_of_the_customers_local_time(collector_client, collector):
    london = phone_task(collector)  # 10:00 in London
    new_york = phone_task(collector, timezone="America/New_York", run_at=NINE_IN_NEW_YORK)

    assert listed(calls_page(collector_client)) == [new_york, london]


def test_a_call_shows_the_customers_local_time_zone_and_time_there_now(collector_client, collector):
    task = phone_task(collector, timezone="America/New_York", run_at=NINE_IN_NEW_YORK)
    Task.objects.filter(pk=task.pk).update(due_at=dt.datetime(2026, 3, 16, 9, 30, tzinfo=NEW_YORK))

    page = calls_page(collector_client).content.decode()

    assert "16 Mar 2026, 09:30" in page
    assert "America/New_York" in page
    assert "It is 16 Mar 2026, 06:00 there now" in page


def test_a_call_says_when_it_is_too_early_to_phone_them(collector_client, collector):
    phone_task(collector, timezone="America/New_York", run_at=NINE_IN_NEW_YORK)

    page = calls_page(collector_client).content.decode()

    assert "Outside calling hours (08:00–21:00 their time)" in page


# --- what each call shows ---------------------------------------------------------------


def test_a_call_shows_the_customers_situation(collector_client, collector):
    phone_task(collector)

    response = calls_page(collector_client)

    [row] = listed(response)
    assert row.entry.overdue_total == Decimal("100.00")
    assert row.days_late == 31
    assert "31 days late" in response.content.decode()


def test_the_call_script_comes_from_the_phone_steps_template(collector_client, collector):
    template = Template.objects.create(key="phone_call", language="en", name="Phone call")
    TemplateVersion.objects.create(
        template=template,
        number=1,
        subject="Call",
        body_text="Ask {{ customer.name }} about {{ total|money:currency }}.",
        body_html="<p>Call</p>",
    )
    task = phone_task(collector)

    response = calls_page(collector_client)

    assert listed(response)[0].script == f"Ask {task.customer.name} about £100.00.\n"
    assert "Phone call (en) v1" in response.content.decode()


def test_without_a_template_the_script_names_the_invoices_and_amounts(collector_client, collector):
    task = phone_task(collector)
    invoice = task.customer.invoices.get()

    [row] = listed(calls_page(collector_client))

    assert f"{invoice.number}: £100.00" in row.script
    assert "1 invoice is overdue, £100.00 in all" in row.script


def test_contacts_have_tel_links_and_phone_opt_outs_show(collector_client, collector):
    task = phone_task(collector)
    ContactFactory(
        customer=task.customer, role=ContactRole.ESCALATION, name="Dee", phone="+44 20 7946 0001"
    )
    ContactFactory(
        customer=task.customer,
        role=ContactRole.LEGAL,
        name="Lou",
        phone="+44 20 7946 0002",
        phone_opt_out=True,
    )

    page = calls_page(collector_client).content.decode()

    assert 'href="tel:+442079460001"' in page
    assert 'href="tel:+442079460002"' not in page
    assert "Asked not to be phoned" in page


def test_the_page_costs_the_same_queries_for_3_or_30_calls(collector_client, collector):
    def queries_with(count):
        Task.objects.filter(kind=TaskKind.CALL).delete()
        for _ in range(count):
            phone_task(collector)
        calls_page(collector_client)
        with CaptureQueriesContext(connection) as queries:
            assert calls_page(collector_client).status_code == 200
        return len(queries)

    assert queries_with(3) == queries_with(30)


# --- logging from the page --------------------------------------------------------------


def test_logging_a_promise_returns_to_the_list_naming_the_follow_up(collector_client, collector):
    task = phone_task(collector)

    response = log_call(
        collector_client,
        task,
        outcome="promise",
        promise_amount="100.00",
        promise_date="2026-03-20",
    )

    assert response.status_code == 302
    assert response.url == reverse("calls")
    assert PromiseToPay.objects.get(customer=task.customer).amount == Decimal("100.00")
    assert "promise of £100.00 by 20 Mar 2026 recorded" in message_texts(response)[0]


def test_a_promise_without_its_date_is_not_logged_and_says_what_is_missing(
    collector_client, collector
):
    task = phone_task(collector)

    response = log_call(collector_client, task, outcome="promise", promise_amount="100.00")

    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN
    assert "Enter the date they promised to pay by." in message_texts(response)[0]


def test_follow_up_fields_of_another_outcome_are_ignored(collector_client, collector):
    task = phone_task(collector)

    log_call(collector_client, task, outcome="no_answer", promise_amount="5.00")

    assert not PromiseToPay.objects.exists()
    assert Task.objects.filter(kind=TaskKind.CALL, status=TaskStatus.OPEN).count() == 1


def test_a_call_back_time_is_read_in_the_customers_time_zone(collector_client, collector):
    task = phone_task(collector, timezone="America/New_York", run_at=NINE_IN_NEW_YORK)

    log_call(collector_client, task, outcome="call_back", call_back_at="2026-03-16T15:00")

    booked = Task.objects.get(kind=TaskKind.CALL, status=TaskStatus.OPEN)
    assert booked.due_at == dt.datetime(2026, 3, 16, 15, 0, tzinfo=NEW_YORK)


def test_a_dispute_can_be_logged_against_one_of_the_customers_invoices(collector_client, collector):
    task = phone_task(collector)
    invoice = task.customer.invoices.get()

    log_call(
        collector_client,
        task,
        outcome="dispute",
        dispute_invoice=str(invoice.pk),
        dispute_reason="not_received",
    )

    invoice.refresh_from_db()
    assert invoice.status == "in_dispute"


def test_after_logging_it_goes_back_to_the_page_it_came_from(collector_client, collector):
    task = phone_task(collector)

    response = log_call(collector_client, task, outcome="spoke", next="/calls/?page=2")

    assert response.url == "/calls/?page=2"


def test_it_never_goes_back_to_another_site(collector_client, collector):
    task = phone_task(collector)

    response = log_call(collector_client, task, outcome="spoke", next="https://evil.example/")

    assert response.url == reverse("calls")


def test_with_no_call_today_the_page_says_when_the_next_one_is(collector_client, collector):
    task = phone_task(collector)
    Task.objects.filter(pk=task.pk).update(due_at=MONDAY_10 + dt.timedelta(days=2))

    page = calls_page(collector_client).content.decode()

    assert "No calls to make today. Next: 18 Mar 2026, 10:00." in page


# --- the customer's situation, as the queue words it -----------------------------------------


def test_a_call_shows_a_final_demand_sent_now_as_the_last_touch(collector_client, collector):
    task = phone_task(collector)
    next_step_send_now(actor=collector, customer=task.customer, as_of=MONDAY_10)

    [shown] = listed(calls_page(collector_client))
    text = calls_page(collector_client).content.decode()

    assert (shown.touched.label, shown.touched.at) == ("Final demand by letter", MONDAY_10)
    assert 'Final demand by letter<br><span class="muted small">16 Mar 2026, 10:00' in text


def test_a_call_words_the_promise_and_next_step_as_the_queue_does(collector_client, collector):
    task = phone_task(collector)
    promise_record(
        actor=collector,
        customer=task.customer,
        amount=Decimal("50.00"),
        promised_for=MONDAY_10.date() + dt.timedelta(days=7),
        made_on=MONDAY_10.date(),
    )
    [entry] = collector_client.get(reverse("queue")).context["page"].object_list

    [shown] = listed(calls_page(collector_client))

    assert shown.next == entry.next
    assert [f.label for f in shown.promise_flags] == ["Promised for 23 Mar 2026"]
    assert shown.promise_flags == [f for f in entry.flags if f.key in PROMISE_FLAGS]
