"""Delivery against a real SMTP server on the loopback: what each answer (or silence) of the
server does to a touch, and that nothing is ever handed off twice."""

import datetime as dt
import time

import pytest
from django.db import connection

from dunning.engine import plan_customer
from dunning.models import Task, TaskKind, TaskStatus, Touch, TouchStatus
from dunning.outbox import MAX_ATTEMPTS
from dunning.outcomes import AGAIN, SENT, SKIP, outcome_settle
from dunning.planning import dunning_run
from dunning.selectors import Steps, calendar_for, facts_load
from dunning.services import touches_deliver

from .factories import MONDAY_10, ladder, overdue_customer  # noqa: F401
from .smtp_peer import ACCEPT, HOLD, REFUSE, SilentServer, SMTPPeer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ladder")]
LATER = MONDAY_10 + dt.timedelta(minutes=20)


@pytest.fixture
def peer(settings):
    server = SMTPPeer().start()
    _point_at(settings, server.port)
    yield server
    server.stop()


def _point_at(settings, port):
    settings.EMAIL_BACKEND = "dunning.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 1
    settings.EMAIL_HANDOFF_SECONDS = 3


def plan_and_deliver(as_of=MONDAY_10):
    dunning_run(as_of=as_of)
    return touches_deliver(as_of=as_of)


def test_a_message_the_server_takes_is_sent_with_the_touchs_message_id(peer):
    overdue_customer(days=3)

    plan_and_deliver()

    touch = Touch.objects.get()
    assert touch.status == TouchStatus.SENT
    assert [r.message_id for r in peer.received] == [touch.message_id]
    assert touch.ref in touch.message_id


def test_a_refused_message_is_tried_again_later_under_the_same_message_id(peer):
    overdue_customer(days=3)
    peer.behave(REFUSE)
    plan_and_deliver()
    touch = Touch.objects.get()
    assert (touch.status, touch.attempts) == (TouchStatus.PENDING, 1)

    peer.behave(ACCEPT)
    touches_deliver(as_of=LATER)

    touch.refresh_from_db()
    assert touch.status == TouchStatus.SENT
    assert [r.message_id for r in peer.received] == [touch.message_id]


def test_a_server_that_never_greets_holds_the_run_no_longer_than_its_timeout(settings):
    silent = SilentServer().start()
    _point_at(settings, silent.port)
    for _ in range(3):
        overdue_customer(days=3)
    dunning_run(as_of=MONDAY_10)

    started = time.monotonic()
    touches_deliver(as_of=MONDAY_10)
    took = time.monotonic() - started
    silent.stop()

    # One timeout, then the run stops waiting on that server: the rest stay as they were.
    assert took < 2 * settings.EMAIL_TIMEOUT + 1
    statuses = sorted(Touch.objects.values_list("status", "attempts"))
    assert statuses == [(TouchStatus.PENDING, 0)] * 2 + [(TouchStatus.PENDING, 1)]


def test_a_message_with_no_answer_after_its_body_is_unknown_with_a_task(peer):
    customer = overdue_customer(days=3)
    peer.behave(HOLD)

    results = plan_and_deliver()

    touch = Touch.objects.get()
    assert touch.status == TouchStatus.UNKNOWN
    task = Task.objects.get(kind=TaskKind.CHECK_SEND)
    assert (task.customer_id, task.touch_id, task.status) == (customer.pk, touch.pk, "open")
    assert task.assigned_to_id == customer.collector_id
    assert results[-1].status == TouchStatus.UNKNOWN


def test_an_unknown_message_is_never_sent_again_by_later_runs(peer):
    overdue_customer(days=3)
    peer.behave(HOLD)
    plan_and_deliver()
    peer.behave(ACCEPT)

    for hours in (1, 2, 24, 24 * 8):
        dunning_run(as_of=MONDAY_10 + dt.timedelta(hours=hours))
        touches_deliver(as_of=MONDAY_10 + dt.timedelta(hours=hours))

    assert len(peer.received) == 1
    assert Touch.objects.count() == 1  # chasing waited: no next step either


def test_an_unknown_message_pauses_chasing_and_counts_for_pacing(peer):
    customer = overdue_customer(days=3)
    peer.behave(HOLD)
    plan_and_deliver()

    steps = Steps()
    as_of = MONDAY_10 + dt.timedelta(days=5)
    [item] = facts_load([customer.pk], as_of=as_of, steps=steps)
    plan = plan_customer(
        item.facts, steps.facts_of(item.customer.version_id), calendar_for(as_of), as_of
    )

    assert plan.action is None
    assert "unknown" in plan.explanation
    assert item.facts.last_automated_at == MONDAY_10


def test_it_was_sent_counts_the_step_as_done_and_chasing_goes_on(peer, collector):
    customer = overdue_customer(days=3)
    peer.behave(HOLD)
    plan_and_deliver()
    peer.behave(ACCEPT)
    task = Task.objects.get(kind=TaskKind.CHECK_SEND)

    outcome_settle(actor=collector, task=task, choice=SENT, at=LATER)

    touch = Touch.objects.get()
    assert (touch.status, touch.sent_at) == (TouchStatus.SENT, MONDAY_10)
    assert Task.objects.get(pk=task.pk).status == TaskStatus.DONE
    next_week = MONDAY_10 + dt.timedelta(days=4)
    plan_and_deliver(next_week)
    assert Touch.objects.filter(customer=customer, status=TouchStatus.SENT).count() == 2
    assert len(peer.received) == 2


def test_send_it_again_sends_the_same_message_id_once_more(peer, collector):
    overdue_customer(days=3)
    peer.behave(HOLD)
    plan_and_deliver()
    peer.behave(ACCEPT)
    task = Task.objects.get(kind=TaskKind.CHECK_SEND)

    touch = outcome_settle(actor=collector, task=task, choice=AGAIN, at=LATER)

    assert touch.status == TouchStatus.SENT
    assert [r.message_id for r in peer.received] == [touch.message_id] * 2


def test_a_choice_that_does_not_fit_is_refused_and_changes_nothing(peer, collector):
    overdue_customer(days=3)
    peer.behave(HOLD)
    plan_and_deliver()
    task = Task.objects.get(kind=TaskKind.CHECK_SEND)

    from dunning.exceptions import DunningError

    with pytest.raises(DunningError):
        outcome_settle(actor=collector, task=task, choice=SKIP, at=LATER)
    assert Touch.objects.get().status == TouchStatus.UNKNOWN
    assert Task.objects.get(pk=task.pk).status == TaskStatus.OPEN


def test_a_message_refused_every_time_waits_for_a_person_and_is_not_skipped(peer, collector):
    customer = overdue_customer(days=3)
    peer.behave(REFUSE)
    dunning_run(as_of=MONDAY_10)
    for attempt in range(MAX_ATTEMPTS):
        touches_deliver(as_of=MONDAY_10 + dt.timedelta(days=attempt))
    touch = Touch.objects.get()
    assert touch.status == TouchStatus.FAILED
    task = Task.objects.get(kind=TaskKind.CHECK_SEND, status=TaskStatus.OPEN)

    dunning_run(as_of=MONDAY_10 + dt.timedelta(days=8))  # the next step would be due
    assert Touch.objects.filter(customer=customer).count() == 1

    peer.behave(ACCEPT)
    outcome_settle(actor=collector, task=task, choice=AGAIN, at=MONDAY_10 + dt.timedelta(days=8))
    touch.refresh_from_db()
    assert touch.status == TouchStatus.SENT
    assert len(peer.received) == 1


@pytest.fixture
def fail_on_sent():
    """A database that refuses to record a touch as sent (a trigger), as a failing disk or
    a broken replica would."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE FUNCTION drill_refuse_sent() RETURNS trigger AS $$ BEGIN "
                "RAISE EXCEPTION 'drill: the database refuses'; END $$ LANGUAGE plpgsql"
            )
            cursor.execute(
                "CREATE TRIGGER drill_refuse_sent BEFORE UPDATE ON dunning_touch FOR EACH ROW "
                "WHEN (NEW.status = 'sent') EXECUTE FUNCTION drill_refuse_sent()"
            )
        else:
            cursor.execute(
                "CREATE TRIGGER drill_refuse_sent BEFORE UPDATE ON dunning_touch "
                "WHEN NEW.status = 'sent' BEGIN SELECT RAISE(ABORT, 'drill'); END"
            )
    yield
    with connection.cursor() as cursor:
        cursor.execute(
            "DROP TRIGGER drill_refuse_sent"
            + (" ON dunning_touch" if connection.vendor == "postgresql" else "")
        )


def test_a_database_failure_after_the_hand_off_never_sends_twice(peer, fail_on_sent):
    overdue_customer(days=3)

    plan_and_deliver()
    for minutes in (20, 40, 60):
        touches_deliver(as_of=MONDAY_10 + dt.timedelta(minutes=minutes))

    assert len(peer.received) == 1
    touch = Touch.objects.get()
    assert touch.status == TouchStatus.UNKNOWN
    task = Task.objects.get(kind=TaskKind.CHECK_SEND)
    assert "almost certainly went" in task.detail
