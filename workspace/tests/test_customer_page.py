"""The customer page: header, invoices, contacts and the timeline, read from the ledger, the
queue row and the audit trail in a fixed number of queries."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.services import Event, audit_record, audit_record_many
from dunning.models import PromiseToPay, QueueEntry, Task, TaskKind, Touch, TouchStatus
from dunning.queue import queue_refresh
from dunning.services import (
    dispute_open_queued,
    dunning_cycle,
    hold_release,
    hold_set,
    plan_create,
    promise_record,
)
from dunning.tests.factories import MONDAY_10, overdue_customer
from invoices.models import ImportBatch, Invoice, InvoiceStatus
from invoices.services import customer_note_add, customer_update, dispute_open, payment_record
from invoices.tests.factories import ContactFactory, CustomerFactory, InvoiceFactory
from letters.models import DocumentKind
from letters.services import document_store

pytestmark = pytest.mark.django_db
TODAY = MONDAY_10.date()


@pytest.fixture(autouse=True)
def monday_morning(time_machine):
    time_machine.move_to(MONDAY_10, tick=False)


def page(client, customer, **params):
    return client.get(reverse("customer_detail", args=[customer.pk]), params)


def invoice_due(customer, *, days_late: int, amount="100.00"):
    due = TODAY - dt.timedelta(days=days_late)
    return InvoiceFactory(
        customer=customer,
        issue_date=due - dt.timedelta(days=30),
        due_date=due,
        amount=Decimal(amount),
    )


# --- the header -----------------------------------------------------------------------------


def test_the_header_shows_the_open_overdue_disputed_balances_and_credit(
    collector_client, collector
):
    customer = CustomerFactory()
    first = invoice_due(customer, days_late=20, amount="100.00")
    second = invoice_due(customer, days_late=10, amount="200.00")
    invoice_due(customer, days_late=-10, amount="50.00")
    payment_record(
        actor=collector,
        customer=customer,
        amount=Decimal("60.00"),
        received_on=TODAY,
        allocations=[(first, Decimal("40.00"))],
    )
    dispute_open(
        actor=collector, invoice=second, reason="pricing", opened_on=TODAY, amount=Decimal("80")
    )

    totals = page(collector_client, customer).context["view"].totals

    assert (totals.open, totals.overdue, totals.disputed, totals.unallocated_credit) == (
        Decimal("310.00"),
        Decimal("260.00"),
        Decimal("80.00"),
        Decimal("20.00"),
    )


def test_the_aging_bar_splits_the_open_balance_into_buckets(collector_client):
    customer = CustomerFactory()
    for days, amount in ((-5, "10"), (1, "20"), (30, "30"), (31, "40"), (75, "50"), (91, "60")):
        invoice_due(customer, days_late=days, amount=amount)

    aging = page(collector_client, customer).context["view"].totals.aging

    assert [(bucket.key, bucket.amount) for bucket in aging] == [
        ("current", Decimal("10.00")),
        ("1_30", Decimal("50.00")),
        ("31_60", Decimal("40.00")),
        ("61_90", Decimal("50.00")),
        ("90_plus", Decimal("60.00")),
    ]


def test_the_aging_bar_states_each_bucket_in_words_and_figures(collector_client):
    customer = CustomerFactory()
    invoice_due(customer, days_late=45, amount="300.00")
    invoice_due(customer, days_late=-3, amount="100.00")

    text = page(collector_client, customer).text

    assert "31–60 days <strong>£300.00</strong>" in text
    assert "Current <strong>£100.00</strong>" in text
    assert '<span class="muted">75%</span>' in text


def test_the_header_names_the_collector_and_the_default_policy(collector_client, collector):
    customer = CustomerFactory(collector=collector)

    response = page(collector_client, customer)

    assert response.context["view"].policy_name == "Standard"
    assert response.context["view"].policy_is_default
    assert "colin" in response.text


def test_a_hold_shows_as_a_badge_with_its_reason_and_end(collector_client, collector):
    customer = overdue_customer()
    hold_set(
        actor=collector, customer=customer, reason="Director on leave", until=dt.date(2026, 4, 1)
    )

    response = page(collector_client, customer)

    assert [(f.label, f.detail, f.day) for f in response.context["view"].flags] == [
        ("On hold", "Director on leave", dt.date(2026, 4, 1))
    ]
    assert "Director on leave until 1 Apr 2026" in response.text


def test_do_not_contact_and_insolvency_show_as_badges(collector_client):
    customer = overdue_customer(do_not_contact=True, insolvent=True)

    text = page(collector_client, customer).text

    assert '<span class="badge badge-danger">Do not contact</span>' in text
    assert '<span class="badge badge-danger">Insolvent</span>' in text


def test_a_promise_and_a_dispute_show_as_badges(collector_client, collector):
    customer = overdue_customer(invoices=2)
    first, second = customer.invoices.order_by("id")
    promise_record(
        actor=collector,
        customer=customer,
        amount=Decimal("100"),
        promised_for=TODAY + dt.timedelta(days=5),
        made_on=TODAY,
        invoices=[first],
    )
    dispute_open_queued(actor=collector, invoice=second, reason="quality", opened_on=TODAY)

    labels = [f.label for f in page(collector_client, customer).context["view"].flags]

    assert labels == ["Promised for 21 Mar 2026", "Disputed"]


def test_a_broken_promise_and_legal_action_come_from_the_queue_row(collector_client):
    customer = overdue_customer()
    queue_refresh(customer_ids=[customer.pk])
    QueueEntry.objects.filter(customer=customer).update(broken_promise=True, in_legal=True)

    labels = [f.label for f in page(collector_client, customer).context["view"].flags]

    assert labels == ["Broken promise", "In legal"]


# --- the next step ----------------------------------------------------------------------------


def test_the_next_step_and_why_come_from_the_queue_row(collector_client):
    customer = overdue_customer(days=3)
    queue_refresh(customer_ids=[customer.pk])
    entry = QueueEntry.objects.get(customer=customer)

    response = page(collector_client, customer)

    shown = response.context["view"].next
    assert (shown.step, shown.reason) == (entry.next_step, entry.next_reason)
    assert entry.next_step in response.text
    assert entry.next_reason in response.text


def test_the_page_never_runs_the_engine(collector_client, monkeypatch):
    customer = overdue_customer()
    queue_refresh(customer_ids=[customer.pk])

    def refuse(*args, **kwargs):
        raise AssertionError("the page ran the engine")

    monkeypatch.setattr("dunning.engine.plan_customer", refuse)
    monkeypatch.setattr("dunning.queue.plan_customer", refuse)
    monkeypatch.setattr("dunning.sending.plan_customer", refuse)

    assert page(collector_client, customer).status_code == 200


def test_the_next_steps_date_is_shown_in_the_customers_time_zone(collector_client):
    customer = overdue_customer(days=3, timezone="America/New_York")
    queue_refresh(customer_ids=[customer.pk])
    at = dt.datetime(2026, 3, 20, 13, 0, tzinfo=dt.UTC)
    QueueEntry.objects.filter(customer=customer).update(next_step="Firm reminder", next_at=at)

    text = page(collector_client, customer).text

    # 13:00 UTC is 09:00 in New York (daylight saving time from 8 March 2026).
    assert "20 Mar 2026, 09:00" in text
    assert "America/New_York time" in text


def test_a_paused_customer_is_told_what_pauses_it(collector_client, collector):
    customer = overdue_customer()
    promise_record(
        actor=collector,
        customer=customer,
        amount=Decimal("100"),
        promised_for=TODAY + dt.timedelta(days=5),
        made_on=TODAY,
    )

    response = page(collector_client, customer)

    assert response.context["view"].next.paused_by
    assert "Paused" in response.text


def test_a_customer_not_yet_planned_says_so(collector_client):
    customer = overdue_customer()

    response = page(collector_client, customer)

    assert response.context["view"].next.state == "unplanned"
    assert "Not planned yet" in response.text


def test_a_legal_referral_is_named_once(collector_client):
    customer = overdue_customer(days=90)
    queue_refresh(customer_ids=[customer.pk])
    QueueEntry.objects.filter(customer=customer).update(
        next_step="Legal referral", next_channel="legal", next_at=MONDAY_10
    )

    text = page(collector_client, customer).text

    assert "<strong>Legal referral</strong>" in text
    assert "Legal referral (Legal referral)" not in text


def test_a_paused_customer_reads_each_date_once(collector_client, collector):
    customer = overdue_customer()
    hold_set(actor=collector, customer=customer, reason="Director on leave", until=TODAY)

    response = page(collector_client, customer)
    next_step = response.text.split('id="next-step"')[1].split("</div>")[0]

    assert "manual hold until 16 Mar 2026: Director on leave" in next_step
    assert next_step.count("until 16 Mar 2026") == 1


def test_the_rule_that_steps_go_one_at_a_time_is_said_once_as_help(collector_client):
    customer = overdue_customer(days=40)
    queue_refresh(customer_ids=[customer.pk])

    text = page(collector_client, customer).text

    assert text.count("one at a time") == 1
    assert "How the next step is chosen" in text


def test_a_complete_ladder_suggests_what_to_do(collector_client):
    customer = overdue_customer(days=90)
    queue_refresh(customer_ids=[customer.pk])
    reason = (
        "Ladder complete: every step has been taken in this chase and the oldest invoice "
        "INV-1 is 90 days overdue. A collector decides what happens next: consider a legal "
        "referral, a collection agency or a write-off."
    )
    QueueEntry.objects.filter(customer=customer).update(next_step="", next_reason=reason)

    text = page(collector_client, customer).text

    assert "<strong>Ladder complete</strong>: every step" in text
    assert "consider a legal referral, a collection agency or a write-off." in text


# --- open tasks and the last touch -----------------------------------------------------------


def test_open_tasks_are_listed_at_the_top_with_what_to_do(collector_client, collector):
    customer = overdue_customer(collector=collector)
    Task.objects.create(
        kind=TaskKind.CALL, customer=customer, title="Call Saltmarsh", due_at=MONDAY_10
    )
    Task.objects.create(
        kind=TaskKind.FIX_CONTACT,
        customer=customer,
        title="Fix the email contact",
        due_at=MONDAY_10 + dt.timedelta(days=1),
    )
    queue_refresh(customer_ids=[customer.pk])

    text = page(collector_client, customer).text
    top = text.split('id="next-step"')[0]

    assert "Open tasks" in top
    assert "Call Saltmarsh" in top
    assert reverse("customer_call", args=[customer.pk]) in top
    assert "Fix the email contact" in top
    assert top.index("Call Saltmarsh") < top.index("Fix the email contact")


def test_a_referral_waiting_is_flagged_and_a_manager_gets_its_link(
    collector_client, manager_client, collector
):
    customer = overdue_customer(collector=collector)
    task = Task.objects.create(
        kind=TaskKind.REFERRAL,
        customer=customer,
        title="Approve legal referral of them",
        due_at=MONDAY_10,
    )
    queue_refresh(customer_ids=[customer.pk])

    as_collector = page(collector_client, customer)
    as_manager = page(manager_client, customer)

    assert [f.label for f in as_collector.context["view"].flags] == ["Referral to approve"]
    assert "a manager decides" in as_collector.text
    assert reverse("dunning:referral_detail", args=[task.pk]) in as_manager.text


def test_a_dispute_says_how_much_is_not_chased(collector_client, collector):
    customer = overdue_customer()
    dispute_open_queued(
        actor=collector,
        invoice=customer.invoices.get(),
        reason="pricing",
        opened_on=TODAY,
        amount=Decimal("80.00"),
    )

    response = page(collector_client, customer)

    [flag] = response.context["view"].flags
    assert (flag.label, flag.detail) == ("Disputed", "£100.00 not chased")
    assert "disputed disputed" not in response.text.lower()


def test_the_header_shows_the_last_touch_as_the_queue_does(collector_client, collector):
    customer = overdue_customer(days=3, collector=collector)
    dunning_cycle(as_of=MONDAY_10)

    response = page(collector_client, customer)

    touched = response.context["view"].last_touch
    assert (touched.label, touched.at) == ("Friendly reminder by email", MONDAY_10)
    assert '16 Mar 2026, 10:00 <span class="muted">Friendly reminder by email</span>' in (
        response.text
    )


# --- invoices and contacts --------------------------------------------------------------------


def test_each_open_invoice_shows_its_days_late_and_its_holds(collector_client, collector):
    customer = CustomerFactory()
    promised = invoice_due(customer, days_late=12)
    disputed = invoice_due(customer, days_late=40)
    promise_record(
        actor=collector,
        customer=customer,
        amount=Decimal("100"),
        promised_for=TODAY + dt.timedelta(days=5),
        made_on=TODAY,
        invoices=[promised],
        grace_days=3,
    )
    dispute_open(actor=collector, invoice=disputed, reason="quality", opened_on=TODAY)

    shown = {i.number: i for i in page(collector_client, customer).context["view"].open_invoices}

    assert shown[promised.number].days_late == 12
    assert shown[promised.number].promised_until == TODAY + dt.timedelta(days=8)
    assert shown[disputed.number].status == InvoiceStatus.IN_DISPUTE
    assert shown[disputed.number].promised_until is None


def test_an_active_plan_covers_every_open_invoice(collector_client, collector):
    customer = overdue_customer(invoices=2)
    plan_create(
        actor=collector,
        customer=customer,
        agreed_on=TODAY,
        instalments=[(TODAY + dt.timedelta(days=7), Decimal("200"))],
    )

    response = page(collector_client, customer)

    assert all(invoice.in_plan for invoice in response.context["view"].open_invoices)
    assert "In plan" in response.text


def test_contacts_have_click_to_call_and_mailto_links_and_their_opt_outs(collector_client):
    contact = ContactFactory(
        name="Jo Payables", email="jo@example.com", phone="+44 20 7946 0000", phone_opt_out=True
    )

    text = page(collector_client, contact.customer).text

    assert '<a href="tel:+442079460000">+44 20 7946 0000</a>' in text
    assert '<a href="mailto:jo@example.com">jo@example.com</a>' in text
    assert "No calls" in text


# --- the timeline -----------------------------------------------------------------------------


def timeline(client, customer, **params):
    return page(client, customer, **params).context["view"].timeline


def test_the_timeline_shows_notes_payments_disputes_and_promises_newest_first(
    collector_client, collector
):
    customer = overdue_customer()
    invoice = customer.invoices.get()
    customer_note_add(actor=collector, customer=customer, text="Spoke to the director")
    payment_record(actor=collector, customer=customer, amount=Decimal("10"), received_on=TODAY)
    dispute_open(actor=collector, invoice=invoice, reason="pricing", opened_on=TODAY)

    entries = timeline(collector_client, customer).entries

    assert [e.kind for e in entries][:3] == ["disputes", "payments", "notes"]


def test_the_timeline_filter_keeps_one_kind(collector_client, collector):
    customer = overdue_customer()
    customer_note_add(actor=collector, customer=customer, text="First note")
    payment_record(actor=collector, customer=customer, amount=Decimal("10"), received_on=TODAY)

    entries = timeline(collector_client, customer, kind="notes").entries

    assert [e.said.note for e in entries] == ["First note"]


def test_the_decisions_filter_keeps_holds_as_one_entry_each(collector_client, collector):
    customer = overdue_customer()
    customer_note_add(actor=collector, customer=customer, text="A note")
    hold_set(actor=collector, customer=customer, reason="Audit")

    entries = timeline(collector_client, customer, kind="decisions").entries

    assert [(e.said.text, e.said.note) for e in entries] == [("Put on hold", "Audit")]


def test_the_other_filter_keeps_what_no_other_filter_claims(collector_client, collector):
    customer = overdue_customer()
    customer_note_add(actor=collector, customer=customer, text="A note")
    customer_update(actor=collector, customer=customer, credit_limit=Decimal("900"))

    entries = timeline(collector_client, customer, kind="other").entries

    assert "ledger.customer.updated" in [e.action for e in entries]
    assert "ledger.note.added" not in [e.action for e in entries]


def test_an_htmx_filter_request_gets_the_timeline_alone(collector_client, collector):
    customer = overdue_customer()
    customer_note_add(actor=collector, customer=customer, text="Only this")

    response = collector_client.get(
        reverse("customer_detail", args=[customer.pk]), {"kind": "notes"}, HTTP_HX_REQUEST="true"
    )

    assert "site-header" not in response.text
    assert 'id="timeline"' in response.text
    assert "Only this" in response.text
    assert "HX-Request" in response["Vary"]


def test_the_timeline_shows_fifty_entries_and_links_to_older_ones(collector_client, collector):
    customer = CustomerFactory()
    for i in range(55):
        customer_note_add(actor=collector, customer=customer, text=f"Note {i}")

    first = timeline(collector_client, customer)
    older = timeline(collector_client, customer, before=first.older_before)

    assert [e.said.note for e in first.entries][:2] == ["Note 54", "Note 53"]
    assert len(first.entries) == 50
    assert [e.said.note for e in older.entries] == [f"Note {i}" for i in range(4, -1, -1)]
    assert older.older_before is None


def test_the_older_link_keeps_the_filter(collector_client, collector):
    customer = CustomerFactory()
    for i in range(51):
        customer_note_add(actor=collector, customer=customer, text=f"Note {i}")

    response = page(collector_client, customer, kind="notes")

    before = response.context["view"].timeline.older_before
    assert f"?kind=notes&amp;before={before}" in response.text


def test_a_long_note_shows_its_start_and_the_rest_behind_more(collector_client, collector):
    customer = CustomerFactory()
    text = "Long story. " * 40
    customer_note_add(actor=collector, customer=customer, text=text)

    html = page(collector_client, customer).text

    shown = html[html.index('class="note-text"') : html.index('<details class="note-more">')]
    assert 10 < shown.count("Long story.") < 30
    assert "<summary>more" in html


def _eventful_customer(rounds: int, collector):
    """A customer with `rounds` of each kind of timeline event, interleaved: emails and
    letters sent, calls, notes, payments (some imported), disputes, promises, holds and a
    load of invoices, so that any page of it mentions every kind of thing."""
    customer = CustomerFactory(collector=collector)
    contact = ContactFactory(customer=customer, name="Ann Lee")
    letter = document_store(
        kind=DocumentKind.LETTER, customer_id=customer.pk, filename="demand.pdf", content=b"%PDF"
    )
    for i in range(rounds):
        invoices = [invoice_due(customer, days_late=40, amount="500.00") for _ in range(2)]
        for channel in ("email", "letter"):
            touch = Touch.objects.create(
                key=f"t{customer.pk}-{i}-{channel}",
                customer=customer,
                channel=channel,
                status=TouchStatus.SENT,
                scheduled_for=MONDAY_10,
                currency="GBP",
                contact=contact,
                to_email=contact.email,
                document=letter if channel == "letter" else None,
            )
            audit_record(
                action=f"dunning.{channel}.sent",
                customer_id=customer.pk,
                data={"touch_id": touch.pk, "to": contact.email, "subject": f"Reminder {i}"},
            )
        audit_record(
            action="dunning.call.logged",
            actor=collector,
            customer_id=customer.pk,
            data={"outcome": "no_answer", "notes": "", "contact_id": contact.pk},
        )
        customer_note_add(actor=collector, customer=customer, text=f"Note {i}")
        payment_record(actor=collector, customer=customer, amount=Decimal("100"), received_on=TODAY)
        batch = ImportBatch.objects.create(kind="payments", filename=f"bank-{i}.csv")
        audit_record_many(
            events=[
                Event(
                    action="ledger.payment.recorded",
                    customer_id=customer.pk,
                    data={"amount": "50.00", "currency": "GBP", "import_batch": batch.pk},
                )
                for _ in range(2)
            ]
        )
        dispute_open(actor=collector, invoice=invoices[0], reason="pricing", opened_on=TODAY)
        audit_record(
            action="dunning.promise.recorded",
            actor=collector,
            customer_id=customer.pk,
            data={"amount": "10.00", "promised_for": str(TODAY), "invoice_ids": [invoices[1].pk]},
        )
        hold_set(actor=collector, customer=customer, reason=f"Hold {i}")
        hold_release(actor=collector, customer=customer)
    return customer


def test_the_timeline_costs_the_same_queries_for_3_or_60_rounds_of_every_kind(
    collector_client, collector
):
    def queries_for(rounds, **params):
        customer = _eventful_customer(rounds, collector)
        with CaptureQueriesContext(connection) as captured:
            response = page(collector_client, customer, **params)
        assert response.status_code == 200
        assert response.context["view"].timeline.entries
        return len(captured)

    assert queries_for(3) == queries_for(60)
    assert queries_for(3, kind="messages") == queries_for(60, kind="messages")


# --- the page as a whole ----------------------------------------------------------------------


def test_the_page_shows_its_keyboard_shortcuts(collector_client, collector):
    text = page(collector_client, overdue_customer(collector=collector)).text

    for key in "cpdlnhsu":
        assert f'data-shortcut="{key}"' in text
    assert "static/js/customer.js" in text


def test_an_admin_can_change_the_policy_from_the_page(admin_client_):
    text = page(admin_client_, overdue_customer()).text

    assert "Change policy" in text


def test_a_collector_cannot_change_the_policy(collector_client):
    assert "Change policy" not in page(collector_client, overdue_customer()).text


def _busy_customer(size: int, collector):
    """A customer with `size` invoices, touches and timeline events, and one of each hold."""
    customer = CustomerFactory(collector=collector)
    ContactFactory(customer=customer)
    ContactFactory(customer=customer, phone="+44 1", is_primary=False)
    Invoice.objects.bulk_create(
        Invoice(
            customer=customer,
            number=f"Q{customer.pk}-{i:04d}",
            issue_date=TODAY - dt.timedelta(days=40 + i),
            due_date=TODAY - dt.timedelta(days=10 + i),
            currency="GBP",
            amount=Decimal("100.00"),
            open_balance=Decimal("100.00"),
        )
        for i in range(size)
    )
    invoices = list(customer.invoices.order_by("id"))
    Touch.objects.bulk_create(
        Touch(
            key=f"t{customer.pk}-{i}",
            customer=customer,
            channel="email",
            status=TouchStatus.SENT,
            scheduled_for=MONDAY_10 - dt.timedelta(hours=i),
            currency="GBP",
        )
        for i in range(size)
    )
    for i in range(size):
        audit_record(action="dunning.email.sent", customer_id=customer.pk, summary=f"Mail {i}")
    for invoice in invoices[:2]:
        dispute_open(actor=collector, invoice=invoice, reason="pricing", opened_on=TODAY)
    for _ in range(2):
        PromiseToPay.objects.create(
            customer=customer, amount=Decimal("1"), promised_for=TODAY, made_on=TODAY
        ).invoices.set(invoices[2:])
    plan_create(
        actor=collector,
        customer=customer,
        agreed_on=TODAY,
        instalments=[(TODAY + dt.timedelta(days=7 * i), Decimal("10")) for i in range(1, 4)],
    )
    payment_record(actor=collector, customer=customer, amount=Decimal("5"), received_on=TODAY)
    hold_set(actor=collector, customer=customer, reason="Checking", until=TODAY)
    queue_refresh(customer_ids=[customer.pk])
    return customer


def test_the_page_costs_the_same_queries_for_5_or_500_invoices_and_touches(
    collector_client, collector
):
    def queries_for(size):
        customer = _busy_customer(size, collector)
        with CaptureQueriesContext(connection) as captured:
            response = page(collector_client, customer)
        assert response.status_code == 200
        return len(captured)

    few = queries_for(5)
    many = queries_for(500)

    assert few == many


# --- a colleague's customer -----------------------------------------------------------------


@pytest.fixture
def cara(django_user_model):
    user = django_user_model.objects.create_user(
        username="cara", first_name="Cara", last_name="Collector"
    )
    user.groups.add(Group.objects.get(name="Collector"))
    return user


def _worked_customer(owner):
    customer = overdue_customer(collector=owner, on_hold=True, hold_reason="Checking")
    PromiseToPay.objects.create(
        customer=customer, amount=Decimal("10"), promised_for=TODAY, made_on=TODAY
    )
    dispute_open(actor=owner, invoice=customer.invoices.get(), reason="pricing", opened_on=TODAY)
    return customer


def test_a_colleagues_customer_reads_as_theirs_and_offers_no_action(collector_client, cara):
    text = page(collector_client, _worked_customer(cara)).text

    assert "Cara Collector&#x27;s customer: read only" in text
    for key in "cpdlnhs":
        assert f'data-shortcut="{key}"' not in text
    for button in ("Cancel promise", "Release the hold", ">Resolve<"):
        assert button not in text
    assert 'data-shortcut="u"' in text  # back to the queue still works


def test_an_unassigned_customer_is_read_only_for_a_collector(collector_client):
    text = page(collector_client, overdue_customer()).text

    assert "Unassigned customer: read only until a manager assigns it" in text
    assert 'data-shortcut="n"' not in text


def test_a_manager_works_any_collectors_customer(manager_client, cara):
    text = page(manager_client, _worked_customer(cara)).text

    assert "read only" not in text
    for button in ('data-shortcut="n"', "Cancel promise", "Release the hold", ">Resolve<"):
        assert button in text
