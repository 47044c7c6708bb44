"""The customers file's account columns: postal address, collector, credit limit, accepted
terms and late-payment charges; and a corrected email that clears a bounce."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from invoices.models import Contact, ContactRole, Customer, DebtorType
from invoices.tests.data import import_csv, write_csv
from invoices.tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db

HEADER = (
    "external_id,name,email,address,collector,credit_limit,terms_version,terms_accepted_on,"
    "late_interest_rate,late_fee,debtor_type\n"
)


def customers_file(tmp_path, *rows, header=HEADER):
    return write_csv(tmp_path, header + "".join(row + "\n" for row in rows))


def primary_ap(customer):
    return Contact.objects.get(
        customer=customer, role=ContactRole.ACCOUNTS_PAYABLE, is_primary=True
    )


def test_a_new_customer_takes_every_account_column(tmp_path, collector):
    path = customers_file(
        tmp_path,
        'C1,Acme Ltd,ap@acme.example,"1 High St\\nLeeds\nLS1 1AA",colin,5000,v3,2026-01-02,'
        "8.5,40.00,sole_trader",
    )

    import_csv("customers", path)

    customer = Customer.objects.get(external_id="C1")
    assert customer.collector == collector
    assert (customer.credit_limit, customer.late_interest_rate, customer.late_fee) == (
        Decimal("5000.00"),
        Decimal("8.50"),
        Decimal("40.00"),
    )
    assert (customer.terms_version, customer.terms_accepted_on) == ("v3", dt.date(2026, 1, 2))
    assert customer.debtor_type == DebtorType.SOLE_TRADER
    assert primary_ap(customer).address == "1 High St\nLeeds\nLS1 1AA"


def test_zero_is_a_valid_credit_limit_rate_and_fee(tmp_path):
    import_csv("customers", customers_file(tmp_path, "C1,Acme,,,,0,,,0,0,"))

    customer = Customer.objects.get()
    assert (customer.credit_limit, customer.late_interest_rate, customer.late_fee) == (
        Decimal("0.00"),
        Decimal("0.00"),
        Decimal("0.00"),
    )
    assert not customer.contacts.exists()


def test_changed_account_columns_are_applied_and_audited_with_before_and_after(
    tmp_path, collector, manager
):
    customer = CustomerFactory(
        external_id="C1", name="Acme", collector=collector, credit_limit=Decimal("100.00")
    )
    ContactFactory(customer=customer, email="ap@acme.example", address="Old Road")

    import_csv(
        "customers",
        customers_file(
            tmp_path, "C1,Acme,,New Road\\nYork,maria,250.50,v2,2026-02-01,4,15,consumer"
        ),
    )

    customer.refresh_from_db()
    assert customer.collector == manager
    assert customer.credit_limit == Decimal("250.50")
    assert customer.debtor_type == DebtorType.CONSUMER
    assert primary_ap(customer).address == "New Road\nYork"
    changes = AuditEvent.objects.get(action="ledger.customer.updated").data["changes"]
    assert changes["collector"] == ["colin", "maria"]
    assert changes["credit_limit"] == ["100.00", "250.50"]
    assert changes["late_interest_rate"] == [None, "4.00"]
    assert changes["late_fee"] == [None, "15.00"]
    assert changes["terms_accepted_on"] == [None, "2026-02-01"]
    assert changes["terms_version"] == ["", "v2"]
    contact_changes = AuditEvent.objects.get(action="ledger.contact.updated").data["changes"]
    assert contact_changes == {"address": ["Old Road", "New Road\nYork"]}


def test_blank_account_cells_keep_what_the_customer_has(tmp_path, collector):
    customer = CustomerFactory(
        external_id="C1",
        name="Acme",
        collector=collector,
        credit_limit=Decimal("100.00"),
        terms_version="v1",
        terms_accepted_on=dt.date(2025, 5, 1),
        late_interest_rate=Decimal("8.00"),
        late_fee=Decimal("40.00"),
    )
    ContactFactory(customer=customer, email="ap@acme.example", address="Old Road")

    out = import_csv("customers", customers_file(tmp_path, "C1,Acme,,,,,,,,,"))

    assert "0 created, 0 updated, 1 unchanged" in out
    customer.refresh_from_db()
    assert (customer.collector, customer.credit_limit, customer.terms_version) == (
        collector,
        Decimal("100.00"),
        "v1",
    )
    assert customer.late_fee == Decimal("40.00")
    assert primary_ap(customer).address == "Old Road"
    assert not AuditEvent.objects.filter(action__startswith="ledger.").exists()


def test_reimporting_the_same_account_columns_changes_nothing(tmp_path, collector):
    path = customers_file(
        tmp_path, "C1,Acme,ap@acme.example,1 High St,colin,5000,v3,2026-01-02,8.5,40,business"
    )
    import_csv("customers", path)

    out = import_csv("customers", path)

    assert "0 created, 0 updated, 1 unchanged" in out
    assert AuditEvent.objects.filter(action__startswith="ledger.").count() == 0


@pytest.fixture
def inactive_collector(db, django_user_model):
    user = django_user_model.objects.create_user(username="gone", is_active=False)
    user.groups.add(Group.objects.get(name="Collector"))
    return user


@pytest.mark.parametrize(
    "row,reason",
    [
        ("C1,A,,,nobody,,,,,,", "collector 'nobody' is not a user"),
        ("C1,A,,,gone,,,,,,", "collector 'gone' is not an active user"),
        ("C1,A,,,nora,,,,,,", "collector 'nora' does not have the collector role"),
        ("C1,A,,,,-1,,,,,", "credit_limit -1 must not be negative"),
        ("C1,A,,,,12.345,,,,,", "credit_limit '12.345' has more than two decimal places"),
        ("C1,A,,,,,,2099-01-01,,,", "terms_accepted_on 2099-01-01 is in the future"),
        ("C1,A,,,,,,01/02/2026,,,", "terms_accepted_on '01/02/2026' is not a date"),
        ("C1,A,,,,,,,101,,", "late_interest_rate 101 must be from 0 to 100"),
        ("C1,A,,,,,,,lots,,", "late_interest_rate 'lots' is not a percent a year"),
        ("C1,A,,,,,,,,-5,", "late_fee -5 must not be negative"),
        ("C1,A,,,,,v" + "9" * 40 + ",,,,", "terms_version is longer than 32 characters"),
        ("C1,A,,,,,,,,,charity", "debtor_type 'charity' is not business, sole_trader or consumer"),
    ],
)
def test_a_bad_account_value_is_refused_with_its_line_and_reason(
    tmp_path, row, reason, inactive_collector, no_role_user
):
    path = customers_file(tmp_path, "C0,Fine Ltd,,,,,,,,,", row)

    with pytest.raises(CommandError) as raised:
        import_csv("customers", path)

    assert f"line 3: {reason}" in str(raised.value)
    assert not Customer.objects.exists()


def test_a_manager_may_be_named_collector(tmp_path, manager):
    import_csv("customers", customers_file(tmp_path, "C1,Acme,,,maria,,,,,,"))

    assert Customer.objects.get().collector == manager


def test_a_corrected_email_clears_the_bounce_and_says_why(tmp_path):
    customer = CustomerFactory(external_id="C1", name="Acme")
    contact = ContactFactory(
        customer=customer, email="old@acme.example", email_bounced_at=timezone.now()
    )

    import_csv(
        "customers",
        customers_file(tmp_path, "C1,Acme,new@acme.example", header="external_id,name,email\n"),
    )

    contact.refresh_from_db()
    assert (contact.email, contact.email_bounced_at) == ("new@acme.example", None)
    event = AuditEvent.objects.get(action="ledger.contact.updated")
    assert event.customer_id == customer.pk
    assert "bounce on old@acme.example cleared because the address changed" in event.summary
    assert event.data["bounce_cleared"] == "the email address changed"
    assert event.data["changes"]["email"] == ["old@acme.example", "new@acme.example"]
    assert event.data["changes"]["email_bounced_at"][1] is None


def test_the_same_email_again_leaves_the_bounce(tmp_path):
    customer = CustomerFactory(external_id="C1", name="Acme")
    contact = ContactFactory(
        customer=customer, email="old@acme.example", email_bounced_at=timezone.now()
    )

    import_csv(
        "customers",
        customers_file(
            tmp_path, "C1,Acme,old@acme.example,+44 1", header="external_id,name,email,phone\n"
        ),
    )

    contact.refresh_from_db()
    assert contact.email_bounced_at is not None
    assert contact.phone == "+44 1"
    event = AuditEvent.objects.get(action="ledger.contact.updated")
    assert "bounce" not in event.summary
    assert "email_bounced_at" not in event.data["changes"]


def test_a_bad_row_leaves_the_bounce_and_everything_else(tmp_path):
    customer = CustomerFactory(external_id="C1", name="Acme")
    contact = ContactFactory(
        customer=customer, email="old@acme.example", email_bounced_at=timezone.now()
    )
    path = customers_file(
        tmp_path,
        "C1,Acme,new@acme.example,",
        "C2,B,,-1",
        header="external_id,name,email,credit_limit\n",
    )

    with pytest.raises(CommandError, match="line 3: credit_limit -1 must not be negative"):
        import_csv("customers", path)

    contact.refresh_from_db()
    assert (contact.email, contact.email_bounced_at is not None) == ("old@acme.example", True)


def _queries_to_update(tmp_path, prefix, count):
    rows = []
    for n in range(count):
        customer = CustomerFactory(external_id=f"{prefix}{n}", name=f"Acme {n}")
        ContactFactory(
            customer=customer, email=f"old{n}@a.example", email_bounced_at=timezone.now()
        )
        rows.append(f"{prefix}{n},Acme {n},new{n}@a.example,Road {n},colin,{n},v1,2026-01-01,5,10,")
    path = write_csv(tmp_path, HEADER + "".join(row + "\n" for row in rows), f"{prefix}.csv")
    with CaptureQueriesContext(connection) as queries:
        import_csv("customers", path)
    return len(queries)


def test_the_query_count_stays_flat_with_rows(tmp_path, collector):
    _queries_to_update(tmp_path, "W", 1)  # the first import sets up what every later one reads

    assert _queries_to_update(tmp_path, "A", 3) == _queries_to_update(tmp_path, "B", 30)


def test_the_browser_preview_shows_the_account_columns(
    admin_client_, collector, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    content = (HEADER + "C1,Acme,,1 High St,colin,5000,v3,2026-01-02,8.5,40,business\n").encode()
    started = admin_client_.post(
        reverse("import:start"),
        {
            "kind": "customers",
            "source": "",
            "file": SimpleUploadedFile("c.csv", content, content_type="text/csv"),
        },
    )
    token = re.search(r"/import/([0-9a-f-]{36})/map/", started.url).group(1)
    mapping = {f"column_{i}": name for i, name in enumerate(HEADER.strip().split(","))}
    admin_client_.post(reverse("import:map", args=[token]), {**mapping, "date_format": "%Y-%m-%d"})

    preview = admin_client_.get(reverse("import:preview", args=[token])).content.decode()

    assert "1 new" in preview
    assert "colin" in preview and "5000.00" in preview and "1 High St" in preview


TERMS_HEADER = "external_id,name,email,language,payment_terms_days\n"


def test_language_and_payment_terms_columns_are_taken_and_the_contact_is_primary_by_channel(
    tmp_path,
):
    path = customers_file(
        tmp_path, "C1,Acme,ap@acme.example,de_de,Net 30", "C2,Beta,,fr,", header=TERMS_HEADER
    )

    import_csv("customers", path)

    acme, beta = Customer.objects.order_by("external_id")
    assert (acme.language, acme.payment_terms_days) == ("de-DE", 30)
    assert (beta.language, beta.payment_terms_days) == ("fr", None)
    contact = primary_ap(acme)
    assert (contact.primary_email, contact.primary_phone, contact.primary_post) == (
        True,
        False,
        False,
    )


def test_changed_language_and_terms_are_audited_and_blank_cells_keep_them(tmp_path):
    CustomerFactory(external_id="C1", name="Acme", language="en", payment_terms_days=14)
    CustomerFactory(external_id="C2", name="Beta", language="en", payment_terms_days=14)

    import_csv(
        "customers",
        customers_file(tmp_path, "C1,Acme,,de,30 days", "C2,Beta,,,", header=TERMS_HEADER),
    )

    acme, beta = Customer.objects.order_by("external_id")
    assert (acme.language, acme.payment_terms_days) == ("de", 30)
    assert (beta.language, beta.payment_terms_days) == ("en", 14)
    [event] = AuditEvent.objects.filter(action="ledger.customer.updated")
    assert event.data["changes"]["language"] == ["en", "de"]
    assert event.data["changes"]["payment_terms_days"] == [14, 30]


@pytest.mark.parametrize(
    "row, reason",
    [
        ("C1,Acme,,English please,", "language 'English please' is not a language code"),
        ("C1,Acme,,en,400", "payment_terms_days '400' is not a number of days from 0 to 365"),
        ("C1,Acme,,en,soon", "payment_terms_days 'soon' is not a number of days"),
    ],
)
def test_a_bad_language_or_terms_cell_is_refused_with_its_reason(tmp_path, row, reason):
    with pytest.raises(CommandError) as raised:
        import_csv("customers", customers_file(tmp_path, row, header=TERMS_HEADER))

    assert f"line 2: {reason}" in str(raised.value)
    assert not Customer.objects.exists()
