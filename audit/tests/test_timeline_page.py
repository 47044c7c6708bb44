"""audit_timeline_page: newest first, paged by entry, a load or an import as one entry."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.selectors import audit_timeline_page
from audit.services import Event, audit_record, audit_record_many

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 3, 16, 10, 0, 5, tzinfo=dt.UTC)
CUSTOMER = 7
LOADS = {"grouped": ["ledger.invoice.created"], "batched": ["ledger.payment.recorded"]}


@pytest.fixture(autouse=True)
def morning(time_machine):
    time_machine.move_to(START, tick=False)


def created(count, *, label=None, batch=None):
    data = {"import_batch": batch} if batch else {}
    audit_record_many(
        events=[
            Event(action="ledger.invoice.created", customer_id=CUSTOMER, data={**data, "n": i})
            for i in range(count)
        ],
        label=label,
    )


def paid(count, *, batch=None, actor=None):
    for i in range(count):
        data = {"n": i, **({"import_batch": batch} if batch else {})}
        audit_record(action="ledger.payment.recorded", customer_id=CUSTOMER, data=data, actor=actor)


def note(text):
    return audit_record(action="ledger.note.added", customer_id=CUSTOMER, data={"text": text})


def shape(page):
    """Each entry as (action, how many events it stands for)."""
    return [(e.action, page.groups[e.pk].size if e.pk in page.groups else 1) for e in page.events]


def test_one_actors_events_of_a_grouped_action_within_a_minute_are_one_entry():
    created(12)
    note("after")

    page = audit_timeline_page(customer_id=CUSTOMER, **LOADS)

    assert shape(page) == [("ledger.note.added", 1), ("ledger.invoice.created", 12)]


def test_a_groups_entry_is_its_newest_event_with_every_member_newest_first():
    created(3)

    page = audit_timeline_page(customer_id=CUSTOMER, **LOADS)

    [head] = page.events
    assert [e.data["n"] for e in page.groups[head.pk].members] == [2, 1, 0]


def test_events_interleaved_with_others_still_group():
    for i in range(3):
        created(1)
        note(f"note {i}")

    page = audit_timeline_page(customer_id=CUSTOMER, **LOADS)

    note_ = ("ledger.note.added", 1)
    assert shape(page) == [note_, ("ledger.invoice.created", 3), note_, note_]


def test_the_same_action_a_few_minutes_later_is_another_entry(time_machine):
    created(2)
    time_machine.move_to(START + dt.timedelta(minutes=3), tick=False)
    created(2)

    page = audit_timeline_page(customer_id=CUSTOMER, **LOADS)

    assert shape(page) == [("ledger.invoice.created", 2), ("ledger.invoice.created", 2)]


def test_two_people_loading_at_once_make_two_entries():
    created(2, label="ann")
    created(3, label="bob")

    page = audit_timeline_page(customer_id=CUSTOMER, **LOADS)

    assert shape(page) == [("ledger.invoice.created", 3), ("ledger.invoice.created", 2)]


def test_one_import_batch_is_one_entry_however_long_it_took(time_machine):
    paid(2, batch=41)
    time_machine.move_to(START + dt.timedelta(minutes=10), tick=False)
    paid(1, batch=41)
    paid(2, batch=42)

    page = audit_timeline_page(customer_id=CUSTOMER, **LOADS)

    assert shape(page) == [("ledger.payment.recorded", 2), ("ledger.payment.recorded", 3)]


def test_a_batched_action_a_person_records_outside_an_import_stands_alone(admin_user):
    paid(3, actor=admin_user)

    page = audit_timeline_page(customer_id=CUSTOMER, **LOADS)

    assert shape(page) == [("ledger.payment.recorded", 1)] * 3
    assert page.groups == {}


def test_a_batched_action_the_system_records_within_a_minute_is_one_entry():
    paid(3)

    page = audit_timeline_page(customer_id=CUSTOMER, **LOADS)

    assert shape(page) == [("ledger.payment.recorded", 3)]


def test_a_group_never_straddles_two_pages(time_machine):
    created(30)
    time_machine.move_to(START + dt.timedelta(minutes=5), tick=False)
    notes = [note(f"note {i}") for i in range(4)]

    first = audit_timeline_page(customer_id=CUSTOMER, per_page=3, **LOADS)
    second = audit_timeline_page(
        customer_id=CUSTOMER, per_page=3, before=first.older_before, **LOADS
    )

    assert [e.pk for e in first.events] == [n.pk for n in notes[:0:-1]]
    assert shape(second) == [("ledger.note.added", 1), ("ledger.invoice.created", 30)]
    assert second.older_before is None and second.is_older


def test_a_page_costs_two_queries_however_many_events():
    def queries(count):
        created(count)
        paid(count, batch=count)
        for i in range(count):
            note(f"note {i}")
        with CaptureQueriesContext(connection) as captured:
            audit_timeline_page(customer_id=CUSTOMER, per_page=10, **LOADS)
        return len(captured)

    assert queries(3) == queries(40) == 2


def test_without_groups_every_event_is_its_own_entry():
    created(3)

    page = audit_timeline_page(customer_id=CUSTOMER)

    assert shape(page) == [("ledger.invoice.created", 1)] * 3


def test_only_and_leave_out_filter_by_exact_name():
    created(1)
    note("kept")

    only = audit_timeline_page(customer_id=CUSTOMER, only=["ledger.note.added"], **LOADS)
    rest = audit_timeline_page(customer_id=CUSTOMER, leave_out=["ledger.note.added"], **LOADS)

    assert shape(only) == [("ledger.note.added", 1)]
    assert shape(rest) == [("ledger.invoice.created", 1)]
