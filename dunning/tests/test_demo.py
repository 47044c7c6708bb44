import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from dunning.models import Chase, Task, TaskKind, Touch, TouchStatus
from invoices.demo import demo_load

pytestmark = pytest.mark.django_db


def test_the_demo_history_leaves_final_demands_due_and_referrals_to_decide():
    demo_load(customers=50, seed=7, today=timezone.localdate())

    call_command("seed_demo_history")
    call_command("seed_demo_history")  # the second time does nothing

    assert Chase.objects.filter(touches__step__channel="letter").exists()
    assert Task.objects.filter(kind=TaskKind.REFERRAL).count() == 2
    final_demands = Touch.objects.filter(channel="letter", status=TouchStatus.PENDING)
    assert final_demands.exists()
    assert all(t.scheduled_for <= timezone.now() + dt.timedelta(days=7) for t in final_demands)
