import datetime as dt
from decimal import Decimal

import pytest

from invoices.services import credit_note_issue, payment_record
from invoices.tests.factories import CustomerFactory, InvoiceFactory
from reports.aging import aging, aging_invoices, buckets_for, parse_edges

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 15)
AS_OF = dt.date(2026, 2, 28)  # a past date: the allocations are replayed
BUCKETS = buckets_for()


def owes(amount: str, *, due: dt.date, customer=None, issued: dt.date | None = None):
    return InvoiceFactory(
        customer=customer or CustomerFactory(),
        issue_date=issued or due - dt.timedelta(days=30),
        due_date=due,
        amount=Decimal(amount),
    )


def days_before(date: dt.date, days: int) -> dt.date:
    return date - dt.timedelta(days=days)


def pay(invoice, amount: str, on: dt.date):
    payment_record(
        actor=None,
        customer=invoice.customer,
        amount=Decimal(amount),
        received_on=on,
        allocations=[(invoice, Decimal(amount))],
    )


def credit(invoice, amount: str, on: dt.date):
    credit_note_issue(
        actor=None, invoice=invoice, amount=Decimal(amount), reason="Damaged", issued_on=on
    )


def amounts(row) -> list[str]:
    return [str(amount) for amount in row.amounts]


def by_currency(as_of: dt.date = AS_OF, today: dt.date = TODAY, **kwargs):
    return aging(as_of=as_of, today=today, buckets=BUCKETS, **kwargs)


def test_default_buckets_are_current_then_thirty_day_steps_then_ninety_plus():
    assert [(b.key, b.label, b.low, b.high) for b in BUCKETS] == [
        ("current", "Current", None, 0),
        ("1-30", "1–30", 1, 30),
        ("31-60", "31–60", 31, 60),
        ("61-90", "61–90", 61, 90),
        ("90+", "90+", 91, None),
    ]


@pytest.mark.parametrize(
    ("text", "edges"), [("30,60,90", (30, 60, 90)), (" 7, 14 ,", (7, 14)), ("45", (45,))]
)
def test_edges_are_read_from_comma_separated_days(text, edges):
    assert parse_edges(text) == edges


@pytest.mark.parametrize(
    "text", ["", "30,30", "60,30", "0,30", "-5", "thirty", "1.5", "1,2,3,4,5,6,7", "99999"]
)
def test_edges_that_are_not_increasing_positive_whole_numbers_are_refused(text):
    with pytest.raises(ValueError, match=r"\w"):
        parse_edges(text)


@pytest.mark.parametrize(
    ("days", "bucket"),
    [(-10, 0), (0, 0), (1, 1), (30, 1), (31, 2), (60, 2), (61, 3), (90, 3), (91, 4), (400, 4)],
)
def test_an_invoice_falls_in_the_bucket_of_its_days_past_due_on_the_date(days, bucket):
    owes("100.00", due=days_before(AS_OF, days), issued=days_before(AS_OF, max(days, 0) + 400))

    [row] = by_currency()

    assert row.counts == [1 if i == bucket else 0 for i in range(5)]
    assert row.amounts[bucket] == Decimal("100.00")


def test_a_partial_payment_before_the_date_leaves_the_rest_in_the_bucket():
    invoice = owes("100.00", due=days_before(AS_OF, 10))
    pay(invoice, "30.25", on=days_before(AS_OF, 5))

    [row] = by_currency()

    assert amounts(row) == ["0.00", "69.75", "0.00", "0.00", "0.00"]
    assert (row.count, row.total) == (1, Decimal("69.75"))


def test_payments_after_the_date_do_not_reduce_its_balance():
    invoice = owes("100.00", due=days_before(AS_OF, 10))
    pay(invoice, "40.00", on=days_before(AS_OF, 1))
    pay(invoice, "60.00", on=AS_OF + dt.timedelta(days=3))

    [row] = by_currency()

    assert row.total == Decimal("60.00")


def test_a_credit_note_reduces_the_balance_from_the_day_it_was_issued():
    invoice = owes("200.00", due=days_before(AS_OF, 40))
    credit(invoice, "50.00", on=AS_OF)

    [before] = by_currency(as_of=days_before(AS_OF, 1))
    [on_the_day] = by_currency()

    assert (before.total, on_the_day.total) == (Decimal("200.00"), Decimal("150.00"))


def test_an_invoice_paid_on_the_date_itself_is_not_open_that_day():
    invoice = owes("100.00", due=days_before(AS_OF, 10))
    pay(invoice, "100.00", on=AS_OF)

    assert by_currency() == []


def test_an_invoice_paid_the_day_after_is_open_on_the_date():
    invoice = owes("100.00", due=days_before(AS_OF, 10))
    pay(invoice, "100.00", on=AS_OF + dt.timedelta(days=1))

    [row] = by_currency()

    assert amounts(row) == ["0.00", "100.00", "0.00", "0.00", "0.00"]


def test_an_invoice_settled_by_a_payment_and_a_credit_before_the_date_is_not_open():
    invoice = owes("100.00", due=days_before(AS_OF, 10))
    pay(invoice, "70.00", on=days_before(AS_OF, 8))
    credit(invoice, "30.00", on=days_before(AS_OF, 2))

    assert by_currency() == []


def test_an_invoice_issued_after_the_date_is_not_counted():
    owes("100.00", due=AS_OF + dt.timedelta(days=30), issued=AS_OF + dt.timedelta(days=1))
    owes("80.00", due=AS_OF + dt.timedelta(days=30), issued=AS_OF)

    [row] = by_currency()

    assert (row.count, row.total) == (1, Decimal("80.00"))


def test_an_invoice_issued_after_the_date_is_not_counted_on_the_today_path_either():
    owes("100.00", due=TODAY + dt.timedelta(days=30), issued=TODAY + dt.timedelta(days=1))

    assert by_currency(as_of=TODAY) == []


def test_currencies_are_kept_apart():
    owes("100.00", due=days_before(AS_OF, 5), customer=CustomerFactory(currency="GBP"))
    owes("250.50", due=days_before(AS_OF, 5), customer=CustomerFactory(currency="EUR"))
    owes("10.00", due=days_before(AS_OF, 95), customer=CustomerFactory(currency="EUR"))

    rows = by_currency()

    assert [(r.key, r.label, r.currency, r.count, str(r.total)) for r in rows] == [
        ("EUR", "EUR", "EUR", 2, "260.50"),
        ("GBP", "GBP", "GBP", 1, "100.00"),
    ]
    assert amounts(rows[0]) == ["0.00", "250.50", "0.00", "0.00", "10.00"]


def test_one_currency_can_be_chosen():
    owes("100.00", due=days_before(AS_OF, 5), customer=CustomerFactory(currency="GBP"))
    owes("250.50", due=days_before(AS_OF, 5), customer=CustomerFactory(currency="EUR"))

    [row] = by_currency(currency="EUR")

    assert row.total == Decimal("250.50")


def test_custom_edges_make_their_own_buckets():
    buckets = buckets_for((15, 45))
    for days in (0, 15, 16, 45, 46):
        owes("10.00", due=days_before(AS_OF, days), issued=days_before(AS_OF, 100))

    [row] = aging(as_of=AS_OF, today=TODAY, buckets=buckets)

    assert [b.key for b in buckets] == ["current", "1-15", "16-45", "45+"]
    assert row.counts == [1, 1, 2, 1]


def test_by_customer_lists_each_customer_and_currency_largest_first(django_user_model):
    small, large = CustomerFactory(name="Small Ltd"), CustomerFactory(name="Large plc")
    owes("50.00", due=days_before(AS_OF, 5), customer=small)
    owes("300.00", due=days_before(AS_OF, 5), customer=large)
    owes("20.00", due=days_before(AS_OF, 70), customer=large)

    rows = by_currency(by="customer")

    assert [(r.key, r.label, str(r.total), r.count) for r in rows] == [
        (large.pk, "Large plc", "320.00", 2),
        (small.pk, "Small Ltd", "50.00", 1),
    ]
    assert amounts(rows[0]) == ["0.00", "300.00", "0.00", "20.00", "0.00"]


def test_the_limit_keeps_the_largest_rows():
    for amount in ("10.00", "30.00", "20.00"):
        owes(amount, due=days_before(AS_OF, 5))

    rows = by_currency(by="customer", limit=2)

    assert [str(r.total) for r in rows] == ["30.00", "20.00"]


def test_by_collector_puts_customers_without_one_under_unassigned(django_user_model):
    colin = django_user_model.objects.create_user("colin", first_name="Colin", last_name="Ames")
    owes("100.00", due=days_before(AS_OF, 5), customer=CustomerFactory(collector=colin))
    owes("40.00", due=days_before(AS_OF, 5), customer=CustomerFactory(collector=colin))
    owes("500.00", due=days_before(AS_OF, 35), customer=CustomerFactory(collector=None))

    rows = by_currency(by="collector")

    assert [(r.key, r.label, str(r.total), r.count) for r in rows] == [
        (None, "Unassigned", "500.00", 1),
        (colin.pk, "Colin Ames", "140.00", 2),
    ]


def test_a_collector_or_the_unassigned_customers_can_be_chosen(django_user_model):
    colin = django_user_model.objects.create_user("colin")
    owes("100.00", due=days_before(AS_OF, 5), customer=CustomerFactory(collector=colin))
    owes("500.00", due=days_before(AS_OF, 5), customer=CustomerFactory(collector=None))

    [mine] = by_currency(collector_id=colin.pk)
    [nobodys] = by_currency(unassigned=True)

    assert (mine.total, nobodys.total) == (Decimal("100.00"), Decimal("500.00"))


def test_the_drill_down_lists_exactly_a_buckets_invoices_with_their_balance_on_the_date():
    older = owes("100.00", due=days_before(AS_OF, 25))
    newer = owes("80.00", due=days_before(AS_OF, 3))
    pay(newer, "30.00", on=days_before(AS_OF, 1))
    pay(newer, "50.00", on=AS_OF + dt.timedelta(days=2))  # closed after the date
    owes("70.00", due=days_before(AS_OF, 40))  # 31–60
    paid = owes("60.00", due=days_before(AS_OF, 10))
    pay(paid, "60.00", on=AS_OF)

    invoices = list(aging_invoices(as_of=AS_OF, today=TODAY, bucket=BUCKETS[1]))

    assert [(i.number, i.balance_on, i.days_late) for i in invoices] == [
        (older.number, Decimal("100.00"), 25),
        (newer.number, Decimal("50.00"), 3),
    ]


def test_the_drill_down_costs_one_query_with_customer_and_collector(
    django_user_model, django_assert_num_queries
):
    colin = django_user_model.objects.create_user("colin")
    for _ in range(3):
        owes("10.00", due=days_before(AS_OF, 5), customer=CustomerFactory(collector=colin))

    with django_assert_num_queries(1):
        names = [
            (i.customer.name, i.customer.collector.username)
            for i in aging_invoices(as_of=AS_OF, today=TODAY, bucket=BUCKETS[1])[:50]
        ]

    assert len(names) == 3


def test_the_drill_down_narrows_to_a_customer_currency_or_collector(django_user_model):
    colin = django_user_model.objects.create_user("colin")
    mine = owes("10.00", due=days_before(AS_OF, 5), customer=CustomerFactory(collector=colin))
    theirs = owes("20.00", due=days_before(AS_OF, 5), customer=CustomerFactory(currency="EUR"))

    def numbers(**scope):
        return [
            i.number for i in aging_invoices(as_of=AS_OF, today=TODAY, bucket=BUCKETS[1], **scope)
        ]

    assert numbers(customer_id=mine.customer_id) == [mine.number]
    assert numbers(currency="EUR") == [theirs.number]
    assert numbers(collector_id=colin.pk) == [mine.number]
    assert numbers(unassigned=True) == [theirs.number]


def ledger(django_user_model):
    """A small ledger with a bit of everything, seen from TODAY."""
    colin = django_user_model.objects.create_user("colin")
    gbp, eur = CustomerFactory(collector=colin), CustomerFactory(currency="EUR")
    for days, amount, customer in [
        (-5, "100.00", gbp),
        (12, "250.00", gbp),
        (45, "75.50", eur),
        (80, "20.00", gbp),
        (200, "999.99", eur),
    ]:
        owes(amount, due=days_before(TODAY, days), customer=customer)
    half = owes("300.00", due=days_before(TODAY, 33), customer=gbp)
    pay(half, "150.00", on=days_before(TODAY, 2))
    credit(half, "50.00", on=days_before(TODAY, 1))
    paid = owes("40.00", due=days_before(TODAY, 3), customer=eur)
    pay(paid, "40.00", on=days_before(TODAY, 1))


@pytest.mark.parametrize("by", ["currency", "customer", "collector"])
def test_the_stored_balances_and_the_replayed_ledger_agree_on_today(django_user_model, by):
    ledger(django_user_model)

    stored = aging(as_of=TODAY, today=TODAY, buckets=BUCKETS, by=by)
    replayed = aging(as_of=TODAY, today=TODAY + dt.timedelta(days=1), buckets=BUCKETS, by=by)

    assert stored == replayed
    assert sum(row.count for row in stored) == 6


@pytest.mark.parametrize("bucket", BUCKETS, ids=[b.key for b in BUCKETS])
def test_the_drill_down_agrees_between_stored_and_replayed_balances(django_user_model, bucket):
    ledger(django_user_model)

    def listed(today):
        return [
            (i.number, i.balance_on, i.days_late)
            for i in aging_invoices(as_of=TODAY, today=today, bucket=bucket)
        ]

    assert listed(TODAY) == listed(TODAY + dt.timedelta(days=1))


def test_the_drill_down_adds_up_to_the_aging_row(django_user_model):
    ledger(django_user_model)

    [eur, gbp] = by_currency(as_of=TODAY)
    listed = [
        sum(
            (i.balance_on for i in aging_invoices(as_of=TODAY, today=TODAY, bucket=b)),
            Decimal("0.00"),
        )
        for b in BUCKETS
    ]

    assert [e + g for e, g in zip(eur.amounts, gbp.amounts, strict=True)] == listed
