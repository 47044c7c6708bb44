"""The mappings shipped for Xero, QuickBooks Online and Sage exports: in place after migrate
and flush, importing each system's own files, and never overwriting an admin's edit."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse

from invoices.import_forms import MappingForm
from invoices.importing.columns import SCHEMAS
from invoices.importing.shipped_mappings import QUICKBOOKS, SAGE, SHIPPED, XERO
from invoices.models import ColumnMapping, Customer, Invoice
from invoices.tests.data import import_csv, write_csv
from invoices.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def shipped_rows():
    return {(m.kind, m.source): (m.mapping, m.date_format) for m in ColumnMapping.objects.all()}


def test_every_shipped_mapping_is_there_after_migrate_and_after_flush():
    expected = {(s.kind, s.source): (s.mapping, s.date_format) for s in SHIPPED}
    assert shipped_rows().items() >= expected.items()

    call_command("flush", interactive=False, verbosity=0)

    assert shipped_rows() == expected


def test_an_admins_edited_mapping_survives_the_next_migrate():
    ColumnMapping.objects.filter(kind="invoices", source=XERO).update(
        mapping={"Invoice No": "number"}, date_format="%Y-%m-%d"
    )
    ColumnMapping.objects.filter(kind="customers", source=SAGE).delete()

    call_command("migrate", verbosity=0)

    edited = ColumnMapping.objects.get(kind="invoices", source=XERO)
    assert (edited.mapping, edited.date_format) == ({"Invoice No": "number"}, "%Y-%m-%d")
    assert ColumnMapping.objects.filter(kind="customers", source=SAGE).exists()


XERO_INVOICES = """\
ContactName,EmailAddress,POAddressLine1,POCity,POPostalCode,POCountry,InvoiceNumber,Reference,\
InvoiceDate,DueDate,PlannedDate,Total,TaxTotal,InvoiceAmountPaid,InvoiceAmountDue,\
InventoryItemCode,Description,Quantity,UnitAmount,Discount,LineAmount,AccountCode,TaxType,\
TaxAmount,Currency,Type,Sent,Status
Harbour Tiles Ltd,ap@harbourtiles.co.uk,1 Quay St,Bristol,BS1 4DJ,United Kingdom,INV-0041,PO 881,\
03/02/2026,05/03/2026,,1440.00,240.00,0.00,1440.00,,Floor tiles,10,100.00,,1000.00,200,\
20% (VAT on Income),200.00,GBP,Sales invoice,Sent,Awaiting Payment
Harbour Tiles Ltd,ap@harbourtiles.co.uk,1 Quay St,Bristol,BS1 4DJ,United Kingdom,INV-0041,PO 881,\
03/02/2026,05/03/2026,,1440.00,240.00,0.00,1440.00,,Fitting,1,200.00,,200.00,200,\
20% (VAT on Income),40.00,GBP,Sales invoice,Sent,Awaiting Payment
Moss & Reed,accounts@mossreed.ie,4 Dock Rd,Dublin,D02,Ireland,INV-0042,,\
14/02/2026,16/03/2026,,950.50,0.00,0.00,950.50,,Consulting,1,950.50,,950.50,200,\
No VAT,0.00,EUR,Sales invoice,Sent,Awaiting Payment
"""

XERO_CONTACTS = """\
ContactName,AccountNumber,EmailAddress,FirstName,LastName,POAttentionTo,POAddressLine1,\
POCity,PORegion,POPostalCode,POCountry,PhoneNumber,MobileNumber,TaxNumber,Website
Harbour Tiles Ltd,HARB01,ap@harbourtiles.co.uk,Jo,Penn,Accounts,1 Quay St,Bristol,Avon,\
BS1 4DJ,United Kingdom,0117 496 0000,,GB123456789,harbourtiles.co.uk
"""

QUICKBOOKS_INVOICES = """\
Date,Transaction Type,Num,Name,Memo/Description,Due Date,Amount,Open Balance
02/03/2026,Invoice,1007,Cool Cars,Oil change,03/05/2026,310.25,310.25
02/17/2026,Invoice,1008,Geeta Kalapatapu,,03/19/2026,1200.00,1200.00
"""

QUICKBOOKS_CUSTOMERS = """\
Customer,Company,Street Address,City,State,Country,Zip,Phone,Email,Attachments,Open Balance,Notes
Cool Cars,Cool Cars Inc.,65 Ocean Dr.,Half Moon Bay,CA,USA,94213,(415) 555-9933,\
cool_cars@intuit.com,,310.25,
"""

SAGE_INVOICES = """\
Invoice Number,Customer Reference,Customer Name,Invoice Date,Due Date,Reference,Net,VAT,Total,\
Outstanding,Currency,Status
SI-118,NORTH001,Northgate Bakery,12/01/2026,11/02/2026,Order 55,500.00,100.00,600.00,600.00,\
GBP,Unpaid
"""

SAGE_CUSTOMERS = """\
Reference,Customer Name,Contact Name,Email,Telephone,Mobile,Address Line 1,Address Line 2,\
Town/City,County,Postcode,Country,Currency,Credit Limit,Credit Days
NORTH001,Northgate Bakery,Sam Hill,sam@northgatebakery.co.uk,0161 496 0123,,2 Mill Lane,,\
Salford,Greater Manchester,M3 5AA,United Kingdom,GBP,2500.00,30
"""


def invoice_row(number):
    invoice = Invoice.objects.select_related("customer").get(number=number)
    return (
        invoice.customer.external_id,
        invoice.issue_date,
        invoice.due_date,
        invoice.amount,
        invoice.currency,
    )


def test_a_xero_invoices_export_imports_with_the_xero_mapping(tmp_path):
    CustomerFactory(external_id="Harbour Tiles Ltd", currency="GBP")
    CustomerFactory(external_id="Moss & Reed", currency="EUR")

    import_csv("invoices", write_csv(tmp_path, XERO_INVOICES), "--source", XERO)

    assert Invoice.objects.count() == 2
    assert invoice_row("INV-0041") == (
        "Harbour Tiles Ltd",
        date(2026, 2, 3),
        date(2026, 3, 5),
        Decimal("1440.00"),
        "GBP",
    )
    assert invoice_row("INV-0042")[1:] == (
        date(2026, 2, 14),
        date(2026, 3, 16),
        Decimal("950.50"),
        "EUR",
    )


def test_a_xero_contacts_export_imports_with_the_xero_mapping(tmp_path):
    import_csv("customers", write_csv(tmp_path, XERO_CONTACTS), "--source", XERO)

    customer = Customer.objects.get(external_id="Harbour Tiles Ltd")
    assert customer.name == "Harbour Tiles Ltd"
    assert customer.region == "Avon"
    contact = customer.contacts.get()
    assert (contact.email, contact.phone) == ("ap@harbourtiles.co.uk", "0117 496 0000")


def test_xero_contacts_then_xero_invoices_find_each_other_by_contact_name(tmp_path):
    import_csv("customers", write_csv(tmp_path, XERO_CONTACTS, "c.csv"), "--source", XERO)
    invoices = XERO_INVOICES.replace("Moss & Reed", "Harbour Tiles Ltd").replace("EUR", "GBP")

    import_csv("invoices", write_csv(tmp_path, invoices, "i.csv"), "--source", XERO)

    customer = Customer.objects.get()
    assert sorted(customer.invoices.values_list("number", flat=True)) == ["INV-0041", "INV-0042"]


def test_the_mapping_screen_offers_one_column_for_both_the_key_and_the_name():
    form = MappingForm(
        data={"date_format": "%Y-%m-%d", "column_0": "external_id+name", "column_1": "email"},
        headers=["Customer", "Email"],
        schema=SCHEMAS["customers"],
        suggestion={},
    )

    assert ("external_id+name", "external_id and name") in form.fields["column_0"].choices
    assert form.is_valid(), form.errors
    assert form.cleaned_data["mapping"] == {"Customer": "external_id+name", "Email": "email"}


def test_a_quickbooks_invoice_list_imports_with_us_dates_and_the_customers_currency(tmp_path):
    CustomerFactory(external_id="Cool Cars", currency="USD")
    CustomerFactory(external_id="Geeta Kalapatapu", currency="USD")

    out = import_csv("invoices", write_csv(tmp_path, QUICKBOOKS_INVOICES), "--source", QUICKBOOKS)

    assert "currency" in out
    assert invoice_row("1007") == (
        "Cool Cars",
        date(2026, 2, 3),
        date(2026, 3, 5),
        Decimal("310.25"),
        "USD",
    )
    assert invoice_row("1008")[1:3] == (date(2026, 2, 17), date(2026, 3, 19))


def test_a_quickbooks_customer_list_imports_with_the_quickbooks_mapping(tmp_path):
    import_csv("customers", write_csv(tmp_path, QUICKBOOKS_CUSTOMERS), "--source", QUICKBOOKS)

    customer = Customer.objects.get(external_id="Cool Cars")
    assert (customer.name, customer.region) == ("Cool Cars Inc.", "CA")
    assert customer.contacts.get().email == "cool_cars@intuit.com"


def test_sage_customers_then_invoices_import_with_the_sage_mappings(tmp_path):
    import_csv("customers", write_csv(tmp_path, SAGE_CUSTOMERS, "c.csv"), "--source", SAGE)
    import_csv("invoices", write_csv(tmp_path, SAGE_INVOICES, "i.csv"), "--source", SAGE)

    customer = Customer.objects.get(external_id="NORTH001")
    assert (customer.name, customer.currency, customer.credit_limit) == (
        "Northgate Bakery",
        "GBP",
        Decimal("2500.00"),
    )
    assert customer.payment_terms_days == 30
    assert invoice_row("SI-118") == (
        "NORTH001",
        date(2026, 1, 12),
        date(2026, 2, 11),
        Decimal("600.00"),
        "GBP",
    )


def test_the_upload_screen_offers_the_shipped_sources(admin_client_):
    page = admin_client_.get(reverse("import:start")).content.decode()

    assert '<datalist id="import-sources">' in page
    for source in ("Xero", "QuickBooks Online", "Sage Accounting"):
        assert f'<option value="{source}">' in page
