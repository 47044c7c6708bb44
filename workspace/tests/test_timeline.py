"""The customer's timeline in words: one sentence per action the services write, the filters,
loads and imports as one entry, the audit record one click away."""

import ast
import datetime as dt
import importlib
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from audit.services import Event, audit_record, audit_record_many
from dunning.models import Channel, Touch, TouchStatus
from dunning.outcomes import AGAIN, SENT, SKIP
from dunning.services import hold_set, promise_record
from dunning.tests.factories import MONDAY_10, ladder, overdue_customer  # noqa: F401
from dunning.tests.test_delivery import plan_and_deliver
from dunning.tests.test_letters import _due_for_final_demand
from dunning.webhooks import MOVES, OPT_OUTS
from invoices.models import ImportKind
from invoices.services import (
    customer_note_add,
    customer_update,
    dispute_open,
    invoice_create,
    payment_record,
)
from invoices.tests.data import import_csv, write_csv
from invoices.tests.factories import ContactFactory, CustomerFactory, InvoiceFactory
from workspace.timeline import ACTIONS, KINDS, TABS, actions_of, timeline_for

pytestmark = pytest.mark.django_db
TODAY = MONDAY_10.date()
APPS = Path(settings.BASE_DIR)
# A dotted action name as the services spell them ("dunning.email.sent").
ACTION = re.compile(r"(accounts|dunning|import|ledger|letters|seed|settings)(\.[a-z_{}]+){2,}")


@pytest.fixture(autouse=True)
def monday_morning(time_machine):
    time_machine.move_to(MONDAY_10, tick=False)


def entries(customer, **params):
    return timeline_for(customer, **params).entries


def texts(customer, **params):
    return [entry.said.text for entry in entries(customer, **params)]


# --- every action has a sentence ---------------------------------------------------------------


def action_names(source: str) -> set[str]:
    """The action names a module's code spells out: string literals shaped like one (an
    f-string's fields as {}), but not dotted paths to code ("dunning.tasks.run")."""
    names = set()
    tree = ast.parse(source)
    inside_fstrings = {
        id(part)
        for node in ast.walk(tree)
        if isinstance(node, ast.JoinedStr)
        for part in node.values
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = "".join(
                part.value if isinstance(part, ast.Constant) else "{}" for part in node.values
            )
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) in inside_fstrings:
                continue
            text = node.value
        else:
            continue
        if ACTION.fullmatch(text) and not _is_code_path(text):
            names.add(text)
    return names


def _is_code_path(text: str) -> bool:
    module, _, attribute = text.rpartition(".")
    try:
        return hasattr(importlib.import_module(module), attribute)
    except ImportError:
        return False


def written_actions() -> set[str]:
    names = set()
    for path in APPS.glob("*/**/*.py"):
        parts = path.relative_to(APPS).parts
        if parts[0].startswith(".") or "tests" in parts or "migrations" in parts:
            continue
        if parts[:2] == ("workspace", "timeline"):
            continue  # the table itself
        names |= action_names(path.read_text())
    return names


def without_sentence(names: set[str]) -> set[str]:
    """Names with no row in the table; a name with {} needs a row for some value of it."""
    missing = set()
    for name in names:
        if "{}" in name:
            pattern = re.compile(re.escape(name).replace(r"\{\}", "[a-z_]+"))
            if not any(pattern.fullmatch(known) for known in ACTIONS):
                missing.add(name)
        elif name not in ACTIONS:
            missing.add(name)
    return missing


def test_every_action_the_code_writes_has_a_sentence():
    names = written_actions()

    assert "dunning.email.sent" not in names  # written as f"dunning.{touch.channel}.sent"
    assert {"ledger.note.added", "dunning.{}.sent", "dunning.touch.skipped"} <= names
    assert without_sentence(names) == set()


def test_a_new_action_without_a_sentence_is_caught():
    source = 'audit_record(action="ledger.invoice.reopened")\nEvent(action=f"ledger.fee.{kind}")'

    assert without_sentence(action_names(source)) == {"ledger.invoice.reopened", "ledger.fee.{}"}


def test_a_dotted_path_to_code_is_not_taken_for_an_action():
    assert action_names('async_task("dunning.tasks.run_dunning_task")') == set()


@pytest.mark.parametrize("channel", [Channel.EMAIL, Channel.LETTER])
def test_every_message_channel_has_its_sent_and_failed_sentences(channel):
    assert {f"dunning.{channel}.sent", f"dunning.{channel}.failed"} <= set(ACTIONS)


def test_every_status_a_delivery_report_moves_an_email_to_has_a_sentence():
    for _allowed, status in MOVES.values():
        assert f"dunning.email.{status}" in ACTIONS


def test_every_opt_out_a_mail_service_reports_has_a_sentence():
    for event_type in OPT_OUTS:
        assert f"ledger.contact.{event_type}" in ACTIONS


def test_every_answer_to_a_message_check_has_a_sentence():
    for choice in (SENT, AGAIN, SKIP):
        assert f"dunning.touch.settled_{choice}" in ACTIONS


def test_every_way_a_promise_or_a_plan_ends_has_a_sentence():
    ends = {"dunning.promise.kept", "dunning.promise.broken"}
    ends |= {"dunning.plan.completed", "dunning.plan.broken"}
    assert ends <= set(ACTIONS)


def test_every_import_kind_has_a_sentence():
    for kind in ImportKind:
        assert f"import.{kind}.applied" in ACTIONS


def test_every_filter_but_other_claims_some_actions_and_every_action_one_filter():
    assert [key for key, _ in TABS] == ["all", *KINDS]
    for kind in KINDS:
        assert kind == "other" or actions_of(kind)
    assert all(wording.kind in KINDS for wording in ACTIONS.values())


# --- messages and letters ---------------------------------------------------------------------


@pytest.mark.usefixtures("ladder")
def test_a_sent_reminder_says_who_it_was_emailed_to_with_its_subject_and_status():
    customer = overdue_customer(days=3, email=False)
    contact = ContactFactory(customer=customer, name="Ann Lee", email="ann@example.com")
    plan_and_deliver()

    [entry] = entries(customer, kind="messages")[:1]

    touch = customer.touches.get()
    assert entry.said.text == f"{touch.step.name} emailed to Ann Lee <{contact.email}>"
    assert touch.subject in entry.said.detail
    assert entry.said.status == "Sent"
    assert entry.badge == "Email"


@pytest.mark.usefixtures("ladder")
def test_the_messages_filter_shows_the_reminders_sent(collector):
    customer = overdue_customer(days=3)
    customer_note_add(actor=collector, customer=customer, text="Not a message")
    plan_and_deliver()

    shown = entries(customer, kind="messages")

    assert "dunning.email.sent" in [entry.action for entry in shown]
    assert {entry.kind for entry in shown} == {"messages"}


@pytest.mark.usefixtures("ladder")
def test_a_final_demand_letter_links_to_its_pdf():
    customer = _due_for_final_demand()
    plan_and_deliver()

    [letter] = [e for e in entries(customer, kind="messages") if e.action == "dunning.letter.sent"]

    touch = customer.touches.get(step__position=6)
    assert letter.said.text.startswith(f"{touch.step.name} letter emailed to ")
    assert letter.said.text.endswith("and queued for posting")
    assert [(link.label, link.url) for link in letter.said.links] == [
        ("Letter (PDF)", reverse("letters:document", args=[touch.document_id]))
    ]


# --- the ledger in words ----------------------------------------------------------------------


def test_a_payment_says_how_much_in_the_money_format_and_which_invoices_it_paid(collector):
    customer = CustomerFactory()
    first = InvoiceFactory(customer=customer, number="INV-1001", amount=Decimal("700.00"))
    second = InvoiceFactory(customer=customer, number="INV-1002", amount=Decimal("500.00"))
    payment_record(
        actor=collector,
        customer=customer,
        amount=Decimal("1200"),
        received_on=dt.date(2026, 3, 3),
        allocations=[(first, Decimal("700")), (second, Decimal("500"))],
    )

    assert texts(customer) == [
        "Payment of £1,200.00 received 3 Mar 2026, applied to INV-1001 and INV-1002"
    ]


def test_a_promise_a_dispute_and_a_hold_read_as_sentences(collector):
    customer = overdue_customer(days=10, amount=Decimal("250.00"))
    invoice = customer.invoices.get()
    promise_record(
        actor=collector,
        customer=customer,
        amount=Decimal("100"),
        promised_for=TODAY + dt.timedelta(days=4),
        made_on=TODAY,
    )
    dispute_open(actor=collector, invoice=invoice, reason="pricing", opened_on=TODAY)
    hold_set(actor=collector, customer=customer, reason="Waiting for the buyer", until=None)

    said = texts(customer)

    assert said[0] == "Put on hold"
    assert said[1] == f"Dispute opened on {invoice.number} for £250.00: Pricing or rate"
    assert f"Promise to pay £100.00 by 20 Mar 2026, for {invoice.number}" in said


def test_the_person_who_did_it_is_named(collector):
    collector.first_name, collector.last_name = "Colin", "Hart"
    collector.save()
    customer = CustomerFactory()
    customer_note_add(actor=collector, customer=customer, text="Rang them")

    [entry] = entries(customer)

    assert entry.who == "Colin Hart"
    assert entry.said.note == "Rang them"


def test_a_change_of_customer_details_says_what_changed_from_what_to_what(collector):
    customer = CustomerFactory()
    customer_update(actor=collector, customer=customer, credit_limit=Decimal("5000"))

    [entry] = entries(customer, kind="other")

    assert entry.said.text == "Customer details changed"
    assert "£5,000.00" in entry.said.detail


# --- loads and imports as one entry -----------------------------------------------------------


def _invoices_added(customer, actor, count, *, start=0):
    for i in range(start, start + count):
        invoice_create(
            actor=actor,
            customer=customer,
            number=f"INV-{i:04d}",
            issue_date=dt.date(2026, 1, 1),
            due_date=dt.date(2026, 2, 1) + dt.timedelta(days=i),
            amount=Decimal("100.00"),
        )


def test_invoices_added_together_are_one_entry_with_their_count_and_total(collector):
    customer = CustomerFactory()
    _invoices_added(customer, collector, 12)

    [entry] = entries(customer)

    assert entry.said.text == "12 invoices added, £1,200.00 in all"
    assert entry.said.detail == "INV-0000 to INV-0011, due 1 Feb 2026 to 12 Feb 2026"
    assert entry.size == 12 and len(entry.records) == 12


def test_a_system_load_reads_as_loaded_whatever_else_it_recorded_in_between():
    customer = CustomerFactory()
    events = []
    for i in range(5):
        invoice = InvoiceFactory(customer=customer, number=f"L-{i}")
        events += [
            Event(
                action="ledger.invoice.created",
                customer_id=customer.pk,
                invoice_id=invoice.pk,
                data={"number": invoice.number, "amount": "10.00", "currency": "GBP"},
            ),
            Event(action="ledger.note.added", customer_id=customer.pk, data={"text": f"n{i}"}),
        ]
    audit_record_many(events=events)

    said = texts(customer)

    assert said.count("5 invoices loaded, £50.00 in all") == 1
    assert len(said) == 6


def test_invoices_added_minutes_apart_are_separate_entries(collector, time_machine):
    customer = CustomerFactory()
    _invoices_added(customer, collector, 3)
    time_machine.move_to(MONDAY_10 + dt.timedelta(minutes=5), tick=False)
    _invoices_added(customer, collector, 2, start=3)

    assert texts(customer) == [
        "2 invoices added, £200.00 in all",
        "3 invoices added, £300.00 in all",
    ]


def test_an_import_of_payments_is_one_entry_naming_its_file(tmp_path):
    customer = CustomerFactory(external_id="ACME")
    for number in ("INV-1", "INV-2", "INV-3"):
        InvoiceFactory(customer=customer, number=number, amount=Decimal("400.00"))
    rows = "".join(f"{n},2026-03-02,400.00,BANK-{n}\n" for n in ("INV-1", "INV-2", "INV-3"))
    import_csv(
        "payments", write_csv(tmp_path, "invoice_number,date,amount,reference\n" + rows, "bank.csv")
    )

    [entry] = entries(customer, kind="payments")

    assert entry.said.text == "3 payments imported from bank.csv, £1,200.00 in all"
    assert entry.size == 3


def test_payments_the_system_records_at_once_are_one_entry_a_persons_stay_apart(collector):
    customer = CustomerFactory()
    invoices = [InvoiceFactory(customer=customer, amount=Decimal("100.00")) for _ in range(4)]
    for invoice in invoices[:2]:
        payment_record(
            actor=None,
            customer=customer,
            amount=Decimal("100.00"),
            received_on=dt.date(2026, 3, 2),
            allocations=[(invoice, Decimal("100.00"))],
        )
    for invoice in invoices[2:]:
        payment_record(
            actor=collector,
            customer=customer,
            amount=Decimal("100.00"),
            received_on=dt.date(2026, 3, 3),
            allocations=[(invoice, Decimal("100.00"))],
        )

    said = [entry.said.text for entry in entries(customer, kind="payments")]

    assert said[-1] == "2 payments recorded, £200.00 in all"
    assert len(said) == 3 and all(text.startswith("Payment of £100.00") for text in said[:2])


def test_a_group_never_straddles_two_pages(collector, time_machine):
    customer = CustomerFactory()
    _invoices_added(customer, collector, 60)
    time_machine.move_to(MONDAY_10 + dt.timedelta(minutes=5), tick=False)
    for i in range(55):
        customer_note_add(actor=collector, customer=customer, text=f"Note {i}")

    first = timeline_for(customer)
    older = timeline_for(customer, before=first.older_before)

    assert [e.said.note for e in first.entries] == [f"Note {i}" for i in range(54, 4, -1)]
    assert [e.said.note or e.said.text for e in older.entries] == [
        *(f"Note {i}" for i in range(4, -1, -1)),
        "60 invoices added, £6,000.00 in all",
    ]
    assert older.older_before is None


# --- on the page ------------------------------------------------------------------------------


def _visible(html: str) -> str:
    """The page's text as a reader sees it: no tags, no attributes."""
    return re.sub(r"<[^>]+>", " ", html)


@pytest.mark.usefixtures("ladder")
def test_the_page_shows_no_internal_codes_raw_amounts_or_iso_dates(collector_client, collector):
    customer = overdue_customer(days=3, amount=Decimal("9777.87"))
    plan_and_deliver()
    customer_note_add(actor=collector, customer=customer, text="Called")
    payment_record(actor=collector, customer=customer, amount=Decimal("10"), received_on=TODAY)
    dispute_open(
        actor=collector, invoice=customer.invoices.get(), reason="pricing", opened_on=TODAY
    )

    html = collector_client.get(reverse("customer_detail", args=[customer.pk])).text
    timeline = _visible(html[html.index('id="timeline"') :])

    assert not re.search(r"\b(ledger|dunning|letters)\.[a-z_]+\.", timeline)
    assert "9777.87" not in timeline
    assert not re.search(r"\d [A-Z]{3}\b", timeline)
    assert not re.search(r"\b\d{4}-\d{2}-\d{2}\b", timeline)
    assert "£9,777.87" in timeline


def test_the_audit_record_is_one_click_away_with_before_and_after(collector_client, collector):
    customer = CustomerFactory()
    customer_update(actor=collector, customer=customer, credit_limit=Decimal("5000"))

    html = collector_client.get(reverse("customer_detail", args=[customer.pk])).text

    details = html[html.index('<details class="timeline-audit">') :]
    details = details[: details.index("</details>")]
    assert "<summary" in details and "Audit record" in details
    assert "credit limit" in details and "→ £5,000.00" in details


def test_a_ten_thousand_character_note_shows_its_start_and_the_rest_behind_more(
    collector_client, collector
):
    customer = CustomerFactory()
    text = "word " * 2000
    # An old note, from before notes had a limit.
    audit_record(
        action="ledger.note.added", actor=collector, customer_id=customer.pk, data={"text": text}
    )

    html = collector_client.get(reverse("customer_detail", args=[customer.pk])).text

    [entry] = entries(customer)
    shown, rest = entry.note_start, entry.note_rest
    assert len(shown) <= 280 and shown + rest == text
    before_more = html[: html.index('<details class="note-more">')]
    assert before_more.count("word") < 100
    assert "<summary>more" in html


def test_a_letter_posted_for_want_of_an_email_address_says_so():
    customer = CustomerFactory()
    touch = Touch.objects.create(
        key="posted",
        customer=customer,
        channel="letter",
        status=TouchStatus.SENT,
        scheduled_for=MONDAY_10,
        currency="GBP",
    )
    audit_record(
        action="dunning.letter.sent",
        customer_id=customer.pk,
        data={"touch_id": touch.pk, "to": "", "subject": "Final demand", "invoices": []},
    )

    assert texts(customer) == ["Letter queued for posting (no usable email address)"]
