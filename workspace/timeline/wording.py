"""The one table of the timeline's wording: for every action name the services write, the
filter it falls under, its badge, its sentence and, for loads, how a batch reads as one
entry. A new action without a row here fails workspace/tests/test_timeline.py."""

from collections.abc import Callable
from dataclasses import dataclass

from audit.models import AuditEvent

from . import sentences as say
from .sentences import Facts, Said

# The filters: key -> (tab label, badge colour). "other" is whatever no other claims.
KINDS = {
    "messages": ("Messages & letters", "open"),
    "calls": ("Calls", "paid"),
    "notes": ("Notes", "warn"),
    "payments": ("Payments & credits", "paid"),
    "disputes": ("Disputes", "dispute"),
    "promises": ("Promises & plans", "warn"),
    "decisions": ("Decisions", "danger"),
    "other": ("Other", ""),
}
TABS = [("all", "All"), *((key, label) for key, (label, _) in KINDS.items())]


# --- the table --------------------------------------------------------------------------------

Say = Callable[[AuditEvent, Facts], Said]
SayMany = Callable[[list[AuditEvent], int, Facts], Said]


@dataclass(frozen=True)
class Wording:
    kind: str
    badge: str
    say: Say
    # How a batch of these reads as one entry; `grouping` says which batches: "load" (one
    # import batch, else one actor's events within a minute) or "import" (one import batch).
    say_many: SayMany | None = None
    grouping: str = ""
    # Actions a service writes just before this one, in the same change, saying the same
    # thing: folded into this entry (their records listed under it) rather than repeated.
    absorbs: tuple[str, ...] = ()


def W(
    kind: str,
    badge: str,
    words: Say,
    many: SayMany | None = None,
    grouping: str = "",
    *,
    absorbs=(),
):
    """A row of the table, short enough to read as one."""
    return Wording(kind, badge, words, many, grouping, tuple(absorbs))


HOLD_FIELDS_CHANGED = ["ledger.customer.updated"]
PLANNED = ["dunning.touch.planned"]

ACTIONS: dict[str, Wording] = {
    # messages and letters
    # A message sent in the run that planned it: the plan is the first step of the sending.
    "dunning.email.sent": W("messages", "Email", say.sent, absorbs=PLANNED),
    "dunning.letter.sent": W("messages", "Letter", say.sent, absorbs=PLANNED),
    "dunning.touch.sent": W("messages", "Message", say.sent),
    "dunning.email.failed": W("messages", "Email", say.not_sent),
    "dunning.letter.failed": W("messages", "Letter", say.not_sent),
    "dunning.email.delivered": W("messages", "Email", say.delivery("delivered", "paid")),
    "dunning.email.bounced": W("messages", "Email", say.delivery("bounced", "danger")),
    "dunning.email.complained": W("messages", "Email", say.delivery("marked as spam", "danger")),
    "dunning.touch.planned": W("messages", "Message", say.planned),
    "dunning.touch.skipped": W("messages", "Message", say.planned),
    "dunning.touch.cancelled": W(
        "messages", "Message", say.touch_line("{step} cancelled", reason_key="reason")
    ),
    "dunning.touch.sent_now": W("messages", "Message", say.sent_now),
    "dunning.touch.claim_released": W(
        "messages",
        "Message",
        say.touch_line("{step}: sending stopped before it went; the next run sends it"),
    ),
    "dunning.touch.outcome_unknown": W(
        "messages",
        "Message",
        say.touch_line("not known whether the {step} went out: a collector checks", tone="warn"),
    ),
    "dunning.touch.settled_sent": W(
        "messages", "Message", say.touch_line("{who} confirmed the {step} went out")
    ),
    "dunning.touch.settled_again": W(
        "messages", "Message", say.touch_line("{who} chose to send the {step} again")
    ),
    "dunning.touch.settled_skip": W(
        "messages", "Message", say.touch_line("{who} skipped the {step}; chasing moves on")
    ),
    "dunning.touch.settled_by_event": W(
        "messages",
        "Message",
        say.touch_line("the mail service settled whether the {step} went out"),
    ),
    "dunning.check_task.created": W("messages", "Task", say.task),
    "letters.letter.printed": W("messages", "Letter", say.printed),
    "ledger.contact.bounced": W("messages", "Email", say.bounced),
    "ledger.contact.complained": W("messages", "Email", say.opted_out_address),
    "ledger.contact.unsubscribed": W("messages", "Email", say.opted_out_address),
    "dunning.opt_out": W("messages", "Opt-out", say.opted_out),
    "inbox.reply.received": W("messages", "Reply", say.reply_received),
    "inbox.reply.assigned": W("messages", "Reply", say.reply_assigned),
    "inbox.reply.handled": W("messages", "Reply", say.reply_handled),
    "inbox.contact.stopped": W("messages", "Opt-out", say.reply_stop),
    "portal.link.made": W("messages", "Link", say.portal_link_made),
    "portal.link.revoked": W("messages", "Link", say.portal_link_revoked),
    # requests from the customer's page and their decisions (portal.request_services)
    "portal.request.plan.made": W("promises", "Request", say.customer_request),
    "portal.request.promise.made": W("promises", "Request", say.customer_request),
    # the contact's own details (portal.contacts); opting out is dunning.opt_out
    "portal.request.contact.made": W("other", "Request", say.customer_request),
    "portal.contact.confirmed": W("other", "Contact", say.customer_request),
    "portal.request.approved": W("promises", "Request", say.customer_request),
    "portal.request.declined": W("promises", "Request", say.customer_request),
    "portal.request.countered": W("promises", "Request", say.customer_request),
    "portal.request.accepted": W("promises", "Request", say.customer_request),
    # calls
    "dunning.call.logged": W("calls", "Call", say.call),
    "dunning.phone_task.created": W("calls", "Call", say.phone_task),
    # notes
    "ledger.note.added": W("notes", "Note", say.note),
    # payments and credits
    "ledger.payment.recorded": W(
        "payments", "Payment", say.payment, say.payments_imported, "import"
    ),
    "ledger.payment.allocated": W("payments", "Payment", say.allocated),
    # paid by the customer on their page (portal.payments)
    "portal.payment.started": W("payments", "Pay now", say.online_payment_started),
    "portal.payment.received": W("payments", "Payment", say.online_payment),
    "ledger.payment.reversed": W("payments", "Reversed", say.summary),
    "ledger.credit_note.issued": W("payments", "Credit", say.credit),
    "ledger.invoice.written_off": W("payments", "Write-off", say.written_off),
    # disputes
    "ledger.dispute.opened": W("disputes", "Dispute", say.dispute_opened),
    "dunning.check.answered": W("disputes", "Check", say.check_answered),
    "ledger.dispute.resolved": W("disputes", "Dispute", say.dispute_resolved),
    # promises and plans
    "dunning.promise.recorded": W("promises", "Promise", say.promise),
    "dunning.promise.cancelled": W(
        "promises",
        "Promise",
        say.plain("Promise to pay cancelled; chasing resumes", note_key="note"),
    ),
    "dunning.promise.kept": W("promises", "Promise", say.promise_settled),
    "dunning.promise.broken": W("promises", "Promise", say.promise_settled),
    "dunning.plan.created": W("promises", "Plan", say.plan),
    "dunning.plan.cancelled": W(
        "promises", "Plan", say.plain("Payment plan cancelled; chasing resumes", note_key="note")
    ),
    "dunning.plan.completed": W("promises", "Plan", say.plan_ended),
    "dunning.plan.broken": W("promises", "Plan", say.plan_ended),
    # decisions: referrals, write-offs, holds, the policy
    # A hold is set and released through the customer's details (ledger.customer.updated).
    "dunning.hold.set": W("decisions", "Hold", say.hold, absorbs=HOLD_FIELDS_CHANGED),
    "dunning.hold.released": W(
        "decisions",
        "Hold",
        say.plain("Hold released; chasing resumes"),
        absorbs=HOLD_FIELDS_CHANGED,
    ),
    "dunning.acknowledgement.recorded": W(
        "decisions",
        "Acknowledgement",
        say.plain("Written acknowledgement of the debt recorded", note_key="note"),
    ),
    "dunning.documents.requested": W(
        "decisions",
        "Documents",
        say.plain("They replied asking for documents", note_key="note"),
    ),
    "dunning.referral.created": W("decisions", "Referral", say.referral_proposed),
    "dunning.referral.approved": W("decisions", "Referral", say.referral_approved),
    "dunning.referral.declined": W("decisions", "Referral", say.referral_declined),
    "ledger.write_off.proposed": W(
        "decisions", "Write-off", say.write_off("proposed", amount_key="amount", note_key="reason")
    ),
    # Approving writes the invoice off (ledger.invoice.written_off) first.
    "ledger.write_off.approved": W(
        "decisions",
        "Write-off",
        say.write_off("approved", amount_key="written_off", note_key="note"),
        absorbs=["ledger.invoice.written_off"],
    ),
    "ledger.write_off.declined": W(
        "decisions", "Write-off", say.write_off("declined", note_key="note")
    ),
    "ledger.write_off.withdrawn": W("decisions", "Write-off", say.write_off("withdrawn")),
    "dunning.policy.assigned": W("decisions", "Policy", say.summary),
    # The credit-hold rule (dunning.credit_hold); a person's hold is a customer change.
    "customer.credit_hold.set": W(
        "decisions", "Credit hold", say.plain("Put on credit hold by the rule", note_key="reason")
    ),
    "customer.credit_hold.released": W(
        "decisions",
        "Credit hold",
        say.plain("Credit hold lifted by the rule", note_key="reason"),
    ),
    # the rest of the customer's record
    "ledger.customer.created": W("other", "Customer", say.customer_created),
    "ledger.customer.updated": W("other", "Customer", say.customer_changed),
    "ledger.customer.terms_attached": W("other", "Customer", say.terms_attached),
    "ledger.contact.created": W("other", "Contact", say.contact_saved),
    "ledger.contact.updated": W("other", "Contact", say.contact_saved),
    "ledger.contact.bounce_cleared": W("other", "Contact", say.summary),
    "ledger.invoice.created": W(
        "other", "Invoices", say.invoice_created, say.invoices_loaded, "load"
    ),
    "ledger.invoice.updated": W(
        "other", "Invoice", say.invoice_changed, say.invoices_changed, "import"
    ),
    "ledger.invoice.copy_attached": W("other", "Invoice", say.summary),
    "dunning.task.created": W("other", "Task", say.task),
    "dunning.task.completed": W("other", "Task", say.summary),
    "dunning.fix_contact_task.created": W("other", "Task", say.task),
    "dunning.chase.moved": W("other", "Chasing", say.chase_moved),
    "dunning.chase.moved_to_step": W("other", "Chasing", say.chase_moved_to_step),
    "dunning.chase.closed": W("other", "Chasing", say.summary),
    # never about one customer: the organisation, its people, its templates and loads
    **{
        name: W("other", "Event", say.summary)
        for name in (
            "accounts.user.created",
            "accounts.user.role_changed",
            "accounts.user.deactivated",
            "accounts.user.reactivated",
            "accounts.login.failed",
            "accounts.login.locked",
            "accounts.login.unlocked",
            "api.token.created",
            "api.token.revoked",
            "settings.organisation.updated",
            "letters.template.saved",
            "letters.template.translated",
            "letters.settings.updated",
            "letters.reference_rate.set",
            "dunning.policy.created",
            "dunning.policy.versioned",
            "dunning.policy.default_set",
            "dunning.policy.interest_set",
            "dunning.policy.barred_debts_set",
            "dunning.policy.repeat_set",
            "dunning.policy_rule.saved",
            "dunning.policy_rule.deleted",
            "dunning.settings.updated",
            "import.customers.applied",
            "import.invoices.applied",
            "import.payments.applied",
            "seed.demo.loaded",
            "seed.scale.loaded",
            "webhooks.endpoint.created",
            "webhooks.endpoint.updated",
            "webhooks.endpoint.secret_rotated",
            "webhooks.endpoint.enabled",
            "webhooks.endpoint.disabled",
            "webhooks.delivery.replayed",
        )
    },
}
UNKNOWN = W("other", "Event", say.summary)


def actions_of(kind: str) -> list[str]:
    return [name for name, wording in ACTIONS.items() if wording.kind == kind]
