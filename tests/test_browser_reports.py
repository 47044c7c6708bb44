"""A manager reads the dashboard: today, then as of an earlier date; drills into a bucket
and takes the aging away as CSV and PDF. Lands on it after signing in and reads its
headline at laptop and tablet widths."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.roles import ADMIN, COLLECTOR, MANAGER
from invoices.services import payment_record
from invoices.tests.factories import CustomerFactory, InvoiceFactory
from reports.metrics import month_end
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
    page.wait_for_url("**/dashboard/")  # where a manager lands
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


def log_in(page, url, username):
    page.goto(f"{url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(f"pw-{username}-123")
    page.get_by_role("button", name="Log in").click()


@pytest.mark.django_db(transaction=True)
def test_a_manager_lands_on_the_dashboard_and_reads_its_headline_on_laptop_and_tablet(
    live_server, browser_page, artifacts, django_user_model
):
    user(django_user_model, "maria", MANAGER)
    user(django_user_model, "ada", ADMIN)
    cara = user(django_user_model, "cara", COLLECTOR)
    today = timezone.localdate()
    for currency, amount, days_late in (("GBP", "1200.00", 45), ("EUR", "800.00", 20)):
        customer = CustomerFactory(name=f"Quay {currency} Ltd", currency=currency, collector=cara)
        invoice = InvoiceFactory(
            customer=customer,
            issue_date=today - dt.timedelta(days=days_late + 30),
            due_date=today - dt.timedelta(days=days_late),
            amount=Decimal(amount),
        )
        payment_record(
            actor=None,
            customer=customer,
            amount=Decimal("100.00"),
            received_on=today,
            allocations=[(invoice, Decimal("100.00"))],
        )
    page = browser_page
    log_in(page, live_server.url, "maria")
    page.wait_for_url("**/dashboard/")

    assert page.get_by_label("As of").input_value() == today.isoformat()
    glance = page.locator("section.headline")
    assert glance.locator("dd", has_text="£1,100.00").is_visible()  # overdue after the payment
    assert glance.locator("dd", has_text="€700.00").is_visible()  # EUR kept apart
    assert glance.get_by_text("Collected since").first.is_visible()
    options = page.get_by_label("Collector").locator("option").all_inner_texts()
    assert options == ["Every collector", "Unassigned", "Cara"]
    if today != month_end(today):
        assert page.get_by_text("(month to date)").first.is_visible()
        assert page.locator("circle.partial").count() > 0
    for width in (1280, 768):
        page.set_viewport_size({"width": width, "height": 900})
        # Nothing wider than the window: wide tables scroll inside their cards.
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=artifacts / f"reports-05-dashboard-{width}.png", full_page=True)

    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("link", name="£1,100.00").first.click()
    page.wait_for_url("**/dashboard/aging/**")
    assert page.get_by_text(re.compile(r"Total GBP · 1 invoice")).is_visible()
    page.screenshot(path=artifacts / "reports-06-drill-down-total.png", full_page=True)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download these invoices (CSV)").click()
    path = artifacts / "reports-07-aging-invoices.csv"
    download.value.save_as(path)
    assert "Quay GBP Ltd" in path.read_text() and "1100.00" in path.read_text()


@pytest.mark.django_db(transaction=True)
def test_an_admin_lands_on_the_dashboard_and_a_collector_on_the_queue(
    live_server, browser_page, django_user_model
):
    user(django_user_model, "ada", ADMIN)
    user(django_user_model, "colin", COLLECTOR)
    page = browser_page

    log_in(page, live_server.url, "ada")
    page.wait_for_url("**/dashboard/")
    page.context.clear_cookies()  # signed out
    log_in(page, live_server.url, "colin")
    page.wait_for_url("**/queue/")
