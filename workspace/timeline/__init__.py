"""The customer's timeline in words: what happened, newest first, as a person says it
("Friendly reminder emailed to Ann Lee <ann@example.com>", "Payment of £1,200.00 received
3 Mar 2026, applied to INV-1001 and INV-1002"), each entry with the audit record behind it
one click away.

wording.ACTIONS is the one table: for every action name the services write, the filter it
falls under, its badge and its sentence (sentences.py). A load or an import is one entry
("312 invoices imported from ledger.csv"), not one per invoice: audit_timeline_page groups
them. A page costs a fixed number of queries (page.py): two for the events, then one each
for the touches, invoices, contacts, people and import files they mention."""

from .page import Entry, Timeline, timeline_before, timeline_filter, timeline_for
from .wording import ACTIONS, KINDS, TABS, actions_of

__all__ = [
    "ACTIONS",
    "KINDS",
    "TABS",
    "Entry",
    "Timeline",
    "actions_of",
    "timeline_before",
    "timeline_filter",
    "timeline_for",
]
