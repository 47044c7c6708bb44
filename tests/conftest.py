"""Fixtures for the browser tests: Debian's Chromium driven by Playwright."""

from pathlib import Path

import pytest
from django.conf import settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]


@pytest.fixture
def artifacts() -> Path:
    """Where browser tests keep their screenshots."""
    folder = Path(settings.BASE_DIR) / "test-artifacts"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture
def browser_page(monkeypatch):
    """A fresh Chromium page, closed after the test.

    Playwright's sync API runs an event loop on this thread, which makes Django refuse
    database calls as if they came from async code; the test's own set-up needs them."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
        page = context.new_page()
        page.set_default_timeout(10_000)
        yield page
        context.close()
        browser.close()
