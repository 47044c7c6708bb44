"""The fixed list of events an endpoint may subscribe to, and the audit actions that make each.

Events are read from the audit trail rather than sent by the apps that cause them: the ledger
and the engine sit below this app and must not import it."""

from django.db import models

from dunning.models import Channel


class EventType(models.TextChoices):
    PAYMENT_RECEIVED = "payment.received", "Payment received"
    PROMISE_MADE = "promise.made", "Promise made"
    PROMISE_BROKEN = "promise.broken", "Promise broken"
    DISPUTE_OPENED = "dispute.opened", "Dispute opened"
    DISPUTE_RESOLVED = "dispute.resolved", "Dispute resolved"
    STEP_SENT = "step.sent", "Dunning step sent"
    REFERRAL_APPROVED = "referral.approved", "Referral approved"
    WRITE_OFF_APPROVED = "write_off.approved", "Write-off approved"
    CREDIT_HOLD_CHANGED = "credit_hold.changed", "Credit hold changed"
    REPLY_RECEIVED = "reply.received", "Reply received"


SENT_CHANNELS = (Channel.EMAIL, Channel.LETTER)

# A payment taken online is recorded by the portal (its ledger write is not audited twice),
# so both actions mean "payment received". A step is sent when its email or letter goes out.
ACTIONS = {
    "ledger.payment.recorded": EventType.PAYMENT_RECEIVED,
    "portal.payment.received": EventType.PAYMENT_RECEIVED,
    "dunning.promise.recorded": EventType.PROMISE_MADE,
    "dunning.promise.broken": EventType.PROMISE_BROKEN,
    "ledger.dispute.opened": EventType.DISPUTE_OPENED,
    "ledger.dispute.resolved": EventType.DISPUTE_RESOLVED,
    **{f"dunning.{channel}.sent": EventType.STEP_SENT for channel in SENT_CHANNELS},
    "dunning.referral.approved": EventType.REFERRAL_APPROVED,
    "ledger.write_off.approved": EventType.WRITE_OFF_APPROVED,
    "customer.credit_hold.set": EventType.CREDIT_HOLD_CHANGED,
    "customer.credit_hold.released": EventType.CREDIT_HOLD_CHANGED,
    "inbox.reply.received": EventType.REPLY_RECEIVED,
}
