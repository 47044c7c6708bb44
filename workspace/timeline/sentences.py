"""The sentences of the customer's timeline: each turns one audit event (or a batch of
them) into what a person would say, with money through format_money and dates through
format_day / format_moment. wording.ACTIONS says which sentence each action gets."""

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.urls import reverse
from django.utils.dateparse import parse_date, parse_datetime

from audit.models import AuditEvent
from audit.selectors import BATCH_KEY
from dunning.models import CallOutcome, Touch
from dunning.webhooks import OPT_OUTS
from invoices.dates import format_day, format_moment
from invoices.models import Contact, Customer, DisputeReason, DisputeStatus, Invoice
from invoices.money import format_money


@dataclass(frozen=True)
class Link:
    url: str
    label: str


@dataclass
class Said:
    """What an entry says: a sentence, and optionally a second line, a person's own words
    (cut with "more" when long), a status and links."""

    text: str
    detail: str = ""
    note: str = ""
    status: str = ""
    status_tone: str = ""
    links: list[Link] = field(default_factory=list)


@dataclass
class Facts:
    """What the page's events mention, looked up once for the whole page."""

    currency: str
    touches: dict[int, Touch] = field(default_factory=dict)
    invoices: dict[int, str] = field(default_factory=dict)
    contacts: dict[int, Contact] = field(default_factory=dict)
    people: dict[int, str] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)

    def money(self, amount, currency: str | None = None) -> str:
        try:
            value = Decimal(str(amount))
        except (InvalidOperation, ValueError, TypeError):
            return ""
        return format_money(value, currency or self.currency)

    def step(self, data: dict, fallback: str = "message") -> str:
        touch = self.touches.get(as_int(data.get("touch_id")))
        if touch is not None:
            return touch.step.name if touch.step_id else touch.get_channel_display()
        return data.get("step") or fallback

    def number(self, invoice_id) -> str:
        return self.invoices.get(as_int(invoice_id), "an invoice")

    def file(self, data: dict) -> str:
        return self.files.get(str(data.get(BATCH_KEY)), "a file")


# --- helpers ---------------------------------------------------------


def as_int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _day(value) -> str:
    if isinstance(value, str):
        value = parse_date(value) or parse_datetime(value) or value
    return format_day(value)


def _moment(value) -> str:
    if isinstance(value, str):
        value = parse_datetime(value) or parse_date(value) or value
    return format_moment(value)


def _listed(items, most: int = 4) -> str:
    items = [str(i) for i in items if i]
    if len(items) > most:
        return f"{', '.join(items[: most - 1])} and {len(items) - most + 1} more"
    if len(items) > 1:
        return f"{', '.join(items[:-1])} and {items[-1]}"
    return items[0] if items else ""


def _after(summary: str, marker: str = ": ") -> str:
    """The free text a service put after `marker` in a summary (a reason the data lacks)."""
    _, found, rest = summary.partition(marker)
    return rest.strip() if found else ""


def _recipient(touch: Touch | None, address: str) -> str:
    address = address or (touch.to_email if touch else "")
    name = touch.contact.name if touch and touch.contact_id else ""
    if name and address:
        return f"{name} <{address}>"
    return name or address


def _contact(facts: Facts, data: dict) -> str:
    contact = facts.contacts.get(as_int(data.get("contact_id")))
    if contact is None:
        return ""
    if contact.name and contact.email:
        return f"{contact.name} <{contact.email}>"
    return str(contact)


def _invoices(facts: Facts, ids) -> str:
    return _listed(facts.number(i) for i in ids or ())


def _document(document_id, label: str) -> list[Link]:
    if not as_int(document_id):
        return []
    return [Link(reverse("letters:document", args=[as_int(document_id)]), label)]


def summary(event: AuditEvent, facts: Facts) -> Said:
    """For actions that never concern one customer: their summaries are words already."""
    return Said(event.summary or "Recorded")


# --- messages and letters --------------------------------------------------------------------

STATUS_TONES = {
    "delivered": "paid",
    "bounced": "danger",
    "complained": "danger",
    "failed": "danger",
    "unknown": "warn",
}


def sent(event: AuditEvent, facts: Facts) -> Said:
    data = event.data
    touch = facts.touches.get(as_int(data.get("touch_id")))
    step = facts.step(data)
    if "subject" not in data:
        if data.get("esp"):  # a delivery event settled a message whose outcome was unknown
            return Said(f"The mail service confirmed that the {step} went out")
        return Said(f"{step} sent")
    to = _recipient(touch, data.get("to", ""))
    # A message sent by hand has no step: its channel alone names it.
    named = touch is None or touch.step_id is not None
    if event.action == "dunning.letter.sent":
        what = f"{step} letter" if named else "Letter"
        text = (
            f"{what} emailed to {to} and queued for posting"
            if to
            else f"{what} queued for posting (no usable email address)"
        )
    else:
        text = f"{step} emailed to {to}" if named else f"Email sent to {to}"
    invoices = data.get("invoices") or []
    detail = f"“{data['subject']}”" if data.get("subject") else ""
    if invoices:
        total = facts.money(data.get("total"))
        detail += f" · {_listed(invoices)}" + (f", {total}" if total else "")
    status = touch.get_status_display() if touch else ""
    label = "Letter (PDF)" if event.action == "dunning.letter.sent" else "Attachment (PDF)"
    links = _document(touch.document_id, label) if touch else []
    return Said(
        text,
        detail=detail,
        status=status,
        status_tone=STATUS_TONES.get(touch.status if touch else "", "open"),
        links=links,
    )


def not_sent(event: AuditEvent, facts: Facts) -> Said:
    reason = event.data.get("reason") or event.data.get("error") or ""
    return Said(
        f"{facts.step(event.data)} not sent", note=reason, status="Failed", status_tone="danger"
    )


def delivery(verb: str, tone: str):
    def say(event: AuditEvent, facts: Facts) -> Said:
        touch = facts.touches.get(as_int(event.data.get("touch_id")))
        to = _recipient(touch, "")
        text = f"{facts.step(event.data)} {verb}" + (f" ({to})" if to else "")
        return Said(text, detail=_after(event.summary), status_tone=tone)

    return say


def planned(event: AuditEvent, facts: Facts) -> Said:
    data = event.data
    step = facts.step(data)
    if data.get("bounced_touch_id"):
        return Said(f"{step} to be sent again, to the next contact, after a bounce")
    reason = _after(event.summary)
    if event.action.endswith("skipped"):
        return Said(f"{step} skipped: its conditions were not met", note=reason)
    when = f" for {_moment(data['due_at'])}" if data.get("due_at") else ""
    started = "A new round of chasing starts. " if data.get("chase_started") else ""
    return Said(f"{started}{step} planned{when}", note=reason)


def touch_line(template: str, *, reason_key: str = "", tone: str = ""):
    def say(event: AuditEvent, facts: Facts) -> Said:
        text = template.format(step=facts.step(event.data), who=who(event, facts))
        reason = event.data.get(reason_key, "") if reason_key else ""
        return Said(text, note=reason, status_tone=tone)

    return say


def sent_now(event: AuditEvent, facts: Facts) -> Said:
    data = event.data
    due = parse_datetime(data.get("planned_for") or "")
    ahead = f", ahead of {format_moment(due)}" if due and due > event.at else ""
    return Said(f"{facts.step(data)} sent now by {who(event, facts)}{ahead}")


def task(event: AuditEvent, facts: Facts) -> Said:
    data = event.data
    if data.get("step") and data.get("due_at"):  # planned by the engine
        return Said(f"Task: {data['step']}, due {_moment(data['due_at'])}")
    text = event.summary.removeprefix("Task: ").strip()
    return Said(f"Task: {text[:1].lower()}{text[1:]}" if text else "Task created")


def printed(event: AuditEvent, facts: Facts) -> Said:
    return Said(
        "Letter printed for posting",
        detail=event.summary.removesuffix(" printed for posting"),
        links=_document(event.data.get("document_id"), "Letter (PDF)"),
    )


def bounced(event: AuditEvent, facts: Facts) -> Said:
    whom = _contact(facts, event.data) or "an address"
    return Said(
        f"Mail to {whom} bounced: automated email skips this address until it is fixed",
        note=event.data.get("reason", ""),
        status_tone="danger",
    )


def opted_out_address(event: AuditEvent, facts: Facts) -> Said:
    what = OPT_OUTS.get(event.action.rsplit(".", 1)[-1], "asked for no more mail")
    whom = _contact(facts, event.data) or "a contact"
    return Said(f"{whom} {what}: no more collection email goes to this address")


def opted_out(event: AuditEvent, facts: Facts) -> Said:
    count = event.data.get("contacts_opted_out")
    detail = f"{count} contact{'s' if count != 1 else ''} opted out" if count is not None else ""
    on_page = event.data.get("via") == "customer_page"
    where = "on their page" if on_page else "with the link in a message"
    return Said(f"The customer opted out of collection email {where}", detail)


def reply_received(event: AuditEvent, facts: Facts) -> Said:
    data = event.data
    whom = _contact(facts, data) or data.get("from") or "the customer"
    subject = data.get("subject") or ""
    links = [
        Link(reverse("inbox:attachment", args=[as_int(a.get("id"))]), a.get("filename") or "file")
        for a in data.get("attachments") or []
        if isinstance(a, dict) and as_int(a.get("id"))
    ]
    too_large = [
        f"{a.get('filename') or 'file'} ({(as_int(a.get('size')) or 0) / 1e6:.1f} MB)"
        for a in data.get("too_large") or []
        if isinstance(a, dict)
    ]
    return Said(
        f"Reply from {whom}" + (f": {subject}" if subject else ""),
        detail=f"Too large to keep: {', '.join(too_large)}" if too_large else "",
        note=data.get("text", ""),
        links=links,
    )


def reply_assigned(event: AuditEvent, facts: Facts) -> Said:
    return Said(f"A reply from {event.data.get('from') or 'an unknown sender'} assigned to them")


def reply_handled(event: AuditEvent, facts: Facts) -> Said:
    return Said("Reply marked handled")


def reply_stop(event: AuditEvent, facts: Facts) -> Said:
    whom = _contact(facts, event.data) or "a contact"
    return Said(f"{whom} replied STOP: no more collection email goes to this address")


def portal_link_made(event: AuditEvent, facts: Facts) -> Said:
    whom = _contact(facts, event.data) or "a contact"
    return Said(f"Customer page link made for {whom}")


def portal_link_revoked(event: AuditEvent, facts: Facts) -> Said:
    whom = _contact(facts, event.data) or "a contact"
    return Said(f"Customer page link of {whom} revoked")


def customer_request(event: AuditEvent, facts: Facts) -> Said:
    """A request from the customer's page (portal.requests) and each decision on it."""
    data = event.data
    whom = _contact(facts, data)
    detail = f"On the customer's page, by {whom}" if whom and data.get("via") else ""
    offered = (data.get("after") or {}).get("counter") or {}
    if rows := offered.get("instalments"):
        detail = detail or f"Offered {len(rows)} instalments, the first on {_day(rows[0][0])}"
    links = []
    if request_id := as_int(data.get("request_id")):
        links.append(Link(reverse("portal:request_detail", args=[request_id]), "The request"))
    note = (data.get("after") or {}).get("note", "")
    return Said(event.summary or "Request from the customer's page", detail, note, links=links)


# --- calls ------------------------------------------------------------------------------------


def call(event: AuditEvent, facts: Facts) -> Said:
    data = event.data
    outcome = CallOutcome(data["outcome"]).label if data.get("outcome") in CallOutcome else ""
    with_whom = _contact(facts, data)
    text = (
        "Call"
        + (f" with {with_whom}" if with_whom else "")
        + (f": {outcome.lower()}" if outcome else "")
    )
    return Said(text, note=data.get("notes", ""))


def phone_task(event: AuditEvent, facts: Facts) -> Said:
    data = event.data
    if data.get("call_task_id"):  # a follow-up a logged call booked: its summary says when
        return Said(event.summary)
    when = f", from {_moment(data['due_at'])}" if data.get("due_at") else ""
    total = facts.money(data["total"]) if data.get("total") else ""
    return Said(
        f"Phone call to make{when}: {facts.step(data, 'call')}",
        detail=f"About {total} on {_invoices(facts, data.get('invoice_ids'))}" if total else "",
    )


# --- the ledger ------------------------------------------------------------------------------


def note(event: AuditEvent, facts: Facts) -> Said:
    return Said("", note=event.data.get("text") or event.summary.removeprefix("Note: "))


def payment(event: AuditEvent, facts: Facts) -> Said:
    data = event.data
    currency = data.get("currency")
    applied = [a.get("invoice") for a in data.get("allocations") or []]
    text = f"Payment of {facts.money(data.get('amount'), currency)} received"
    if data.get("received_on"):
        text += f" {_day(data['received_on'])}"
    if applied:
        text += f", applied to {_listed(applied)}"
    left = data.get("unallocated")
    if left not in (None, "") and Decimal(str(left)) > 0:
        text += f"; {facts.money(left, currency)} kept as credit"
    detail = f"Reference {data['reference']}" if data.get("reference") else ""
    if data.get(BATCH_KEY):
        detail = ", ".join(filter(None, [detail, f"imported from {facts.file(data)}"]))
    return Said(text, detail=detail)


def online_payment_started(event: AuditEvent, facts: Facts) -> Said:
    """The customer went to the payment provider's page from theirs (portal.payments)."""
    data = event.data
    whom = _contact(facts, data) or "The customer"
    money = facts.money(data.get("amount"), data.get("currency"))
    return Said(
        f"{whom} started paying {money} online for {_invoices(facts, data.get('invoice_ids'))}",
        detail="Recorded once the payment provider confirms it",
    )


def online_payment(event: AuditEvent, facts: Facts) -> Said:
    """A payment made on the customer's page, as the provider's signed event confirmed it."""
    said = payment(event, facts)
    whom = _contact(facts, event.data)
    said.text = said.text.replace(" received", " paid online" + (f" by {whom}" if whom else ""), 1)
    if event.data.get("mismatch"):
        said.status, said.status_tone = "To match", "warn"
        said.detail = ", ".join(filter(None, [said.detail, event.data["mismatch"]]))
    return said


def allocated(event: AuditEvent, facts: Facts) -> Said:
    parts = event.data.get("allocations") or []
    total = sum((Decimal(str(a.get("amount", 0))) for a in parts), Decimal("0"))
    return Said(
        f"{facts.money(total)} of credit applied to {_listed(a.get('invoice') for a in parts)}"
    )


def credit(event: AuditEvent, facts: Facts) -> Said:
    data = event.data
    return Said(
        f"Credit note {data.get('credit_note', '')} for {facts.money(data.get('amount'))} on "
        f"{facts.number(event.invoice_id)}",
        note=data.get("reason", ""),
    )


def written_off(event: AuditEvent, facts: Facts) -> Said:
    data = event.data
    return Said(
        f"{facts.number(event.invoice_id)} written off: {facts.money(data.get('amount'))}"
        + (f" ({data['credit_note']})" if data.get("credit_note") else ""),
        note=data.get("reason", ""),
    )


def invoice_created(event: AuditEvent, facts: Facts) -> Said:
    data = event.data
    amount = facts.money(data.get("amount"), data.get("currency"))
    return Said(
        f"Invoice {data.get('number', '')} for {amount} added, due {_day(data.get('due_date'))}"
    )


def invoices_loaded(events: list[AuditEvent], size: int, facts: Facts) -> Said:
    head = events[0]
    if head.data.get(BATCH_KEY):
        how = f"imported from {facts.file(head.data)}"
    elif head.actor_id is None:
        how = "loaded"
    else:
        how = "added"
    text = f"{size} invoices {how}"
    if len(events) == size:
        totals: dict[str, Decimal] = {}
        for event in events:
            currency = event.data.get("currency") or facts.currency
            totals[currency] = totals.get(currency, Decimal("0")) + Decimal(
                str(event.data.get("amount") or 0)
            )
        text += ", " + " and ".join(facts.money(v, c) for c, v in totals.items()) + " in all"
        numbers = sorted(str(e.data.get("number", "")) for e in events)
        dues = sorted(str(e.data.get("due_date", "")) for e in events)
        return Said(
            text, detail=f"{numbers[0]} to {numbers[-1]}, due {_day(dues[0])} to {_day(dues[-1])}"
        )
    return Said(text)


def _changes(event: AuditEvent, facts: Facts, model) -> str:
    changes = event.data.get("changes") or {}
    parts = []
    for name, pair in changes.items():
        label = _label(model, name)
        if isinstance(pair, list) and len(pair) == 2:
            parts.append(f"{label} {_value(name, pair[0], facts)} → {_value(name, pair[1], facts)}")
        else:
            parts.append(label)
    return "; ".join(parts)


def _label(model, name: str) -> str:
    try:
        return str(model._meta.get_field(name).verbose_name)
    except Exception:
        return name.replace("_", " ")


def _value(name: str, value, facts: Facts) -> str:
    if value in (None, ""):
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if name in ("amount", "credit_limit"):
        return facts.money(value)
    if name == "collector":
        return facts.people.get(as_int(value), "someone")
    if name.endswith(("_date", "_on", "_until")):
        return _day(value)
    return str(value)


def _by_import(event: AuditEvent, facts: Facts) -> str:
    return f" by the import of {facts.file(event.data)}" if event.data.get(BATCH_KEY) else ""


def invoice_changed(event: AuditEvent, facts: Facts) -> Said:
    number = facts.invoices.get(event.invoice_id) or _after(event.summary, "Invoice ").split(" ")[0]
    return Said(
        f"Invoice {number} changed{_by_import(event, facts)}", _changes(event, facts, Invoice)
    )


def invoices_changed(events: list[AuditEvent], size: int, facts: Facts) -> Said:
    return Said(f"{size} invoices changed by the import of {facts.file(events[0].data)}")


def payments_imported(events: list[AuditEvent], size: int, facts: Facts) -> Said:
    head = events[0]
    if head.data.get(BATCH_KEY):
        text = f"{size} payments imported from {facts.file(head.data)}"
    else:  # recorded by the system in one go (a load, a payment service's events)
        text = f"{size} payments recorded"
    if len(events) == size:
        total = sum((Decimal(str(e.data.get("amount") or 0)) for e in events), Decimal("0"))
        text += f", {facts.money(total, events[0].data.get('currency'))} in all"
    return Said(text)


def customer_changed(event: AuditEvent, facts: Facts) -> Said:
    return Said(
        f"Customer details changed{_by_import(event, facts)}", _changes(event, facts, Customer)
    )


def contact_saved(event: AuditEvent, facts: Facts) -> Said:
    whom = _contact(facts, event.data) or "details"
    verb = "added" if event.action.endswith("created") else "changed"
    return Said(
        f"Contact {whom} {verb}{_by_import(event, facts)}",
        _changes(event, facts, Contact) if verb == "changed" else "",
    )


def terms_attached(event: AuditEvent, facts: Facts) -> Said:
    return Said(f"Signed terms {event.data.get('filename', '')} put on file".replace("  ", " "))


def dispute_opened(event: AuditEvent, facts: Facts) -> Said:
    data = event.data
    reason = data.get("reason", "")
    label = DisputeReason(reason).label if reason in DisputeReason else reason
    amount = facts.money(data.get("amount")) if data.get("amount") else ""
    detail, links = "", []
    if data.get("raised_via") == "customer_page":
        whom = _contact(facts, data)
        detail = "Raised on the customer's page" + (f" by {whom}" if whom else "")
        links = [
            Link(
                reverse("portal:evidence", args=[as_int(d.get("id"))]), d.get("filename") or "File"
            )
            for d in data.get("documents") or []
            if isinstance(d, dict) and as_int(d.get("id"))
        ]
    elif data.get("raised_via") == "check":
        whom = _contact(facts, data)
        detail = "Raised answering the satisfaction check on the customer's page" + (
            f" by {whom}" if whom else ""
        )
    return Said(
        f"Dispute opened on {facts.number(event.invoice_id)}"
        + (f" for {amount}" if amount else "")
        + (f": {label}" if label else ""),
        detail=detail,
        note=data.get("detail", ""),
        links=links,
    )


def check_answered(event: AuditEvent, facts: Facts) -> Said:
    data = event.data
    problem = data.get("answer") == "problem"
    whom = _contact(facts, data)
    when = "before the due date" if data.get("before_due") else "after the due date"
    return Said(
        f"Satisfaction check on {facts.number(event.invoice_id)} answered: "
        + ("there is a problem (a dispute was opened)" if problem else "all in order"),
        detail=f"On the customer's page{f' by {whom}' if whom else ''}, {when}",
        status="Problem" if problem else "In order",
        status_tone="danger" if problem else "paid",
    )


def dispute_resolved(event: AuditEvent, facts: Facts) -> Said:
    outcome = event.data.get("outcome", "")
    label = DisputeStatus(outcome).label.lower() if outcome in DisputeStatus else "resolved"
    return Said(
        f"Dispute on {facts.number(event.invoice_id)} {label}", note=event.data.get("note", "")
    )


# --- promises and plans -----------------------------------------------------------------------


def promise(event: AuditEvent, facts: Facts) -> Said:
    data = event.data
    covers = _invoices(facts, data.get("invoice_ids"))
    grace = data.get("grace_days")
    return Said(
        f"Promise to pay {facts.money(data.get('amount'))} by {_day(data.get('promised_for'))}"
        + (f", for {covers}" if covers else ""),
        detail=f"Chasing waits until then, plus {grace} days' grace" if grace else "",
    )


def promise_settled(event: AuditEvent, facts: Facts) -> Said:
    data = event.data
    amount, paid = facts.money(data.get("amount")), facts.money(data.get("paid"))
    if event.action.endswith("kept"):
        return Said(f"Promise of {amount} kept: {paid} paid", status="Kept", status_tone="paid")
    return Said(
        f"Promise of {amount} broken: {paid} paid; chasing resumes",
        status="Broken",
        status_tone="danger",
    )


def plan(event: AuditEvent, facts: Facts) -> Said:
    instalments = event.data.get("instalments") or []
    total = sum((Decimal(str(amount)) for _, amount in instalments), Decimal("0"))
    text = (
        f"Payment plan agreed: {len(instalments)} instalment{'s' if len(instalments) != 1 else ''}"
    )
    text += f" of {facts.money(total)} in all"
    if instalments:
        text += f", {_day(instalments[0][0])} to {_day(instalments[-1][0])}"
    return Said(text)


def plan_ended(event: AuditEvent, facts: Facts) -> Said:
    data = event.data
    paid, total = facts.money(data.get("paid")), facts.money(data.get("total"))
    if event.action.endswith("completed"):
        return Said(f"Payment plan completed: {paid} paid", status="Completed", status_tone="paid")
    return Said(
        f"Payment plan broken: {paid} of {total} paid; chasing resumes",
        status="Broken",
        status_tone="danger",
    )


def plain(text: str, *, note_key: str = "", tone: str = ""):
    def say(event: AuditEvent, facts: Facts) -> Said:
        return Said(text, note=event.data.get(note_key, "") if note_key else "", status_tone=tone)

    return say


# --- decisions --------------------------------------------------------------------------------


def hold(event: AuditEvent, facts: Facts) -> Said:
    until = event.data.get("until")
    return Said(
        "Put on hold" + (f" until {_day(until)}" if until else ""),
        note=event.data.get("reason", ""),
    )


def referral_proposed(event: AuditEvent, facts: Facts) -> Said:
    data = event.data
    count = len(data.get("invoice_ids") or [])
    return Said(
        f"Legal referral proposed for {facts.money(data.get('total'))}"
        + (f" ({count} invoice{'s' if count != 1 else ''})" if count else "")
        + ": a manager decides"
    )


def referral_approved(event: AuditEvent, facts: Facts) -> Said:
    data = event.data
    return Said(
        f"Legal referral approved for {facts.money(data.get('total'))}; automated contact stopped",
        detail=_listed(data.get("invoices") or []),
        note=_after(event.summary, "contact stopped: "),
        status_tone="danger",
    )


def referral_declined(event: AuditEvent, facts: Facts) -> Said:
    return Said("Legal referral declined", note=_after(event.summary))


def write_off(verb: str, *, amount_key: str = "", note_key: str = ""):
    def say(event: AuditEvent, facts: Facts) -> Said:
        data = event.data
        amount = facts.money(data.get(amount_key)) if amount_key and data.get(amount_key) else ""
        text = "Write-off" + (f" of {amount}" if amount else "")
        text += f" on {facts.number(event.invoice_id)} {verb}"
        if data.get("credit_note") and verb == "approved":
            text += f" ({data['credit_note']})"
        return Said(text, note=data.get(note_key, "") if note_key else "")

    return say


def chase_moved(event: AuditEvent, facts: Facts) -> Said:
    data = event.data
    return Said(
        f"Chasing moved to version {data.get('after')} of its policy (was {data.get('before')})"
    )


def chase_moved_to_step(event: AuditEvent, facts: Facts) -> Said:
    # A person moved the customer to a step (dunning.moves).
    data = event.data
    was = data.get("from_step")
    return Said(
        f"Moved on the ladder to step {data.get('to_position')} ({data.get('to_step', '')})"
        + (f" from {was}" if was else "")
        + f" by {who(event, facts)}",
        note=data.get("reason", ""),
    )


def customer_created(event: AuditEvent, facts: Facts) -> Said:
    return Said("Customer record created" + _by_import(event, facts))


def who(event: AuditEvent, facts: Facts) -> str:
    if event.actor_id is not None:
        return facts.people.get(event.actor_id) or event.actor_label
    return {"system": "Dunmore", "customer": "The customer"}.get(
        event.actor_label, event.actor_label
    )
