"""The screens people work in all day pass axe-core with no serious or critical violation and
fit the screen, on a laptop (1280 px) and a tablet (768 px), over demo-like data. Each page
checked keeps a screenshot per width in test-artifacts/."""

import datetime as dt

import pytest
from django.urls import reverse, reverse_lazy
from django.utils import timezone

from dunning.demo import demo_history
from dunning.models import Policy, QueueEntry, Task, TaskKind
from dunning.planning import dunning_run
from dunning.queue import queue_refresh
from dunning.services import dispute_open_queued, promise_record
from invoices.demo import DEMO_USERS, demo_load, demo_users_ensure
from invoices.models import DisputeReason
from letters.models import Template
from tests.a11y import axe_violations, violations_report

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LAPTOP, TABLET = 1280, 768
PASSWORDS = {spec.username: spec.password for spec in DEMO_USERS}


@pytest.fixture
def demo(transactional_db):
    """A small demo (customers with contacts, payments, disputes and a dunning history), with
    Colin's first customers carrying what fills a row: a call due, a promise, a dispute."""
    now = timezone.now()
    demo_load(customers=40, seed=2026, today=timezone.localdate())
    demo_history(now=now)
    dunning_run(as_of=now)
    busy_morning(now)


@pytest.fixture
def demo_logins(transactional_db):
    """The demo's users only: the editors need no ledger."""
    demo_users_ensure()


def busy_morning(now):
    today = timezone.localdate(now)
    first, second = colins_queue()[:2]
    colin = first.collector
    oldest, *others = first.invoices.filter(open_balance__gt=0).order_by("due_date", "pk")
    promise_record(
        actor=colin,
        customer=first,
        amount=oldest.open_balance,
        promised_for=today + dt.timedelta(days=7),
        made_on=today,
        invoices=[oldest],
    )
    if others:
        dispute_open_queued(
            actor=colin,
            invoice=others[0],
            reason=DisputeReason.QUANTITY,
            opened_on=today,
            detail="Two pallets short on delivery; the driver's note is attached.",
        )
    for customer in (first, second):
        Task.objects.create(
            kind=TaskKind.CALL,
            customer=customer,
            assigned_to=colin,
            title="Phone call",
            due_at=now - dt.timedelta(hours=1),
        )
    queue_refresh(customer_ids=[first.pk, second.pk], as_of=now)


def colins_queue():
    """Colin's customers in queue order: the one he opens first leads."""
    entries = (
        QueueEntry.objects.filter(collector__username="colin")
        .order_by("priority", "-weight", "customer")
        .select_related("customer__collector")
    )
    return [entry.customer for entry in entries]


def log_in(page, base_url, username):
    page.goto(f"{base_url}{reverse('login')}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORDS[username])
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: reverse("login") not in url)


def show(page, base_url, path, width, screenshot):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{base_url}{path}")
    page.wait_for_load_state("networkidle")
    page.screenshot(path=screenshot, full_page=True)


def check(page, base_url, path, name, artifacts):
    """Load the page at each width, keep a screenshot, and fail on blocking violations."""
    failures = []
    for width in (LAPTOP, TABLET):
        show(page, base_url, path, width, artifacts / f"a11y-{name}-{width}.png")
        found = axe_violations(page)
        if found:
            failures.append(violations_report(f"{path} at {width} px", found))
    assert not failures, "\n\n".join(failures)


def cards_scrolling_sideways(page):
    return page.evaluate(
        """() => [...document.querySelectorAll('.card')]
            .filter(card => card.scrollWidth > card.clientWidth + 1)
            .map(card => card.querySelector('h2, caption')?.textContent.trim() || card.id)"""
    )


@pytest.mark.django_db(transaction=True)
def test_the_queue_has_no_serious_accessibility_violations(
    live_server, browser_page, artifacts, demo
):
    log_in(browser_page, live_server.url, "colin")
    check(browser_page, live_server.url, reverse("queue"), "queue", artifacts)


@pytest.mark.django_db(transaction=True)
def test_the_customer_page_has_no_serious_accessibility_violations(
    live_server, browser_page, artifacts, demo
):
    log_in(browser_page, live_server.url, "colin")
    path = reverse("customer_detail", args=[colins_queue()[0].pk])
    check(browser_page, live_server.url, path, "customer", artifacts)


@pytest.mark.django_db(transaction=True)
def test_the_dashboard_has_no_serious_accessibility_violations(
    live_server, browser_page, artifacts, demo
):
    log_in(browser_page, live_server.url, "maria")
    check(browser_page, live_server.url, reverse("reports:dashboard"), "dashboard", artifacts)


@pytest.mark.django_db(transaction=True)
def test_the_calls_page_has_no_serious_accessibility_violations(
    live_server, browser_page, artifacts, demo
):
    log_in(browser_page, live_server.url, "colin")
    check(browser_page, live_server.url, reverse("calls"), "calls", artifacts)
    assert "Phone call" in browser_page.inner_text("main")


@pytest.mark.django_db(transaction=True)
def test_the_timeline_has_no_serious_accessibility_violations(
    live_server, browser_page, artifacts, demo
):
    log_in(browser_page, live_server.url, "colin")
    customer = colins_queue()[0]
    path = reverse("customer_detail", args=[customer.pk]) + "?kind=all#timeline"
    check(browser_page, live_server.url, path, "timeline", artifacts)
    assert cards_scrolling_sideways(browser_page) == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("preview", reverse_lazy("dunning:preview")),
        ("aging-drill", reverse_lazy("reports:aging_drill")),
        ("referrals", reverse_lazy("dunning:referral_list")),
        ("write-offs", reverse_lazy("write_off_list")),
    ],
)
def test_the_managers_screens_have_no_serious_accessibility_violations(
    live_server, browser_page, artifacts, demo, name, path
):
    log_in(browser_page, live_server.url, "maria")
    path = str(path) + ("?bucket=1-30" if name == "aging-drill" else "")
    check(browser_page, live_server.url, path, name, artifacts)
    assert cards_scrolling_sideways(browser_page) == []


@pytest.mark.django_db(transaction=True)
def test_the_policy_editor_has_no_serious_accessibility_violations(
    live_server, browser_page, artifacts, demo_logins
):
    log_in(browser_page, live_server.url, "ada")
    policy = Policy.objects.get(is_default=True)
    path = reverse("dunning:policy_edit", args=[policy.pk])
    check(browser_page, live_server.url, path, "policy-editor", artifacts)


@pytest.mark.django_db(transaction=True)
def test_the_template_editor_has_no_serious_accessibility_violations(
    live_server, browser_page, artifacts, demo_logins
):
    log_in(browser_page, live_server.url, "ada")
    template = Template.objects.get(key="final_demand", language="en")
    path = reverse("letters:template_edit", args=[template.pk])
    check(browser_page, live_server.url, path, "template-editor", artifacts)


@pytest.mark.django_db(transaction=True)
def test_an_admin_sees_every_screen_and_the_user_menu_on_one_line_at_1280_px(
    live_server, browser_page, artifacts, demo_logins
):
    page = browser_page
    log_in(page, live_server.url, "ada")
    show(page, live_server.url, reverse("queue"), LAPTOP, artifacts / "layout-header-1280.png")

    header = page.locator(".site-header-inner").bounding_box()
    links = page.locator(".site-nav a")
    assert links.count() >= 13
    last_link = links.last.bounding_box()
    menu = page.locator(".user-menu summary").bounding_box()
    # One row: the last screen and the user menu sit level with the first screen.
    assert abs(last_link["y"] - links.first.bounding_box()["y"]) < 2
    assert menu["y"] < last_link["y"] + last_link["height"]
    assert header["height"] < 64


@pytest.mark.django_db(transaction=True)
def test_the_user_menu_opens_on_change_password_and_log_out_and_closes_on_escape(
    live_server, browser_page, demo_logins
):
    page = browser_page
    log_in(page, live_server.url, "ada")
    menu = page.locator(".user-menu summary")
    assert "Admin" in menu.inner_text()

    menu.focus()
    page.keyboard.press("Enter")
    assert page.get_by_role("link", name="Change password").is_visible()
    page.keyboard.press("Tab")
    page.keyboard.press("Escape")
    assert not page.get_by_role("link", name="Change password").is_visible()
    assert page.evaluate("document.activeElement.tagName") == "SUMMARY"

    menu.click()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"**{reverse('login')}**")


@pytest.mark.django_db(transaction=True)
def test_at_768_px_the_queue_shows_each_flag_whole_and_names_in_two_lines_at_most(
    live_server, browser_page, artifacts, demo
):
    page = browser_page
    log_in(page, live_server.url, "colin")
    show(page, live_server.url, reverse("queue"), TABLET, artifacts / "layout-queue-768.png")

    assert cards_scrolling_sideways(page) == []
    card = page.locator("#bulk").bounding_box()
    flags = page.locator(".queue-table tbody td:last-child .badge")
    assert "Call due" in flags.all_inner_texts()
    for flag in flags.all():
        box = flag.bounding_box()
        assert box["x"] + box["width"] <= card["x"] + card["width"], flag.inner_text()
    name_lines = page.eval_on_selector_all(
        ".queue-table tbody td:nth-child(3) a", "links => links.map(a => a.getClientRects().length)"
    )
    assert max(name_lines) <= 2


@pytest.mark.django_db(transaction=True)
def test_at_768_px_the_customer_page_shows_every_dispute_link_inside_its_card(
    live_server, browser_page, artifacts, demo
):
    page = browser_page
    log_in(page, live_server.url, "colin")
    path = reverse("customer_detail", args=[colins_queue()[0].pk])
    show(page, live_server.url, path, TABLET, artifacts / "layout-customer-768.png")

    assert cards_scrolling_sideways(page) == []
    invoices = page.locator("section", has=page.get_by_role("heading", name="Open invoices"))
    card = invoices.bounding_box()
    links = invoices.get_by_role("link", name="Dispute")
    assert links.count() >= 1
    for link in links.all():
        box = link.bounding_box()
        assert box["x"] + box["width"] <= card["x"] + card["width"]


def test_the_check_names_the_rule_the_element_and_the_fix(browser_page):
    """A check that always passed would prove nothing: a page with an unlabelled field and an
    image without a text alternative fails, and says where and how to fix it."""
    browser_page.set_content(
        '<html lang="en"><title>t</title><main><h1>Form</h1>'
        '<img src="data:," id="logo"><input id="amount"></main></html>'
    )

    found = {violation.rule: violation for violation in axe_violations(browser_page)}

    assert set(found) >= {"image-alt", "label"}
    assert found["image-alt"].impact == "critical"
    assert found["label"].targets == ("#amount",)
    report = violations_report("the test page", list(found.values()))
    assert "label (critical)" in report and "#amount" in report
    assert "https://dequeuniversity.com/rules/axe/4.14/label" in report
