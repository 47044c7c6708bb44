"""Building and sending dunning emails (and the letters they carry).

The words come from the step's template in letters (its latest version), rendered with the
plain context of letters.render.context_build, so a preview shows exactly what is sent. A
letter step also renders the template's letter as a PDF, attached to the email.

The context carries the consequence check (letters.consequences) for the customer: their
debtor type, our role, whether an invoice covered is time-barred and the policy's rule for
barred debts. A template that requires a consequence the check refuses raises
ConsequenceRefused (a LetterError): the touch fails and a collector gets a task saying why
(dunning.outbox), and nothing is sent."""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives

from invoice_copies.pdfs import letter_with_copies
from invoice_copies.selectors import copies_to_send
from invoices.models import Contact, ContactRole, Customer, DebtorType
from letters.documents import statement_pdf
from letters.exceptions import LetterError
from letters.models import DocumentKind, TemplateVersion
from letters.render import SAMPLE_PORTAL_URL, Parts, context_build, letter_pdf, message_render
from letters.selectors import language_of, template_version_current

from .calendar import business_days_after
from .facts import Calendar, CustomerFacts
from .handoff import handoff
from .limitation import limitation_state
from .models import Channel
from .reply_tokens import HEADER as REPLY_TOKEN_HEADER
from .reply_tokens import reply_address, reply_token
from .selectors import StepRow, settings_load

OPT_OUT_SALT = "dunning.opt-out"


@dataclass(frozen=True)
class Message:
    to: str
    subject: str
    text: str
    html: str
    reply_to: str
    template_version: TemplateVersion | None = None
    # (kind, filename, PDF bytes): the letter of a letter step (with the invoice copies
    # behind it if the step attaches them), a statement if the step asks for one, an email
    # step's invoice copies. Stored as documents once the message is accepted (a copy is
    # already one: dunning.outbox finds it rather than storing it again).
    attachments: tuple[tuple[str, str, bytes], ...] = ()


# Makes the customer-page link a message carries for its contact. The portal app sets it
# as it loads (portal.apps): dunning may not import the screens above it.
portal_link_maker: Callable[..., str] | None = None


def contact_choose(customer: Customer, *, escalation: bool) -> Contact | None:
    """The address to write to: for firm steps the escalation contact, then the primary
    for email, then accounts payable; never an opted-out or bounced one."""
    contacts = customer.contacts.filter(email_opt_out=False, email_bounced_at__isnull=True)
    return _first(contacts.exclude(email=""), escalation=escalation, primary="primary_email")


def postal_contact(customer: Customer, *, escalation: bool) -> Contact | None:
    """Whom a posted letter is addressed to: a contact with a postal address (the
    escalation contact first for firm steps, then the primary for post); None writes to
    the customer by name."""
    contacts = customer.contacts.filter(post_opt_out=False).exclude(address="")
    return _first(contacts, escalation=escalation, primary="primary_post", anyone=True)


def _first(contacts, *, escalation: bool, primary: str, anyone: bool = False) -> Contact | None:
    # Billing contacts and whoever is primary for the channel; for firm steps, escalation
    # contacts ahead of them. Other contacts only when made primary, or (anyone: a letter
    # must go somewhere) last.
    roles = [ContactRole.ACCOUNTS_PAYABLE] + ([ContactRole.ESCALATION] if escalation else [])
    found = [c for c in contacts if anyone or c.role in roles or getattr(c, primary)]
    found.sort(
        key=lambda c: (
            not (escalation and c.role == ContactRole.ESCALATION),
            not getattr(c, primary),
            c.role not in roles,
            c.role != ContactRole.ACCOUNTS_PAYABLE,
            not c.is_primary,
            c.pk,
        )
    )
    return found[0] if found else None


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


def in_contact_hours(customer: Customer, at: dt.datetime, calendar: Calendar) -> bool:
    """Whether a message sent by hand at this moment may go out: for consumers only inside
    the calling hours (LEGAL.md: contact hours apply to every channel, and for email the
    send time counts); anyone else at any time."""
    if customer.debtor_type != DebtorType.CONSUMER:
        return True
    local = at.astimezone(ZoneInfo(customer.timezone)).time()
    return calendar.phone_start <= local < calendar.phone_end


def opt_out_url(customer: Customer) -> str:
    # The portal that honours it comes later; the token already identifies the customer.
    token = signing.dumps({"customer": customer.pk}, salt=OPT_OUT_SALT)
    return f"{getattr(settings, 'SITE_URL', '').rstrip('/')}/portal/opt-out/{token}/"


def message_context(
    *,
    customer: Customer,
    contact: Contact | None,
    step: StepRow,
    invoices: list[dict],
    as_of: dt.datetime,
    calendar: Calendar,
    portal_url: str = SAMPLE_PORTAL_URL,
) -> dict:
    """The template context of a message. portal_url defaults to the preview's placeholder:
    only message_build, which sends, makes a real link."""
    local_today = as_of.astimezone(ZoneInfo(customer.timezone)).date()
    deadline = None
    if step.response_deadline_days:
        deadline = business_days_after(local_today, step.response_deadline_days, calendar)
    consumer = customer.debtor_type == DebtorType.CONSUMER
    return context_build(
        customer=customer,
        contact=contact,
        invoices=invoices,
        today=local_today,
        step=step.fact.name,
        deadline=deadline,
        deadline_days=step.response_deadline_days,
        collector=customer.collector,
        opt_out_url=opt_out_url(customer) if consumer else "",
        portal_url=portal_url,
        interest_regime=step.interest_regime,
        creditor_role=settings_load().creditor_role,
        barred_invoices=_barred(customer, invoices, local_today),
        barred_rule=step.barred_debts,
    )


class _Due(NamedTuple):
    pk: int
    number: str
    due_date: dt.date


def _barred(customer: Customer, invoice_lines: list[dict], today: dt.date) -> tuple[str, ...]:
    """The numbers of the invoices covered that are past their limitation date (empty when
    none is): the one place delivery asks dunning.limitation."""
    state = limitation_state(
        customer=customer,
        invoices=[_Due(line["id"], line["number"], line["due_date"]) for line in invoice_lines],
        today=today,
    )
    return tuple(state.barred)


def message_build(
    *,
    customer: Customer,
    contact: Contact | None,
    step: StepRow,
    invoices: list[dict],
    total: Decimal,
    as_of: dt.datetime,
    calendar: Calendar,
) -> Message:
    """The message of a step for a customer, from the latest version of its template.
    Raises LetterError when there is no such template or it cannot be rendered."""
    step = step.for_customer(customer)  # the Pre-Action Protocol's letter for individuals
    version = template_version_current(
        step.template, language_of(customer.country, customer.language)
    )
    if version is None:
        raise LetterError(f"There is no template {step.template!r} for the step {step.fact.name}.")
    parts = Parts.of(version)
    context = message_context(
        customer=customer,
        contact=contact,
        step=step,
        invoices=invoices,
        as_of=as_of,
        calendar=calendar,
        portal_url=portal_link_maker(contact=contact, now=as_of) if portal_link_maker else "",
    )
    rendered = message_render(parts, context)
    attachments = []
    stem = f"{customer.external_id}-{context['today']}.pdf"
    # The newest copy of each invoice covered that has one; those without are left out.
    copies = copies_to_send(line["id"] for line in invoices) if step.attach_copies else []
    if step.fact.channel == Channel.LETTER and parts.letter_html.strip():
        name = f"{step.template.replace('_', '-')}-{stem}"
        # A posted letter carries its copies as pages behind it: one PDF for the post room.
        letter = letter_with_copies(letter_pdf(parts, context), copies)
        attachments.append((DocumentKind.LETTER, name, letter))
        copies = []
    if step.attach_statement:
        statement = statement_pdf(customer, today=context["today"])
        attachments.append((DocumentKind.STATEMENT, f"statement-{stem}", statement))
    attachments.extend((DocumentKind.INVOICE_COPY, name, pdf) for name, pdf in copies)
    collector = customer.collector
    return Message(
        to=contact.email if contact else "",
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        # The customer's own reply address when the inbox has one, so each reply finds them.
        reply_to=reply_address(customer.pk)
        or (collector.email if collector else "")
        or settings.DEFAULT_FROM_EMAIL,
        template_version=version,
        attachments=tuple(attachments),
    )


def message_send(message: Message, *, touch, commit: Callable[[], bool]) -> str:
    """Hand the message to the mail backend with the touch's one Message-ID; returns the
    ESP's message id (blank for backends without one). `commit` runs once connected,
    just before the message goes (dunning.handoff). Raises dunning.handoff's
    HandoffFailed (certainly not sent), HandoffUnclear (perhaps sent) or
    HandoffWithdrawn (not sent: `commit` said no)."""
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.text,
        to=[message.to],
        reply_to=[message.reply_to],
        headers={
            "Message-ID": touch.message_id,
            REPLY_TOKEN_HEADER: reply_token(touch.customer_id),
        },
    )
    email.attach_alternative(message.html, "text/html")
    for _kind, filename, content in message.attachments:
        email.attach(filename, content, "application/pdf")
    # anymail passes these to the ESP; tracking webhooks bring them back. The ref, not the
    # touch's number: nobody can guess it to forge an event.
    email.metadata = {"dunmore_ref": touch.ref}
    email.tags = ["dunning"]
    return handoff(email, commit=commit)
