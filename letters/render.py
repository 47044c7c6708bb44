"""Rendering a template version for a customer: the plain context, the email parts and the
letter as a complete page and as a PDF."""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings as django_settings
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from invoices.models import Contact, Customer, Organisation

from . import claims
from . import interest as statutory
from .budget import too_costly
from .consequences import (
    COMPENSATION,
    CONSEQUENCES,
    INTEREST,
    Facts,
    Verdict,
    consequences_allowed,
)
from .context import Record, invoice_line, record_cleared, records
from .exceptions import LetterError
from .models import LetterSettings, PageSize
from .pdf import render_pdf
from .sandbox import HTML, TEXT, consequences_in, render

PAGE_SIZES = {PageSize.A4: "A4", PageSize.LETTER: "letter"}


@dataclass(frozen=True)
class Parts:
    """A template's text: what a TemplateVersion holds, or an edit not yet saved."""

    subject: str
    body_text: str
    body_html: str
    letter_html: str = ""
    name: str = ""  # the template's, for messages about it

    @classmethod
    def of(cls, version) -> "Parts":
        """The text a saved TemplateVersion holds."""
        return cls(
            version.subject,
            version.body_text,
            version.body_html,
            version.letter_html,
            name=version.template.name,
        )


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    html: str


def interest_record(
    *,
    customer: Customer,
    regime: str,
    lines: Sequence[dict],
    today: dt.date,
    paid_late_since: dt.date | None = None,
) -> Record:
    """Late-payment interest and compensation on these invoice lines, and on the customer's
    invoices paid late, to today, as the template sees it (letters.claims.claim_record); not
    enabled, with the reason, when neither the policy's regime nor the customer's accepted
    terms may charge them."""
    return claims.claim_record(
        customer=customer,
        regime=regime,
        lines=lines,
        today=today,
        paid_late_since=paid_late_since,
    )


def context_build(
    *,
    customer: Customer,
    contact: Contact | None,
    invoices: Sequence[dict],
    today: dt.date,
    step: str = "",
    deadline: dt.date | None = None,
    deadline_days: int | None = None,
    collector=None,
    opt_out_url: str = "",
    portal_url: str = "",
    interest_regime: str = "",
    organisation: Organisation | None = None,
    letter_settings: LetterSettings | None = None,
    creditor_role: str = "creditor",
    barred: bool = False,
    barred_invoices: Sequence[str] = (),
    barred_rule: str = "soft",
) -> dict:
    """The documented context (letters.context.FIELDS) of plain values, with the verdict of
    the consequence check (letters.consequences) the {% consequence %} tag reads.

    invoices: dicts with number, due_date, balance and optionally issue_date and amount.
    creditor_role: "creditor" or "agency" (the organisation's role in dunning settings).
    barred / barred_invoices: an invoice covered is past its limitation date (by number).
    barred_rule: the policy's rule for barred debts, "soft" or "stop"."""
    organisation = organisation or Organisation.current()
    settings = letter_settings or LetterSettings.current()
    lines = [
        invoice_line(
            number=inv["number"],
            due_date=inv["due_date"],
            balance=inv["balance"],
            today=today,
            issue_date=inv.get("issue_date"),
            amount=inv.get("amount"),
            payment_link=settings.payment_link_for(inv["number"]),
            id=inv.get("id"),
        )
        for inv in invoices
    ]
    total = sum((line["balance"] for line in lines), Decimal("0.00"))
    barred = barred or bool(barred_invoices)
    if barred:
        # No interest is claimed on a barred debt (letters.consequences), and its due date
        # may predate the reference-rate tables: nothing to work out.
        interest_regime = ""
    interest = interest_record(customer=customer, regime=interest_regime, lines=lines, today=today)
    verdict = consequences_allowed(
        Facts(
            debtor_type=customer.debtor_type,
            creditor_role=creditor_role,
            country=customer.country,
            region=customer.region,
            interest_enabled=bool(interest["enabled"]),
            fees_agreed=bool(customer.late_fee and customer.terms_accepted_on),
            barred=barred,
            barred_rule=barred_rule,
            credit_hold_possible=not customer.credit_hold,
            barred_invoices=tuple(barred_invoices),
        )
    )
    interest = _claimable(interest, verdict)
    name = (collector.get_full_name() or collector.get_username()) if collector else ""
    return {
        "organisation": Record(
            name=organisation.name,
            address=settings.address,
            signature=settings.signature,
            payment_instructions=settings.payment_instructions,
            bank_details=settings.bank_details,
            payment_reference=settings.payment_reference,
            company_number=settings.company_number,
            vat_id=settings.vat_id,
        ),
        "customer": Record(name=customer.name, account=customer.external_id),
        "contact": Record(
            name=contact.name if contact else "",
            email=contact.email if contact else "",
            address=contact.address if contact else "",
        ),
        "invoices": records(lines),
        "count": len(lines),
        "total": total,
        "currency": customer.currency,
        "oldest_days": max((line["days_overdue"] for line in lines), default=0),
        "today": today,
        "deadline": deadline or "",
        "deadline_days": deadline_days or "",
        "step": step,
        "collector": Record(
            name=name,
            email=collector.email if collector else "",
        ),
        "consumer": customer.debtor_type == "consumer",
        "opt_out_url": opt_out_url,
        "portal_url": portal_url,
        "interest": interest,
        "grand_total": total + interest["total"] + interest["compensation"],
        "consequences": verdict_record(verdict),
    }


def _claimable(interest: Record, verdict: Verdict) -> Record:
    """The interest record, or none claimed when the check refuses interest or
    compensation: a letter never asks for (nor adds to its total) a sum it may not claim.
    The two stand or fall together, as they come from the same regime."""
    if not interest["enabled"] or verdict.allows(INTEREST, COMPENSATION):
        return interest
    return record_cleared(interest, enabled=False, reason=verdict.why_not([INTEREST, COMPENSATION]))


def verdict_record(verdict: Verdict) -> Record:
    """The verdict as templates see it: allowed names, and the reason for each refused one."""
    return Record(
        allowed=tuple(name for name in CONSEQUENCES if name in verdict.allowed),
        refused=Record(**verdict.refused),
    )


@dataclass(frozen=True)
class Declared:
    """A consequence a template states, and whether it cannot go without it."""

    name: str
    required: bool

    @property
    def label(self) -> str:
        return CONSEQUENCES[self.name]


def consequences_declared(parts: Parts) -> tuple[Declared, ...]:
    """The consequences a template's parts state, each once (required if any part requires
    it), in the order of letters.consequences.CONSEQUENCES. Raises TemplateProblem when a
    part does not parse."""
    required: dict[str, bool] = {}
    for source, engine, field in (
        (parts.subject, TEXT, "Subject"),
        (parts.body_text, TEXT, "Plain text"),
        (parts.body_html, HTML, "HTML email"),
        (parts.letter_html, HTML, "Letter"),
    ):
        for name, must in consequences_in(source, engine=engine, field=field):
            required[name] = required.get(name, False) or must
    return tuple(Declared(name, required[name]) for name in CONSEQUENCES if name in required)


def message_render(parts: Parts, context: dict) -> Message:
    name = parts.name
    subject = render(parts.subject, context, engine=TEXT, field="Subject", name=name)
    text = render(parts.body_text, context, engine=TEXT, field="Plain text", name=name)
    html = render(parts.body_html, context, engine=HTML, field="HTML email", name=name)
    return Message(subject=" ".join(subject.split())[:300], text=text.strip() + "\n", html=html)


def letter_page(
    parts: Parts,
    context: dict,
    *,
    letter_settings: LetterSettings | None = None,
) -> str:
    """The letter as one complete HTML page: the fixed frame (letterhead, addresses, date,
    page numbers) around the template's body. Refused (TemplateTooCostly) past
    TEMPLATE_RENDER_MAX_BYTES: WeasyPrint is never handed more to lay out."""
    settings = letter_settings or LetterSettings.current()
    body = render(parts.letter_html, context, engine=HTML, field="Letter", name=parts.name)
    customer, contact_record = context["customer"], context["contact"]
    addressee = "\n".join(
        line
        for line in (contact_record["name"], customer["name"], contact_record["address"])
        if line
    )
    page = render_to_string(
        "letters/letter.html",
        {
            "language": "en",
            "title": context["step"] or "Letter",
            "page_size": PAGE_SIZES.get(settings.page_size, "A4"),
            "organisation_name": context["organisation"]["name"],
            "sender_address": settings.address,
            "has_logo": bool(settings.logo),
            "addressee": addressee,
            "today": context["today"],
            "account": customer["account"],
            "letter_settings": settings,  # the letterhead and payment box, as previewed
            "body": mark_safe(body),  # rendered by the sandbox, autoescaped
        },
    )
    if len(page) > django_settings.TEMPLATE_RENDER_MAX_BYTES:
        raise too_costly("size", name=parts.name, field="Letter")
    return page


def letter_pdf(
    parts: Parts, context: dict, *, letter_settings: LetterSettings | None = None
) -> bytes:
    settings = letter_settings or LetterSettings.current()
    if not parts.letter_html.strip():
        raise LetterError("This template has no letter.")
    page = letter_page(parts, context, letter_settings=settings)
    return render_pdf(page, logo=bytes(settings.logo or b""), logo_type=settings.logo_type)


SAMPLE_BARRED_DAYS = 7 * 366  # past England's six years (LEGAL.md)


# Previews render without sending: they show this rather than make a real link.
SAMPLE_PORTAL_URL = "https://example.com/c/preview/"


def sample_context(
    *, interest_regime: str = "", debtor_type: str = "business", barred: bool = False
) -> dict:
    """A realistic customer in England, for checking a template before it is saved; the
    editor switches its debtor type and whether its oldest invoice is time-barred."""
    today = dt.date.today()
    customer = Customer(
        name="Example Trading Ltd",
        external_id="C-0001",
        currency="GBP",
        debtor_type=debtor_type,
        country="GB",
    )
    contact = Contact(
        name="Alex Morgan", email="ap@example.com", address="1 High Street\nLondon\nEC1A 1AA"
    )
    invoices = [
        {
            "id": 1001,
            "number": "INV-1001",
            "due_date": today - dt.timedelta(days=SAMPLE_BARRED_DAYS if barred else 52),
            "balance": Decimal("1250.00"),
        },
        {
            "id": 1002,
            "number": "INV-1002",
            "due_date": today - dt.timedelta(days=21),
            "balance": Decimal("480.50"),
        },
    ]
    return context_build(
        customer=customer,
        contact=contact,
        invoices=invoices,
        today=today,
        step="Sample step",
        deadline=today + dt.timedelta(days=20),
        deadline_days=14,
        opt_out_url="https://example.com/portal/opt-out/sample/",
        portal_url=SAMPLE_PORTAL_URL,
        interest_regime=interest_regime,
        barred_invoices=("INV-1001",) if barred else (),
    )


BUSY_INVOICES = 200


def busy_context() -> dict:
    """The sample customer with BUSY_INVOICES open invoices and interest claimed on each:
    a heavy case, for checking a template stays within its render budget."""
    context = sample_context()
    today = context["today"]
    lines = [
        invoice_line(
            number=f"INV-{2000 + n}",
            due_date=today - dt.timedelta(days=30 + n),
            balance=Decimal("125.00") + n,
            today=today,
            issue_date=today - dt.timedelta(days=60 + n),
            payment_link=f"https://example.com/pay/INV-{2000 + n}",
            id=2000 + n,
        )
        for n in range(BUSY_INVOICES)
    ]
    total = sum((line["balance"] for line in lines), Decimal("0.00"))
    interest = Record(
        enabled=True,
        regime=statutory.REGIMES["uk"].name,
        total=Decimal("812.40"),
        compensation=Decimal("14000.00"),
        lines=records(
            {
                "invoice_number": line["number"],
                "days": line["days_overdue"],
                "rate": Decimal("8.00"),
                "interest": Decimal("4.06"),
                "compensation": Decimal("70.00"),
            }
            for line in lines
        ),
    )
    return {
        **context,
        "invoices": records(lines),
        "count": len(lines),
        "total": total,
        "oldest_days": max(line["days_overdue"] for line in lines),
        "interest": interest,
        "grand_total": total + interest["total"] + interest["compensation"],
    }


def parts_check(parts: Parts) -> None:
    """Render every part against the sample customer, then against a busy one within the
    render budget; raises TemplateProblem (with field and line), TemplateTooCostly or
    LetterError for anything that would fail when sent."""
    context = sample_context()
    message_render(parts, context)
    if parts.letter_html.strip():
        letter_pdf(parts, context)
    busy = busy_context()
    message_render(parts, busy)
    if parts.letter_html.strip():
        letter_page(parts, busy)
