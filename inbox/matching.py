"""Which customer a reply is from, in order of certainty: the reply token in the address we
gave them (or in our header), then the message of ours it answers, then the sender's address
when exactly one customer has it."""

import re
from dataclasses import dataclass

from dunning.models import Touch
from dunning.reply_tokens import HEADER, customer_id_from_address, customer_id_from_token
from invoices.models import Contact, Customer

from .models import MatchedBy
from .parsing import Mail

# Touch.message_id is "<ref@domain>": the ref is 32 hex digits.
_OUR_REF = re.compile(r"<([0-9a-f]{32})@[^<>@\s]+>", re.IGNORECASE)


@dataclass
class Match:
    customer_id: int | None = None
    contact_id: int | None = None
    matched_by: str = ""
    touch_id: int | None = None


def _by_token(mail: Mail) -> int | None:
    # The address first; then our X-Dunmore-Reply header, which mail that carries our
    # message's headers back (a forward as attachment, some auto-replies) still holds.
    candidates = [customer_id_from_address(address) for address in mail.to_addresses]
    candidates.append(customer_id_from_token(mail.headers.get(HEADER.lower(), "")))
    for customer_id in candidates:
        if customer_id is not None and Customer.objects.filter(pk=customer_id).exists():
            return customer_id
    return None


def _by_thread(mail: Mail) -> Touch | None:
    refs = [ref.lower() for ref in _OUR_REF.findall(f"{mail.in_reply_to} {mail.references}")]
    if not refs:
        return None
    touches = {t.ref: t for t in Touch.objects.filter(ref__in=refs).only("pk", "customer_id")}
    # In-Reply-To first, then References from the newest (the last) back.
    for ref in [*refs[:1], *reversed(refs[1:])]:
        if ref in touches:
            return touches[ref]
    return None


def _contact(customer_id: int, address: str) -> int | None:
    if not address:
        return None
    return (
        Contact.objects.filter(customer_id=customer_id, email__iexact=address)
        .values_list("pk", flat=True)
        .first()
    )


def match_mail(mail: Mail) -> Match:
    customer_id = _by_token(mail)
    if customer_id is not None:
        return Match(customer_id, _contact(customer_id, mail.from_address), MatchedBy.TOKEN)
    touch = _by_thread(mail)
    if touch is not None:
        contact_id = _contact(touch.customer_id, mail.from_address)
        return Match(touch.customer_id, contact_id, MatchedBy.THREAD, touch.pk)
    if mail.from_address:
        rows = list(
            Contact.objects.filter(email__iexact=mail.from_address).values_list("pk", "customer_id")
        )
        if len({customer_id for _, customer_id in rows}) == 1:
            contact_id, customer_id = rows[0]
            return Match(customer_id, contact_id, MatchedBy.SENDER)
    return Match()
