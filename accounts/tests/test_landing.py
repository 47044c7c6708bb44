"""Where each role lands after signing in and at /: managers and admins on the dashboard,
collectors on their queue."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def sign_in(client, username, **extra):
    return client.post(
        reverse("login") + extra.get("query", ""),
        {"username": username, "password": f"pw-{username}"},
        follow=True,
    )


def test_a_manager_who_signs_in_lands_on_the_dashboard(client, manager):
    response = sign_in(client, "maria")

    assert response.redirect_chain[-1][0] == reverse("reports:dashboard")
    assert response.status_code == 200


def test_an_admin_who_signs_in_lands_on_the_dashboard(client, admin_user):
    response = sign_in(client, "ada")

    assert response.redirect_chain[-1][0] == reverse("reports:dashboard")


def test_a_collector_who_signs_in_lands_on_their_queue(client, collector):
    response = sign_in(client, "colin")

    assert response.redirect_chain[-1][0] == reverse("queue")


def test_home_sends_a_manager_to_the_dashboard(manager_client):
    assert manager_client.get(reverse("home")).url == reverse("reports:dashboard")


def test_home_sends_an_admin_to_the_dashboard(admin_client_):
    assert admin_client_.get(reverse("home")).url == reverse("reports:dashboard")


def test_a_manager_sent_to_sign_in_from_a_page_returns_to_it(client, manager):
    response = sign_in(client, "maria", query=f"?next={reverse('queue')}")

    assert response.redirect_chain[-1][0] == reverse("queue")
