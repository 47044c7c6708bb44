import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from audit.models import AuditEvent
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


def test_the_demo_data_and_its_history_leave_an_audit_trail_that_verifies(time_machine):
    time_machine.move_to(dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC), tick=False)
    call_command("seed_demo", customers=30, seed=7, no_logins=True, stdout=io.StringIO())
    call_command("seed_demo_history", stdout=io.StringIO())

    out = io.StringIO()
    call_command("audit_verify", stdout=out)

    assert Touch.objects.exists()
    assert "Audit trail intact" in out.getvalue()


def test_the_demo_history_shows_its_messages_on_the_customer_page(time_machine, admin_client_):
    time_machine.move_to(dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC), tick=False)
    demo_load(customers=50, seed=7, today=timezone.localdate())
    call_command("seed_demo_history")

    email = Touch.objects.filter(channel="email", status=TouchStatus.SENT).first()
    page = admin_client_.get(
        reverse("customer_detail", args=[email.customer_id]), {"kind": "messages"}
    ).content.decode()

    assert email.subject and email.to_email and email.invoices
    assert f"{email.step.name} emailed to" in page
    assert escape(email.subject) in page
    sent = AuditEvent.objects.filter(action__endswith=".sent", customer_id=email.customer_id)
    assert sent.count() == email.customer.touches.filter(status=TouchStatus.SENT).count()
