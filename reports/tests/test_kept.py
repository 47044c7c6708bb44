"""Kept dashboard parts (reports.cache) and the worker's refresh (reports.tasks)."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.urls import reverse
from django_q.models import Schedule

from reports.cache import MAX_AGE, cached
from reports.models import CachedPart, MonthSummary
from reports.tasks import FUNC, REFRESH_MINUTES, refresh_dashboard

from .test_metrics import invoice

pytestmark = pytest.mark.django_db


def test_a_kept_part_is_reused_until_it_is_too_old(time_machine):
    time_machine.move_to(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC), tick=False)
    calls = []

    def compute():
        calls.append(1)
        return {"n": len(calls)}

    first, at = cached("k", compute)
    again, at_again = cached("k", compute)
    time_machine.move_to(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC) + MAX_AGE + dt.timedelta(1))
    later, _ = cached("k", compute)

    assert (first, again, later) == ({"n": 1}, {"n": 1}, {"n": 2})
    assert at_again == at


def test_a_kept_part_that_cannot_be_read_is_computed_again():
    CachedPart.objects.create(key="k", value=b"not a pickle", computed_at=dt.datetime.now(dt.UTC))

    value, _ = cached("k", lambda: "fresh")

    assert value == "fresh"


def test_the_refresh_stores_months_and_keeps_today_s_parts(time_machine):
    time_machine.move_to(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC), tick=False)
    invoice(dt.date(2026, 1, 10), "100.00")
    invoice(dt.date(2026, 2, 10), "50.00", currency="EUR")

    assert refresh_dashboard() == 2

    assert set(MonthSummary.objects.values_list("currency", "month")) == {
        ("GBP", dt.date(2026, 1, 1)),
        ("GBP", dt.date(2026, 2, 1)),
        ("EUR", dt.date(2026, 2, 1)),
    }
    keys = set(CachedPart.objects.values_list("key", flat=True))
    assert {"systemic:2026-03-02", "limitation:2026-03-02"} <= keys
    assert "activity:2026-02-01:2026-03-02" in keys
    # The customers have no collector: the "unassigned" choice is stored too.
    assert set(MonthSummary.objects.values_list("scope", flat=True)) == {"", "unassigned"}


def test_the_refresh_drops_parts_too_old_to_be_used(time_machine):
    time_machine.move_to(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC), tick=False)
    cached("systemic:2025-06-30", lambda: [])  # a date a manager looked at once
    time_machine.move_to(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC) + MAX_AGE * 2, tick=False)

    refresh_dashboard()

    assert not CachedPart.objects.filter(key="systemic:2025-06-30").exists()
    assert CachedPart.objects.filter(key="systemic:2026-03-02").exists()


def test_the_refresh_is_scheduled_by_migrate():
    call_command("migrate", verbosity=0)

    schedule = Schedule.objects.get(func=FUNC)
    assert (schedule.schedule_type, schedule.minutes) == (Schedule.MINUTES, REFRESH_MINUTES)


def test_the_dashboard_says_when_kept_figures_were_computed(manager_client, time_machine):
    time_machine.move_to(dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC), tick=False)
    refresh_dashboard()
    time_machine.move_to(dt.datetime(2026, 3, 2, 9, 34, tzinfo=dt.UTC), tick=False)

    response = manager_client.get(reverse("reports:dashboard"))

    assert "Computed 2 Mar 2026, 09:30, kept for up to 10 minutes." in response.text
