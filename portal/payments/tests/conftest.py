import pytest
from django.core.cache import cache
from django.urls import reverse

from .stripe_stand_in import StripeStandIn
from .world import Account

API_KEY = "sk_test_dunmore_stand_in"
WEBHOOK_SECRET = "whsec_test_dunmore_stand_in_secret"


@pytest.fixture(autouse=True)
def _fresh_limits():
    cache.clear()


@pytest.fixture
def stripe_ready(settings):
    settings.STRIPE_SECRET_KEY = API_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_PAYMENT_METHODS = []
    settings.PAYMENT_LINK_URL = ""
    return settings


@pytest.fixture
def stand_in(stripe_ready, client):
    """The Stripe stand-in on the loopback; its events reach our webhook in-process, on the
    test's own thread (the test database lives there)."""

    def to_webhook(body: bytes, headers: dict) -> int:
        response = client.post(
            reverse("portal:stripe_webhook"),
            data=body,
            content_type=headers["Content-Type"],
            headers={"Stripe-Signature": headers["Stripe-Signature"]},
        )
        return response.status_code

    with StripeStandIn(api_key=API_KEY, webhook_secret=WEBHOOK_SECRET, webhook=to_webhook) as s:
        stripe_ready.STRIPE_API_BASE = s.url
        yield s


@pytest.fixture
def account(db):
    return Account()
