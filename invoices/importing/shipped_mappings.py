"""Column mappings shipped for the CSV exports of common accounting systems, so that a
file from Xero, QuickBooks Online or Sage imports by typing the system's name as its source.

Put in place after every migrate or flush for any (kind, source) that has no mapping yet;
a mapping that exists (shipped earlier, then edited on the mapping screen) is never
overwritten. None of the three exports payments together with the invoice each one
settles, so only customers and invoices mappings ship."""

from dataclasses import dataclass

from django.apps import apps as global_apps

from invoices.models import ImportKind

UK_DATE = "%d/%m/%Y"
US_DATE = "%m/%d/%Y"

XERO = "Xero"
QUICKBOOKS = "QuickBooks Online"
SAGE = "Sage Accounting"


@dataclass(frozen=True)
class ShippedMapping:
    kind: str
    source: str
    mapping: dict[str, str]
    date_format: str
    description: str


SHIPPED = (
    # Xero, Business > Invoices > Export (sales invoices CSV): ContactName, EmailAddress,
    # PO/SA address lines, InvoiceNumber, Reference, InvoiceDate, DueDate, PlannedDate, Total,
    # TaxTotal, InvoiceAmountPaid, InvoiceAmountDue, line-item columns, Currency, Type, Sent,
    # Status. Dates are dd/mm/yyyy for a UK organisation.
    ShippedMapping(
        kind=ImportKind.INVOICES,
        source=XERO,
        mapping={
            "InvoiceNumber": "number",
            "ContactName": "customer_external_id",
            "InvoiceDate": "issue_date",
            "DueDate": "due_date",
            "Total": "amount",
            "Currency": "currency",
        },
        date_format=UK_DATE,
        description="Xero's sales invoices export. It has one row per line item; the rows of "
        "one invoice agree, so each invoice is imported once. It names the contact but has "
        "no account number, so invoices find their customer by Xero contact name, and it "
        "has no date paid (no settled_date).",
    ),
    # Xero, Contacts > Export (the contacts CSV, same columns as Xero's import template):
    # ContactName, AccountNumber, EmailAddress, FirstName, LastName, PO/SA address lines,
    # PhoneNumber, FaxNumber, MobileNumber, ... TaxNumber, ... Website, ...
    ShippedMapping(
        kind=ImportKind.CUSTOMERS,
        source=XERO,
        mapping={
            "ContactName": "external_id+name",
            "EmailAddress": "email",
            "PhoneNumber": "phone",
            "PORegion": "region",
        },
        date_format=UK_DATE,
        description="Xero's contacts export. The contact's name is both the customer's name "
        "and its external id, because Xero's invoices export names the contact and carries "
        "no account number: so the invoices find their customers. The address is split over "
        "several columns and the country is a name, not a code, so neither is taken; the "
        "export has no currency or credit limit.",
    ),
    # QuickBooks Online, Reports > Invoice List, exported to CSV: Date, Transaction Type, Num,
    # Name, Memo/Description, Due Date, Amount, Open Balance. Dates are mm/dd/yyyy (US).
    ShippedMapping(
        kind=ImportKind.INVOICES,
        source=QUICKBOOKS,
        mapping={
            "Num": "number",
            "Name": "customer_external_id",
            "Date": "issue_date",
            "Due Date": "due_date",
            "Amount": "amount",
        },
        date_format=US_DATE,
        description="QuickBooks Online's Invoice List report. It has no currency column "
        "(each invoice takes its customer's currency) and no date paid. Invoices find "
        "their customer by QuickBooks customer name. Remove the report's title lines above "
        "the header and its TOTAL line, and export amounts without thousands separators.",
    ),
    # QuickBooks Online, Sales > Customers > Export to Excel (saved as CSV): Customer, Company,
    # Street Address, City, State, Country, Zip, Phone, Email, Attachments, Open Balance, Notes.
    ShippedMapping(
        kind=ImportKind.CUSTOMERS,
        source=QUICKBOOKS,
        mapping={
            "Customer": "external_id",
            "Company": "name",
            "Email": "email",
            "Phone": "phone",
            "State": "region",
            # A country name ("USA"), not the two-letter code our country column takes.
            "Country": "",
        },
        date_format=US_DATE,
        description="QuickBooks Online's customer list export. The customer's display name "
        "is its external id (the invoices export names customers by it) and the company "
        "name is its name: a customer without a company name is refused. The address is "
        "split over several columns and the country is a name, so neither is taken; the "
        "export has no currency or credit limit.",
    ),
    # Sage Business Cloud Accounting, Sales > Sales Invoices > Export: Invoice Number,
    # Customer Reference, Customer Name, Invoice Date, Due Date, Reference, Net, VAT, Total,
    # Outstanding, Currency, Status. Dates are dd/mm/yyyy (UK).
    ShippedMapping(
        kind=ImportKind.INVOICES,
        source=SAGE,
        mapping={
            "Invoice Number": "number",
            "Customer Reference": "customer_external_id",
            "Invoice Date": "issue_date",
            "Due Date": "due_date",
            "Total": "amount",
            "Currency": "currency",
        },
        date_format=UK_DATE,
        description="Sage Business Cloud Accounting's sales invoices export. Invoices find "
        "their customer by Sage customer reference; the export has no date paid.",
    ),
    # Sage Business Cloud Accounting, Contacts > Customers > Export: Reference, Customer Name,
    # Contact Name, Email, Telephone, Mobile, Address Line 1, Address Line 2, Town/City,
    # County, Postcode, Country, Currency, Credit Limit, Credit Days.
    ShippedMapping(
        kind=ImportKind.CUSTOMERS,
        source=SAGE,
        mapping={
            "Reference": "external_id",
            "Customer Name": "name",
            "Email": "email",
            "Telephone": "phone",
            "County": "region",
            "Currency": "currency",
            "Credit Limit": "credit_limit",
            "Credit Days": "payment_terms_days",
            # A country name, not the two-letter code our country column takes.
            "Country": "",
        },
        date_format=UK_DATE,
        description="Sage Business Cloud Accounting's customers export. The address is split "
        "over several columns and the country is a name, so neither is taken; credit days "
        "are not payment terms we can take.",
    ),
)


def shipped_for(*, kind: str, source: str) -> ShippedMapping | None:
    return next((s for s in SHIPPED if s.kind == kind and s.source == source), None)


def ship_mappings(apps=global_apps) -> int:
    """Create each shipped mapping that has no (kind, source) row yet; returns how many."""
    ColumnMapping = apps.get_model("invoices", "ColumnMapping")
    have = set(ColumnMapping.objects.values_list("kind", "source"))
    missing = [s for s in SHIPPED if (s.kind, s.source) not in have]
    ColumnMapping.objects.bulk_create(
        ColumnMapping(
            kind=s.kind, source=s.source, mapping=dict(s.mapping), date_format=s.date_format
        )
        for s in missing
    )
    return len(missing)


def on_post_migrate(sender, apps=global_apps, **kwargs) -> None:
    ship_mappings(apps)
