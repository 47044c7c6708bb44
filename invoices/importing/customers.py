"""The customers import: external_id and name, and optionally email, phone, timezone,
currency, debtor_type, country, region, address, collector, credit_limit, terms_version,
terms_accepted_on, late_interest_rate, late_fee, language and payment_terms_days.

email, phone and address belong to the customer's primary accounts-payable contact; a new
email on a contact whose mail bounced clears the bounce. A blank optional
column means "no value given": a new customer takes the organisation's default timezone,
currency and country; an existing customer keeps what it has, so a partial export never
wipes what someone typed into Dunmore."""

import datetime as dt

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from audit.services import Event
from invoices.models import Contact, ContactRole, DebtorType, ImportKind, Organisation
from invoices.money import currency_codes, currency_problem
from invoices.validators import timezone_names
from jobs.models import Phase
from jobs.progress import report_phase

from . import customer_fields, reader
from .columns import SCHEMAS, Layout
from .staging import (
    CHANGED,
    TempTable,
    changed_any,
    dedupe_stage,
    differs,
    id_chunks,
    index_stage,
    placeholders,
    remember_ids,
)
from .staging import from_cents as cents_to_money
from .staging import to_cents as money_to_cents

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
        ("address", "TEXT NOT NULL"),
        ("collector", "VARCHAR(150) NOT NULL"),
        # Amounts in cents and the rate in hundredths of a percent; NULL for a blank cell.
        ("credit_limit", "BIGINT"),
        ("terms_version", "VARCHAR(32) NOT NULL"),
        ("terms_accepted_on", "DATE"),
        ("late_interest_rate", "BIGINT"),
        ("late_fee", "BIGINT"),
        ("language", "VARCHAR(16) NOT NULL"),
        ("payment_terms_days", "INTEGER"),
    ],
    derived=[("customer_id", "BIGINT"), ("collector_id", "BIGINT")],
)
# Text columns of the customer: a blank cell keeps what the customer has.
FIELDS = (
    "name",
    "timezone",
    "currency",
    "debtor_type",
    "country",
    "region",
    "terms_version",
    "language",
)
# Nullable columns of the customer, compared and audited one by one.
NUMBERS = ("credit_limit", "late_interest_rate", "late_fee")
CONTACT_FIELDS = ("email", "phone", "address")
DEBTOR_TYPES = frozenset(DebtorType.values)

PRIMARY_AP = """
LEFT JOIN invoices_contact ct ON ct.customer_id = c.id AND ct.role = %s AND ct.is_primary = %s
"""
CHANGED_SQL = f"""(
    s.name <> c.name
    OR (s.timezone <> '' AND s.timezone <> c.timezone)
    OR (s.currency <> '' AND s.currency <> c.currency)
    OR (s.debtor_type <> '' AND s.debtor_type <> c.debtor_type)
    OR (s.country <> '' AND s.country <> c.country)
    OR (s.region <> '' AND s.region <> c.region)
    OR (s.email <> '' AND (ct.id IS NULL OR ct.email <> s.email))
    OR (s.phone <> '' AND (ct.id IS NULL OR ct.phone <> s.phone))
    OR (s.address <> '' AND (ct.id IS NULL OR ct.address <> s.address))
    OR (s.terms_version <> '' AND s.terms_version <> c.terms_version)
    OR (s.collector_id IS NOT NULL AND {differs("s.collector_id", "c.collector_id")})
    OR (s.terms_accepted_on IS NOT NULL
        AND {differs("s.terms_accepted_on", "c.terms_accepted_on")})
    OR (s.credit_limit IS NOT NULL
        AND {differs("s.credit_limit", money_to_cents("c.credit_limit"))})
    OR (s.late_interest_rate IS NOT NULL
        AND {differs("s.late_interest_rate", money_to_cents("c.late_interest_rate"))})
    OR (s.late_fee IS NOT NULL AND {differs("s.late_fee", money_to_cents("c.late_fee"))})
    OR (s.language <> '' AND s.language <> c.language)
    OR (s.payment_terms_days IS NOT NULL
        AND {differs("s.payment_terms_days", "c.payment_terms_days")})
)"""
USERS = get_user_model()._meta.db_table
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
        collectors = customer_fields.Collectors()

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
            address = customer_fields.address(value["address"], reasons)
            collector = collectors.check(value["collector"], reasons)
            limit = customer_fields.amount(value["credit_limit"], "credit_limit", reasons)
            version = text(value["terms_version"], "terms_version", 32, reasons, required=False)
            accepted = customer_fields.accepted_on(value["terms_accepted_on"], parse_date, reasons)
            rate = customer_fields.rate(value["late_interest_rate"], reasons)
            fee = customer_fields.amount(value["late_fee"], "late_fee", reasons)
            language = customer_fields.language(value["language"], reasons)
            terms_days = customer_fields.terms_days(value["payment_terms_days"], reasons)
            if reasons:
                raise reader.RowError(reasons)
            return (
                *(external_id, name, email, phone, zone, currency, debtor_type, country, region),
                *(address, collector, limit, version, accepted, rate, fee, language, terms_days),
            )

        return parse

    def preview(self, row: tuple) -> dict:
        shown = dict(zip(STAGE.names[1:], row, strict=True))
        for column in NUMBERS:
            if shown[column] is not None:
                shown[column] = reader.from_cents(shown[column])
        return {column: "" if value is None else value for column, value in shown.items()}

    def match(self, cursor) -> None:
        """Note which rows are customers we already have, before anything is inserted, and
        which user each named collector is."""
        cursor.execute(
            "UPDATE import_stage SET customer_id = c.id FROM invoices_customer c "
            "WHERE c.external_id = import_stage.external_id"
        )
        cursor.execute(
            f"UPDATE import_stage SET collector_id = u.id FROM {USERS} u "
            "WHERE import_stage.collector <> '' AND u.username = import_stage.collector"
        )

    def problems(self, cursor) -> list[tuple[int, str]]:
        cursor.execute(
            f"""
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
                OR s.region <> f.region OR s.address <> f.address
                OR s.collector <> f.collector OR s.terms_version <> f.terms_version
                OR {differs("s.credit_limit", "f.credit_limit")}
                OR {differs("s.terms_accepted_on", "f.terms_accepted_on")}
                OR {differs("s.late_interest_rate", "f.late_interest_rate")}
                OR {differs("s.late_fee", "f.late_fee")}
                OR s.language <> f.language
                OR {differs("s.payment_terms_days", "f.payment_terms_days")})
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
        report_phase(Phase.WRITING)
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
            f"""
            INSERT INTO invoices_customer
                (external_id, name, debtor_type, timezone, currency, country, region,
                 on_hold, hold_reason, do_not_contact, insolvent, credit_hold, terms_version,
                 collector_id, credit_limit, terms_accepted_on, late_interest_rate, late_fee,
                 language, payment_terms_days, import_batch_id, created_at, updated_at)
            SELECT s.external_id, s.name,
                   COALESCE(NULLIF(s.debtor_type, ''), %(business)s),
                   COALESCE(NULLIF(s.timezone, ''), %(timezone)s),
                   COALESCE(NULLIF(s.currency, ''), %(currency)s),
                   COALESCE(NULLIF(s.country, ''), %(country)s),
                   s.region, %(no)s, '', %(no)s, %(no)s, %(no)s, s.terms_version,
                   s.collector_id, {cents_to_money("s.credit_limit")}, s.terms_accepted_on,
                   {cents_to_money("s.late_interest_rate")}, {cents_to_money("s.late_fee")},
                   s.language, s.payment_terms_days, %(batch)s, %(now)s, %(now)s
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
            SELECT c.id, '', %(ap)s, s.email, s.phone, s.address, %(yes)s, %(no)s, %(no)s
            FROM import_stage s
            JOIN invoices_customer c ON c.external_id = s.external_id
            WHERE c.import_batch_id = %(batch)s
              AND (s.email <> '' OR s.phone <> '' OR s.address <> '')
            """,
            {
                "ap": ContactRole.ACCOUNTS_PAYABLE.value,
                "yes": True,
                "no": False,
                "batch": batch_id,
            },
        )
        for field, detail in (
            ("primary_email", "email"),
            ("primary_phone", "phone"),
            ("primary_post", "address"),
        ):
            # invoices.services.contact_primaries_settle, set-based: a channel the imported
            # billing contact has and no contact is primary for becomes theirs.
            cursor.execute(
                f"""
                UPDATE invoices_contact SET {field} = %(yes)s
                WHERE role = %(ap)s AND is_primary = %(yes)s AND {detail} <> ''
                  AND customer_id IN (SELECT c.id FROM import_stage s
                                      JOIN invoices_customer c ON c.external_id = s.external_id)
                  AND NOT EXISTS (SELECT 1 FROM invoices_contact o
                                  WHERE o.customer_id = invoices_contact.customer_id
                                    AND o.{field} = %(yes)s)
                """,
                {"ap": ContactRole.ACCOUNTS_PAYABLE.value, "yes": True},
            )

    def _update(self, cursor, ids: list[int], *, batch_id: int, now, audit) -> None:
        cursor.execute(
            f"""
            SELECT c.id, {", ".join(f"c.{f} AS old_{f}, s.{f} AS new_{f}" for f in FIELDS)},
                   c.collector_id AS old_collector_id, cu.username AS old_collector,
                   s.collector_id AS new_collector_id, s.collector AS new_collector,
                   c.terms_accepted_on AS old_terms_accepted_on,
                   s.terms_accepted_on AS new_terms_accepted_on,
                   c.payment_terms_days AS old_payment_terms_days,
                   s.payment_terms_days AS new_payment_terms_days,
                   {
                ", ".join(
                    f"{money_to_cents(f'c.{f}')} AS old_{f}, s.{f} AS new_{f}" for f in NUMBERS
                )
            },
                   ct.id AS contact_id, ct.email_bounced_at AS bounced_at,
                   {", ".join(f"ct.{f} AS old_{f}, s.{f} AS new_{f}" for f in CONTACT_FIELDS)}
            FROM import_stage s
            JOIN invoices_customer c ON c.id = s.customer_id
            LEFT JOIN {USERS} cu ON cu.id = c.collector_id
            {PRIMARY_AP}
            WHERE c.id IN ({placeholders(ids)})
            """,
            [*PRIMARY_AP_PARAMS, *ids],
        )
        names = [column[0] for column in cursor.description]
        customers, contacts, unbounced, new_contacts, events = [], [], [], [], []
        for values in cursor.fetchall():
            row = dict(zip(names, values, strict=True))
            customer_id = row["id"]
            final, changes = _customer_changes(row)
            if changes:
                customers.append([*final, now, customer_id])
                events.append(
                    Event(
                        action="ledger.customer.updated",
                        customer_id=customer_id,
                        summary=f"Customer {final[0]} changed: {', '.join(changes)}"[:300],
                        data={"changes": changes, "import_batch": batch_id},
                    )
                )
            contact_id = row["contact_id"]
            given = [row[f"new_{f}"] for f in CONTACT_FIELDS]
            if contact_id is None:
                if any(given):
                    email, phone, address = given
                    new_contacts.append(
                        Contact(
                            customer_id=customer_id,
                            role=ContactRole.ACCOUNTS_PAYABLE,
                            email=email,
                            phone=phone,
                            address=address,
                            is_primary=True,
                        )
                    )
                continue
            old = [row[f"old_{f}"] for f in CONTACT_FIELDS]
            kept = [n or o for o, n in zip(old, given, strict=True)]
            contact_changes = {
                name: [o, f] for name, o, f in zip(CONTACT_FIELDS, old, kept, strict=True) if o != f
            }
            if "email" in contact_changes and row["bounced_at"] is not None:
                # Mail bounced from the old address; the new one deserves a try.
                unbounced.append(contact_id)
                contact_changes["email_bounced_at"] = [str(row["bounced_at"]), None]
            if contact_changes:
                contacts.append([*kept, contact_id])
                events.append(
                    self._contact_event(
                        customer_id, contact_id, contact_changes, batch_id, created=False
                    )
                )
        if customers:
            cursor.executemany(
                "UPDATE invoices_customer SET name = %s, timezone = %s, currency = %s, "
                "debtor_type = %s, country = %s, region = %s, terms_version = %s, "
                "language = %s, collector_id = %s, terms_accepted_on = %s, "
                "payment_terms_days = %s, credit_limit = %s, "
                "late_interest_rate = %s, late_fee = %s, updated_at = %s WHERE id = %s",
                customers,
            )
        if contacts:
            cursor.executemany(
                "UPDATE invoices_contact SET email = %s, phone = %s, address = %s WHERE id = %s",
                contacts,
            )
        if unbounced:
            cursor.execute(
                "UPDATE invoices_contact SET email_bounced_at = NULL "
                f"WHERE id IN ({placeholders(unbounced)})",
                unbounced,
            )
        for contact in Contact.objects.bulk_create(new_contacts):
            changes = {
                name: ["", getattr(contact, name)]
                for name in CONTACT_FIELDS
                if getattr(contact, name) or name != "address"
            }
            events.append(
                self._contact_event(
                    contact.customer_id, contact.pk, changes, batch_id, created=True
                )
            )
        audit(events)

    @staticmethod
    def _contact_event(customer_id, contact_id, changes, batch_id, *, created) -> Event:
        data = {"contact_id": contact_id, "changes": changes, "import_batch": batch_id}
        summary = f"Primary accounts-payable contact {'added' if created else 'changed'}"
        if "email_bounced_at" in changes:
            old, new = changes["email"]
            data["bounce_cleared"] = "the email address changed"
            summary += f"; bounce on {old} cleared because the address changed to {new}"
        return Event(
            action="ledger.contact.created" if created else "ledger.contact.updated",
            customer_id=customer_id,
            summary=summary[:300],
            data=data,
        )


def _customer_changes(row: dict) -> tuple[list, dict]:
    """The customer's values after the import (in the UPDATE's order) and what changed,
    as {column: [before, after]} fit to audit. A blank cell keeps the customer's value."""
    final, changes = [], {}
    for name in FIELDS:
        old, new = row[f"old_{name}"], row[f"new_{name}"]
        final.append(new or old)
        if new and new != old:
            changes[name] = [old, new]
    if row["new_collector_id"] is not None and row["new_collector_id"] != row["old_collector_id"]:
        final.append(row["new_collector_id"])
        changes["collector"] = [row["old_collector"], row["new_collector"]]
    else:
        final.append(row["old_collector_id"])
    old_on = str(row["old_terms_accepted_on"]) if row["old_terms_accepted_on"] else None
    new_on = str(row["new_terms_accepted_on"]) if row["new_terms_accepted_on"] else None
    if new_on and new_on != old_on:
        changes["terms_accepted_on"] = [old_on, new_on]
    final.append(dt.date.fromisoformat(new_on or old_on) if (new_on or old_on) else None)
    old_days, new_days = row["old_payment_terms_days"], row["new_payment_terms_days"]
    if new_days is not None and new_days != old_days:
        changes["payment_terms_days"] = [old_days, new_days]
    final.append(old_days if new_days is None else new_days)
    for name in NUMBERS:
        old, new = row[f"old_{name}"], row[f"new_{name}"]
        value = old if new is None else new
        if new is not None and new != old:
            changes[name] = [_shown(old), _shown(new)]
        final.append(None if value is None else reader.from_cents(value))
    return final, changes


def _shown(cents: int | None) -> str | None:
    return None if cents is None else str(reader.from_cents(cents))
