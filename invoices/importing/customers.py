"""The customers import: external_id and name, and optionally email, phone, timezone,
currency, debtor_type, country and region.

email and phone belong to the customer's primary accounts-payable contact. A blank optional
column means "no value given": a new customer takes the organisation's default timezone,
currency and country; an existing customer keeps what it has, so a partial export never
wipes what someone typed into Dunmore."""

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from audit.services import Event
from invoices.models import Contact, ContactRole, DebtorType, ImportKind, Organisation
from invoices.money import currency_codes, currency_problem
from invoices.validators import timezone_names

from . import reader
from .columns import SCHEMAS, Layout
from .staging import (
    CHANGED,
    TempTable,
    changed_any,
    dedupe_stage,
    id_chunks,
    index_stage,
    placeholders,
    remember_ids,
)

STAGE = TempTable(
    "import_stage",
    [
        ("line", "BIGINT NOT NULL"),
        ("external_id", "VARCHAR(64) NOT NULL"),
        ("name", "VARCHAR(200) NOT NULL"),
        ("email", "VARCHAR(254) NOT NULL"),
        ("phone", "VARCHAR(40) NOT NULL"),
        ("timezone", "VARCHAR(64) NOT NULL"),
        ("currency", "VARCHAR(3) NOT NULL"),
        ("debtor_type", "VARCHAR(12) NOT NULL"),
        ("country", "VARCHAR(2) NOT NULL"),
        ("region", "VARCHAR(64) NOT NULL"),
    ],
    derived=[("customer_id", "BIGINT")],
)
FIELDS = ("name", "timezone", "currency", "debtor_type", "country", "region")
DEBTOR_TYPES = frozenset(DebtorType.values)

PRIMARY_AP = """
LEFT JOIN invoices_contact ct ON ct.customer_id = c.id AND ct.role = %s AND ct.is_primary = %s
"""
CHANGED_SQL = """(
    s.name <> c.name
    OR (s.timezone <> '' AND s.timezone <> c.timezone)
    OR (s.currency <> '' AND s.currency <> c.currency)
    OR (s.debtor_type <> '' AND s.debtor_type <> c.debtor_type)
    OR (s.country <> '' AND s.country <> c.country)
    OR (s.region <> '' AND s.region <> c.region)
    OR (s.email <> '' AND (ct.id IS NULL OR ct.email <> s.email))
    OR (s.phone <> '' AND (ct.id IS NULL OR ct.phone <> s.phone))
)"""
PRIMARY_AP_PARAMS = [ContactRole.ACCOUNTS_PAYABLE.value, True]


class CustomerImport:
    schema = SCHEMAS[ImportKind.CUSTOMERS]
    stage = STAGE
    tables = (STAGE, CHANGED)

    def parser(self, layout: Layout, parse_date: reader.DateParser):
        at = layout.index
        index = {column: at(column) for column in self.schema.columns}
        get, text = reader.get, reader.text
        currencies, zones = currency_codes(), timezone_names()

        def parse(values: list[str]) -> tuple:
            reasons: list[str] = []
            value = {column: get(values, i) for column, i in index.items()}
            external_id = text(value["external_id"], "external_id", 64, reasons)
            name = text(value["name"], "name", 200, reasons)
            checked = len(reasons)
            email = text(value["email"], "email", 254, reasons, required=False)
            if email and len(reasons) == checked:
                try:
                    validate_email(email)
                except ValidationError:
                    reasons.append(f"email '{email}' is not an email address")
            phone = text(value["phone"], "phone", 40, reasons, required=False)
            zone = value["timezone"]
            if zone and zone not in zones:
                reasons.append(f"timezone '{zone}' is not an IANA time zone (e.g. Europe/London)")
            currency = value["currency"].upper()
            if currency and currency not in currencies:
                reasons.append("currency " + currency_problem(currency, currencies).rstrip("."))
            debtor_type = value["debtor_type"].lower()
            if debtor_type and debtor_type not in DEBTOR_TYPES:
                reasons.append(
                    f"debtor_type '{value['debtor_type']}' is not business, sole_trader or consumer"
                )
            country = value["country"].upper()
            if country and not (len(country) == 2 and country.isascii() and country.isalpha()):
                reasons.append(f"country '{value['country']}' is not a two-letter code, e.g. GB")
            region = text(value["region"], "region", 64, reasons, required=False)
            if reasons:
                raise reader.RowError(reasons)
            return (external_id, name, email, phone, zone, currency, debtor_type, country, region)

        return parse

    def preview(self, row: tuple) -> dict:
        return dict(zip(STAGE.names[1:], row, strict=True))

    def match(self, cursor) -> None:
        """Note which rows are customers we already have, before anything is inserted."""
        cursor.execute(
            "UPDATE import_stage SET customer_id = c.id FROM invoices_customer c "
            "WHERE c.external_id = import_stage.external_id"
        )

    def problems(self, cursor) -> list[tuple[int, str]]:
        cursor.execute(
            """
            SELECT s.line, s.external_id, f.line
            FROM import_stage s
            JOIN (SELECT external_id, MIN(line) AS line FROM import_stage
                  GROUP BY external_id HAVING COUNT(*) > 1) first
                 ON first.external_id = s.external_id
            JOIN import_stage f ON f.line = first.line
            WHERE s.line <> f.line AND (
                s.name <> f.name OR s.email <> f.email OR s.phone <> f.phone
                OR s.timezone <> f.timezone OR s.currency <> f.currency
                OR s.debtor_type <> f.debtor_type OR s.country <> f.country
                OR s.region <> f.region)
            """
        )
        found = [
            (line, f"customer {external_id} is also on line {other} with different data")
            for line, external_id, other in cursor.fetchall()
        ]
        # Invoices and payments keep their currency, so the customer's cannot move under them.
        cursor.execute(
            """
            SELECT s.line, s.external_id, c.currency, s.currency
            FROM import_stage s
            JOIN invoices_customer c ON c.id = s.customer_id
            WHERE s.currency <> '' AND s.currency <> c.currency AND (
                EXISTS (SELECT 1 FROM invoices_invoice i WHERE i.customer_id = c.id)
                OR EXISTS (SELECT 1 FROM invoices_payment p WHERE p.customer_id = c.id)
                OR EXISTS (SELECT 1 FROM invoices_creditnote n WHERE n.customer_id = c.id))
            """
        )
        found += [
            (
                line,
                f"customer {external_id} already has invoices or payments in {old}; "
                f"its currency cannot change to {new}",
            )
            for line, external_id, old, new in cursor.fetchall()
        ]
        return found

    def dedupe(self, cursor) -> None:
        dedupe_stage(cursor, "external_id")

    def count(self, cursor) -> tuple[int, int, int]:
        cursor.execute(
            f"""
            SELECT COALESCE(SUM(CASE WHEN c.id IS NULL THEN 1 ELSE 0 END), 0),
                   COALESCE(SUM(CASE WHEN c.id IS NOT NULL AND {CHANGED_SQL}
                                THEN 1 ELSE 0 END), 0),
                   COUNT(*)
            FROM import_stage s
            LEFT JOIN invoices_customer c ON c.id = s.customer_id
            {PRIMARY_AP}
            """,
            PRIMARY_AP_PARAMS,
        )
        created, updated, total = cursor.fetchone()
        return int(created), int(updated), int(total - created - updated)

    def apply(self, cursor, *, batch_id: int, now, audit) -> None:
        """1. change existing customers and their primary AP contact (auditing each),
        2. insert the new customers with the organisation's defaults, and their contacts."""
        remember_ids(
            cursor,
            CHANGED,
            f"SELECT c.id AS id FROM import_stage s "
            f"JOIN invoices_customer c ON c.id = s.customer_id {PRIMARY_AP} "
            f"WHERE {CHANGED_SQL}",
            PRIMARY_AP_PARAMS,
        )
        if changed_any(cursor):
            index_stage(cursor, "customer_id")
        for ids in id_chunks(cursor, CHANGED):
            self._update(cursor, ids, batch_id=batch_id, now=now, audit=audit)
        org = Organisation.current()
        cursor.execute(
            """
            INSERT INTO invoices_customer
                (external_id, name, debtor_type, timezone, currency, country, region,
                 on_hold, hold_reason, do_not_contact, insolvent, credit_hold, terms_version,
                 import_batch_id, created_at, updated_at)
            SELECT s.external_id, s.name,
                   COALESCE(NULLIF(s.debtor_type, ''), %(business)s),
                   COALESCE(NULLIF(s.timezone, ''), %(timezone)s),
                   COALESCE(NULLIF(s.currency, ''), %(currency)s),
                   COALESCE(NULLIF(s.country, ''), %(country)s),
                   s.region, %(no)s, '', %(no)s, %(no)s, %(no)s, '', %(batch)s, %(now)s, %(now)s
            FROM import_stage s
            WHERE s.customer_id IS NULL
            """,
            {
                "business": DebtorType.BUSINESS.value,
                "timezone": org.default_timezone,
                "currency": org.default_currency,
                "country": org.default_country,
                "no": False,
                "batch": batch_id,
                "now": now,
            },
        )
        cursor.execute(
            """
            INSERT INTO invoices_contact
                (customer_id, name, role, email, phone, address, is_primary, email_opt_out,
                 phone_opt_out)
            SELECT c.id, '', %(ap)s, s.email, s.phone, '', %(yes)s, %(no)s, %(no)s
            FROM import_stage s
            JOIN invoices_customer c ON c.external_id = s.external_id
            WHERE c.import_batch_id = %(batch)s AND (s.email <> '' OR s.phone <> '')
            """,
            {
                "ap": ContactRole.ACCOUNTS_PAYABLE.value,
                "yes": True,
                "no": False,
                "batch": batch_id,
            },
        )

    def _update(self, cursor, ids: list[int], *, batch_id: int, now, audit) -> None:
        cursor.execute(
            f"""
            SELECT c.id, c.name, c.timezone, c.currency, c.debtor_type, c.country, c.region,
                   s.name, s.timezone, s.currency, s.debtor_type, s.country, s.region,
                   ct.id, ct.email, ct.phone, s.email, s.phone
            FROM import_stage s
            JOIN invoices_customer c ON c.id = s.customer_id
            {PRIMARY_AP}
            WHERE c.id IN ({placeholders(ids)})
            """,
            [*PRIMARY_AP_PARAMS, *ids],
        )
        customers, contacts, new_contacts, events = [], [], [], []
        for row in cursor.fetchall():
            customer_id = row[0]
            old, new = row[1:7], row[7:13]
            contact_id, old_email, old_phone, email, phone = row[13:]
            # Blank in the file: keep what the customer has (the name is never blank).
            final = [n or o for o, n in zip(old, new, strict=True)]
            changes = {
                name: [o, f] for name, o, f in zip(FIELDS, old, final, strict=True) if o != f
            }
            if changes:
                customers.append([*final, now, customer_id])
                events.append(
                    Event(
                        action="ledger.customer.updated",
                        customer_id=customer_id,
                        summary=f"Customer {final[0]} changed: {', '.join(changes)}",
                        data={"changes": changes, "import_batch": batch_id},
                    )
                )
            if contact_id is None:
                if email or phone:
                    new_contacts.append(
                        Contact(
                            customer_id=customer_id,
                            role=ContactRole.ACCOUNTS_PAYABLE,
                            email=email,
                            phone=phone,
                            is_primary=True,
                        )
                    )
                continue
            final_email, final_phone = email or old_email, phone or old_phone
            contact_changes = {
                name: [o, f]
                for name, o, f in (
                    ("email", old_email, final_email),
                    ("phone", old_phone, final_phone),
                )
                if o != f
            }
            if contact_changes:
                contacts.append([final_email, final_phone, contact_id])
                events.append(
                    self._contact_event(
                        customer_id, contact_id, contact_changes, batch_id, created=False
                    )
                )
        if customers:
            cursor.executemany(
                "UPDATE invoices_customer SET name = %s, timezone = %s, currency = %s, "
                "debtor_type = %s, country = %s, region = %s, updated_at = %s WHERE id = %s",
                customers,
            )
        if contacts:
            cursor.executemany(
                "UPDATE invoices_contact SET email = %s, phone = %s WHERE id = %s", contacts
            )
        for contact in Contact.objects.bulk_create(new_contacts):
            changes = {"email": ["", contact.email], "phone": ["", contact.phone]}
            events.append(
                self._contact_event(
                    contact.customer_id, contact.pk, changes, batch_id, created=True
                )
            )
        audit(events)

    @staticmethod
    def _contact_event(customer_id, contact_id, changes, batch_id, *, created) -> Event:
        return Event(
            action="ledger.contact.created" if created else "ledger.contact.updated",
            customer_id=customer_id,
            summary=f"Primary accounts-payable contact {'added' if created else 'changed'}",
            data={"contact_id": contact_id, "changes": changes, "import_batch": batch_id},
        )
