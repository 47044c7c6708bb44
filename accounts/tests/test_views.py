import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from accounts.roles import COLLECTOR, MANAGER, role_of
from audit.models import AuditEvent
from invoices.models import Organisation

pytestmark = pytest.mark.django_db


# --- logging in and out -----------------------------------------------------------------


def test_the_login_page_shows_our_form(client):
    response = client.get(reverse("login"))

    assert response.status_code == 200
    assert "Log in to Dunmore" in response.text


def test_a_collector_who_logs_in_lands_on_their_queue(client, collector):
    response = client.post(
        reverse("login"), {"username": "colin", "password": "pw-colin"}, follow=True
    )

    assert response.redirect_chain[-1][0] == reverse("queue")


def test_a_wrong_password_is_refused_with_a_message(client, collector):
    response = client.post(reverse("login"), {"username": "colin", "password": "nope"})

    assert response.status_code == 200
    assert "enter a correct username and password" in response.text


def test_logging_out_takes_a_post(collector_client):
    assert collector_client.get(reverse("logout")).status_code == 405

    response = collector_client.post(reverse("logout"))

    assert response.url == reverse("login")
    assert collector_client.get(reverse("queue")).status_code == 302


def test_the_layout_names_the_user_and_their_role(collector_client):
    response = collector_client.get(reverse("queue"))

    assert "colin" in response.text and "Collector" in response.text


def test_a_collector_is_not_offered_the_dashboard_import_or_settings(collector_client):
    response = collector_client.get(reverse("queue"))

    assert "Dashboard" not in response.text and ">Settings<" not in response.text
    assert ">Import<" not in response.text


def test_an_admin_is_offered_every_screen(admin_client_):
    response = admin_client_.get(reverse("queue"))

    for label in ["Queue", "Customers", "Invoices", "Dashboard", "Import", "Settings"]:
        assert f">{label}<" in response.text


def test_home_sends_a_collector_to_the_queue(collector_client):
    assert collector_client.get(reverse("home")).url == reverse("queue")


def test_a_user_without_a_role_is_told_to_ask_for_one(client, no_role_user):
    client.force_login(no_role_user)

    response = client.get(reverse("home"))

    assert response.status_code == 403
    assert "Your account has no role yet" in response.text


def test_a_user_can_change_their_password(collector_client, collector):
    response = collector_client.post(
        reverse("password_change"),
        {
            "old_password": "pw-colin",
            "new_password1": "a-long-new-secret-42",
            "new_password2": "a-long-new-secret-42",
        },
    )

    assert response.url == reverse("password_change_done")
    collector.refresh_from_db()
    assert collector.check_password("a-long-new-secret-42")


# --- settings ---------------------------------------------------------------------------


def test_an_admin_saves_the_organisation_and_it_is_audited(admin_client_):
    response = admin_client_.post(
        reverse("settings"),
        {
            "name": "Harbour Trading",
            "default_currency": "EUR",
            "default_timezone": "Europe/Dublin",
            "default_country": "IE",
        },
    )

    assert response.url == reverse("settings")
    org = Organisation.current()
    assert (org.name, org.default_currency, org.default_timezone, org.default_country) == (
        "Harbour Trading",
        "EUR",
        "Europe/Dublin",
        "IE",
    )
    assert AuditEvent.objects.filter(action="settings.organisation.updated").count() == 1


def test_an_unknown_time_zone_is_refused(admin_client_):
    response = admin_client_.post(
        reverse("settings"),
        {
            "name": "Harbour Trading",
            "default_currency": "EUR",
            "default_timezone": "Mars/Olympus",
            "default_country": "IE",
        },
    )

    assert response.status_code == 200
    assert Organisation.current().default_timezone == "Europe/London"


def test_the_settings_page_lists_users_with_their_roles(admin_client_, collector, manager):
    response = admin_client_.get(reverse("settings"))

    assert "colin" in response.text and "maria" in response.text
    assert [row["role"] for row in response.context["users"] if row["user"] == manager] == [MANAGER]


def test_an_admin_adds_a_user_with_a_role(admin_client_):
    response = admin_client_.post(
        reverse("user_new"),
        {
            "username": "sam",
            "first_name": "Sam",
            "last_name": "Reed",
            "email": "sam@example.com",
            "role": COLLECTOR,
            "password1": "harbour-lights-77",
            "password2": "harbour-lights-77",
        },
    )

    assert response.url == reverse("settings")
    sam = get_user_model().objects.get(username="sam")
    assert role_of(sam) == COLLECTOR and sam.check_password("harbour-lights-77")


def test_a_new_user_needs_matching_passwords(admin_client_):
    response = admin_client_.post(
        reverse("user_new"),
        {
            "username": "sam",
            "role": COLLECTOR,
            "password1": "harbour-lights-77",
            "password2": "harbour-lights-78",
        },
    )

    assert "The two passwords differ" in response.text
    assert not get_user_model().objects.filter(username="sam").exists()


def test_an_admin_changes_a_users_role(admin_client_, collector):
    admin_client_.post(reverse("user_role", args=[collector.pk]), {"role": MANAGER})

    assert role_of(get_user_model().objects.get(pk=collector.pk)) == MANAGER


def test_an_admin_cannot_change_their_own_role(admin_client_, admin_user):
    response = admin_client_.post(
        reverse("user_role", args=[admin_user.pk]), {"role": COLLECTOR}, follow=True
    )

    assert "You cannot change your own role" in response.text
    assert role_of(get_user_model().objects.get(pk=admin_user.pk)) == "Admin"


def test_a_deactivated_user_can_no_longer_log_in(admin_client_, collector, client):
    admin_client_.post(reverse("user_active", args=[collector.pk]), {"active": "0"})

    assert not client.login(username="colin", password="pw-colin")


def test_an_admin_can_reactivate_a_user(admin_client_, collector):
    admin_client_.post(reverse("user_active", args=[collector.pk]), {"active": "0"})
    admin_client_.post(reverse("user_active", args=[collector.pk]), {"active": "1"})

    collector.refresh_from_db()
    assert collector.is_active


def test_an_admin_cannot_deactivate_themselves(admin_client_, admin_user):
    response = admin_client_.post(
        reverse("user_active", args=[admin_user.pk]), {"active": "0"}, follow=True
    )

    assert "You cannot deactivate your own account" in response.text
    admin_user.refresh_from_db()
    assert admin_user.is_active


def test_the_settings_offer_only_currencies_in_use(admin_client_):
    page = admin_client_.get(reverse("settings")).text
    assert '<option value="EUR"' in page
    assert '<option value="ADP"' not in page  # the Andorran peseta, withdrawn in 2002

    response = admin_client_.post(
        reverse("settings"),
        {
            "name": "Harbour Trading",
            "default_currency": "ADP",
            "default_timezone": "Europe/Dublin",
            "default_country": "IE",
        },
    )

    assert response.status_code == 200
    assert Organisation.current().default_currency == "GBP"
