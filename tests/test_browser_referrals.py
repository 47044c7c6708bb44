"""A manager decides legal referrals: reads the case, confirms, sees the pack being built;
at tablet width the pages still fit and a long reason keeps the Pack column in view."""

import pytest
from django.utils import timezone

from accounts.roles import MANAGER
from dunning.models import Referral
from dunning.referrals import referral_approve
from dunning.tests.test_referrals import proposed
from tests.test_browser_dunning import user

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TABLET = {"width": 768, "height": 1024}


def log_in(page, url, username, password):
    page.goto(f"{url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda address: "/login/" not in address)


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def right_edge(locator) -> float:
    box = locator.bounding_box()
    return box["x"] + box["width"]


@pytest.mark.django_db(transaction=True)
def test_a_manager_reads_the_case_confirms_and_approves_the_referral(
    live_server, browser_page, artifacts, django_user_model
):
    user(django_user_model, "maria", MANAGER)
    customer, task = proposed(newer_invoices_due=(1, 21), name="Saltmarsh Interiors")
    invoice = customer.invoices.exclude(number__startswith="NEW-").get()
    page = browser_page
    log_in(page, live_server.url, "maria", "pw-maria-123")

    page.goto(f"{live_server.url}/referrals/")
    page.screenshot(path=artifacts / "referrals-01-list.png", full_page=True)
    page.get_by_role("link", name="Review the referral of Saltmarsh Interiors").click()
    page.wait_for_url(f"**/referrals/{task.pk}/")
    for heading in (
        "Invoices in the referral",
        "Not in the referral",
        "Final demand",
        "Payments received",
        "Promises to pay",
        "Disputes",
        "Recent contact",
    ):
        assert page.get_by_role("heading", name=heading, exact=True).is_visible(), heading
    invoice_link = page.get_by_role("link", name=invoice.number, exact=True)
    assert invoice_link.get_attribute("href") == f"/invoices/{invoice.pk}/"
    assert page.get_by_role("link", name="PDF of the final demand sent", exact=False).is_visible()
    page.screenshot(path=artifacts / "referrals-02-decision.png", full_page=True)

    approve = page.get_by_role("button", name="Approve and build the pack")
    approve.click()
    # The box is not ticked: nothing is sent and the page stays.
    assert page.url.endswith(f"/referrals/{task.pk}/")
    assert not Referral.objects.exists()

    # Hold the decision back in the page (after the page's own handler has run) to look
    # at the busy state, counting what would have been sent.
    page.evaluate(
        """() => {
            window.sent = 0;
            window.hold = (event) => {
                if (!event.defaultPrevented) window.sent += 1;
                event.preventDefault();
            };
            window.addEventListener("submit", window.hold);
        }"""
    )
    confirm = page.get_by_label("I understand this stops all chasing", exact=False)
    confirm.focus()
    page.keyboard.press("Space")
    assert confirm.is_checked()
    approve.focus()
    page.keyboard.press("Enter")

    status = page.locator("[role=status]", has_text="Building the pack")
    assert status.is_visible() and status.locator("progress").count() == 1
    busy = page.get_by_role("button", name="Working…")
    assert busy.get_attribute("aria-disabled") == "true"
    page.screenshot(path=artifacts / "referrals-03-building-the-pack.png")
    busy.press("Enter")  # a second press sends nothing more
    assert page.evaluate("window.sent") == 1
    page.evaluate(
        """() => {
            window.removeEventListener("submit", window.hold);
            document.querySelector("input[value=approve]").form.submit();
        }"""
    )

    page.get_by_text("Referral of Saltmarsh Interiors approved").wait_for()
    referral = Referral.objects.get()
    assert [line["number"] for line in referral.invoices] == [invoice.number]
    assert page.get_by_role("link", name="Download the referral pack").is_visible()
    page.screenshot(path=artifacts / "referrals-04-approved.png", full_page=True)


@pytest.mark.django_db(transaction=True)
def test_at_tablet_width_the_pages_fit_and_a_long_reason_keeps_the_pack_column_in_view(
    live_server, browser_page, artifacts, django_user_model
):
    maria = user(django_user_model, "maria", MANAGER)
    _customer, task = proposed(name="Orchard Motors")
    _earlier, earlier_task = proposed(name="Harbour Foods Ltd")
    earlier = referral_approve(actor=maria, task_id=earlier_task.pk, reason="Ignored letters")
    # A reason from before the limit, without a space to break at: the worst case.
    Referral.objects.filter(pk=earlier.pk).update(reason="x" * 5000, decided_at=timezone.now())
    page = browser_page
    page.set_viewport_size(TABLET)
    log_in(page, live_server.url, "maria", "pw-maria-123")

    page.goto(f"{live_server.url}/referrals/{task.pk}/")
    assert fits(page)
    page.screenshot(path=artifacts / "referrals-05-decision-768.png", full_page=True)

    page.get_by_label("Why decline (required)").fill("They will not pay. " * 270)
    page.get_by_role("button", name="Decline the referral").click()
    page.get_by_text("Keep the reason to 1,000 characters", exact=False).wait_for()
    assert fits(page)
    assert Referral.objects.count() == 1
    page.screenshot(path=artifacts / "referrals-06-reason-too-long-768.png", full_page=True)

    page.goto(f"{live_server.url}/referrals/")
    download = page.get_by_role("link", name="Download the pack for Harbour Foods Ltd")
    assert download.is_visible() and right_edge(download) <= TABLET["width"]
    assert fits(page)
    page.screenshot(path=artifacts / "referrals-07-list-768.png", full_page=True)

    page.get_by_text("more", exact=True).click()  # the whole reason, still in its column
    assert right_edge(download) <= TABLET["width"]
    page.screenshot(path=artifacts / "referrals-08-list-reason-open-768.png", full_page=True)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [1280, TABLET["width"]])
def test_the_referral_pages_have_no_serious_accessibility_violation(
    live_server, browser_page, django_user_model, width
):
    from tests.a11y import axe_violations, violations_report

    maria = user(django_user_model, "maria", MANAGER)
    _customer, task = proposed(newer_invoices_due=(1,), name="Orchard Motors")
    _earlier, earlier_task = proposed(name="Harbour Foods Ltd")
    referral_approve(actor=maria, task_id=earlier_task.pk, reason="They will not pay. " * 50)
    page = browser_page
    page.set_viewport_size({"width": width, "height": 1024})
    log_in(page, live_server.url, "maria", "pw-maria-123")

    for path in ("/referrals/", f"/referrals/{task.pk}/", f"/referrals/{earlier_task.pk}/"):
        page.goto(f"{live_server.url}{path}")
        found = axe_violations(page)
        assert not found, violations_report(f"{path} at {width} px", found)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [1280, TABLET["width"]])
def test_the_manager_sees_whether_going_to_court_is_worth_it_before_approving(
    live_server, browser_page, artifacts, django_user_model, width
):
    import datetime as dt
    from decimal import Decimal

    from dunning.models import Policy
    from invoices.services import payment_record

    user(django_user_model, "maria", MANAGER)
    Policy.objects.filter(name="Standard").update(interest_regime="uk")
    customer, task = proposed(invoices=3, name="Saltmarsh Interiors")
    first = customer.invoices.order_by("number").first()
    payment_record(
        actor=None,
        customer=customer,
        amount=Decimal("1500.00"),
        received_on=dt.date(2026, 2, 10),
        allocations=[(first, Decimal("1500.00"))],
    )
    page = browser_page
    page.set_viewport_size({"width": width, "height": 1024})
    log_in(page, live_server.url, "maria", "pw-maria-123")

    page.goto(f"{live_server.url}/referrals/{task.pk}/")

    section = page.locator("#court")
    assert page.get_by_role("heading", name="Is it worth going to court?").is_visible()
    # Over £10,000: said at the top of the page and in the approve form, before approving.
    over = page.get_by_text("Over the small-claims limit", exact=False)
    assert over.count() == 3 and over.first.is_visible()
    assert section.get_by_text("Expected net recovery").is_visible()
    assert section.locator("table").get_by_text("£3,500.00").first.is_visible()  # after payment
    assert fits(page)
    section.scroll_into_view_if_needed()
    section.screenshot(path=artifacts / f"referrals-09-worth-going-to-court-{width}.png")
