"""The contact's own details on the customer's page: confirm or correct them, and stop
collection email where the customer has that right (services in portal.contacts)."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone

from . import contacts
from .exceptions import PortalError
from .forms import ContactCorrectionForm
from .views import public_form


def _back(name: str, token: str):
    return redirect(reverse(f"portal:{name}", args=[token]))


@public_form
def contact(request, link, token):
    if request.method == "POST" and request.POST.get("action") == "confirm":
        contacts.contact_confirm(link=link, now=timezone.now())
        messages.success(request, "Thank you: you confirmed your details. We have emailed you.")
        return _back("contact", token)
    form = ContactCorrectionForm(
        request.POST if request.method == "POST" else None, contact=link.contact
    )
    if form.is_bound and form.is_valid():
        try:
            contacts.contact_change_request(
                link=link,
                values=form.details(),
                message=form.cleaned_data["message"],
                now=timezone.now(),
            )
        except PortalError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                "Thank you: we will check your corrected details and make the change. "
                "We have emailed you.",
            )
            return _back("contact", token)
    waiting = contacts.contact_requests_waiting(link.contact)
    for waiting_request in waiting:
        waiting_request.changes = contacts.labelled(waiting_request.proposal)
    context = {
        "token": token,
        "form": form,
        "held": contacts.labelled(contacts.contact_details(link.contact)),
        "waiting": waiting,
        "opt_out_right": contacts.opt_out_right(link.customer),
    }
    return render(request, "portal/contact.html", context)


@public_form
def opt_out(request, link, token):
    right = contacts.opt_out_right(link.customer)
    if not right:
        return None  # not offered: the same plain 404 as any page that is not there
    error = ""
    if request.method == "POST":
        try:
            contacts.contact_opt_out(link=link, now=timezone.now())
        except PortalError as refusal:
            error = str(refusal)
        else:
            messages.success(request, "Done: we will not send you collection emails any more.")
            return _back("opt_out", token)
    context = {
        "token": token,
        "customer": link.customer,
        "right": right,
        "done": contacts.email_opted_out(link.customer),
        "error": error,
    }
    return render(request, "portal/opt_out.html", context)


urlpatterns = [
    path("<str:token>/contact/", contact, name="contact"),
    path("<str:token>/opt-out/", opt_out, name="opt_out"),
]
