"""Is it worth going to court? The referral decision shows the claim with the interest the
final demand claims (with its working), the limitation date, the small-claims limit and
court fee, the customer's payments and the expected net recovery, and says plainly when the
claim is past the limit or the date, or when nothing is on file."""

import datetime as dt
import io
import re
import zipfile
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dunning.court import court_case, how_far, rate_text
from dunning.models import HoldStatus, Policy, PromiseToPay, Referral, SmallClaimsLimit
from dunning.referrals import referral_case
from invoices.models import Invoice
from invoices.services import payment_record
from invoices.templatetags.dates import day_filter
from invoices.templatetags.money import money_filter
from invoices.tests.factories import InvoiceFactory
from letters.claims import claim_record
from letters.render import Parts, context_build, letter_pdf
from letters.selectors import template_version_current
from letters.tests.test_pdf import pdf_text

from .factories import ladder  # noqa: F401
from .test_referrals import approve, proposed

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ladder")]
TODAY = dt.date(2026, 4, 15)  # after the final demand's deadline (20 Mar 2026)


@pytest.fixture(autouse=True)
def today(time_machine):
    time_machine.move_to(dt.datetime(2026, 4, 15, 10, tzinfo=dt.UTC), tick=False)


@pytest.fixture
def uk_interest():
    Policy.objects.filter(name="Standard").update(interest_regime="uk")


def page(client, task) -> str:
    response = client.get(reverse("dunning:referral_detail", args=[task.pk]))
    assert response.status_code == 200
    return response.text


def court_section(text: str) -> str:
    start = text.index('<section class="card" id="court"')
    return text[start : text.index("</section>", start)]


def money(amount) -> str:
    return money_filter(amount, "GBP")


def part_paid(customer, amount="1500.00", on=dt.date(2026, 2, 10)):
    invoice = customer.invoices.order_by("number").first()
    payment_record(
        actor=None,
        customer=customer,
        amount=Decimal(amount),
        received_on=on,
        allocations=[(invoice, Decimal(amount))],
    )
    return invoice


# --- the claim -------------------------------------------------------------------------------


@pytest.mark.usefixtures("uk_interest")
def test_the_page_shows_the_interest_the_final_demand_claims_for_the_same_invoices(
    manager_client,
):
    customer, task = proposed(invoices=2)
    part_paid(customer)  # the interest runs on 5,000, then on 3,500
    lines = [
        {"number": inv.number, "due_date": inv.due_date, "balance": inv.open_balance}
        for inv in customer.invoices.order_by("number")
    ]
    claimed = claim_record(customer=customer, regime="uk", lines=lines, today=TODAY)
    letter = context_build(
        customer=customer,
        contact=None,
        invoices=lines,
        today=TODAY,
        step="Final demand",
        interest_regime="uk",
    )
    demand = pdf_text(letter_pdf(Parts.of(template_version_current("final_demand")), letter))

    section = court_section(page(manager_client, task))

    assert claimed["total"] > 0 and claimed["compensation"] == Decimal("140.00")
    assert letter["interest"]["total"] == claimed["total"]
    for figure in (claimed["total"], claimed["compensation"]):
        assert money(figure) in demand and money(figure) in section
    claim = Decimal("8500.00") + claimed["total"] + claimed["compensation"]
    assert money(claim) in section
    # The working, period by period: the base before and after the part-payment.
    for line in claimed["lines"]:
        assert money(line["interest"]) in section
        for period in line["periods"]:
            assert money(period["base"]) in section and rate_text(period["rate"]) in section
            assert f">{period['days']}<" in section
    assert money(Decimal("3500.00")) in section and money(Decimal("5000.00")) in section


@pytest.mark.usefixtures("uk_interest")
def test_the_claim_adds_what_invoices_paid_late_owe(manager_client):
    customer, task = proposed()
    paid = InvoiceFactory(
        customer=customer,
        number="LATE-1",
        issue_date=dt.date(2025, 12, 1),
        due_date=dt.date(2026, 1, 1),
        amount=Decimal("1200.00"),
    )
    payment_record(
        actor=None,
        customer=customer,
        amount=Decimal("1200.00"),
        received_on=dt.date(2026, 3, 2),
        allocations=[(paid, Decimal("1200.00"))],
    )

    court = court_case(referral_case(task, today=TODAY), today=TODAY)

    [late] = court.interest["paid_late"]
    assert late["invoice_number"] == "LATE-1" and late["compensation"] == Decimal("70.00")
    assert court.paid_late == late["interest"] + Decimal("70.00")
    assert court.claim == (
        Decimal("5000.00")
        + court.interest["total"]
        + court.interest["compensation"]
        + court.paid_late
    )
    section = court_section(page(manager_client, task))
    assert "Interest owed on invoices paid late" in section
    assert "LATE-1" in section and "paid 2 Mar 2026" in section
    assert "Owed on invoices paid late</dt><dd>" + money(court.paid_late) in section


def test_without_a_law_or_terms_the_claim_is_the_balance_and_says_why(manager_client):
    _customer, task = proposed()

    section = court_section(page(manager_client, task))

    assert "No interest or compensation is claimed. The policy claims no statutory" in section
    assert "The claim</dt><dd>" + money(Decimal("5000.00")) in section


def test_a_us_customer_is_charged_under_their_accepted_terms_with_the_working(manager_client):
    _customer, task = proposed(
        invoices=2,
        country="US",
        region="CA",
        currency="USD",
        terms_accepted_on=dt.date(2025, 6, 1),
        late_interest_rate=Decimal("12.00"),
        late_fee=Decimal("25.00"),
    )

    section = court_section(page(manager_client, task))

    assert "Interest under the terms of business accepted on 1 Jun 2025" in section
    assert "12.00%" in section and money_filter(Decimal("50.00"), "USD") in section
    limit = money_filter(Decimal("6250.00"), "USD")
    assert (
        f"Over the small-claims limit ({limit}): a claim in a higher court, where costs are"
        " higher and rarely recovered" in section
    )


# --- the verdict -------------------------------------------------------------------------------


def test_a_claim_within_the_small_claims_limit_says_so_with_the_limitation_date(manager_client):
    _customer, task = proposed()

    section = court_section(page(manager_client, task))

    assert "Within the small-claims limit (£10,000.00); limitation date in 5 years." in section
    assert day_filter(dt.date(2032, 1, 5)) in section  # six years from the due date


def test_a_claim_over_the_small_claims_limit_says_so_before_approval(manager_client):
    _customer, task = proposed(invoices=3)

    text = page(manager_client, task)

    verdict = (
        "Over the small-claims limit (£10,000.00): a fast-track claim, costs not recoverable"
        " in the same way"
    )
    assert verdict in court_section(text)
    assert text.index(verdict) < text.index("Invoices in the referral")  # at the top
    approve_form = text[text.index('value="approve"') :]
    assert verdict in approve_form[: approve_form.index("Approve and build the pack")]


def test_a_claim_past_the_limitation_date_is_not_worth_going_to_court(manager_client):
    customer, task = proposed()
    Invoice.objects.filter(customer=customer).update(
        issue_date=dt.date(2018, 12, 10), due_date=dt.date(2019, 1, 10)
    )

    text = page(manager_client, task)

    section = court_section(text)
    assert "Past the limitation date on 10 Jan 2025: not worth going to court." in section
    assert "No interest is claimed on a debt past its limitation date." in section
    assert "disabled>Approve and build the pack" in text  # referrals.py still refuses it


def test_a_limitation_date_close_by_says_to_issue_the_claim_before_it(manager_client):
    customer, task = proposed()
    Invoice.objects.filter(customer=customer).update(
        issue_date=dt.date(2020, 5, 1), due_date=dt.date(2020, 6, 1)
    )

    section = court_section(page(manager_client, task))

    assert "limitation date in 47 days (1 Jun 2026): issue the claim before then" in section


def test_with_nothing_on_file_for_the_jurisdiction_it_says_so_plainly(manager_client):
    _customer, task = proposed(country="NO")

    section = court_section(page(manager_client, task))

    assert "No small-claims limit on file for Norway; no limitation date is known." in section
    assert "No small-claims limit or court fee is on file for Norway." in section
    assert "No limitation period is on file for Norway" in section
    assert re.search(r"Court fee</dt><dd><span[^>]*>none on file", section)


def test_the_court_fee_comes_off_the_expected_net_recovery(manager_client):
    SmallClaimsLimit.objects.filter(country="GB", region="").update(fee=Decimal("455.00"))
    _customer, task = proposed()

    section = court_section(page(manager_client, task))

    assert "Court fee</dt><dd>" + money(Decimal("455.00")) in section
    assert "Expected net recovery</dt><dd>" + money(Decimal("4545.00")) in section
    assert "Not counted: a lawyer" in section


def test_a_court_fee_above_the_claim_makes_it_not_worth_it():
    SmallClaimsLimit.objects.filter(country="GB", region="").update(fee=Decimal("6000.00"))
    _customer, task = proposed()

    court = court_case(referral_case(task, today=TODAY), today=TODAY)

    assert court.level == "stop" and court.net == Decimal("-1000.00")
    assert court.verdict == (
        "The court fee (£6,000.00) is more than the claim (£5,000.00): not worth going to court"
    )


def test_the_payment_history_counts_the_last_twelve_months(manager_client):
    customer, task = proposed()
    part_paid(customer, "100.00", on=dt.date(2026, 2, 10))
    part_paid(customer, "250.00", on=dt.date(2026, 3, 1))
    part_paid(customer, "999.00", on=dt.date(2025, 3, 1))  # more than a year ago
    for status in (HoldStatus.KEPT, HoldStatus.BROKEN, HoldStatus.BROKEN):
        PromiseToPay.objects.create(
            customer=customer,
            amount=Decimal("50.00"),
            promised_for=dt.date(2026, 2, 1),
            made_on=dt.date(2026, 1, 20),
            status=status,
        )

    section = court_section(page(manager_client, task))

    assert f"2 payments totalling {money(Decimal('350.00'))}; last payment 1 Mar 2026" in section
    assert "1 kept, 2 broken" in section


def test_rates_read_as_people_write_them():
    assert rate_text(Decimal("11.750")) == "11.75%"
    assert rate_text(Decimal("8.000")) == "8.00%"
    assert rate_text(Decimal("11.125")) == "11.125%"


def test_how_far_says_days_months_and_years():
    assert how_far(TODAY, dt.date(2026, 4, 16)) == "in 1 day"
    assert how_far(TODAY, dt.date(2026, 9, 1)) == "in 4 months"
    assert how_far(TODAY, dt.date(2030, 5, 1)) == "in 4 years"
    assert how_far(TODAY, dt.date(2026, 4, 1)) == "passed on 1 Apr 2026"


# --- cost ------------------------------------------------------------------------------------


@pytest.mark.usefixtures("uk_interest")
def test_it_costs_the_same_queries_for_one_or_twenty_invoices(manager_client):
    def queries_for(count):
        customer, task = proposed(invoices=count)
        part_paid(customer, "10.00")
        case = referral_case(task, today=TODAY)
        with CaptureQueriesContext(connection) as court:
            court_case(case, today=TODAY)
        with CaptureQueriesContext(connection) as whole:
            page(manager_client, task)
        return len(court), len(whole)

    one, twenty = queries_for(1), queries_for(20)
    assert one == twenty
    assert one[0] <= 8


# --- the pack --------------------------------------------------------------------------------


@pytest.mark.usefixtures("uk_interest")
def test_the_pack_holds_the_court_page_and_the_summary_gives_the_claim_with_interest(
    manager_client,
):
    customer, task = proposed()
    court = court_case(referral_case(task, today=TODAY), today=TODAY)

    approve(manager_client, task)

    archive = zipfile.ZipFile(io.BytesIO(bytes(Referral.objects.get().pack.content)))
    worth = pdf_text(archive.read("worth-going-to-court.pdf"))
    assert "Is it worth going to court?" in worth
    for figure in (court.interest["total"], court.interest["compensation"], court.claim):
        assert money(figure) in worth
    assert "Within the small-claims limit" in worth
    line = court.interest["lines"][0]["periods"][0]
    assert money(line["base"]) in worth and rate_text(line["rate"]) in worth
    summary = pdf_text(archive.read("case-summary.pdf"))
    assert "Claim with interest" in summary and money(court.claim) in summary
    assert "worth-going-to-court.pdf" in summary
    assert timezone.localdate() == TODAY
