"""Demo data: a believable ledger relative to today.

Every customer gets a payment habit (prompt, steady, late, partial, disputing or new) that
decides how each of its invoices was settled, so the queue, the aging buckets and the
customer pages all have something to show. The same seed always builds the same ledger.

The ledger is built in memory and written with one bulk insert per table, in one
transaction (invoices/demo_ledger.py): a row and an audit event at a time through the services, a
300-customer demo took 20 to 90 seconds. The rows, their derived balances and the audit
events are the ones the services write: invoices/tests/test_seed_demo_loading.py builds the
same demo through the services and compares the two.
"""

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction

from accounts.roles import ADMIN, COLLECTOR, MANAGER
from accounts.services import organisation_update, user_create
from audit.services import Event, audit_record_many

from .demo_ledger import BulkLedger, Progress
from .models import (
    ContactRole,
    Customer,
    DebtorType,
    DisputeReason,
    DisputeStatus,
    Invoice,
)
from .money import quantize
from .signals import ledger_changed

DEMO_PREFIX = "DEMO-"
DEMO_ORGANISATION = "Dunmore Demo Trading Ltd"


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    role: str
    first_name: str
    last_name: str


DEMO_USERS = (
    DemoUser("colin", "dunmore-colin", COLLECTOR, "Colin", "Hart"),
    DemoUser("cara", "dunmore-cara", COLLECTOR, "Cara", "Byrne"),
    DemoUser("maria", "dunmore-maria", MANAGER, "Maria", "Okafor"),
    DemoUser("ada", "dunmore-ada", ADMIN, "Ada", "Lindqvist"),
)

# Twenty slots of payment habits, shuffled per seed; customer i takes slot i % 20, so any
# demo of twenty customers or more has every habit.
HABIT_SLOTS = (
    ["prompt"] * 7
    + ["steady"] * 3
    + ["late"] * 4
    + ["partial"] * 2
    + ["disputing"] * 2
    + ["new"] * 2
)

# (currency, country, region, timezone, company suffix)
LOCALES = {
    "GBP": [
        ("GB", "England", "Europe/London", "Ltd"),
        ("GB", "Scotland", "Europe/London", "Ltd"),
        ("GB", "Wales", "Europe/London", "Ltd"),
        ("GB", "Northern Ireland", "Europe/London", "Ltd"),
    ],
    "EUR": [
        ("IE", "Leinster", "Europe/Dublin", "Ltd"),
        ("DE", "Bayern", "Europe/Berlin", "GmbH"),
        ("FR", "Île-de-France", "Europe/Paris", "SARL"),
        ("NL", "Noord-Holland", "Europe/Amsterdam", "B.V."),
        ("ES", "Madrid", "Europe/Madrid", "S.L."),
    ],
    "USD": [
        ("US", "New York", "America/New_York", "Inc."),
        ("US", "Illinois", "America/Chicago", "LLC"),
        ("US", "Colorado", "America/Denver", "Inc."),
        ("US", "California", "America/Los_Angeles", "LLC"),
    ],
}
TOWNS = {
    "GB": [
        "Leeds LS1 4AB",
        "Bristol BS1 5TR",
        "Glasgow G2 1QX",
        "Cardiff CF10 2HH",
        "Belfast BT1 6DP",
        "Norwich NR2 1NR",
        "York YO1 7HH",
        "Derby DE1 3AF",
    ],
    "IE": ["Dublin D02 X285", "Kildare W23 F854"],
    "DE": ["80331 München", "90402 Nürnberg"],
    "FR": ["75011 Paris", "92100 Boulogne-Billancourt"],
    "NL": ["1012 AB Amsterdam", "2011 CL Haarlem"],
    "ES": ["28013 Madrid", "28801 Alcalá de Henares"],
    "US": ["Brooklyn, NY 11201", "Chicago, IL 60607", "Denver, CO 80202", "Oakland, CA 94607"],
}
# fmt: off
STREETS = [
    "Mill Lane", "Station Road", "Quay Street", "Market Place", "Church Walk", "Victoria Park",
    "Canal Wharf", "High Street", "Foundry Yard", "Kings Row",
]
COMPANY_WORDS = [
    "Harbour", "Northgate", "Ashford", "Kestrel", "Meridian", "Brightwater", "Oakfield",
    "Redstone", "Juniper", "Calder", "Fenwick", "Larkspur", "Pennine", "Thistle", "Hawthorn",
    "Ironbridge", "Saltmarsh", "Westbrook", "Blackthorn", "Greyfriars", "Marlow", "Riverside",
    "Summit", "Beacon", "Copperfield", "Elmstead", "Foxglove", "Granite", "Highfield",
    "Kingsway", "Millbrook", "Orchard", "Quayside", "Rowan", "Stonegate", "Tideway", "Upland",
    "Yarrow",
]
TRADES = [
    "Logistics", "Joinery", "Engineering", "Catering", "Print", "Dental Care", "Electrical",
    "Hospitality", "Builders Merchants", "Software", "Packaging", "Interiors",
    "Veterinary Group", "Freight", "Plumbing", "Media", "Bakery", "Landscaping", "Textiles",
    "Motors",
]
FIRST_NAMES = [
    "Amelia", "Oliver", "Priya", "James", "Siobhan", "Tomasz", "Grace", "Mohammed", "Hannah",
    "Lukas", "Chloe", "Daniel", "Aoife", "Marco", "Ruth", "Samuel", "Ines", "Kwame", "Isla",
    "Pieter", "Sofia", "Ethan", "Leila", "Callum",
]
SURNAMES = [
    "Patel", "Murphy", "Nowak", "Evans", "Schmidt", "Dubois", "Reilly", "Khan", "Hughes",
    "de Vries", "García", "Campbell", "Mensah", "Fraser", "Rossi", "Walsh", "Turner", "Ahmed",
    "Lindgren", "Brooks",
]
# fmt: on
HOLD_REASONS = [
    "Awaiting remittance advice",
    "Account under review with sales",
    "Query on delivery notes",
    "Change of ownership in progress",
]
DISPUTE_DETAILS = {
    DisputeReason.PRICING: "Invoiced at list price, not the agreed contract rate.",
    DisputeReason.NOT_RECEIVED: "Customer says the second delivery never arrived.",
    DisputeReason.QUALITY: "Part of the order arrived damaged; photos sent.",
    DisputeReason.QUANTITY: "Billed for 40 units, 32 delivered.",
    DisputeReason.DUPLICATE: "Same work billed on an earlier invoice.",
    DisputeReason.ALREADY_PAID: "Customer says they paid this by card.",
    DisputeReason.NO_PO: "Accounts payable need a purchase order number.",
    DisputeReason.OTHER: "Customer asked for a copy of the signed quote.",
}


@dataclass
class DemoSummary:
    customers: int = 0
    contacts: int = 0
    invoices: int = 0
    payments: int = 0
    disputes: int = 0
    write_offs: int = 0


def demo_data_present() -> bool:
    return Customer.objects.filter(external_id__startswith=DEMO_PREFIX).exists()


@transaction.atomic
def demo_users_ensure() -> dict:
    """Create the demo users that are missing; existing ones are left as they are."""
    users = {}
    User = get_user_model()
    for spec in DEMO_USERS:
        user = User.objects.filter(username=spec.username).first()
        if user is None:
            user = user_create(
                actor=None,
                username=spec.username,
                password=spec.password,
                role=spec.role,
                email=f"{spec.username}@dunmore-demo.example",
                first_name=spec.first_name,
                last_name=spec.last_name,
            )
        users[spec.username] = user
    return users


@transaction.atomic
def demo_load(
    *, customers: int, seed: int, today: date, progress: Progress | None = None
) -> DemoSummary:
    """Load the demo ledger: `customers` customers with invoices over the last ~18 months.

    1. Make sure the demo users exist and name the organisation.
    2. Make up each customer with its contacts and flags, and give it a payment habit.
    3. Bill its invoices and settle each one as its habit says, never after today.
    4. Write it all with bulk inserts, then the audit events the services would have
       written, in the order they would have, chained in one append, and one event for
       the whole load."""
    say = progress or (lambda line: None)
    users = demo_users_ensure()
    organisation_update(actor=None, name=DEMO_ORGANISATION)
    ledger = BulkLedger()
    summary = demo_build(customers=customers, seed=seed, today=today, users=users, ledger=ledger)
    say(
        f"  made up {summary.customers:,} customers and {summary.invoices:,} invoices; writing them"
    )
    events = ledger.write(say)
    # Bulk inserts send no save signals: what listens to the ledger (the stored report
    # months) is told once, as after an import.
    ledger_changed.send(sender=demo_load, currencies=None, since=None)
    events.append(
        Event(
            action="seed.demo.loaded",
            summary=f"Demo data loaded: {summary.customers} customers, {summary.invoices} invoices",
            data={
                "seed": seed,
                "customers": summary.customers,
                "invoices": summary.invoices,
                "payments": summary.payments,
                "disputes": summary.disputes,
            },
        )
    )
    audit_record_many(events=events)
    say(f"  {len(events):,} audit events chained")
    return summary


def demo_build(*, customers: int, seed: int, today: date, users: dict, ledger) -> DemoSummary:
    """Make up the demo's customers and their history, handing each change to `ledger`
    (a BulkLedger, or anything with its methods)."""
    builder = _Builder(rng=random.Random(seed), today=today, users=users, ledger=ledger)
    builder.build(customers)
    return builder.summary


class _Builder:
    def __init__(self, *, rng: random.Random, today: date, users: dict, ledger):
        self.rng = rng
        self.today = today
        self.collectors = [users["colin"], users["cara"]]
        self.dispute_owner = users["maria"]
        self.summary = DemoSummary()
        self.ledger = ledger
        self.invoice_seq = 10000
        self.reference_seq = rng.randint(200000, 400000)
        self.used_names: set[str] = set()

    # -- who the customers are -----------------------------------------------------------

    def build(self, count: int) -> None:
        rng = self.rng
        slots = HABIT_SLOTS[:]
        rng.shuffle(slots)
        currencies = self._spread(count, {"EUR": 0.12, "USD": 0.08}, default="GBP")
        consumers = set(self._pick(count, 0.15))
        flags = {
            name: set(self._pick(count, share))
            for name, share in [
                ("on_hold", 0.03),
                ("do_not_contact", 0.02),
                ("insolvent", 0.02),
                ("credit_hold", 0.05),
                ("overpays", 0.04),
            ]
        }
        for i in range(count):
            habit = slots[i % len(slots)]
            if i in flags["insolvent"] or i in flags["credit_hold"]:
                habit = "late"
            customer = self._customer(
                index=i,
                currency=currencies[i],
                consumer=i in consumers,
                flagged={name for name, chosen in flags.items() if i in chosen},
            )
            self._bill_and_settle(customer, habit, overpays=i in flags["overpays"])

    def _pick(self, count: int, share: float) -> list[int]:
        """At least one index (of a non-empty demo), about `share` of them."""
        if count == 0:
            return []
        return self.rng.sample(range(count), max(1, round(count * share)))

    def _spread(self, count: int, shares: dict, default: str) -> list[str]:
        values = [default] * count
        free = list(range(count))
        self.rng.shuffle(free)
        for value, share in shares.items():
            for _ in range(min(len(free), max(1, round(count * share)))):
                values[free.pop()] = value
        return values

    def _customer(self, *, index: int, currency: str, consumer: bool, flagged: set) -> Customer:
        rng = self.rng
        country, region, tz, suffix = rng.choice(LOCALES[currency])
        if consumer:
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}"
        else:
            name = self._company_name(suffix)
        fields = {
            "debtor_type": DebtorType.CONSUMER if consumer else DebtorType.BUSINESS,
            "timezone": tz,
            "currency": currency,
            "country": country,
            "region": region,
            "collector": self.collectors[index % 2],
        }
        if not consumer:
            fields["credit_limit"] = Decimal(rng.choice([5, 10, 15, 25, 50, 100]) * 1000)
            if rng.random() < 0.7:
                fields["terms_accepted_on"] = self.today - timedelta(days=rng.randint(200, 900))
                fields["terms_version"] = rng.choice(["2023.1", "2024.2", "2025.1"])
        if "on_hold" in flagged:
            fields.update(
                on_hold=True,
                hold_reason=rng.choice(HOLD_REASONS),
                hold_until=self.today + timedelta(days=rng.randint(7, 30)),
            )
        for flag in ("do_not_contact", "insolvent", "credit_hold"):
            if flag in flagged:
                fields[flag] = True
        customer = self.ledger.customer_add(
            Customer(external_id=f"{DEMO_PREFIX}{index + 1:04d}", name=name, **fields)
        )
        self.summary.customers += 1
        self._contacts(customer, consumer=consumer)
        return customer

    def _company_name(self, suffix: str) -> str:
        for _ in range(20):
            name = f"{self.rng.choice(COMPANY_WORDS)} {self.rng.choice(TRADES)}"
            if name not in self.used_names:
                break
        else:
            name = f"{name} {len(self.used_names) + 1}"
        self.used_names.add(name)
        return f"{name} {suffix}"

    def _contacts(self, customer: Customer, *, consumer: bool) -> None:
        rng = self.rng
        domain = "".join(ch for ch in customer.name.lower() if ch.isalnum())[:24] + ".example"
        address = (
            f"{rng.randint(1, 180)} {rng.choice(STREETS)}\n{rng.choice(TOWNS[customer.country])}"
        )
        roles = [(ContactRole.ACCOUNTS_PAYABLE, "accounts")]
        if not consumer and rng.random() < 0.35:
            roles.append((ContactRole.ESCALATION, "finance.director"))
        if not consumer and rng.random() < 0.12:
            roles.append((ContactRole.LEGAL, "legal"))
        for role, mailbox in roles:
            person = (
                customer.name if consumer else f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}"
            )
            local = person.split()[0].lower() if consumer else mailbox
            self.ledger.contact_add(
                customer,
                name=person,
                role=role,
                email=f"{local}@{domain}",
                phone=self._phone(customer.country),
                address=address,
                is_primary=True,
                primary_email=role == ContactRole.ACCOUNTS_PAYABLE,
                primary_phone=role == ContactRole.ACCOUNTS_PAYABLE,
                primary_post=role == ContactRole.ACCOUNTS_PAYABLE and bool(address),
                email_opt_out=consumer and rng.random() < 0.1,
                phone_opt_out=consumer and rng.random() < 0.05,
            )
            self.summary.contacts += 1

    def _phone(self, country: str) -> str:
        # UK and US numbers come from the ranges reserved for fiction.
        n = self.rng.randint(0, 999)
        if country == "GB":
            return f"+44 20 7946 0{n:03d}"
        if country == "US":
            return f"+1 212 555 01{n % 100:02d}"
        return f"+353 1 555 0{n:03d}"

    # -- what they were billed and how they paid ------------------------------------------

    def _bill_and_settle(self, customer: Customer, habit: str, *, overpays: bool) -> None:
        rng, today = self.rng, self.today
        consumer = customer.debtor_type == DebtorType.CONSUMER
        terms = 14 if consumer else rng.choice([14, 30, 30, 30, 45, 60])
        typical = 180.0 if consumer else rng.choice([600.0, 1500.0, 4000.0, 9000.0])
        gap = rng.randint(21, 45)
        first = today - timedelta(
            days=rng.randint(25, 80) if habit == "new" else rng.randint(200, 540)
        )
        pays_in_runs = habit == "prompt" and not consumer and rng.random() < 0.5
        runs: dict[date, list] = defaultdict(list)
        paid_in_full = []
        issue = first
        while issue <= today - timedelta(days=2):
            due = issue + timedelta(days=terms)
            amount = quantize(min(max(rng.lognormvariate(0, 0.6) * typical, 25.0), 60000.0))
            invoice = self._invoice(customer, issue, due, amount)
            if pays_in_runs:
                run = self._payment_run_day(issue, due)
                if run <= today:
                    runs[run].append((invoice, amount))
            else:
                settled = self._settle(customer, invoice, habit)
                if settled:
                    paid_in_full.append((invoice, settled))
            issue += timedelta(days=max(7, gap + rng.randint(-6, 6)))
        for day in sorted(runs):
            self._pay(customer, runs[day], day)
        if overpays:
            self._duplicate_payment(
                customer,
                paid_in_full or [(inv, day) for day, items in runs.items() for inv, _ in items],
            )

    def _invoice(self, customer, issue: date, due: date, amount: Decimal) -> Invoice:
        self.invoice_seq += 1
        self.summary.invoices += 1
        return self.ledger.invoice_add(
            customer,
            number=f"INV-{self.invoice_seq}",
            issue_date=issue,
            due_date=due,
            amount=amount,
        )

    def _payment_run_day(self, issue: date, due: date) -> date:
        """Businesses that pay in runs pay on the 1st or 15th before the due date."""
        day = due
        while day > issue:
            if day.day in (1, 15):
                return day
            day -= timedelta(days=1)
        return due

    def _settle(self, customer, invoice: Invoice, habit: str) -> date | None:
        """Settle one invoice as the habit says; returns the day it was paid in full, if so."""
        rng, today, due = self.rng, self.today, invoice.due_date
        amount = invoice.amount
        if habit == "prompt":
            day = max(invoice.issue_date, due - timedelta(days=rng.randint(0, 10)))
            return self._pay_if_past(customer, invoice, amount, day)
        if habit == "late":
            old = (today - due).days > 120
            if customer.insolvent and (today - due).days > 240:
                self.ledger.credit_add(
                    invoice,
                    amount=invoice.open_balance,
                    reason="Customer insolvent; no dividend expected",
                    on=due + timedelta(days=240),
                    write_off=True,
                )
                self.summary.write_offs += 1
                return None
            if customer.insolvent or (old and rng.random() < 0.08):
                return None  # never paid: the 90+ bucket
            if 5 <= (today - due).days < 60 and rng.random() < 0.06:
                return self._settle_disputed(customer, invoice, due + timedelta(days=5))
            return self._pay_if_past(
                customer, invoice, amount, due + timedelta(days=rng.randint(20, 90))
            )
        if habit == "partial":
            return self._settle_in_parts(customer, invoice)
        if habit == "disputing" and rng.random() < 0.35:
            opened = due + timedelta(days=rng.randint(3, 20))
            if opened <= today:
                return self._settle_disputed(customer, invoice, opened)
        # steady, new, and the undisputed invoices of disputing customers
        return self._pay_if_past(
            customer, invoice, amount, due + timedelta(days=rng.randint(-4, 12))
        )

    def _settle_in_parts(self, customer, invoice: Invoice) -> date | None:
        rng, due = self.rng, invoice.due_date
        first_day = due + timedelta(days=rng.randint(0, 30))
        part = quantize(invoice.amount * Decimal(rng.randint(30, 70)) / 100)
        self._pay_if_past(customer, invoice, part, first_day)
        if rng.random() < 0.75:
            return self._pay_if_past(
                customer,
                invoice,
                invoice.amount - part,
                first_day + timedelta(days=rng.randint(30, 75)),
            )
        return None

    def _settle_disputed(self, customer, invoice: Invoice, opened: date) -> date | None:
        rng = self.rng
        reason = rng.choice(list(DisputeReason))
        share = Decimal(rng.choice([100, 100, 50, 25])) / 100
        dispute = self.ledger.dispute_add(
            invoice,
            reason=reason,
            opened_on=opened,
            detail=DISPUTE_DETAILS[reason],
            amount=quantize(invoice.amount * share),
            owner=rng.choice([self.dispute_owner, customer.collector]),
        )
        self.summary.disputes += 1
        resolved = opened + timedelta(days=rng.randint(10, 40))
        if resolved > self.today - timedelta(days=5) or rng.random() < 0.15:
            return None  # still open
        for_customer = rng.random() < 0.5
        self.ledger.dispute_close(
            dispute,
            on=resolved,
            outcome=DisputeStatus.RESOLVED_FOR_CUSTOMER
            if for_customer
            else DisputeStatus.RESOLVED_FOR_US,
            note="Credit agreed with the customer."
            if for_customer
            else "Proof of delivery sent; customer accepted.",
        )
        if invoice.open_balance == 0:
            return resolved
        return self._pay_if_past(
            customer, invoice, invoice.open_balance, resolved + timedelta(days=rng.randint(3, 20))
        )

    def _pay_if_past(self, customer, invoice: Invoice, amount: Decimal, day: date) -> date | None:
        if day > self.today:
            return None
        self._pay(customer, [(invoice, amount)], day)
        return day if invoice.open_balance == 0 else None

    def _pay(self, customer, allocations: list, day: date) -> None:
        self.reference_seq += self.rng.randint(1, 40)
        method = self.rng.choice(["BACS", "BACS", "Faster Payment", "Card", "Cheque"])
        self.ledger.payment_add(
            customer,
            received_on=day,
            amount=sum((amount for _, amount in allocations), Decimal(0)),
            reference=f"{method} {self.reference_seq}",
            allocations=allocations,
        )
        self.summary.payments += 1

    def _duplicate_payment(self, customer, paid: list) -> None:
        """A remittance paid twice: the second one stays as unallocated credit."""
        if not paid:
            return
        invoice, day = self.rng.choice(paid)
        again = day + timedelta(days=self.rng.randint(1, 6))
        if again > self.today:
            return
        self.ledger.payment_add(
            customer,
            received_on=again,
            amount=invoice.amount,
            reference=f"Duplicate of {invoice.number}",
            allocations=[],
        )
        self.summary.payments += 1
