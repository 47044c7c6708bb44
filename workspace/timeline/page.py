"""One page of the customer's timeline in words (see the package's docstring)."""

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.utils.dateparse import parse_date, parse_datetime

from audit.models import AuditEvent
from audit.selectors import BATCH_KEY, TimelinePage, audit_timeline_page
from dunning.models import Touch
from invoices.dates import format_day, format_moment
from invoices.models import Contact, Customer, ImportBatch, Invoice

from .sentences import Facts, Said, as_int, who
from .wording import ACTIONS, KINDS, TABS, UNKNOWN, actions_of

log = logging.getLogger(__name__)

PER_PAGE = 50
# A person's own words (a note, a call's notes, a reason) longer than this show their start,
# and the rest behind "more".
NOTE_SHOWN = 280
# The audit records listed under a group's entry; the trail keeps every one.
RECORDS_SHOWN = 25
# How far apart the steps of one change can be recorded (a message is planned, then sent).
FOLD_SECONDS = 300


@dataclass
class Record:
    """One audit event as it was written, for the disclosure under an entry."""

    id: int
    at: dt.datetime
    by: str
    fields: list[tuple[str, str]]


@dataclass
class Entry:
    id: int
    at: dt.datetime
    action: str
    kind: str
    badge: str
    tone: str
    who: str
    said: Said
    records: list[Record]
    size: int = 1
    by: str = ""  # the actor's label as recorded
    touch_id: int | None = None  # the message it is about, if any

    @property
    def note_start(self) -> str:
        return _cut(self.said.note)[0]

    @property
    def note_rest(self) -> str:
        return _cut(self.said.note)[1]

    @property
    def more_records(self) -> int:
        return self.size - len(self.records)


def _cut(text: str) -> tuple[str, str]:
    if len(text) <= NOTE_SHOWN:
        return text, ""
    space = text.rfind(" ", NOTE_SHOWN - 40, NOTE_SHOWN)
    at = space if space > 0 else NOTE_SHOWN
    return text[:at], text[at:]


# --- the page ---------------------------------------------------------------------------------


@dataclass
class Timeline:
    kind: str
    entries: list[Entry]
    older_before: int | None = None
    is_older: bool = False
    kinds: list[tuple[str, str]] = field(default_factory=lambda: list(TABS))

    @property
    def kind_label(self) -> str:
        return dict(TABS)[self.kind]


def timeline_filter(raw) -> str:
    return raw if raw in dict(TABS) else "all"


def timeline_before(raw) -> int | None:
    try:
        before = int(raw)
    except (TypeError, ValueError):
        return None
    return before if before > 0 else None


def timeline_for(customer: Customer, *, kind="all", before=None) -> Timeline:
    """One page of the customer's timeline in words, newest first, filtered by kind."""
    kind = timeline_filter(kind)
    if kind == "all":
        scope = {}
    elif kind == "other":
        scope = {"leave_out": [n for n, w in ACTIONS.items() if w.kind != "other"]}
    else:
        scope = {"only": actions_of(kind)}
    page = audit_timeline_page(
        customer_id=customer.pk,
        before=timeline_before(before),
        per_page=PER_PAGE,
        grouped=[n for n, w in ACTIONS.items() if w.grouping == "load"],
        batched=[n for n, w in ACTIONS.items() if w.grouping == "import"],
        **scope,
    )
    facts = _facts(page, currency=customer.currency)
    entries: list[Entry] = []
    for event in page.events:
        if entries and _folds_into(entries[-1], event, page):
            entries[-1].records.append(_record(event, facts))
            entries[-1].size += 1
        else:
            entries.append(_entry(event, page, facts))
    return Timeline(
        kind=kind, entries=entries, older_before=page.older_before, is_older=page.is_older
    )


def _folds_into(newer: Entry, event: AuditEvent, page: TimelinePage) -> bool:
    """Whether the event is the first step of what the entry just above it says (written by
    the same hand moments before, about the same message if any), so adds nothing to it."""
    data = event.data if isinstance(event.data, dict) else {}
    return (
        event.action in ACTIONS.get(newer.action, UNKNOWN).absorbs
        and event.pk not in page.groups
        and event.actor_label == newer.by
        and as_int(data.get("touch_id")) == newer.touch_id
        and abs((newer.at - event.at).total_seconds()) < FOLD_SECONDS
    )


def _entry(event: AuditEvent, page: TimelinePage, facts: Facts) -> Entry:
    wording = ACTIONS.get(event.action, UNKNOWN)
    group = page.groups.get(event.pk)
    members = group.members if group else [event]
    size = group.size if group else 1
    try:
        if size > 1 and wording.say_many is not None:
            said = wording.say_many(members, size, facts)
        else:
            said = wording.say(event, facts)
    except Exception:
        # An event older than its sentence (its data in another shape) still shows, in the
        # words it was recorded with, rather than breaking the page.
        log.exception("audit event %s (%s): no sentence for its data", event.pk, event.action)
        said = Said(event.summary or "Recorded")
    said.text = said.text[:1].upper() + said.text[1:]
    return Entry(
        id=event.pk,
        at=event.at,
        action=event.action,
        kind=wording.kind,
        badge=wording.badge,
        tone=KINDS[wording.kind][1],
        who=who(event, facts),
        by=event.actor_label,
        touch_id=as_int(event.data.get("touch_id")) if isinstance(event.data, dict) else None,
        said=said,
        records=[_record(member, facts) for member in members[:RECORDS_SHOWN]],
        size=size,
    )


def _record(event: AuditEvent, facts: Facts) -> Record:
    """The event's data as recorded, key by key, its amounts and dates in the shared formats
    (the sentence above is the summary in words)."""
    data = event.data if isinstance(event.data, dict) else {"data": event.data}
    currency = data.get("currency") or facts.currency
    fields = []
    for key, value in data.items():
        if key == "changes" and isinstance(value, dict):
            for name, pair in value.items():
                if isinstance(pair, list) and len(pair) == 2:
                    before, after = (_shown(name, v, currency, facts) for v in pair)
                    fields.append((_words(name), f"{before} → {after}"))
                else:
                    fields.append((_words(name), _shown(name, pair, currency, facts)))
            continue
        if key == "documents" and isinstance(value, dict):
            # Stored files by name -> SHA-256: the hashes identify them (the names hold ISO dates).
            value = ", ".join(f"SHA-256 {sha[:16]}…" for sha in value.values())
        fields.append((_words(key), _shown(key, value, currency, facts)))
    return Record(id=event.pk, at=event.at, by=event.actor_label, fields=fields)


MONEY_KEYS = {"amount", "total", "paid", "unallocated", "written_off", "proposed", "credit_limit"}


def _words(key: str) -> str:
    return key.replace("_", " ")


def _shown(key: str, value, currency: str, facts: Facts) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{_words(k)} {_shown(k, v, currency, facts)}" for k, v in value.items())
    if isinstance(value, list):
        if len(value) == 2 and isinstance(value[0], str) and _iso_day(value[0]):
            # An instalment: [day, amount].
            return f"{format_day(_iso_day(value[0]))} {facts.money(value[1], currency)}"
        return ", ".join(_shown(key, v, currency, facts) for v in value) or "none"
    if value is None or value == "":
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if key in MONEY_KEYS:
        return facts.money(value, currency) or str(value)
    if isinstance(value, str):
        if len(value) > NOTE_SHOWN:  # a person's words: shown whole, with "more", above
            return f"{value[:NOTE_SHOWN]}…"
        if (moment := parse_datetime(value)) is not None and "T" in value:
            return format_moment(moment)
        if (day := _iso_day(value)) is not None:
            return format_day(day)
    return str(value)


def _iso_day(text: str) -> dt.date | None:
    try:
        return parse_date(text)
    except ValueError:  # shaped like a date, but not one (2026-13-01)
        return None


def _facts(page: TimelinePage, *, currency: str) -> Facts:
    """Look up what the page's events mention: one query per kind of thing, none when the
    page mentions none."""
    events = [e for group in page.groups.values() for e in group.members] + page.events
    touch_ids, invoice_ids, contact_ids, people, batches = set(), set(), set(), set(), set()
    for event in events:
        data = event.data if isinstance(event.data, dict) else {}
        touch_ids.add(as_int(data.get("touch_id")))
        invoice_ids.add(event.invoice_id)
        invoice_ids.update(as_int(i) for i in data.get("invoice_ids") or ())
        contact_ids.add(as_int(data.get("contact_id")))
        people.add(event.actor_id)
        changes = data.get("changes")
        if isinstance(changes, dict) and isinstance(changes.get("collector"), list):
            people.update(as_int(v) for v in changes["collector"])
        batches.add(as_int(data.get(BATCH_KEY)))
    facts = Facts(currency=currency)
    if ids := touch_ids - {None}:
        facts.touches = {
            t.pk: t
            for t in Touch.objects.filter(pk__in=ids)
            .select_related("step", "contact")
            .only("channel", "status", "to_email", "document", "step__name", "contact__name")
        }
    if ids := invoice_ids - {None}:
        facts.invoices = dict(Invoice.objects.filter(pk__in=ids).values_list("pk", "number"))
    if ids := contact_ids - {None}:
        facts.contacts = {
            c.pk: c for c in Contact.objects.filter(pk__in=ids).only("name", "email", "phone")
        }
    if ids := people - {None}:
        facts.people = {
            user.pk: user.get_full_name() or user.get_username()
            for user in get_user_model()
            .objects.filter(pk__in=ids)
            .only("first_name", "last_name", get_user_model().USERNAME_FIELD)
        }
    if ids := batches - {None}:
        facts.files = {
            str(pk): name
            for pk, name in ImportBatch.objects.filter(pk__in=ids).values_list("pk", "filename")
        }
    return facts
