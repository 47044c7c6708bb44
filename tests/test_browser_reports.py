"""A manager reads the dashboard: today, then as of an earlier date; drills into a bucket
and takes the aging away as CSV and PDF."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.roles import MANAGER
from invoices.services import payment_record
from invoices.tests.factories import CustomerFactory, InvoiceFactory
from tests.test_browser_dunning import user

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.mark.django_db(transaction=True)
def test_a_manager_reads_aging_as_of_an_earlier_date_drills_in_and_exports(
    live_server, browser_page, artifacts, django_user_model
):
    user(django_user_model, "maria", MANAGER)
    today = timezone.localdate()
    customer = CustomerFactory(name="Harbour Foods Ltd")
    settled = InvoiceFactory(
        customer=customer,
        number="INV-0100",
        issue_date=today - dt.timedelta(days=80),
        due_date=today - dt.timedelta(days=50),
        amount=Decimal("1200.00"),
    )
    payment_record(
        actor=None,
        customer=customer,
        amount=Decimal("1200.00"),
        received_on=today - dt.timedelta(days=5),
        allocations=[(settled, Decimal("1200.00"))],
    )
    InvoiceFactory(
        customer=customer,
        number="INV-0101",
        issue_date=today - dt.timedelta(days=40),
        due_date=today - dt.timedelta(days=10),
        amount=Decimal("300.00"),
    )
    page = browser_page
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("maria")
    page.get_by_label("Password").fill("pw-maria-123")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Dashboard").click()
    page.wait_for_url("**/dashboard/")
    aging = page.locator("section", has=page.get_by_role("heading", name="Aging of open balances"))
    assert aging.get_by_text("£300.00").first.is_visible()
    page.screenshot(path=artifacts / "reports-01-dashboard-today.png", full_page=True)

    # Ten days ago the 1,200 invoice was still open, 40 days late.
    earlier = today - dt.timedelta(days=10)
    page.get_by_label("As of").fill(earlier.isoformat())
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**as_of=*")
    page.get_by_role("link", name="£1,200.00").wait_for()
    page.screenshot(path=artifacts / "reports-02-dashboard-earlier.png", full_page=True)

    page.get_by_role("link", name="£1,200.00").click()
    page.wait_for_url("**/dashboard/aging/**")
    rows = page.locator("tbody tr")
    assert rows.count() == 1 and "INV-0100" in rows.first.inner_text()
    page.screenshot(path=artifacts / "reports-03-drill-down.png", full_page=True)

    page.go_back()
    for name, suffix in (("Aging CSV", ".csv"), ("Aging PDF", ".pdf")):
        with page.expect_download() as download:
            page.get_by_role("link", name=name).click()
        path = artifacts / f"reports-04-aging{suffix}"
        download.value.save_as(path)
        content = path.read_bytes()
        assert content.startswith(b"%PDF") if suffix == ".pdf" else b"1200.00" in content
