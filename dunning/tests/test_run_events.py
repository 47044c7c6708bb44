"""The audit events a run writes: their data is written as text, not through the JSON
encoder, so they are checked against what the encoder would make and against the chain."""

import datetime as dt
from decimal import Decimal

import pytest

from audit.models import AuditEvent
from audit.selectors import audit_chain_verify
from dunning.models import PolicyStep, Touch
from dunning.planning import dunning_run

from .factories import MONDAY_10, ladder, overdue_customer  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ladder")]

# Quotes, a backslash, a tab, accents and a symbol outside ASCII: every escape JSON has.
AWKWARD = 'Rappel "amical" \\ n°1\tà régler – €'


def test_a_runs_events_hold_every_steps_name_and_amount_exactly_and_verify():
    PolicyStep.objects.update(name=AWKWARD)
    customers = [
        overdue_customer(days=days, invoices=2, amount=Decimal("1234.50")) for days in (3, 9, 40)
    ]

    dunning_run(as_of=MONDAY_10)
    dunning_run(as_of=MONDAY_10 + dt.timedelta(days=7))

    verified, broken = audit_chain_verify()
    assert broken is None
    assert verified == AuditEvent.objects.count()
    events = AuditEvent.objects.filter(data__has_key="touch_id").order_by("id")
    assert events.count() == Touch.objects.count() > len(customers)
    for event in events:
        touch = Touch.objects.get(pk=event.data["touch_id"])
        expected = {
            "channel": touch.channel,
            "step": AWKWARD,
            "invoice_ids": [inv["id"] for inv in touch.invoices],
            "total": str(touch.total),
            "due_at": touch.scheduled_for.isoformat(),
            "touch_id": touch.pk,
        }
        if "chase_started" in event.data:
            expected["chase_started"] = touch.chase_id
        assert event.data == expected
        assert AWKWARD in event.summary
