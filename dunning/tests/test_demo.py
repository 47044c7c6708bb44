import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from dunning.models import Chase, Task, TaskKind, TaskStatus, Touch, TouchStatus
from invoices.demo import demo_load

pytestmark = pytest.mark.django_db


def test_the_demo_history_leaves_final_demands_due_and_referrals_to_decide(time_machine):
    # Letters go out in office hours only: run on a weekday morning in every demo time zone.
    time_machine.move_to(dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC), tick=False)
    demo_load(customers=50, seed=7, today=timezone.localdate())

    call_command("seed_demo_history")
    call_command("seed_demo_history")  # the second time does nothing

    assert Chase.objects.filter(touches__step__channel="letter").exists()
    assert Task.objects.filter(kind=TaskKind.REFERRAL).count() == 2
    final_demands = Touch.objects.filter(channel="letter", status=TouchStatus.PENDING)
    assert final_demands.exists()
    assert all(t.scheduled_for <= timezone.now() + dt.timedelta(days=7) for t in final_demands)
    calls = Task.objects.filter(kind=TaskKind.CALL, status=TaskStatus.OPEN)
    assert calls.exists()
    assert all(call.assigned_to == call.customer.collector for call in calls)
