"""Every URL that takes something of a customer, for each role and owner (accounts.roles).

Anyone with a role may read any customer; a collector changes only their own customers and
what belongs to them; managers and admins change any. Each URL below says what it takes and
which methods only read and which change. A URL that takes an argument and is in neither
OWNED nor NOT_A_CUSTOMERS fails test_every_url_that_takes_an_object_is_classified: decide
whose it is when you add it.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.roles import ADMIN, COLLECTOR, MANAGER, ROLES
from audit.models import AuditEvent
from dunning.models import (
    Acknowledgement,
    Channel,
    CustomerPolicy,
    DocumentsRequest,
    Instalment,
    PaymentPlan,
    PromiseToPay,
    QueueEntry,
    Referral,
    Task,
    TaskKind,
    Touch,
    TouchStatus,
)
from invoice_copies.tests.pdfs import pdf_bytes
from invoices.models import (
    Contact,
    CreditNote,
    Customer,
    Dispute,
    Invoice,
    Payment,
    WriteOffRequest,
)
from invoices.services import dispute_open, write_off_propose
from invoices.tests.factories import ContactFactory, CustomerFactory, InvoiceFactory
from letters.models import Document, DocumentKind
from portal.models import CustomerRequest
from tests.test_roles import project_urls

MONDAY_10 = dt.datetime(2026, 3, 16, 10, 0, tzinfo=dt.UTC)
TODAY = MONDAY_10.date()
GET, POST = "get", "post"


@dataclass(frozen=True)
class Owned:
    of: str  # the World attribute whose pk the URL takes
    reads: tuple = ()  # methods that only read: any role may, owner or not
    changes: tuple = ()  # methods that change the customer, or open the form that does
    # What a POST sends, from the world: with it the owner's POST must really change
    # something, so that "the others' change nothing" means something.
    data: object = None


OWNED = {
    "customer_detail": Owned("customer", reads=(GET,)),
    "customer_call": Owned("customer", changes=(GET, POST), data=lambda w: {"outcome": "spoke"}),
    "customer_promise": Owned(
        "customer",
        changes=(GET, POST),
        data=lambda w: {"amount": "50.00", "promised_for": "2026-03-20"},
    ),
    "customer_promise_cancel": Owned(
        "customer", changes=(POST,), data=lambda w: {"promise": w.promise.pk}
    ),
    "customer_dispute": Owned(
        "customer",
        changes=(GET, POST),
        data=lambda w: {"invoice": w.invoice.pk, "reason": "pricing"},
    ),
    "customer_dispute_resolve": Owned(
        "customer",
        changes=(GET, POST),
        data=lambda w: {"dispute": w.dispute.pk, "outcome": "resolved_for_us"},
    ),
    "customer_plan": Owned(
        "customer",
        changes=(GET, POST),
        data=lambda w: {
            "count": "3",
            "amount": "90.00",
            "first_date": "2026-03-23",
            "every": "month",
            "confirm": "1",
        },
    ),
    # The plan form's live preview: part of the form, so refused with it.
    "customer_plan_preview": Owned("customer", changes=(GET,)),
    "customer_note": Owned(
        "customer", changes=(GET, POST), data=lambda w: {"text": "Their AP clerk is new."}
    ),
    "customer_hold": Owned(
        "customer", changes=(GET, POST), data=lambda w: {"reason": "Restructuring"}
    ),
    "customer_acknowledgement": Owned(
        "customer",
        changes=(GET, POST),
        data=lambda w: {"acknowledged_on": "2026-03-16", "note": "Their signed letter"},
    ),
    "customer_documents_request": Owned(
        "customer",
        changes=(GET, POST),
        data=lambda w: {"requested_on": "2026-03-16", "note": "A copy of the agreement"},
    ),
    "customer_hold_release": Owned("customer", changes=(POST,), data=lambda w: {}),
    # Whether anything goes out depends on the engine's plan: only refusal is checked.
    "customer_send": Owned("customer", changes=(GET, POST)),
    "customer_move": Owned("customer", changes=(GET, POST)),
    "customer_edit": Owned(
        "customer",
        changes=(GET, POST),
        data=lambda w: {
            "name": "Saltmarsh Interiors Ltd",
            "external_id": w.customer.external_id,
            "debtor_type": w.customer.debtor_type,
            "country": w.customer.country,
            "timezone": w.customer.timezone,
            "collector": w.owner.pk,
        },
    ),
    "customer_contact_add": Owned(
        "customer",
        changes=(GET, POST),
        data=lambda w: {"name": "Lena Legal", "role": "legal", "email": "legal@example.com"},
    ),
    "contact_edit": Owned(
        "contact",
        changes=(GET, POST),
        data=lambda w: {"name": "New name", "role": w.contact.role, "email": w.contact.email},
    ),
    "customer_payment": Owned(
        "customer",
        changes=(GET, POST),
        data=lambda w: {"received_on": "2026-03-16", "amount": "25.00", "method": "card"},
    ),
    "customer_credit_note": Owned(
        "customer",
        changes=(GET, POST),
        data=lambda w: {"invoice": w.invoice.pk, "amount": "10.00", "reason": "Damaged box"},
    ),
    # The payment to reverse is made as the request is sent (payments are not watched).
    "customer_payment_reverse": Owned(
        "customer",
        changes=(GET, POST),
        data=lambda w: {
            "payment": Payment.objects.create(
                customer=w.customer,
                amount=Decimal("30.00"),
                unapplied=Decimal("30.00"),
                received_on=TODAY,
            ).pk,
            "reason": "Cheque returned unpaid",
        },
    ),
    "dunning:customer_policy": Owned("customer", changes=(POST,)),
    "task_complete": Owned("call", changes=(POST,), data=lambda w: {"outcome": "spoke"}),
    "message_settle": Owned("check", changes=(POST,), data=lambda w: {"choice": "sent"}),
    "dunning:referral_detail": Owned("referral", reads=(GET,)),
    "dunning:referral_decide": Owned(
        "referral",
        changes=(POST,),
        data=lambda w: {"decision": "decline", "reason": "Too small to take to court."},
    ),
    "invoice_detail": Owned("invoice", reads=(GET,)),
    "invoice_write_off_propose": Owned(
        "invoice", changes=(POST,), data=lambda w: {"reason": "They have gone away."}
    ),
    "write_off_withdraw": Owned("write_off", changes=(POST,), data=lambda w: {}),
    "write_off_decide": Owned(
        "write_off",
        changes=(POST,),
        data=lambda w: {"decision": "decline", "note": "Keep chasing."},
    ),
    "letters:document": Owned("document", reads=(GET,)),
    "letters:statement": Owned("customer", reads=(GET,)),
    "invoice_copies:attach": Owned(
        "invoice",
        changes=(GET, POST),
        data=lambda w: {"file": SimpleUploadedFile("copy.pdf", pdf_bytes("a new copy"))},
    ),
    "invoice_copies:download": Owned("invoice", reads=(GET,)),
    "portal:link_make": Owned("contact", changes=(POST,), data=lambda w: {}),
    # With no live link, revoking changes nothing: only refusal is checked.
    "portal:links_revoke": Owned("contact", changes=(POST,)),
    "portal:evidence": Owned("evidence", reads=(GET,)),
    "portal:request_detail": Owned(
        "plan_request",
        reads=(GET,),
        changes=(POST,),
        data=lambda w: {"decision": "decline", "note": "Too long for this balance."},
    ),
}

# URLs that take an argument that is nobody's customer.
NOT_A_CUSTOMERS = {
    # A reply: its ownership (require_change on the reply's or the chosen customer) is tested
    # in inbox/tests/test_views.py, since this world has no replies.
    "inbox:handled": "a reply (ownership tested in inbox/tests)",
    "inbox:assign": "a reply (ownership tested in inbox/tests)",
    "inbox:attachment": "a reply's attachment, readable by any role like the customer page",
    "user_role": "a user",
    "user_active": "a user",
    "api_tokens:created": "an API token",
    "api_tokens:revoke": "an API token",
    # A token acts for the firm as a whole, like an admin's import; scopes limit it (api/tests).
    "api:customer-detail": "the API: a token acts for the firm, no collector owns it",
    "api:invoice-detail": "the API: a token acts for the firm, no collector owns it",
    "api:contact-detail": "the API: a token acts for the firm, no collector owns it",
    "api:payment-detail": "the API: a token acts for the firm, no collector owns it",
    "api:payment-reverse": "the API: a token acts for the firm, no collector owns it",
    "api:payment-allocate": "the API: a token acts for the firm, no collector owns it",
    "api:credit-note-detail": "the API: a token acts for the firm, no collector owns it",
    "api:invoice-copy-list": "the API: a token acts for the firm, no collector owns it",
    "api:dispute-detail": "the API: a token acts for the firm, no collector owns it",
    "api:dispute-resolve": "the API: a token acts for the firm, no collector owns it",
    "api:promise-detail": "the API: a token acts for the firm, no collector owns it",
    "api:promise-cancel": "the API: a token acts for the firm, no collector owns it",
    "api:plan-detail": "the API: a token acts for the firm, no collector owns it",
    "api:plan-cancel": "the API: a token acts for the firm, no collector owns it",
    "api:task-complete": "the API: a token acts for the firm, no collector owns it",
    "api:touch-detail": "the API: a token acts for the firm, no collector owns it",
    "api:task-detail": "the API: a token acts for the firm, no collector owns it",
    "api:policy-detail": "the API: a dunning policy, nobody's customer",
    "import:map": "an upload in progress",
    "import:preview": "an upload in progress",
    "import:confirm": "an upload in progress",
    "import:result": "an import batch",
    "jobs:detail": "a background job: its starter's, and managers' and admins' (jobs/tests)",
    "jobs:file": "a background job's file (a print batch): as the job itself",
    "reports:export": "a report's name",
    "dunning:policy_detail": "a policy",
    "dunning:policy_edit": "a policy",
    "dunning:policy_move": "a policy",
    "dunning:policy_default": "a policy",
    "dunning:policy_interest": "a policy",
    "dunning:policy_barred": "a policy",
    "dunning:policy_repeat": "a policy",
    "dunning:policy_rule_edit": "a policy rule",
    "dunning:policy_rule_remove": "a policy rule",
    "dunning:opt_out": "the contact's own signed token: they act, not a collector",
    "portal:page": "the contact's own link token: the customer reads, not a collector",
    "portal:statement": "the contact's own link token",
    "portal:invoice_copy": "the contact's own link token (and one of their invoices)",
    "portal:letter": "the contact's own link token (and one of their letters)",
    "portal:dispute": "the contact's own link token (and their invoices, in the form)",
    "portal:dispute_done": "the contact's own link token",
    "portal:promise": "the contact's own link token",
    "portal:promise_done": "the contact's own link token",
    "portal:contact": "the contact's own link token: their own details",
    "portal:opt_out": "the contact's own link token: they act, not a collector",
    "portal:plan_request": "the contact's own link token",
    "portal:plan_request_schedule": "the contact's own link token",
    "portal:request_accept": "the contact's own link token (and one of their requests)",
    "portal:pay": "the contact's own link token (and their invoices, in the form)",
    "portal:pay_done": "the contact's own link token (and one of their payments)",
    "portal:check": "the contact's own link token (and one of their invoices a check asked about)",
    "portal:check_in_order": "the contact's own link token (and one of their invoices)",
    "portal:check_problem": "the contact's own link token (and one of their invoices)",
    "letters:template_edit": "a template",
    "letters:template_preview": "a template",
    "letters:template_preview_pdf": "a template",
    "webhooks:endpoint_detail": "a webhook endpoint",
    "webhooks:endpoint_edit": "a webhook endpoint",
    "webhooks:endpoint_rotate": "a webhook endpoint",
    "webhooks:endpoint_enable": "a webhook endpoint",
    "webhooks:delivery_replay": "a webhook delivery",
}

# What a refused request must leave exactly as it was.
WATCHED = [
    Customer,
    Invoice,
    Dispute,
    CreditNote,
    WriteOffRequest,
    CustomerPolicy,
    Task,
    Touch,
    PromiseToPay,
    PaymentPlan,
    Instalment,
    Referral,
    Acknowledgement,
    DocumentsRequest,
    QueueEntry,
    Document,
    AuditEvent,
    CustomerRequest,
]


def snapshot():
    return {model._meta.label: list(model.objects.order_by("pk").values()) for model in WATCHED}


@dataclass
class World:
    owner: object  # Cara, the customer's collector
    customer: Customer
    invoice: Invoice  # open, nothing pending
    dispute: Dispute
    write_off: WriteOffRequest
    promise: PromiseToPay
    call: Task
    check: Task
    referral: Task
    document: Document
    contact: Contact
    evidence: Document | None = None  # a file the customer attached to a dispute
    plan_request: CustomerRequest | None = None


def _task(customer, kind, **fields):
    return Task.objects.create(
        kind=kind, customer=customer, title=f"{kind} task", due_at=MONDAY_10, **fields
    )


@pytest.fixture
def world(db, django_user_model, time_machine):
    time_machine.move_to(MONDAY_10, tick=False)
    cara = django_user_model.objects.create_user(
        username="cara", password="pw-cara", first_name="Cara", last_name="Collector"
    )
    cara.groups.add(Group.objects.get(name=COLLECTOR))
    customer = CustomerFactory(
        name="Saltmarsh Interiors",
        collector=cara,
        on_hold=True,
        hold_reason="Awaiting a credit note",
    )
    contact = ContactFactory(customer=customer)
    due = TODAY - dt.timedelta(days=40)
    invoice, disputed, written_off = (
        InvoiceFactory(customer=customer, issue_date=due - dt.timedelta(days=30), due_date=due)
        for _ in range(3)
    )
    touch = Touch.objects.create(
        key="ownership-check",
        customer=customer,
        channel=Channel.EMAIL,
        status=TouchStatus.UNKNOWN,
        scheduled_for=MONDAY_10,
        currency=customer.currency,
    )
    world = World(
        owner=cara,
        customer=customer,
        invoice=invoice,
        dispute=dispute_open(actor=cara, invoice=disputed, reason="pricing", opened_on=TODAY),
        write_off=write_off_propose(actor=cara, invoice=written_off, reason="Insolvent."),
        promise=PromiseToPay.objects.create(
            customer=customer,
            amount=Decimal("20.00"),
            promised_for=TODAY + dt.timedelta(days=2),
            made_on=TODAY,
            created_by=cara,
        ),
        call=_task(customer, TaskKind.CALL, assigned_to=cara),
        check=_task(customer, TaskKind.CHECK_SEND, assigned_to=cara, touch=touch),
        referral=_task(customer, TaskKind.REFERRAL),
        document=Document.objects.create(
            kind=DocumentKind.STATEMENT,
            customer=customer,
            filename="statement.pdf",
            content=b"%PDF-1.7 a stored statement",
        ),
        contact=contact,
    )
    world.plan_request = CustomerRequest.objects.create(
        customer=customer,
        contact=contact,
        kind="plan",
        proposal={
            "total": "90.00",
            "instalments": [["2026-04-16", "45.00"], ["2026-05-16", "45.00"]],
        },
        made_at=MONDAY_10,
    )
    world.evidence = Document.objects.create(
        kind=DocumentKind.CUSTOMER_UPLOAD,
        customer=customer,
        filename="photo-of-the-damage.txt",
        content_type="text/plain",
        content=b"The boxes arrived crushed.",
    )
    # The invoice's copy on file, for invoice_copies:download.
    Document.objects.create(
        kind=DocumentKind.INVOICE_COPY,
        customer=customer,
        invoice=invoice,
        filename="copy.pdf",
        content=pdf_bytes("the copy on file"),
    )
    return world


def _url(name, world):
    return reverse(name, args=[getattr(world, OWNED[name].of).pk])


def _send(client, name, method, world):
    spec = OWNED[name]
    data = spec.data(world) if (method == POST and spec.data) else {}
    return getattr(client, method)(_url(name, world), data)


MINIMUM = {name: getattr(entry.callback, "minimum_role", None) for name, entry in project_urls()}


def _may_open(role, name):
    return ROLES.index(role) >= ROLES.index(MINIMUM.get(name) or COLLECTOR)


def _staff(django_user_model, role):
    user = django_user_model.objects.create_user(username=role.lower(), password="pw")
    user.groups.add(Group.objects.get(name=role))
    return user


CHANGES = [(name, method) for name, spec in OWNED.items() for method in spec.changes]
COLLECTORS_CHANGES = [(name, method) for name, method in CHANGES if _may_open(COLLECTOR, name)]
COLLECTORS_READS = [
    (name, method)
    for name, spec in OWNED.items()
    for method in spec.reads
    if _may_open(COLLECTOR, name)
]
# The same rule whatever the URL takes: one POST for each kind of object is enough.
ONE_CHANGE_PER_KIND = {}
for _name, _method in COLLECTORS_CHANGES:
    if _method == POST:
        ONE_CHANGE_PER_KIND.setdefault(OWNED[_name].of, (_name, _method))
# The roles that change a customer: its own collector, any manager, any admin.
CHANGERS = [
    (name, method, who)
    for name, method in CHANGES
    for who in (COLLECTOR, MANAGER, ADMIN)
    if _may_open(who, name)
]


# --- the classification --------------------------------------------------------------------


def test_every_url_that_takes_an_object_is_classified():
    missing = sorted(
        name
        for name, entry in project_urls()
        if entry.pattern.converters and name not in OWNED and name not in NOT_A_CUSTOMERS
    )

    assert not missing, (
        f"Classify {missing} in tests/test_ownership.py: if the URL takes a customer or "
        "something of a customer's, add it to OWNED with the methods that read and those "
        "that change (and call accounts.roles.require_change in the view before any "
        "change); otherwise add it to NOT_A_CUSTOMERS, saying what it takes."
    )


def test_every_classified_url_exists():
    names = {name for name, _entry in project_urls()}

    assert not sorted((set(OWNED) | set(NOT_A_CUSTOMERS)) - names)


@pytest.mark.parametrize("name", list(OWNED))
def test_a_method_not_listed_is_not_accepted(client, world, admin_user, name):
    client.force_login(admin_user)
    listed = OWNED[name].reads + OWNED[name].changes

    for method in {GET, POST} - set(listed):
        assert _send(client, name, method, world).status_code == 405, (
            f"{name} accepts {method.upper()}: list it in OWNED as a read or a change"
        )


# --- changes -------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "method"), CHANGES)
def test_a_collector_cannot_change_a_colleagues_customer(client, world, collector, name, method):
    client.force_login(collector)
    before = snapshot()

    response = _send(client, name, method, world)

    assert response.status_code == 403
    assert snapshot() == before
    if _may_open(COLLECTOR, name):
        assert "Saltmarsh Interiors is Cara Collector&#x27;s customer" in response.text


@pytest.mark.parametrize(("name", "method"), list(ONE_CHANGE_PER_KIND.values()))
def test_a_collector_cannot_change_an_unassigned_customer(client, world, collector, name, method):
    Customer.objects.filter(pk=world.customer.pk).update(collector=None)
    client.force_login(collector)
    before = snapshot()

    response = _send(client, name, method, world)

    assert response.status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize(("name", "method", "who"), CHANGERS)
def test_the_owner_a_manager_and_an_admin_are_not_refused(
    client, world, django_user_model, name, method, who
):
    user = world.owner if who == COLLECTOR else _staff(django_user_model, who)
    client.force_login(user)
    before = snapshot()

    response = _send(client, name, method, world)

    assert response.status_code not in (403, 405) and response.status_code < 500
    if method == POST and OWNED[name].data:
        assert snapshot() != before, f"{name}: the test's data changed nothing"


# --- reads ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "method"), COLLECTORS_READS)
def test_a_collector_reads_a_colleagues_customer_and_changes_nothing(
    client, world, collector, name, method
):
    client.force_login(collector)
    before = snapshot()

    response = _send(client, name, method, world)

    assert response.status_code == 200
    assert snapshot() == before


# --- how a refusal looks -------------------------------------------------------------------


def test_a_refused_htmx_action_reloads_the_page_with_the_reason(client, world, collector):
    client.force_login(collector)
    page = reverse("customer_detail", args=[world.customer.pk])

    response = client.post(
        reverse("customer_note", args=[world.customer.pk]),
        {"text": "Hello"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL=f"http://testserver{page}",
    )

    assert (response.status_code, response["HX-Redirect"]) == (403, page)
    shown = [str(m) for m in client.get(page).context["messages"]]
    assert shown == [
        "Saltmarsh Interiors is Cara Collector's customer: you can read it but not change it."
    ]


def test_the_refusal_page_leads_back_to_the_customer(client, world, collector):
    client.force_login(collector)

    response = client.post(reverse("customer_hold_release", args=[world.customer.pk]))

    assert response.status_code == 403
    assert f'href="{reverse("customer_detail", args=[world.customer.pk])}"' in response.text
    assert "ask a manager to assign it to you" in response.text


# --- many at once --------------------------------------------------------------------------


def test_the_queues_bulk_action_leaves_a_colleagues_customer_alone(client, world, collector):
    mine = CustomerFactory(collector=collector)
    client.force_login(collector)
    events = AuditEvent.objects.filter(customer_id=world.customer.pk).count()

    response = client.post(
        reverse("queue_bulk"),
        {
            "action": "hold",
            "confirm": "1",
            "reason": "Quarter end",
            "customer": [world.customer.pk, mine.pk],
        },
        follow=True,
    )

    assert Customer.objects.get(pk=world.customer.pk).hold_reason == "Awaiting a credit note"
    assert AuditEvent.objects.filter(customer_id=world.customer.pk).count() == events
    assert Customer.objects.get(pk=mine.pk).hold_reason == "Quarter end"
    shown = [str(m) for m in response.context["messages"]]
    assert (
        "Saltmarsh Interiors is Cara Collector's customer: you can read it but not change it."
        in shown
    )
