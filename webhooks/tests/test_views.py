import pytest

from audit.models import AuditEvent
from webhooks.models import Endpoint

pytestmark = pytest.mark.django_db

NEW = {
    "url": "https://erp.example.com/hooks",
    "description": "ERP",
    "event_types": ["payment.received", "dispute.opened"],
}


def test_an_admin_adds_an_endpoint_and_sees_its_secret_once(admin_client_):
    response = admin_client_.post("/settings/webhooks/new/", NEW, follow=True)

    endpoint = Endpoint.objects.get()
    page = response.content.decode()
    assert endpoint.secret in page
    assert endpoint.event_types == ["payment.received", "dispute.opened"]
    assert AuditEvent.objects.filter(action="webhooks.endpoint.created").exists()
    again = admin_client_.get(f"/settings/webhooks/{endpoint.pk}/").content.decode()
    assert endpoint.secret not in again


def test_an_endpoint_without_events_is_refused_with_a_message(admin_client_):
    response = admin_client_.post("/settings/webhooks/new/", {**NEW, "event_types": []})

    assert "Choose at least one event." in response.content.decode()
    assert not Endpoint.objects.exists()


def test_rotating_the_secret_shows_the_new_one(admin_client_):
    admin_client_.post("/settings/webhooks/new/", NEW)
    endpoint = Endpoint.objects.get()
    old = endpoint.secret

    response = admin_client_.post(f"/settings/webhooks/{endpoint.pk}/rotate/", follow=True)

    endpoint.refresh_from_db()
    assert endpoint.secret != old
    assert endpoint.secret in response.content.decode()


def test_editing_changes_the_events(admin_client_):
    admin_client_.post("/settings/webhooks/new/", NEW)
    endpoint = Endpoint.objects.get()

    admin_client_.post(
        f"/settings/webhooks/{endpoint.pk}/edit/", {**NEW, "event_types": ["reply.received"]}
    )

    endpoint.refresh_from_db()
    assert endpoint.event_types == ["reply.received"]


def test_the_settings_page_links_to_webhooks(admin_client_):
    assert "/settings/webhooks/" in admin_client_.get("/settings/").content.decode()


def test_a_manager_may_not_open_webhooks(manager_client):
    assert manager_client.get("/settings/webhooks/").status_code == 403
