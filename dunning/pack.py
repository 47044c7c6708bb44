"""The legal referral pack: one ZIP with everything a lawyer or agency needs to act.

case-summary.pdf, statement.pdf, every letter sent (the stored PDFs, byte for byte),
timeline.pdf (every touch and audit event) and disputes-and-promises.pdf. The documents are
rendered from fixed templates (not user-edited) with the same fenced PDF renderer as
letters."""

import datetime as dt
import io
import zipfile
from dataclasses import dataclass
from decimal import Decimal

from django.template.loader import render_to_string

from audit.selectors import audit_timeline
from invoices.models import Customer, Dispute, Organisation
from letters.documents import statement_pdf
from letters.models import Document, DocumentKind
from letters.pdf import render_pdf

from .models import PaymentPlan, PromiseToPay, Touch

TIMELINE_EVENTS = 5000  # far more than any real case; bounds the PDF


@dataclass(frozen=True)
class Case:
    customer: Customer
    invoices: list[dict]  # number, issue_date, due_date, days_overdue, balance, limitation
    total: Decimal
    currency: str
    years: int | None  # limitation period
    barred: list[str]
    warnings: list[str]
    final_demand: Touch | None


def _pdf(template: str, context: dict) -> bytes:
    html = render_to_string(f"dunning/pack/{template}", context)
    return render_pdf(html)


def pack_build(*, case: Case, approved_by: str, reason: str, at: dt.datetime) -> bytes:
    customer = case.customer
    today = at.date()
    common = {
        "organisation": Organisation.current().name,
        "customer": customer,
        "case": case,
        "today": today,
        "approved_by": approved_by,
        "reason": reason,
    }
    touches = list(
        Touch.objects.filter(customer=customer)
        .select_related("step", "contact")
        .order_by("scheduled_for", "id")
    )
    events = audit_timeline(customer_id=customer.pk, limit=TIMELINE_EVENTS)
    disputes = list(
        Dispute.objects.filter(invoice__customer=customer)
        .select_related("invoice")
        .order_by("opened_on")
    )
    promises = list(PromiseToPay.objects.filter(customer=customer).order_by("made_on", "id"))
    plans = list(
        PaymentPlan.objects.filter(customer=customer)
        .prefetch_related("instalments")
        .order_by("agreed_on", "id")
    )
    letters = list(
        Document.objects.filter(customer=customer, kind=DocumentKind.LETTER).order_by(
            "created_at", "id"
        )
    )
    files = {
        "case-summary.pdf": _pdf("case_summary.html", {**common, "letters": letters}),
        "statement.pdf": statement_pdf(customer, today=today),
        "timeline.pdf": _pdf(
            "timeline.html", {**common, "touches": touches, "events": list(reversed(events))}
        ),
        "disputes-and-promises.pdf": _pdf(
            "disputes_promises.html",
            {**common, "disputes": disputes, "promises": promises, "plans": plans},
        ),
    }
    for document in letters:
        files[f"letters/{document.created_at:%Y-%m-%d}-{document.filename}"] = bytes(
            document.content
        )
    out = io.BytesIO()
    stamp = at.timetuple()[:6]
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=stamp), content)
    return out.getvalue()
