import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from api.models import Scope
from api.services import api_token_create


@pytest.fixture(autouse=True)
def _fresh_rate_counts():
    # The throttle counts in the cache, which outlives each test's database.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def make_token(db, admin_user):
    def make(scopes=(Scope.READ, Scope.WRITE_LEDGER), **kwargs):
        return api_token_create(
            actor=admin_user, name="Billing sync", scopes=list(scopes), **kwargs
        )

    return make


@pytest.fixture
def api(make_token):
    """A client sending a read + write_ledger token."""
    token, raw = make_token()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    client.token = token
    return client
