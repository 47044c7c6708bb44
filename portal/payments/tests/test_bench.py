import json

import pytest
from django.core.management import call_command

from dunning.models import QueueEntry
from invoices.models import Customer, Payment


@pytest.mark.django_db
def test_bench_payment_event_settles_every_customer_and_leaves_nothing(capsys):
    call_command("bench", "payment_event", "--rows", "3")
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert figures["events"] == 3 and figures["queued_before_count"] == 3
    assert figures["not_settled_count"] == 0
    assert figures["event_to_queue_median_ms"] > 0 and figures["cpus"] >= 1
    assert not Customer.objects.exists() and not Payment.objects.exists()
    assert not QueueEntry.objects.exists()
