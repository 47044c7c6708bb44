import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from invoices.services import dispute_open, payment_record
from invoices.tests.factories import ContactFactory, CustomerFactory, InvoiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_today(time_machine, today):
    time_machine.move_to(dt.datetime.combine(today, dt.time(12), tzinfo=dt.UTC), tick=False)


def overdue_invoice(customer, *, days: int, amount="100.00"):
    due = dt.date(2026, 3, 15) - dt.timedelta(days=days)
    return InvoiceFactory(
        customer=customer,
        issue_date=due - dt.timedelta(days=30),
        due_date=due,
        amount=Decimal(amount),
    )


def listed_names(response):
    return [customer.name for customer in response.context["page"].object_list]


def get_list(client, **params):
    return client.get(reverse("customer_list"), params)


# --- the list ---------------------------------------------------------------------------


def test_it_finds_customers_by_part_of_their_name(collector_client):
    CustomerFactory(name="Harbour Foods Ltd")
    CustomerFactory(name="Pine Joinery")

    response = get_list(collector_client, q="harbour")

    assert listed_names(response) == ["Harbour Foods Ltd"]


def test_it_finds_a_customer_by_external_id(collector_client):
    CustomerFactory(name="Harbour Foods Ltd", external_id="ACC-1001")
    CustomerFactory(name="Pine Joinery", external_id="ACC-1002")

    response = get_list(collector_client, q="ACC-1002")

    assert listed_names(response) == ["Pine Joinery"]


def test_it_filters_by_assigned_collector(collector_client, collector, manager):
    CustomerFactory(name="Mine", collector=collector)
    CustomerFactory(name="Theirs", collector=manager)

    response = get_list(collector_client, collector=collector.pk)

    assert listed_names(response) == ["Mine"]


def test_it_filters_customers_nobody_is_assigned_to(collector_client, collector):
    CustomerFactory(name="Mine", collector=collector)
    CustomerFactory(name="Nobody's")

    response = get_list(collector_client, collector="none")

    assert listed_names(response) == ["Nobody's"]


def test_it_filters_by_currency(collector_client):
    CustomerFactory(name="Sterling", currency="GBP")
    CustomerFactory(name="Euro", currency="EUR")

    response = get_list(collector_client, currency="EUR")

    assert listed_names(response) == ["Euro"]


@pytest.mark.parametrize("flag", ["on_hold", "do_not_contact", "insolvent", "credit_hold"])
def test_it_filters_by_flag(collector_client, flag):
    CustomerFactory(name="Flagged", **{flag: True})
    CustomerFactory(name="Plain")

    response = get_list(collector_client, flag=flag)

    assert listed_names(response) == ["Flagged"]


def test_it_can_show_only_customers_with_something_overdue(collector_client):
    late = CustomerFactory(name="Late")
    overdue_invoice(late, days=3)
    early = CustomerFactory(name="Not yet due")
    overdue_invoice(early, days=-10)

    response = get_list(collector_client, has_overdue="on")

    assert listed_names(response) == ["Late"]


def test_it_sorts_by_overdue_balance_highest_first(collector_client):
    for name, amount in [("Small", "50.00"), ("Big", "900.00"), ("Middle", "300.00")]:
        overdue_invoice(CustomerFactory(name=name), days=10, amount=amount)

    response = get_list(collector_client, sort="-overdue")

    assert listed_names(response) == ["Big", "Middle", "Small"]


def test_sorting_by_overdue_leaves_out_customers_with_nothing_overdue(collector_client):
    overdue_invoice(CustomerFactory(name="Late"), days=10)
    overdue_invoice(CustomerFactory(name="Not yet due"), days=-10)

    response = get_list(collector_client, sort="overdue")

    assert listed_names(response) == ["Late"]
    assert "only customers with something overdue are listed" in response.text


def test_sorting_by_overdue_keeps_the_other_filters(collector_client, collector):
    overdue_invoice(CustomerFactory(name="Mine", collector=collector), days=10)
    overdue_invoice(CustomerFactory(name="Unassigned"), days=10)

    response = get_list(collector_client, sort="-overdue", collector=collector.pk)

    assert listed_names(response) == ["Mine"]


def test_sorting_by_overdue_pages_and_counts(collector_client):
    for number in range(51):
        overdue_invoice(CustomerFactory(), days=10, amount=f"{number + 1}.00")

    response = get_list(collector_client, sort="-overdue", page=2)

    assert [c.overdue_total for c in response.context["page"].object_list] == [Decimal("1.00")]
    assert "51–51 of 51 customers" in response.text


def test_it_sorts_by_name_backwards(collector_client):
    for name in ["Beta", "Alpha", "Gamma"]:
        CustomerFactory(name=name)

    response = get_list(collector_client, sort="-name")

    assert listed_names(response) == ["Gamma", "Beta", "Alpha"]


def test_it_shows_open_and_overdue_balances_and_the_oldest_days_late(collector_client):
    customer = CustomerFactory(name="Harbour Foods Ltd")
    overdue_invoice(customer, days=40, amount="100.00")
    overdue_invoice(customer, days=5, amount="200.00")
    overdue_invoice(customer, days=-5, amount="400.00")

    response = get_list(collector_client)

    row = response.context["page"].object_list[0]
    assert (row.open_total, row.overdue_total, row.days_late) == (
        Decimal("700.00"),
        Decimal("300.00"),
        40,
    )
    assert "£700.00" in response.text and "£300.00" in response.text


def test_it_formats_money_in_the_firms_locale_whatever_the_browser_asks(collector_client):
    overdue_invoice(CustomerFactory(currency="EUR"), days=5, amount="1234.50")

    response = collector_client.get(reverse("customer_list"), HTTP_ACCEPT_LANGUAGE="de-DE")

    assert "€1,234.50" in response.text


def test_it_formats_money_in_the_locale_the_firm_sets(collector_client, settings):
    settings.LANGUAGE_CODE = "de-de"
    overdue_invoice(CustomerFactory(currency="EUR"), days=5, amount="1234.50")

    response = collector_client.get(reverse("customer_list"))

    assert "1.234,50\xa0€" in response.text


def test_it_shows_fifty_customers_a_page(collector_client):
    CustomerFactory.create_batch(51)

    first = get_list(collector_client)
    second = get_list(collector_client, page=2)

    assert len(first.context["page"].object_list) == 50
    assert len(second.context["page"].object_list) == 1
    assert "1–50 of 51 customers" in first.text


def test_it_answers_an_htmx_request_with_just_the_table(collector_client):
    CustomerFactory(name="Harbour Foods Ltd")

    response = collector_client.get(reverse("customer_list"), {"q": "harb"}, HTTP_HX_REQUEST="true")

    assert "Harbour Foods Ltd" in response.text
    assert "<html" not in response.text
    assert "HX-Request" in response["Vary"]


def test_it_gives_the_whole_page_without_htmx(collector_client):
    response = get_list(collector_client)

    assert "<html" in response.text and 'id="results"' in response.text


@pytest.mark.parametrize(
    "params", [{"page": "abc"}, {"page": "-4"}, {"page": "99999"}, {"sort": "nonsense"}]
)
def test_it_ignores_nonsense_paging_and_sorting(collector_client, params):
    CustomerFactory(name="Harbour Foods Ltd")

    response = get_list(collector_client, **params)

    assert response.status_code == 200
    assert listed_names(response) == ["Harbour Foods Ltd"]


def test_it_reports_an_unknown_collector_and_lists_everyone(collector_client):
    CustomerFactory(name="Harbour Foods Ltd")

    response = get_list(collector_client, collector="x")

    assert listed_names(response) == ["Harbour Foods Ltd"]
    assert "was ignored" in response.text


def test_the_list_costs_the_same_queries_for_5_and_50_customers(collector_client, collector):
    def queries_for(count):
        for customer in CustomerFactory.create_batch(count, collector=collector):
            overdue_invoice(customer, days=10)
        with CaptureQueriesContext(connection) as captured:
            response = get_list(collector_client, sort="-overdue", has_overdue="on")
        assert response.status_code == 200
        return len(captured)

    few = queries_for(5)
    many = queries_for(45)

    assert few == many


# --- one customer -----------------------------------------------------------------------
# The ledger's figures on the customer page (workspace.customer_views); the page's holds, next
# step, timeline and actions are tested in dunning/tests/test_customer_page.py and
# test_customer_actions.py.


def test_the_customer_page_shows_balances_after_a_part_payment_and_a_dispute(
    collector_client, collector
):
    customer = CustomerFactory()
    first = overdue_invoice(customer, days=20, amount="100.00")
    second = overdue_invoice(customer, days=10, amount="200.00")
    overdue_invoice(customer, days=-10, amount="50.00")
    payment_record(
        actor=collector,
        customer=customer,
        amount=Decimal("40.00"),
        received_on=dt.date(2026, 3, 10),
        allocations=[(first, Decimal("40.00"))],
    )
    dispute_open(
        actor=collector,
        invoice=second,
        reason="pricing",
        opened_on=dt.date(2026, 3, 12),
        amount=Decimal("80.00"),
    )

    response = collector_client.get(reverse("customer_detail", args=[customer.pk]))

    totals = response.context["view"].totals
    assert (totals.open, totals.overdue, totals.disputed) == (
        Decimal("310.00"),
        Decimal("260.00"),
        Decimal("80.00"),
    )
    assert "£310.00" in response.text and "£260.00" in response.text


def test_the_customer_page_shows_unallocated_credit_after_an_overpayment(
    collector_client, collector
):
    customer = CustomerFactory()
    overdue_invoice(customer, days=5, amount="100.00")
    payment_record(
        actor=collector,
        customer=customer,
        amount=Decimal("130.00"),
        received_on=dt.date(2026, 3, 14),
    )

    response = collector_client.get(reverse("customer_detail", args=[customer.pk]))

    totals = response.context["view"].totals
    assert (totals.open, totals.unallocated_credit) == (Decimal("0.00"), Decimal("30.00"))


def test_the_customer_page_lists_contacts_with_their_opt_outs(collector_client):
    contact = ContactFactory(name="Jo Payables", email_opt_out=True)

    response = collector_client.get(reverse("customer_detail", args=[contact.customer.pk]))

    assert "Jo Payables" in response.text and "No email" in response.text


def test_the_customer_page_shows_days_overdue_per_invoice(collector_client):
    customer = CustomerFactory()
    invoice = overdue_invoice(customer, days=12)

    response = collector_client.get(reverse("customer_detail", args=[customer.pk]))

    [shown] = response.context["view"].open_invoices
    assert (shown.number, shown.days_late) == (invoice.number, 12)


def test_the_customer_page_separates_open_and_resolved_disputes(collector_client, collector):
    from invoices.services import dispute_resolve

    customer = CustomerFactory()
    settled = dispute_open(
        actor=collector,
        invoice=overdue_invoice(customer, days=9),
        reason="quality",
        opened_on=dt.date(2026, 3, 1),
    )
    dispute_resolve(
        actor=collector, dispute=settled, outcome="resolved_for_us", resolved_on=dt.date(2026, 3, 5)
    )
    current = dispute_open(
        actor=collector,
        invoice=overdue_invoice(customer, days=4),
        reason="no_po",
        opened_on=dt.date(2026, 3, 13),
    )

    view = collector_client.get(reverse("customer_detail", args=[customer.pk])).context["view"]

    assert [d.pk for d in view.open_disputes] == [current.pk]
    assert [d.pk for d in view.past_disputes] == [settled.pk]


def test_the_customer_page_shows_the_audit_timeline(collector_client, collector):
    customer = CustomerFactory()
    invoice = overdue_invoice(customer, days=9)
    dispute_open(actor=collector, invoice=invoice, reason="pricing", opened_on=dt.date(2026, 3, 1))

    response = collector_client.get(reverse("customer_detail", args=[customer.pk]))

    assert f"Dispute opened on {invoice.number}" in response.text
    assert "ledger.dispute.opened" in response.text


def test_an_unknown_customer_is_not_found(collector_client):
    response = collector_client.get(reverse("customer_detail", args=[999999]))

    assert response.status_code == 404
    assert "There is nothing at this address" in response.text


def test_the_customer_page_costs_the_same_queries_for_5_and_50_invoices(
    collector_client, collector
):
    def queries_for(count):
        customer = CustomerFactory()
        ContactFactory(customer=customer)
        invoices = [overdue_invoice(customer, days=days + 1) for days in range(count)]
        payment_record(
            actor=collector,
            customer=customer,
            amount=Decimal("10.00"),
            received_on=dt.date(2026, 3, 1),
        )
        dispute_open(
            actor=collector, invoice=invoices[-1], reason="pricing", opened_on=dt.date(2026, 3, 2)
        )
        with CaptureQueriesContext(connection) as captured:
            response = collector_client.get(reverse("customer_detail", args=[customer.pk]))
        assert response.status_code == 200
        return len(captured)

    assert queries_for(5) == queries_for(50)


def test_a_customer_name_is_escaped_once_in_the_heading(collector_client):
    customer = CustomerFactory(name="Smith & Sons <Ltd>")

    response = collector_client.get(reverse("customer_detail", args=[customer.pk]))

    assert "<h1>Smith &amp; Sons &lt;Ltd&gt;</h1>" in response.text


def test_a_customer_with_very_many_open_invoices_is_pointed_to_the_full_list(
    collector_client, monkeypatch
):
    monkeypatch.setattr("invoices.selectors.CUSTOMER_PAGE_OPEN_LIMIT", 2)
    customer = CustomerFactory()
    for days in (1, 2, 3):
        overdue_invoice(customer, days=days)

    response = collector_client.get(reverse("customer_detail", args=[customer.pk]))

    assert len(response.context["view"].open_invoices) == 2
    assert "Showing the 2 oldest of 3" in response.text
    assert "See every open invoice" in response.text
