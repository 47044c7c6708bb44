import datetime as dt
import io

import pytest
import time_machine
from django.core.management import call_command
from django.test import RequestFactory
from django.urls import reverse

from accounts.services import login_unlock
from accounts.throttle import client_ip
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db

HOME = "203.0.113.9"
ELSEWHERE = "198.51.100.7"
T0 = dt.datetime(2026, 3, 16, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def throttle(settings):
    """The suite runs without throttling; these tests turn it on, with the default limits."""
    settings.AXES_ENABLED = True
    settings.LOGIN_FAILURE_LIMIT = settings.AXES_FAILURE_LIMIT = 5
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 20
    settings.LOGIN_LOCKOUT_MINUTES = 15
    settings.AXES_COOLOFF_TIME = dt.timedelta(minutes=15)
    settings.PROXY_COUNT = 0


def log_in(client, username, password, address=HOME, **meta):
    return client.post(
        reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR=address,
        **meta,
    )


def fail(client, username, times, address=HOME, **meta):
    for _ in range(times):
        response = log_in(client, username, "not-the-password", address, **meta)
    return response


def is_logged_in(client) -> bool:
    return client.get(reverse("queue")).status_code == 200


# --- locking -------------------------------------------------------------------------------


def test_wrong_passwords_below_the_limit_leave_the_login_open(client, collector):
    fail(client, "colin", 4)

    response = log_in(client, "colin", "pw-colin")

    assert response.status_code == 302
    assert is_logged_in(client)


def test_five_wrong_passwords_lock_the_account_with_a_clear_message(client, collector):
    response = fail(client, "colin", 5)

    assert response.status_code == 429
    assert "Log in to Dunmore" in response.text
    assert "the account “colin” is locked for 15 more minutes" in response.text
    assert "ask an administrator to unlock it" in response.text


def test_the_right_password_fails_while_the_account_is_locked(client, collector):
    fail(client, "colin", 5)

    response = log_in(client, "colin", "pw-colin")

    assert response.status_code == 429
    assert "is locked for" in response.text
    assert not is_logged_in(client)


def test_the_account_lock_holds_from_another_address(client, collector):
    fail(client, "colin", 5, address=HOME)

    response = log_in(client, "colin", "pw-colin", address=ELSEWHERE)

    assert response.status_code == 429


def test_a_successful_login_forgives_the_earlier_failures(client, collector):
    fail(client, "colin", 4)
    log_in(client, "colin", "pw-colin")
    client.post(reverse("logout"))

    fail(client, "colin", 4)
    response = log_in(client, "colin", "pw-colin")

    assert response.status_code == 302


def test_twenty_failures_from_one_address_lock_it_for_every_username(client, collector):
    for number in range(20):
        log_in(client, f"guess{number}", "not-the-password")

    response = log_in(client, "colin", "pw-colin")

    assert response.status_code == 429
    assert f"your network address ({HOME})" in response.text
    assert log_in(client, "colin", "pw-colin", address=ELSEWHERE).status_code == 302


def test_another_users_login_does_not_clear_the_count_against_an_account(
    client, collector, manager
):
    fail(client, "colin", 4)
    log_in(client, "maria", "pw-maria")
    client.post(reverse("logout"))

    assert fail(client, "colin", 1).status_code == 429


# --- cool-off ------------------------------------------------------------------------------


def test_the_lock_lifts_once_the_cool_off_has_passed(client, collector):
    with time_machine.travel(T0, tick=False):
        fail(client, "colin", 5)
    with time_machine.travel(T0 + dt.timedelta(minutes=14), tick=False):
        assert log_in(client, "colin", "pw-colin").status_code == 429
    with time_machine.travel(T0 + dt.timedelta(minutes=15, seconds=1), tick=False):
        assert log_in(client, "colin", "pw-colin").status_code == 302


def test_attempts_during_a_lock_do_not_prolong_it(client, collector):
    with time_machine.travel(T0, tick=False):
        fail(client, "colin", 5)
    with time_machine.travel(T0 + dt.timedelta(minutes=10), tick=False):
        fail(client, "colin", 3)
    with time_machine.travel(T0 + dt.timedelta(minutes=16), tick=False):
        assert log_in(client, "colin", "pw-colin").status_code == 302


def test_the_message_counts_down_the_minutes_left(client, collector):
    with time_machine.travel(T0, tick=False):
        fail(client, "colin", 5)
    with time_machine.travel(T0 + dt.timedelta(minutes=14, seconds=30), tick=False):
        response = log_in(client, "colin", "pw-colin")

    assert "locked for 1 more minute." in response.text


# --- client address behind the proxy -------------------------------------------------------


def test_the_address_is_the_connections_own_without_a_proxy(settings):
    settings.PROXY_COUNT = 0
    request = RequestFactory().get("/", REMOTE_ADDR=HOME, HTTP_X_FORWARDED_FOR=ELSEWHERE)

    assert client_ip(request) == HOME


def test_behind_one_proxy_the_address_is_the_one_the_proxy_added(settings):
    settings.PROXY_COUNT = 1
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"{ELSEWHERE}, {HOME}"
    )

    assert client_ip(request) == HOME


def test_behind_a_proxy_a_missing_or_garbled_header_falls_back_to_the_connection(settings):
    settings.PROXY_COUNT = 1
    factory = RequestFactory()

    assert client_ip(factory.get("/", REMOTE_ADDR="10.0.0.2")) == "10.0.0.2"
    assert client_ip(factory.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="x")) == (
        "10.0.0.2"
    )


def test_a_forged_forwarded_header_does_not_dodge_the_address_lock(client, collector, settings):
    settings.PROXY_COUNT = 1
    for number in range(20):
        # The client makes up a new address each time; the proxy appends the real one.
        forwarded = f"192.0.2.{number}, {HOME}"
        log_in(client, f"guess{number}", "nope", address="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded)

    response = log_in(
        client, "colin", "pw-colin", address="10.0.0.2", HTTP_X_FORWARDED_FOR=f"192.0.2.99, {HOME}"
    )

    assert response.status_code == 429


# --- unlocking -----------------------------------------------------------------------------


def test_an_admin_sees_the_locked_account(client, collector, admin_user):
    fail(client, "colin", 5)
    client.force_login(admin_user)

    response = client.get(reverse("lockout_list"))

    assert "Account “colin”" in response.text
    assert "Unlock" in response.text


def test_an_admin_unlocks_an_account_and_the_user_can_log_in(client, collector, admin_user):
    fail(client, "colin", 5)
    client.force_login(admin_user)

    response = client.post(reverse("lockout_unlock"), {"username": "colin"}, follow=True)

    assert "Unlocked the account “colin”" in response.text
    client.post(reverse("logout"))
    assert log_in(client, "colin", "pw-colin").status_code == 302


def test_an_admin_unlocks_an_address(client, collector, admin_user):
    for number in range(20):
        log_in(client, f"guess{number}", "nope")
    client.force_login(admin_user)

    client.post(reverse("lockout_unlock"), {"ip_address": HOME})

    client.post(reverse("logout"))
    assert log_in(client, "colin", "pw-colin").status_code == 302


@pytest.mark.parametrize("role_user", ["collector", "manager"])
def test_unlocking_needs_the_admin_role(client, collector, manager, role_user, request):
    fail(client, "colin", 5)
    client.force_login(request.getfixturevalue(role_user))

    response = client.post(reverse("lockout_unlock"), {"username": "colin"})

    assert response.status_code == 403
    client.post(reverse("logout"))
    assert log_in(client, "colin", "pw-colin").status_code == 429


def test_an_unlock_naming_nothing_changes_nothing(client, collector, admin_user):
    fail(client, "colin", 5)
    client.force_login(admin_user)

    response = client.post(reverse("lockout_unlock"), {"ip_address": "not an address"}, follow=True)

    assert "Choose one account or one address to unlock." in response.text
    assert not AuditEvent.objects.filter(action="accounts.login.unlocked").exists()


def test_unlocking_what_is_not_locked_says_so_and_records_nothing(admin_client_):
    response = admin_client_.post(reverse("lockout_unlock"), {"username": "colin"}, follow=True)

    assert "Nothing to unlock" in response.text
    assert not AuditEvent.objects.filter(action="accounts.login.unlocked").exists()


def test_axes_reset_username_unlocks_through_the_audited_service(client, collector):
    fail(client, "colin", 5)

    call_command("axes_reset_username", "colin", stdout=io.StringIO())

    event = AuditEvent.objects.get(action="accounts.login.unlocked")
    assert event.actor_label == "manage.py"
    assert log_in(client, "colin", "pw-colin").status_code == 302


def test_unlocking_a_malformed_address_is_refused(admin_user):
    with pytest.raises(ValueError, match="is not an IP address"):
        login_unlock(actor=admin_user, ip_address="999.1.1.1")


# --- the audit trail -----------------------------------------------------------------------


def test_a_failed_login_is_recorded_without_the_password(client, collector):
    log_in(client, "colin", "hunter2-secret")

    event = AuditEvent.objects.get(action="accounts.login.failed")
    assert event.data == {"username": "colin", "ip_address": HOME}
    assert not any("hunter2-secret" in str(e.data) + e.summary for e in AuditEvent.objects.all())


def test_a_lockout_is_recorded_once_and_refused_attempts_are_not(client, collector):
    fail(client, "colin", 8)

    assert AuditEvent.objects.filter(action="accounts.login.failed").count() == 5
    (event,) = AuditEvent.objects.filter(action="accounts.login.locked")
    assert event.data["locks"][0]["kind"] == "account"
    assert event.data["locks"][0]["value"] == "colin"
    assert event.data["locks"][0]["failures"] == 5


def test_an_address_lockout_is_recorded(client, collector):
    for number in range(20):
        log_in(client, f"guess{number}", "nope")

    (event,) = AuditEvent.objects.filter(action="accounts.login.locked")
    assert event.data["locks"] == [
        {"kind": "address", "value": HOME, "failures": 20, "until": event.data["locks"][0]["until"]}
    ]


def test_an_unlock_is_recorded_with_the_admin_as_actor(client, collector, admin_user):
    fail(client, "colin", 5)
    client.force_login(admin_user)

    client.post(reverse("lockout_unlock"), {"username": "colin"})

    event = AuditEvent.objects.get(action="accounts.login.unlocked")
    assert event.actor == admin_user
    assert event.data["username"] == "colin"
    assert event.data["failures_forgiven"] == 5
