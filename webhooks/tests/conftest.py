import pytest


@pytest.fixture(autouse=True)
def private_urls_allowed(settings):
    """These tests' receiver listens on the loopback, which only this setting lets through;
    the tests of the address check turn it off again (`addresses_checked`)."""
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True


@pytest.fixture
def addresses_checked(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
