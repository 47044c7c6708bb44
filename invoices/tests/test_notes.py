import pytest

from audit.models import AuditEvent
from invoices.exceptions import LedgerError
from invoices.services import customer_note_add
from invoices.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_a_note_goes_on_the_customers_timeline_with_who_wrote_it(collector):
    customer = CustomerFactory()

    event = customer_note_add(actor=collector, customer=customer, text="Pays on the 25th.")

    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.action, stored.actor, stored.customer_id) == (
        "ledger.note.added",
        collector,
        customer.pk,
    )
    assert stored.data == {"text": "Pays on the 25th."}


def test_a_note_is_stored_without_surrounding_blanks(collector):
    event = customer_note_add(actor=collector, customer=CustomerFactory(), text="  Call Pat  \n")

    assert event.data["text"] == "Call Pat"


def test_an_empty_note_is_refused(collector):
    with pytest.raises(LedgerError, match="empty"):
        customer_note_add(actor=collector, customer=CustomerFactory(), text=" \n ")

    assert not AuditEvent.objects.filter(action="ledger.note.added").exists()


def test_a_note_of_2000_characters_is_kept_whole(collector):
    event = customer_note_add(actor=collector, customer=CustomerFactory(), text="x" * 2000)

    assert len(event.data["text"]) == 2000


def test_a_note_over_2000_characters_is_refused(collector):
    with pytest.raises(LedgerError, match="at most 2,000 characters"):
        customer_note_add(actor=collector, customer=CustomerFactory(), text="x" * 2001)


def test_a_long_note_shows_its_start_in_the_timeline_summary(collector):
    event = customer_note_add(actor=collector, customer=CustomerFactory(), text="y" * 500)

    assert AuditEvent.objects.get(pk=event.pk).summary.startswith("Note: yyy")
