"""An admin imports 100,000 invoices through the browser: the preview and the import run in
the worker while a progress bar moves in place, and the import's result page ends it."""

import csv
import random
import threading
import time
from datetime import date, timedelta
from itertools import pairwise

import pytest
from django.db import connections
from django.utils.module_loading import import_string
from playwright.sync_api import Error as PlaywrightError

import jobs.progress
import jobs.services
import jobs.views
from accounts.roles import ADMIN
from invoices.importing import reader
from invoices.models import Customer, Invoice
from tests.a11y import axe_violations, violations_report
from tests.test_browser_dunning import log_in, user

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROWS = 100_000
CUSTOMERS = 1_000


class Worker:
    """The worker as a thread beside the live server, so that the job really runs while the
    page polls (a qcluster process cannot reach the in-memory SQLite test database). While
    held it takes no job, as a busy worker would not."""

    def __init__(self):
        self.free = threading.Event()
        self.free.set()
        self.threads: list[threading.Thread] = []

    def enqueue(self, func, *args, **options):
        def run():
            try:
                assert self.free.wait(30), "the worker was held too long"
                import_string(func)(*args)
            finally:
                connections.close_all()

        thread = threading.Thread(target=run, name=options.get("task_name"))
        self.threads.append(thread)
        thread.start()


@pytest.fixture
def worker(monkeypatch):
    worker = Worker()
    monkeypatch.setattr(jobs.services, "async_task", worker.enqueue)
    # 100,000 rows are read in half a second: the page polls and the heartbeat writes more
    # often than their defaults (every second, every half second), and the reading is
    # slowed (10 ms a report, every 1,024 lines: a second in all), to be seen moving.
    monkeypatch.setattr(jobs.views, "POLL_SECONDS", 0.2)
    monkeypatch.setattr(jobs.progress, "PUBLISH_EVERY", 0.1)
    done = reader.report_done
    monkeypatch.setattr(reader, "report_done", lambda n: (time.sleep(0.01), done(n)))
    yield worker
    worker.free.set()
    for thread in worker.threads:
        thread.join(60)


def write_invoices(path, rows: int) -> None:
    rng = random.Random(7)
    start = date(2025, 1, 1)
    with open(path, "w", newline="", encoding="utf-8") as target:
        out = csv.writer(target)
        out.writerow(["number", "customer_external_id", "issue_date", "due_date", "amount"])
        for n in range(1, rows + 1):
            issued = start + timedelta(days=rng.randrange(365))
            out.writerow(
                [
                    f"BIG-{n:07d}",
                    f"C{rng.randrange(CUSTOMERS):05d}",
                    issued.isoformat(),
                    (issued + timedelta(days=30)).isoformat(),
                    f"{rng.randrange(1_000, 500_000) / 100:.2f}",
                ]
            )


def bar_values_until(page, url_part: str, screenshot, timeout: float = 45) -> list[int]:
    """The progress bar's values, each change once, until the page moves on to url_part;
    a screenshot of the first value past zero."""
    seen: list[int] = []
    deadline = time.monotonic() + timeout
    while url_part not in page.url:
        assert time.monotonic() < deadline, f"still on {page.url} after {timeout} s: {seen}"
        try:
            value = page.locator("progress").get_attribute("value", timeout=300)
        except PlaywrightError:  # between pages, or the bar is not there
            value = None
        if value is not None and (not seen or int(value) != seen[-1]):
            seen.append(int(value))
            if screenshot and int(value) > 0:
                page.screenshot(path=screenshot, full_page=True)
                screenshot = None
        page.wait_for_timeout(50)
    return seen


@pytest.mark.django_db(transaction=True)
def test_an_admin_imports_100000_invoices_watching_the_progress_bar(
    live_server, browser_page, artifacts, django_user_model, tmp_path, settings, worker
):
    settings.MEDIA_ROOT = tmp_path / "media"
    user(django_user_model, "ada", ADMIN)
    Customer.objects.bulk_create(
        Customer(
            external_id=f"C{n:05d}",
            name=f"Customer {n}",
            timezone="Europe/London",
            currency="GBP",
            country="GB",
        )
        for n in range(CUSTOMERS)
    )
    export = tmp_path / "invoices-100k.csv"
    write_invoices(export, ROWS)
    page = browser_page
    log_in(page, live_server.url, "ada", "pw-ada-123")

    page.goto(f"{live_server.url}/import/")
    page.get_by_label("What the file holds").select_option("invoices")
    page.get_by_label("CSV file").set_input_files(export)
    page.get_by_role("button", name="Upload and map columns").click()
    worker.free.clear()
    page.get_by_role("button", name="Preview").click()
    page.wait_for_url("**/jobs/*/")  # the preview is a job too, waiting for the worker
    page.get_by_role("progressbar", name="Progress").wait_for()
    page.get_by_text("It starts as soon as the background worker is free.").wait_for()
    violations = axe_violations(page)
    assert not violations, violations_report("a job's progress page", violations)
    worker.free.set()
    page.get_by_role("heading", name="Ready to import").wait_for(timeout=45_000)
    assert page.get_by_text(f"{ROWS} rows:").is_visible()
    page.screenshot(path=artifacts / "import-progress-01-preview.png", full_page=True)

    page.get_by_role("button", name=f"Import {ROWS} rows").click()
    page.wait_for_url("**/jobs/*/")
    values = bar_values_until(
        page, "/import/batches/", artifacts / "import-progress-02-running.png"
    )
    print("progress bar values seen:", values)

    assert any(later > earlier for earlier, later in pairwise(values)), values
    assert all(0 <= value <= ROWS for value in values), values
    page.get_by_role("heading", name="Import of invoices-100k.csv").wait_for()
    assert page.get_by_role("row", name=f"Rows {ROWS}").is_visible()
    assert page.get_by_role("row", name=f"Created {ROWS}").is_visible()
    assert Invoice.objects.count() == ROWS
    page.screenshot(path=artifacts / "import-progress-03-result.png", full_page=True)
