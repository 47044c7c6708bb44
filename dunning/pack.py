"""The legal referral pack: one ZIP with everything a lawyer or agency needs to act.

case-summary.pdf, worth-going-to-court.pdf (the claim with interest and its working, the
limitation date, small claims, payment history and net recovery), statement.pdf, the final
demand letter(s) that were sent (the stored PDFs, byte for byte, under final-demand/),
every other letter sent (under letters/), timeline.pdf (every touch and audit event) and
disputes-and-promises.pdf. The documents are rendered from fixed templates (not
user-edited) with the same fenced PDF renderer as letters."""

import datetime as dt
import io
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from audit.selectors import audit_timeline
from invoices.models import Customer, Dispute
from letters.documents import document_pdf, statement_pdf
from letters.models import Document, DocumentKind

from .court import court_case
from .models import PaymentPlan, PromiseToPay, Touch

TIMELINE_EVENTS = 5000  # far more than any real case; bounds the PDF


@dataclass(frozen=True)
class FinalDemand:
    """A final demand letter that was sent, and the invoices it demanded."""

    touch: Touch  # sent_at, to_email, step; its document is the letter's PDF, if stored
    deadline: dt.date | None  # the day it gave to pay
    numbers: frozenset[str]  # the invoices it covered

    @property
    def listed(self) -> list[str]:
        return sorted(self.numbers)

    @property
    def document(self) -> Document | None:
        return self.touch.document if self.touch.document_id else None

    @property
    def pack_name(self) -> str:
        """The letter's name inside the pack ('' when its PDF is not on record)."""
        document = self.document
        if document is None:
            return ""
        return f"final-demand/{document.created_at:%Y-%m-%d}-{document.filename}"


@dataclass(frozen=True)
class Case:
    customer: Customer
    # id, number, issue_date, due_date, days_overdue, balance, limitation, disputed
    invoices: list[dict]
    total: Decimal
    currency: str
    years: int | None  # limitation period
    barred: list[str]
    warnings: list[str]
    final_demands: list[FinalDemand] = field(default_factory=list)  # oldest first
    # Open invoices the case does not refer, with why: id, number, due_date, days_overdue,
    # balance, why
    left_out: list[dict] = field(default_factory=list)

    @property
    def final_demand(self) -> FinalDemand | None:
        return self.final_demands[-1] if self.final_demands else None

    @property
    def letters_missing(self) -> list[FinalDemand]:
        """Final demands whose letter PDF is not on record: the pack cannot contain them."""
        return [demand for demand in self.final_demands if demand.document is None]


def _pdf(template: str, context: dict) -> bytes:
    return document_pdf(f"dunning/pack/{template}", context)


def pack_build(*, case: Case, approved_by: str, reason: str, at: dt.datetime) -> bytes:
    customer = case.customer
    today = timezone.localdate(at)
    common = {
        "customer": customer,
        "case": case,
        "court": court_case(case, today=today),
        "today": today,
        "approved_by": approved_by,
        "reason": reason,
        "time_zone": timezone.get_current_timezone_name(),
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
    demand_letters = {d.document.pk: d for d in case.final_demands if d.document is not None}
    # The final demands were loaded without their bytes; the pack needs them.
    demand_content = dict(
        Document.objects.filter(pk__in=list(demand_letters)).values_list("pk", "content")
    )
    letters = list(
        Document.objects.filter(customer=customer, kind=DocumentKind.LETTER)
        .exclude(pk__in=list(demand_letters))
        .order_by("created_at", "id")
    )
    files = {
        "case-summary.pdf": _pdf("case_summary.html", {**common, "letters": letters}),
        "worth-going-to-court.pdf": _pdf("court.html", common),
        "statement.pdf": statement_pdf(customer, today=today),
        "timeline.pdf": _pdf(
            "timeline.html", {**common, "touches": touches, "events": list(reversed(events))}
        ),
        "disputes-and-promises.pdf": _pdf(
            "disputes_promises.html",
            {**common, "disputes": disputes, "promises": promises, "plans": plans},
        ),
    }
    for pk, demand in demand_letters.items():
        files[demand.pack_name] = bytes(demand_content[pk])
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
