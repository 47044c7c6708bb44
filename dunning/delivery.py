"""Building and sending dunning emails.

A message is rendered from templates/dunning/email/<template>.txt and .html. The FIRST LINE
of the rendered .txt is the subject; the rest (after the blank line) is the plain-text
body. Both get the same context of plain values from message_context(), so a preview shows
exactly what is sent."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from invoices.models import Contact, ContactRole, Customer, DebtorType, Organisation

from .calendar import business_days_after
from .facts import Calendar, CustomerFacts
from .selectors import StepRow

PAYMENT_INSTRUCTIONS = (
    "Please pay by bank transfer to the account shown on the invoice, quoting the invoice "
    "numbers as the reference."
)
OPT_OUT_SALT = "dunning.opt-out"


@dataclass(frozen=True)
class Message:
    to: str
    subject: str
    text: str
    html: str
    reply_to: str


def contact_choose(customer: Customer, *, escalation: bool) -> Contact | None:
    """The address to write to: the escalation contact for firm steps, else (or failing
    that) accounts payable; primary contacts first; never an opted-out or bounced one."""
    roles = [ContactRole.ESCALATION, ContactRole.ACCOUNTS_PAYABLE] if escalation else []
    roles = roles or [ContactRole.ACCOUNTS_PAYABLE]
    contacts = list(
        customer.contacts.filter(
            role__in=roles, email_opt_out=False, email_bounced_at__isnull=True
        ).exclude(email="")
    )
    contacts.sort(key=lambda c: (roles.index(c.role), not c.is_primary, c.pk))
    return contacts[0] if contacts else None


def invoice_lines(facts: CustomerFacts, invoice_ids, *, as_of: dt.datetime) -> list[dict]:
    """The statement lines of a message, oldest first, with days overdue on the customer's
    local date."""
    today = as_of.astimezone(ZoneInfo(facts.timezone)).date()
    by_id = {inv.id: inv for inv in facts.invoices}
    lines = []
    for invoice_id in invoice_ids:
        inv = by_id.get(invoice_id)
        if inv is None:
            continue
        lines.append(
            {
                "id": inv.id,
                "number": inv.number,
                "due_date": inv.due_date,
                "days_overdue": max(0, (today - inv.due_date).days),
                "balance": inv.balance,
            }
        )
    return lines


def opt_out_url(customer: Customer) -> str:
    # The portal that honours it comes later; the token already identifies the customer.
    token = signing.dumps({"customer": customer.pk}, salt=OPT_OUT_SALT)
    return f"{getattr(settings, 'SITE_URL', '').rstrip('/')}/portal/opt-out/{token}/"


def message_context(
    *,
    customer: Customer,
    contact: Contact,
    step: StepRow,
    invoices: list[dict],
    total: Decimal,
    as_of: dt.datetime,
    calendar: Calendar,
) -> dict:
    collector = customer.collector
    local_today = as_of.astimezone(ZoneInfo(customer.timezone)).date()
    deadline = None
    if step.response_deadline_days:
        deadline = business_days_after(local_today, step.response_deadline_days, calendar)
    consumer = customer.debtor_type == DebtorType.CONSUMER
    return {
        "organisation": Organisation.current().name,
        "customer": customer.name,
        "contact": contact.name,
        "step": step.fact.name,
        "invoices": invoices,
        "count": len(invoices),
        "total": total,
        "currency": customer.currency,
        "oldest_days": max((line["days_overdue"] for line in invoices), default=0),
        "collector": {
            "name": (collector.get_full_name() or collector.get_username()) if collector else "",
            "email": collector.email if collector else "",
        },
        "reply_to": (collector.email if collector else "") or settings.DEFAULT_FROM_EMAIL,
        "deadline": deadline,
        "today": local_today,
        "consumer": consumer,
        "opt_out_url": opt_out_url(customer) if consumer else "",
        "payment_instructions": PAYMENT_INSTRUCTIONS,
    }


def message_render(template: str, context: dict) -> tuple[str, str, str]:
    """(subject, text, html) from the template pair of a step."""
    rendered = render_to_string(f"dunning/email/{template}.txt", context).lstrip()
    subject, _, text = rendered.partition("\n")
    html = render_to_string(f"dunning/email/{template}.html", context)
    return subject.strip(), text.strip() + "\n", html


def message_build(
    *,
    customer: Customer,
    contact: Contact,
    step: StepRow,
    invoices: list[dict],
    total: Decimal,
    as_of: dt.datetime,
    calendar: Calendar,
) -> Message:
    context = message_context(
        customer=customer,
        contact=contact,
        step=step,
        invoices=invoices,
        total=total,
        as_of=as_of,
        calendar=calendar,
    )
    subject, text, html = message_render(step.template, context)
    return Message(
        to=contact.email, subject=subject, text=text, html=html, reply_to=context["reply_to"]
    )


def message_send(message: Message, *, touch_id: int) -> str:
    """Hand the message to the mail backend; returns the ESP's message id (blank for
    backends without one). Raises when the backend refuses it."""
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.text,
        to=[message.to],
        reply_to=[message.reply_to],
    )
    email.attach_alternative(message.html, "text/html")
    # anymail passes these to the ESP; tracking webhooks bring them back.
    email.metadata = {"touch_id": str(touch_id)}
    email.tags = ["dunning"]
    email.send()
    status = getattr(email, "anymail_status", None)
    message_id = getattr(status, "message_id", None) if status else None
    return "" if message_id is None else str(message_id)
