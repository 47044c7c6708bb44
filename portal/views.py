"""The customer's page, reached by a link made for one contact (no login: the token in the
link is the proof), and the staff actions that make and revoke those links.

Every public URL answers the same plain 404 (same body, same status) for an unknown, forged,
expired or revoked token and for another customer's invoice or document, so a visitor learns
nothing from probing."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.roles import COLLECTOR, require_change, role_required
from invoices.models import Contact
from letters.documents import statement_pdf

from . import selectors, services
from .ratelimit import limited

PRIVATE_HEADERS = {
    "X-Robots-Tag": "noindex",
    # The address holds the token: it goes to no other site. Not "no-referrer": Chromium
    # then posts forms with "Origin: null", which the CSRF check refuses.
    "Referrer-Policy": "same-origin",
    "Cache-Control": "private, no-store",
}


def _private(response: HttpResponse) -> HttpResponse:
    for name, value in PRIVATE_HEADERS.items():
        response[name] = value
    return response


def not_found() -> HttpResponse:
    return _private(HttpResponse(render_to_string("portal/not_found.html"), status=404))


def _too_many() -> HttpResponse:
    response = _private(HttpResponse(render_to_string("portal/too_many.html"), status=429))
    response["Retry-After"] = "60"
    return response


def _public(view, method_check):
    @login_not_required
    @method_check
    def wrapped(request, token: str, *args, **kwargs):
        if limited(request, token):
            return _too_many()
        link = services.portal_link_resolve(token, now=timezone.now())
        if link is None:
            return not_found()
        response = view(request, link, token, *args, **kwargs)
        return _private(response) if response is not None else not_found()

    return wrapped


def public(view):
    """Rate-limit, resolve the token and pass the live link on; the one 404 otherwise. The
    view gets (request, link, token, ...) and returns None for the one 404 too."""
    return _public(view, require_GET)


def public_form(view):
    """As `public`, for a page with a form: GET shows it, POST (CSRF-checked) acts."""
    return _public(view, require_http_methods(["GET", "POST"]))


def today_of(link) -> dt.date:
    # The customer's own date, as their messages show it.
    return timezone.localdate(timezone=ZoneInfo(link.customer.timezone))


def _pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(bytes(content), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@public
def page(request, link, token):
    today = today_of(link)
    context = selectors.customer_page(link.customer, today=today, pages=request.GET)
    context.update(customer=link.customer, contact=link.contact, token=token, today=today)
    return render(request, "portal/page.html", context)


@public
def invoice_copy(request, link, token, pk: int):
    document = selectors.invoice_copy(link.customer, pk)
    return _pdf(document.content, document.filename) if document else None


@public
def letter(request, link, token, pk: int):
    document = selectors.letter(link.customer, pk)
    return _pdf(document.content, document.filename) if document else None


@public
def statement(request, link, token):
    today = today_of(link)
    pdf = statement_pdf(link.customer, today=today)
    return _pdf(pdf, f"statement-{link.customer.external_id}-{today}.pdf")


# --- staff ------------------------------------------------------------------------------------


def _contact_to_change(request, pk: int) -> Contact:
    contact = get_object_or_404(Contact.objects.select_related("customer"), pk=pk)
    require_change(request.user, contact.customer)
    return contact


def _back(contact: Contact):
    return redirect(reverse("customer_detail", args=[contact.customer_id]) + "#contacts-title")


@role_required(COLLECTOR)
@require_POST
def link_make(request, pk: int):
    contact = _contact_to_change(request, pk)
    _link, url = services.portal_link_make(
        customer=contact.customer, contact=contact, actor=request.user, now=timezone.now()
    )
    # Shown once: only the token's hash is kept.
    messages.success(
        request,
        f"Customer page link for {contact} (copy it now, it is shown only once): {url}",
    )
    return _back(contact)


@role_required(COLLECTOR)
@require_POST
def links_revoke(request, pk: int):
    contact = _contact_to_change(request, pk)
    count = services.portal_links_revoke(actor=request.user, contact=contact, now=timezone.now())
    messages.success(request, f"{count} customer page link{'s' if count != 1 else ''} revoked.")
    return _back(contact)
