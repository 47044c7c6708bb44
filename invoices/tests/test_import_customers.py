import pytest
from django.core.management.base import CommandError

from audit.models import AuditEvent
from invoices.models import Contact, ContactRole, Customer, ImportBatch, Organisation
from invoices.tests.data import import_csv, write_csv
from invoices.tests.factories import ContactFactory, CustomerFactory, InvoiceFactory

pytestmark = pytest.mark.django_db

HEADER = "external_id,name,email,phone,timezone,currency\n"


def customers_file(tmp_path, *rows, header=HEADER):
    return write_csv(tmp_path, header + "".join(row + "\n" for row in rows))


def primary_ap(customer):
    return Contact.objects.get(
        customer=customer, role=ContactRole.ACCOUNTS_PAYABLE, is_primary=True
    )


def test_it_creates_a_customer_with_its_primary_accounts_payable_contact(tmp_path):
    path = customers_file(
        tmp_path, "C1,Acme Ltd,ap@acme.example,+44 20 7946 0000,Europe/Dublin,EUR"
    )

    import_csv("customers", path)

    customer = Customer.objects.get(external_id="C1")
    assert (customer.name, customer.timezone, customer.currency) == (
        "Acme Ltd",
        "Europe/Dublin",
        "EUR",
    )
    contact = primary_ap(customer)
    assert (contact.email, contact.phone) == ("ap@acme.example", "+44 20 7946 0000")
    assert customer.import_batch == ImportBatch.objects.get()


def test_blank_optional_columns_take_the_organisations_defaults(tmp_path):
    Organisation.objects.update_or_create(
        pk=1,
        defaults={
            "default_currency": "CHF",
            "default_timezone": "Europe/Zurich",
            "default_country": "CH",
        },
    )

    import_csv("customers", customers_file(tmp_path, "C1,Acme AG,,,,"))

    customer = Customer.objects.get()
    assert (customer.currency, customer.timezone, customer.country) == (
        "CHF",
        "Europe/Zurich",
        "CH",
    )
    assert not customer.contacts.exists()


def test_optional_columns_such_as_debtor_type_country_and_region_are_read(tmp_path):
    header = "external_id,name,debtor_type,country,region\n"

    import_csv(
        "customers", customers_file(tmp_path, "C1,Jo Bloggs,Consumer,gb,Scotland", header=header)
    )

    customer = Customer.objects.get()
    assert (customer.debtor_type, customer.country, customer.region) == (
        "consumer",
        "GB",
        "Scotland",
    )


def test_changed_fields_of_an_existing_customer_are_applied_and_audited(tmp_path):
    customer = CustomerFactory(external_id="C1", name="Acme", timezone="Europe/London")

    out = import_csv("customers", customers_file(tmp_path, "C1,Acme Holdings,,,Europe/Paris,"))

    assert "0 created, 1 updated, 0 unchanged" in out
    customer.refresh_from_db()
    assert (customer.name, customer.timezone) == ("Acme Holdings", "Europe/Paris")
    event = AuditEvent.objects.get(action="ledger.customer.updated")
    assert event.customer_id == customer.pk
    assert event.data["changes"] == {
        "name": ["Acme", "Acme Holdings"],
        "timezone": ["Europe/London", "Europe/Paris"],
    }


def test_a_blank_column_keeps_what_an_existing_customer_has(tmp_path):
    customer = CustomerFactory(external_id="C1", name="Acme", timezone="Asia/Tokyo")

    out = import_csv("customers", customers_file(tmp_path, "C1,Acme,,,,"))

    assert "0 updated, 1 unchanged" in out
    customer.refresh_from_db()
    assert customer.timezone == "Asia/Tokyo"


def test_a_new_email_updates_the_existing_primary_contact_and_is_audited(tmp_path):
    contact = ContactFactory(
        customer__external_id="C1", customer__name="Acme", email="old@acme.example", phone="123"
    )

    import_csv("customers", customers_file(tmp_path, "C1,Acme,new@acme.example,,,"))

    contact.refresh_from_db()
    assert (contact.email, contact.phone) == ("new@acme.example", "123")
    event = AuditEvent.objects.get(action="ledger.contact.updated")
    assert event.data["changes"] == {"email": ["old@acme.example", "new@acme.example"]}


def test_an_existing_customer_without_a_contact_gets_one(tmp_path):
    customer = CustomerFactory(external_id="C1", name="Acme")

    import_csv("customers", customers_file(tmp_path, "C1,Acme,ap@acme.example,,,"))

    assert primary_ap(customer).email == "ap@acme.example"
    assert AuditEvent.objects.filter(action="ledger.contact.created").count() == 1


def test_reimporting_the_same_customers_changes_nothing(tmp_path):
    path = customers_file(tmp_path, "C1,Acme,ap@acme.example,555,Europe/Paris,EUR")
    import_csv("customers", path)

    out = import_csv("customers", path)

    assert "0 created, 0 updated, 1 unchanged" in out
    assert Contact.objects.count() == 1


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("C9,Bad,,,Mars/Olympus,GBP", "timezone 'Mars/Olympus' is not an IANA time zone"),
        ("C9,Bad,,,Europe/London,POUND", "currency 'POUND' is not an ISO 4217 currency code"),
        ("C9,Bad,not-an-email,,Europe/London,GBP", "email 'not-an-email' is not an email"),
        ("C9,,,,Europe/London,GBP", "name is missing"),
    ],
)
def test_it_rejects_a_bad_customer_row(tmp_path, row, reason):
    path = customers_file(tmp_path, "C1,Good,,,Europe/London,GBP", row)

    with pytest.raises(CommandError) as rejected:
        import_csv("customers", path)

    assert f"line 3: {reason}" in str(rejected.value)
    assert not Customer.objects.exists()


def test_it_refuses_to_change_the_currency_of_a_customer_with_invoices(tmp_path):
    InvoiceFactory(customer__external_id="C1", customer__currency="GBP")

    with pytest.raises(CommandError, match="already has invoices or payments in GBP"):
        import_csv("customers", customers_file(tmp_path, "C1,Acme,,,,EUR"))
