import datetime as dt
import hashlib

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from api.models import ApiToken, Scope
from api.services import api_token_revoke
from audit.models import AuditEvent

CUSTOMERS = "/api/v1/customers/"


def _client(raw):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_only_the_hash_and_a_prefix_are_kept(make_token):
    token, raw = make_token()

    token.refresh_from_db()
    assert token.hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw.startswith(token.prefix) and len(token.prefix) < len(raw) / 3
    assert raw not in {str(value) for value in ApiToken.objects.values().get().values()}
    event = AuditEvent.objects.get(action="api.token.created")
    assert raw not in event.summary and raw not in str(event.data)


def test_a_valid_token_reads_and_is_marked_used(make_token):
    token, raw = make_token()

    assert _client(raw).get(CUSTOMERS).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


@pytest.mark.parametrize(
    "header", ["", "Bearer", "Bearer dnm_not-a-real-token", "Bearer a b", "Token abc"]
)
def test_without_a_good_token_the_answer_is_401(db, header):
    client = APIClient()
    if header:
        client.credentials(HTTP_AUTHORIZATION=header)

    response = client.get(CUSTOMERS)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["error"]["code"] in ("not_authenticated", "authentication_failed")


def test_an_expired_token_is_refused(make_token):
    _token, raw = make_token(expires_at=timezone.now() - dt.timedelta(seconds=1))

    response = _client(raw).get(CUSTOMERS)

    assert response.status_code == 401
    assert response.json()["error"]["message"] == "The token is unknown, expired or revoked."


def test_a_token_not_yet_expired_works(make_token):
    _token, raw = make_token(expires_at=timezone.now() + dt.timedelta(days=1))

    assert _client(raw).get(CUSTOMERS).status_code == 200


def test_a_revoked_token_is_refused_at_once(make_token, admin_user):
    token, raw = make_token()
    assert _client(raw).get(CUSTOMERS).status_code == 200

    assert api_token_revoke(actor=admin_user, token=token) is True
    assert api_token_revoke(actor=admin_user, token=token) is False

    assert _client(raw).get(CUSTOMERS).status_code == 401
    assert AuditEvent.objects.filter(action="api.token.revoked").count() == 1


def test_a_read_only_token_cannot_write(make_token):
    _token, raw = make_token(scopes=[Scope.READ])

    response = _client(raw).put(f"{CUSTOMERS}C1/", {"name": "Acme"}, format="json")

    assert response.status_code == 403
    assert response.json()["error"] == {
        "code": "permission_denied",
        "message": "This token lacks the “write_ledger” scope.",
        "details": [],
    }


def test_a_write_only_token_cannot_read(make_token):
    _token, raw = make_token(scopes=[Scope.WRITE_LEDGER])

    assert _client(raw).get(CUSTOMERS).status_code == 403
    assert _client(raw).put(f"{CUSTOMERS}C1/", {"name": "Acme"}, format="json").status_code == 201


def test_a_token_is_rate_limited(api, settings):
    settings.API_RATE_LIMIT = "2/min"

    assert api.get(CUSTOMERS).status_code == 200
    assert api.get(CUSTOMERS).status_code == 200
    response = api.get(CUSTOMERS)

    assert response.status_code == 429
    error = response.json()["error"]
    assert error["code"] == "throttled"
    assert error["details"][0]["retry_after_seconds"] > 0
    assert int(response["Retry-After"]) > 0


def test_the_rate_is_counted_per_token(api, make_token, settings):
    settings.API_RATE_LIMIT = "1/min"
    _other, raw = make_token()

    assert api.get(CUSTOMERS).status_code == 200
    assert api.get(CUSTOMERS).status_code == 429
    assert _client(raw).get(CUSTOMERS).status_code == 200


# --- the admin's screens ---------------------------------------------------------------------


def test_an_admin_creates_a_token_and_sees_it_once(client, admin_user):
    client.force_login(admin_user)

    response = client.post(
        reverse("api_tokens:new"),
        {"name": "Xero nightly", "scopes": [Scope.READ, Scope.WRITE_LEDGER]},
        follow=True,
    )

    assert response.redirect_chain[0][1] == 302  # a reload does not post the form again
    raw = response.context["raw"]
    page = response.content.decode()
    assert raw in page and "only time it is shown" in page
    assert response["Cache-Control"] == "no-store"
    token = ApiToken.objects.get()
    assert token.name == "Xero nightly" and token.scopes == ["read", "write_ledger"]
    assert token.created_by == admin_user
    listing = client.get(reverse("api_tokens:list")).content.decode()
    assert "Xero nightly" in listing and token.prefix in listing and raw not in listing
    assert _client(raw).get(CUSTOMERS).status_code == 200
    again = client.get(response.redirect_chain[0][0], follow=True)
    assert raw not in again.content.decode() and "was shown once" in again.content.decode()
    assert ApiToken.objects.count() == 1


def test_a_token_needs_a_name_and_a_scope(client, admin_user):
    client.force_login(admin_user)

    response = client.post(reverse("api_tokens:new"), {"name": ""})

    assert response.status_code == 200
    assert response.context["form"].errors.keys() == {"name", "scopes"}
    assert not ApiToken.objects.exists()


def test_an_admin_revokes_a_token_from_the_list(client, admin_user, make_token):
    token, raw = make_token()
    client.force_login(admin_user)

    response = client.post(reverse("api_tokens:revoke", args=[token.pk]), follow=True)

    assert "stops working at once" in response.content.decode()
    assert "Revoked" in response.content.decode()
    assert _client(raw).get(CUSTOMERS).status_code == 401


def test_settings_lead_to_the_tokens(client, admin_user):
    client.force_login(admin_user)

    assert reverse("api_tokens:list") in client.get(reverse("settings")).content.decode()
