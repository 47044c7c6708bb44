"""Making, revoking and resolving links to the customer's page."""

import base64
import datetime as dt
import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.urls import reverse

from audit.services import audit_record
from invoices.models import Contact, Customer

from .models import PortalLink


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_days() -> int:
    return settings.PORTAL_LINK_DAYS


def portal_url_of(token: str) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("portal:page", args=[token])


@transaction.atomic
def portal_link_make(
    *, customer: Customer, contact: Contact, actor=None, now: dt.datetime
) -> tuple[PortalLink, str]:
    """A new link to the customer's page for this contact; returns it and its absolute URL
    (the only time the raw token is known)."""
    if contact.customer_id != customer.pk:
        raise ValueError("The contact is not the customer's.")
    token = secrets.token_urlsafe(32) if actor else _system_token(contact.pk, now)
    link = PortalLink.objects.create(
        customer=customer,
        contact=contact,
        token_hash=token_hash(token),
        created_at=now,
        created_by=actor,
        expires_at=now + dt.timedelta(days=link_days()),
    )
    audit_record(
        action="portal.link.made",
        actor=actor,
        customer_id=customer.pk,
        summary=f"Customer page link made for {contact}",
        data={"contact_id": contact.pk, "link_id": link.pk, "days": link_days()},
    )
    return link, portal_url_of(token)


@transaction.atomic
def portal_link_revoke(*, actor, link: PortalLink, now: dt.datetime) -> bool:
    """Revoke a live link; False when it was already revoked."""
    changed = PortalLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(
        revoked_at=now, revoked_by=actor
    )
    if changed:
        audit_record(
            action="portal.link.revoked",
            actor=actor,
            customer_id=link.customer_id,
            summary="Customer page link revoked",
            data={"contact_id": link.contact_id, "link_id": link.pk},
        )
    return bool(changed)


def portal_links_revoke(*, actor, contact: Contact, now: dt.datetime) -> int:
    """Revoke every link of this contact still unrevoked; returns how many."""
    links = PortalLink.objects.filter(contact=contact, revoked_at__isnull=True, expires_at__gt=now)
    return sum(portal_link_revoke(actor=actor, link=link, now=now) for link in links)


def portal_link_resolve(token: str, *, now: dt.datetime) -> PortalLink | None:
    """The live link of this token, its use recorded; None for an unknown, expired or
    revoked one (the caller answers all three alike)."""
    if not token or len(token) > 100:
        return None
    wanted = token_hash(token)
    link = (
        PortalLink.objects.filter(token_hash=wanted).select_related("customer", "contact").first()
    )
    # The lookup is by an index; the constant-time compare guards the final decision.
    if link is None or not hmac.compare_digest(link.token_hash, wanted) or not link.live(now):
        return None
    PortalLink.objects.filter(pk=link.pk).update(last_used_at=now, uses=F("uses") + 1)
    return link


def portal_url_for_message(*, contact: Contact | None, now: dt.datetime) -> str:
    """The customer page URL a message to this contact carries: the contact's newest live
    system link while it has more than half its life left, else a new one."""
    if contact is None:
        return ""
    half = dt.timedelta(days=link_days()) / 2
    link = (
        PortalLink.objects.filter(
            contact=contact,
            created_by__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=now + half,
        )
        .order_by("-created_at")
        .first()
    )
    if link is not None:
        token = _system_token(contact.pk, link.created_at)
        # A changed SECRET_KEY makes the old token unknown: then a new link is made.
        if hmac.compare_digest(token_hash(token), link.token_hash):
            return portal_url_of(token)
    _link, url = portal_link_make(customer=contact.customer, contact=contact, now=now)
    return url


def _system_token(contact_id: int, created_at: dt.datetime) -> str:
    # A system link's token is derived from SECRET_KEY so that later messages can carry it
    # again (only its hash is stored, and a copy of the database alone opens nothing).
    mac = hmac.new(
        settings.SECRET_KEY.encode(),
        f"dunmore.portal:{contact_id}:{created_at.isoformat()}".encode(),
        hashlib.sha256,
    ).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")
