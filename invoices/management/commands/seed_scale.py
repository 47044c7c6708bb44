"""Load a benchmark-sized ledger into PostgreSQL with COPY.

The rows bypass the services for speed, so this loader keeps the ledger's invariants itself:
every paid or part-paid invoice has a payment and an allocation for exactly what was paid,
open_balance = amount - allocations, status and closed_on agree with them, and an invoice
with an open dispute is in_dispute. One audit event records the load.
"""

import random
import time
from array import array
from contextlib import contextmanager
from datetime import date

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import DateTimeField
from django.utils import timezone

from accounts.roles import COLLECTOR
from audit.services import audit_record
from invoices.demo import demo_users_ensure
from invoices.models import (
    Allocation,
    Contact,
    ContactRole,
    CreditNote,
    Customer,
    Dispute,
    DisputeReason,
    Invoice,
    InvoiceStatus,
    Payment,
)
from invoices.signals import ledger_changed

SCALE_PREFIX = "SCALE-"
# (currency, country, region, timezone), weighted towards a UK ledger.
LOCALES = [("GBP", "GB", "England", "Europe/London")] * 16 + [
    ("GBP", "GB", "Scotland", "Europe/London"),
    ("EUR", "IE", "Leinster", "Europe/Dublin"),
    ("EUR", "DE", "Bayern", "Europe/Berlin"),
    ("USD", "US", "New York", "America/New_York"),
]
WORDS = [
    "Harbour",
    "Northgate",
    "Kestrel",
    "Meridian",
    "Oakfield",
    "Redstone",
    "Juniper",
    "Calder",
    "Pennine",
    "Hawthorn",
    "Westbrook",
    "Summit",
    "Beacon",
    "Granite",
]
TRADES = [
    "Logistics",
    "Joinery",
    "Engineering",
    "Catering",
    "Print",
    "Electrical",
    "Software",
    "Packaging",
    "Freight",
    "Plumbing",
    "Media",
    "Motors",
]
REASONS = [choice.value for choice in DisputeReason]


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


class Command(BaseCommand):
    help = (
        "Load a large synthetic ledger into PostgreSQL with COPY, for benchmarks "
        "(default 100,000 customers and 1,000,000 invoices)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=100_000)
        parser.add_argument("--invoices", type=int, default=1_000_000)
        parser.add_argument("--seed", type=int, default=1, help="same seed, same data")
        parser.add_argument(
            "--replace", action="store_true", help="delete previously loaded scale data first"
        )

    def handle(self, *args, customers, invoices, seed, replace, **options):
        if connection.vendor != "postgresql":
            raise CommandError(
                "seed_scale loads with PostgreSQL's COPY and does not run on SQLite. Point "
                "DATABASE_URL at PostgreSQL, e.g. postgres://postgres@127.0.0.1:5432/dunmore."
            )
        if customers < 1 or invoices < 0:
            raise CommandError("--customers must be at least 1 and --invoices at least 0.")
        present = Customer.objects.filter(external_id__startswith=SCALE_PREFIX).exists()
        if present and not replace:
            raise CommandError(
                "Scale data is already loaded. Pass --replace to delete it and load afresh."
            )
        collectors = self._collectors()
        loader = _Loader(
            rng=random.Random(seed),
            today=timezone.localdate(),
            collector_ids=collectors,
            log=self._log,
        )
        started = time.monotonic()
        with transaction.atomic():
            with connection.cursor() as cursor:
                # Nothing is lost if the machine dies before this commit reaches the disk.
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
            deleted = loader.delete_previous() if present else {}
            counts = loader.load(customers=customers, invoices=invoices)
            ledger_changed.send(sender=Command, currencies=None, since=None)
            audit_record(
                action="seed.scale.loaded",
                summary=f"Scale data loaded: {customers} customers, {invoices} invoices",
                data={"seed": seed, "replaced": deleted, **counts},
            )
        loader.lap("committed (foreign keys checked)")
        loader.analyze()
        total = time.monotonic() - started
        rows = sum(counts.values())
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded {counts['customers']:,} customers, {counts['invoices']:,} invoices, "
                f"{counts['payments']:,} payments and {counts['disputes']:,} disputes "
                f"({rows:,} rows) in {total:.1f}s, {rows / total:,.0f} rows/s."
            )
        )

    def _log(self, message: str, seconds: float | None = None):
        suffix = f" ({seconds:.1f}s)" if seconds is not None else ""
        self.stdout.write(f"  {message}{suffix}")

    def _collectors(self) -> list[int]:
        ids = list(
            get_user_model()
            .objects.filter(groups__name=COLLECTOR, is_active=True)
            .order_by("id")
            .values_list("id", flat=True)
        )
        if not ids:
            users = demo_users_ensure()
            ids = [users["colin"].pk, users["cara"].pk]
            self._log("no collectors found; created the demo users colin and cara")
        return ids


class _Loader:
    def __init__(self, *, rng: random.Random, today: date, collector_ids: list[int], log):
        self.rng = rng
        self.today = today
        self.collector_ids = collector_ids
        self.log = log
        self.now = timezone.now().isoformat()
        self.last = time.monotonic()
        self._iso: dict[int, str] = {}

    def lap(self, message: str) -> None:
        now = time.monotonic()
        self.log(message, now - self.last)
        self.last = now

    def _day(self, ordinal: int) -> str:
        text = self._iso.get(ordinal)
        if text is None:
            text = self._iso[ordinal] = date.fromordinal(ordinal).isoformat()
        return text

    # -- replace ------------------------------------------------------------------------

    def delete_previous(self) -> dict:
        """Delete the rows of the previous scale load (audit events stay: they cannot go)."""
        t = {
            m.__name__: m._meta.db_table
            for m in (Customer, Contact, Invoice, Payment, Allocation, Dispute, CreditNote)
        }
        scale_customers = f"SELECT id FROM {t['Customer']} WHERE external_id LIKE %s"
        scale_invoices = f"SELECT id FROM {t['Invoice']} WHERE customer_id IN ({scale_customers})"
        statements = [
            (
                "allocations",
                f"DELETE FROM {t['Allocation']} WHERE invoice_id IN ({scale_invoices})",
            ),
            ("disputes", f"DELETE FROM {t['Dispute']} WHERE invoice_id IN ({scale_invoices})"),
            ("payments", f"DELETE FROM {t['Payment']} WHERE customer_id IN ({scale_customers})"),
            (
                "credit notes",
                f"DELETE FROM {t['CreditNote']} WHERE customer_id IN ({scale_customers})",
            ),
            ("invoices", f"DELETE FROM {t['Invoice']} WHERE customer_id IN ({scale_customers})"),
            ("contacts", f"DELETE FROM {t['Contact']} WHERE customer_id IN ({scale_customers})"),
            ("customers", f"DELETE FROM {t['Customer']} WHERE id IN ({scale_customers})"),
        ]
        deleted = {}
        with connection.cursor() as cursor:
            for name, sql in statements:
                cursor.execute(sql, [SCALE_PREFIX + "%"])
                deleted[name] = cursor.rowcount
        self.lap(f"deleted the previous scale data: {deleted}")
        return deleted

    # -- load ---------------------------------------------------------------------------

    def load(self, *, customers: int, invoices: int) -> dict:
        models = (Customer, Contact, Invoice, Payment, Allocation, Dispute)
        with connection.cursor() as cursor:
            # Explicit ids let invoices, payments and allocations refer to each other
            # without a round trip per row; the lock keeps other writers out of the ranges.
            tables = ", ".join(m._meta.db_table for m in models)
            cursor.execute(f"LOCK TABLE {tables} IN SHARE ROW EXCLUSIVE MODE")
            self.pg = cursor.connection
            base = {m: self._next_id(cursor, m) for m in models}
            currencies = self._customers(base[Customer], customers)
            self._contacts(base[Contact], base[Customer], customers)
            paid, disputes = self._invoices(base[Invoice], base[Customer], currencies, invoices)
            self._payments(base[Payment], base[Allocation], paid)
            self._disputes(base[Dispute], disputes)
            counts = {
                "customers": customers,
                "contacts": customers,
                "invoices": invoices,
                "payments": len(paid[0]),
                "allocations": len(paid[0]),
                "disputes": len(disputes),
            }
            for model, added in zip(
                models,
                [customers, customers, invoices, len(paid[0]), len(paid[0]), len(disputes)],
                strict=True,
            ):
                table = model._meta.db_table
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)",
                    [table, base[model] + added],
                )
        return counts

    def _next_id(self, cursor, model) -> int:
        """The highest id in use or handed out; new rows take the ids after it."""
        table = model._meta.db_table
        cursor.execute(
            f"SELECT GREATEST((SELECT COALESCE(MAX(id), 0) FROM {table}),"
            f" nextval(pg_get_serial_sequence(%s, 'id')))",
            [table],
        )
        return cursor.fetchone()[0]

    @contextmanager
    def _copy(self, model, columns: list[str]):
        """COPY into the model's table: yields the copy and the values to append to each row
        for the columns not named, which take the model's defaults (so a field added to a
        model later does not break the loader)."""
        fields = [f for f in model._meta.concrete_fields if f.column != "id"]
        unknown = set(columns) - {f.column for f in fields} - {"id"}
        if unknown:
            raise CommandError(f"{model.__name__} has no columns {sorted(unknown)}.")
        extra = []
        for f in fields:
            if f.column in columns:
                continue
            auto = isinstance(f, DateTimeField) and (f.auto_now or f.auto_now_add)
            extra.append((f.column, self.now if auto else f.get_default()))
        names = ", ".join([*columns, *(column for column, _ in extra)])
        sql = f"COPY {model._meta.db_table} ({names}) FROM STDIN"
        with self.pg.cursor() as cursor, cursor.copy(sql) as copy:
            yield copy, tuple(value for _, value in extra)

    def _customers(self, base: int, count: int) -> bytearray:
        rng, collectors = self.rng, self.collector_ids
        columns = [
            "id",
            "external_id",
            "name",
            "debtor_type",
            "timezone",
            "currency",
            "country",
            "region",
            "collector_id",
            "on_hold",
            "hold_reason",
            "do_not_contact",
            "insolvent",
            "credit_hold",
            "credit_limit",
        ]
        currency_of = bytearray(count)  # 0 GBP, 1 EUR, 2 USD
        codes = {"GBP": 0, "EUR": 1, "USD": 2}
        with self._copy(Customer, columns) as (copy, extra):
            for i in range(count):
                currency, country, region, tz = rng.choice(LOCALES)
                currency_of[i] = codes[currency]
                consumer = rng.random() < 0.05
                name = (
                    f"Scale Consumer {i + 1}"
                    if consumer
                    else f"{rng.choice(WORDS)} {rng.choice(TRADES)} {i + 1} Ltd"
                )
                flag = rng.random()
                copy.write_row(
                    (
                        base + i + 1,
                        f"{SCALE_PREFIX}{i + 1:07d}",
                        name,
                        "consumer" if consumer else "business",
                        tz,
                        currency,
                        country,
                        region,
                        collectors[i % len(collectors)],
                        flag < 0.01,
                        "Awaiting remittance advice" if flag < 0.01 else "",
                        0.01 <= flag < 0.015,
                        0.015 <= flag < 0.02,
                        0.02 <= flag < 0.04,
                        None if consumer else _money(rng.choice([5, 10, 25, 50, 100]) * 100_000),
                    )
                    + extra
                )
        self.lap(f"copied {count:,} customers")
        return currency_of

    def _contacts(self, base: int, customer_base: int, count: int) -> None:
        columns = ["id", "customer_id", "name", "role", "email", "is_primary"]
        with self._copy(Contact, columns) as (copy, extra):
            for i in range(count):
                copy.write_row(
                    (
                        base + i + 1,
                        customer_base + i + 1,
                        "Accounts payable",
                        ContactRole.ACCOUNTS_PAYABLE.value,
                        f"ap{i + 1}@scale-customer.example",
                        True,
                    )
                    + extra
                )
        self.lap(f"copied {count:,} contacts")

    def _invoices(self, base: int, customer_base: int, currency_of: bytearray, count: int):
        """Invoices due over the last two years (a few not yet due): about 60% paid in full,
        10% part-paid, the rest open, and a few open ones in dispute."""
        rng, today = self.rng, self.today.toordinal()
        customers = len(currency_of)
        names = ("GBP", "EUR", "USD")
        paid = (array("q"), array("q"), array("q"), array("l"), bytearray())
        p_invoice, p_customer, p_cents, p_day, p_currency = paid
        disputes = []
        columns = [
            "id",
            "number",
            "customer_id",
            "issue_date",
            "due_date",
            "currency",
            "amount",
            "open_balance",
            "status",
            "closed_on",
        ]
        with self._copy(Invoice, columns) as (copy, extra):
            for j in range(count):
                invoice_id = base + j + 1
                c = j % customers
                customer_id = customer_base + c + 1
                currency = currency_of[c]
                due = today - rng.randint(-30, 730)
                issue = due - 30
                cents = min(max(int(rng.lognormvariate(11.5, 1.0)), 2_500), 5_000_000)
                fate = rng.random()
                balance, status, closed = cents, InvoiceStatus.OPEN.value, None
                if fate < 0.7:
                    day = min(max(due + rng.randint(-10, 60), issue), today)
                    part = cents if fate < 0.6 else cents * rng.randint(10, 90) // 100
                    balance = cents - part
                    if balance == 0:
                        status, closed = InvoiceStatus.PAID.value, self._day(day)
                    p_invoice.append(invoice_id)
                    p_customer.append(customer_id)
                    p_cents.append(part)
                    p_day.append(day)
                    p_currency.append(currency)
                if balance and due < today - 15 and rng.random() < 0.005:
                    status = InvoiceStatus.IN_DISPUTE.value
                    disputes.append((invoice_id, balance, min(due + rng.randint(1, 30), today)))
                copy.write_row(
                    (
                        invoice_id,
                        f"S-{j + 1:08d}",
                        customer_id,
                        self._day(issue),
                        self._day(due),
                        names[currency],
                        _money(cents),
                        _money(balance),
                        status,
                        closed,
                    )
                    + extra
                )
        self.lap(f"copied {count:,} invoices")
        return paid, disputes

    def _payments(self, payment_base: int, allocation_base: int, paid) -> None:
        p_invoice, p_customer, p_cents, p_day, p_currency = paid
        names = ("GBP", "EUR", "USD")
        columns = ["id", "customer_id", "received_on", "amount", "currency", "reference"]
        with self._copy(Payment, columns) as (copy, extra):
            for k in range(len(p_invoice)):
                copy.write_row(
                    (
                        payment_base + k + 1,
                        p_customer[k],
                        self._day(p_day[k]),
                        _money(p_cents[k]),
                        names[p_currency[k]],
                        f"SCALE {k + 1}",
                    )
                    + extra
                )
        self.lap(f"copied {len(p_invoice):,} payments")
        columns = ["id", "invoice_id", "payment_id", "amount", "applied_on"]
        with self._copy(Allocation, columns) as (copy, extra):
            for k in range(len(p_invoice)):
                copy.write_row(
                    (
                        allocation_base + k + 1,
                        p_invoice[k],
                        payment_base + k + 1,
                        _money(p_cents[k]),
                        self._day(p_day[k]),
                    )
                    + extra
                )
        self.lap(f"copied {len(p_invoice):,} allocations")

    def _disputes(self, base: int, disputes: list) -> None:
        rng = self.rng
        columns = ["id", "invoice_id", "reason", "amount", "status", "opened_on"]
        with self._copy(Dispute, columns) as (copy, extra):
            for k, (invoice_id, cents, opened) in enumerate(disputes):
                copy.write_row(
                    (
                        base + k + 1,
                        invoice_id,
                        rng.choice(REASONS),
                        _money(cents),
                        "open",
                        self._day(opened),
                    )
                    + extra
                )
        self.lap(f"copied {len(disputes):,} disputes")

    def analyze(self) -> None:
        """Fresh planner statistics, so the first benchmark queries use the indexes."""
        with connection.cursor() as cursor:
            for model in (Customer, Contact, Invoice, Payment, Allocation, Dispute):
                cursor.execute(f"ANALYZE {model._meta.db_table}")
        self.lap("analyzed the tables")
