import datetime as dt

import pytest
from django.apps import apps
from django.core import mail

from audit.models import AuditEvent
from dunning.models import Touch, TouchStatus
from dunning.planning import dunning_run
from dunning.services import dunning_cycle

from . import backends
from .factories import MONDAY_10, ladder, overdue_customer  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ladder")]


def test_the_same_run_twice_sends_one_message_per_customer():
    for _ in range(3):
        overdue_customer(days=3)

    dunning_cycle(as_of=MONDAY_10)
    dunning_cycle(as_of=MONDAY_10)

    assert len(mail.outbox) == 3


def test_the_same_run_twice_writes_one_audit_event_per_touch():
    overdue_customer(days=3)

    dunning_cycle(as_of=MONDAY_10)
    dunning_cycle(as_of=MONDAY_10)

    assert AuditEvent.objects.filter(action="dunning.touch.planned").count() == 1
    assert AuditEvent.objects.filter(action="dunning.email.sent").count() == 1


def test_planning_twice_creates_no_new_touch():
    overdue_customer(days=3)

    dunning_run(as_of=MONDAY_10)
    second = dunning_run(as_of=MONDAY_10 + dt.timedelta(minutes=15))

    assert Touch.objects.count() == 1
    assert second == []


def test_a_run_cut_off_halfway_then_rerun_contacts_every_customer_exactly_once(settings):
    settings.EMAIL_BACKEND = "dunning.tests.backends.CrashAfterBackend"
    backends.CrashAfterBackend.sent = 0
    customers = [overdue_customer(days=3) for _ in range(5)]
    dunning_cycle(as_of=MONDAY_10)
    assert Touch.objects.filter(status=TouchStatus.SENT).count() == 2

    backends.CrashAfterBackend.limit = 100
    try:
        dunning_cycle(as_of=MONDAY_10 + dt.timedelta(hours=2))
    finally:
        backends.CrashAfterBackend.limit = 2

    sent_to = sorted(m.to[0] for m in mail.outbox)
    assert sent_to == sorted(c.contacts.get().email for c in customers)


def test_a_dry_run_changes_nothing_in_the_database():
    overdue_customer(days=3)
    overdue_customer(days=31)
    before = _row_counts()

    results = dunning_cycle(as_of=MONDAY_10, dry_run=True)

    assert _row_counts() == before
    assert len(results) == 2


def test_a_dry_run_reports_what_the_real_run_then_does():
    overdue_customer(days=3)

    dry = dunning_run(as_of=MONDAY_10, dry_run=True)
    real = dunning_run(as_of=MONDAY_10)

    assert [(r.customer, r.step, r.invoices) for r in dry] == [
        (r.customer, r.step, r.invoices) for r in real
    ]


def _row_counts() -> dict:
    return {model._meta.label: model.objects.count() for model in apps.get_models()}


@pytest.mark.django_db(transaction=True)
def test_a_run_read_in_several_chunks_plans_every_customer_exactly_once(monkeypatch):
    # On PostgreSQL the chunks are planned in processes of their own, each with its own
    # connection: they see only committed rows, hence a transactional test.
    customers = [overdue_customer(days=days) for days in (3, 8, 15, 3, 31)]
    monkeypatch.setattr("dunning.selectors.CHUNK", 2)

    dry = dunning_run(as_of=MONDAY_10, dry_run=True)
    real = dunning_run(as_of=MONDAY_10)
    again = dunning_run(as_of=MONDAY_10)

    assert sorted(r.customer for r in real) == sorted(c.external_id for c in customers)
    assert [(r.customer, r.step, r.invoices) for r in dry] == [
        (r.customer, r.step, r.invoices) for r in real
    ]
    assert Touch.objects.count() == 5
    assert again == []
