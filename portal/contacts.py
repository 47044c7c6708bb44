"""A contact's own details on the customer's page: confirm them (recorded at once), ask for
a correction (a request a collector approves: contact_request_apply), or stop collection
email where the customer has that right (the same opt-out as the link in every consumer
message: dunning.services.customer_opt_out)."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction

from audit.models import AuditEvent
from audit.services import audit_record
from dunning.queue import queue_refresh
from dunning.services import customer_opt_out
from invoices.models import Contact, Customer, DebtorType
from invoices.services import contact_update

from .confirmations import confirmation_queue
from .exceptions import PortalError
from .models import CustomerRequest, PortalLink, RequestKind, RequestStatus
from .requests import came_from, customer_request_make

# What a customer may correct. Never an opt-out or a primary flag: a proposal is the
# customer's data, so applying it takes only these.
FIELDS = {"name": "name", "email": "email", "phone": "phone", "address": "postal address"}


def contact_details(contact: Contact) -> dict:
    return {field: getattr(contact, field) for field in FIELDS}


def labelled(values: dict) -> list[tuple[str, str]]:
    """(label, value) of the correctable fields among `values`, in the form's order."""
    return [(label, values[field]) for field, label in FIELDS.items() if field in values]


def opt_out_right(customer: Customer) -> str:
    """Why this customer may stop collection email from their page, in plain words; "" where
    the law gives no such right. Opt-outs are a consumer protection (invoices.models.
    DebtorType, LEGAL.md): a business or sole trader is not offered one."""
    if customer.debtor_type != DebtorType.CONSUMER:
        return ""
    if customer.country == "US":
        return (
            "US federal rules for collecting consumer debts (Regulation F) let you ask us to "
            "stop emailing you about this account."
        )
    # Every message to a consumer carries the same opt-out, whatever the country (PRODUCT.md
    # rule 5); the page offers what the message already offers.
    return "As a private customer you can ask us to stop emailing you about this account."


def email_opted_out(customer: Customer) -> bool:
    """Whether no contact of the customer is left to receive collection email."""
    return not customer.contacts.filter(email_opt_out=False).exists()


def contact_requests_waiting(contact: Contact) -> list[CustomerRequest]:
    return list(
        CustomerRequest.objects.filter(
            contact=contact, kind=RequestKind.CONTACT, status=RequestStatus.PENDING
        )
    )


def _words(values: dict) -> str:
    return "; ".join(f"{FIELDS[field]}: {value or '(none)'}" for field, value in values.items())


def _greeting(contact: Contact) -> str:
    return f"Dear {contact.name or contact.customer.name},\n\n"


@transaction.atomic
def contact_confirm(*, link: PortalLink, now: dt.datetime) -> AuditEvent:
    """The contact says the details we hold are right: recorded at once, no request."""
    contact = link.contact
    details = contact_details(contact)
    event = audit_record(
        action="portal.contact.confirmed",
        customer_id=link.customer_id,
        label="customer page",
        summary=f"{contact} confirmed their contact details on the customer page",
        data={**came_from(link), "details": details},
    )
    confirmation_queue(
        contact=contact,
        key=f"contact-confirmed:{event.pk}",
        subject="Thank you for confirming your contact details",
        text=_greeting(contact)
        + "Thank you for confirming the contact details we hold for you:\n\n"
        + "\n".join(f"{FIELDS[f].capitalize()}: {v or '(none)'}" for f, v in details.items())
        + "\n",
        now=now,
    )
    queue_refresh(customer_ids=[link.customer_id])
    return event


@transaction.atomic
def contact_change_request(
    *, link: PortalLink, values: dict, message: str, now: dt.datetime
) -> CustomerRequest:
    """Ask for the contact's details to be corrected; a collector approves it. The proposal
    holds only the fields that differ from what we hold, with their new values."""
    contact = link.contact
    proposal = {
        field: value.strip()
        for field, value in values.items()
        if field in FIELDS and value.strip() != getattr(contact, field)
    }
    if not proposal:
        raise PortalError(
            "Nothing here differs from the details we hold. If they are right, "
            "choose “Yes, these are right”."
        )
    request = customer_request_make(
        link=link,
        kind=RequestKind.CONTACT,
        proposal=proposal,
        message=message,
        summary=f"{contact} asked on the customer page to correct their details: "
        + _words(proposal),
        now=now,
    )
    confirmation_queue(
        contact=contact,
        key=f"contact-request:{request.pk}",
        subject="We have your corrected contact details",
        text=_greeting(contact)
        + "You asked us to correct your contact details to:\n\n"
        + "\n".join(f"{FIELDS[f].capitalize()}: {v or '(none)'}" for f, v in proposal.items())
        + "\n\nA member of our team will check and make the change, and we will write to "
        "tell you. If you did not ask for this, please reply to this email.\n",
        now=now,
    )
    return request


@transaction.atomic
def contact_request_apply(*, actor, request: CustomerRequest, now: dt.datetime) -> Contact:
    """Make the change a contact request proposed, through the ledger's contact editing
    (audited before/after; a new email clears a bounce on the old one). The decision, its
    audit and its email to the customer are the caller's (portal.request_services)."""
    if request.kind != RequestKind.CONTACT:
        raise PortalError("This request is not a change of contact details.")
    values = {field: value for field, value in request.proposal.items() if field in FIELDS}
    try:
        contact_update(actor=actor, contact=request.contact, **values)
    except ValidationError as error:
        raise PortalError("The change cannot be made: " + " ".join(error.messages)) from error
    # The decision's email then goes to the corrected address.
    request.contact.refresh_from_db()
    queue_refresh(customer_ids=[request.customer_id])
    return request.contact


@transaction.atomic
def contact_opt_out(*, link: PortalLink, now: dt.datetime) -> int:
    """Stop collection email to the customer's contacts, as the opt-out link in a message
    does, audited with the contact and link it came from; where the customer has that
    right only. Returns how many contacts changed (0: they had opted out already)."""
    customer = link.customer
    if not opt_out_right(customer):
        raise PortalError("Stopping collection email is not offered for this account.")
    if email_opted_out(customer):
        return 0
    changed = customer_opt_out(customer=customer, came_from=came_from(link))
    # The one email after an opt-out: it says only that it took effect (no demand in it).
    confirmation_queue(
        contact=link.contact,
        key=f"opt-out:{link.contact_id}:{now.isoformat()}",
        subject="We will stop emailing you about your account",
        text=_greeting(link.contact)
        + "You asked us to stop sending you emails about your account, and we have. "
        "This is the last one about it.\n\nYou can still see your account on your page, and "
        "we may still write to you by post.\n",
        now=now,
    )
    queue_refresh(customer_ids=[link.customer_id])
    return changed
