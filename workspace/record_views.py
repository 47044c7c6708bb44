"""Keeping the records a collector works from: a customer's details and their contacts.

The customer's details are a page of their own (they are many); a contact's form opens in
the customer page's action area, like the other actions. Every change goes through the
ledger's services, which audit it with before and after, and re-plans the customer's queue
row in the same transaction, so the queue shows it at once. Changing is for those who may
change the customer (accounts.roles); a new customer is for any collector, and theirs."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts.roles import ADMIN, COLLECTOR, has_role, role_required
from dunning.policy_services import customer_policy_set
from dunning.queue import queue_refresh
from invoices.models import Contact
from invoices.services import contact_create, contact_update, customer_create, customer_update
from letters.models import Document, DocumentKind
from letters.services import signed_terms_attach

from .customer_views import _action, _customer_to_change, _done, _posted
from .forms import ContactForm, CustomerForm


def _refused(form, error: ValidationError) -> None:
    # The service's own checks (the model's validation) reported on the form, in case a
    # value got past the form's.
    for field, problems in error.message_dict.items():
        form.add_error(field if field in form.fields else None, problems)


def _customer_form(request, customer=None) -> CustomerForm:
    return CustomerForm(
        _posted(request),
        request.FILES if request.method == "POST" else None,
        customer=customer,
        may_assign=has_role(request.user, ADMIN),
        today=timezone.localdate(),
    )


def _terms_attach(request, form, customer) -> bool:
    upload = form.cleaned_data.get("terms_document")
    if upload is None:
        return False
    filename, content = upload
    signed_terms_attach(actor=request.user, customer=customer, filename=filename, content=content)
    return True


def _signed_terms(customer):
    if customer is None:
        return None
    return (
        Document.objects.filter(customer=customer, kind=DocumentKind.SIGNED_TERMS)
        .only("pk", "filename", "created_at")
        .first()
    )


@role_required(COLLECTOR)
@require_http_methods(["GET", "POST"])
def customer_edit(request, pk: int):
    customer = _customer_to_change(request, pk)
    form = _customer_form(request, customer)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                changed = customer_update(actor=request.user, customer=customer, **form.values())
                if _terms_attach(request, form, customer):
                    changed = {**changed, "terms_document": True}
                if customer_policy_set(
                    actor=request.user, customer=customer, policy=form.cleaned_data["policy"]
                ):
                    changed = {**changed, "policy": True}
                if changed:
                    queue_refresh(customer_ids=[customer.pk])
        except ValidationError as error:
            _refused(form, error)
        else:
            if not changed:
                messages.info(request, "Nothing changed.")
            else:
                names = ", ".join(form.fields[n].label or n for n in changed if n in form.fields)
                messages.success(request, f"Saved: {names.lower()}.")
            return redirect("customer_detail", pk=customer.pk)
    context = {"form": form, "customer": customer, "signed_terms": _signed_terms(customer)}
    return render(request, "workspace/customer_edit.html", context)


@role_required(COLLECTOR)
@require_http_methods(["GET", "POST"])
def new_customer(request):
    form = _customer_form(request)
    if request.method == "POST" and form.is_valid():
        values = form.values()
        if not form.may_assign:
            # A collector's new customer is theirs to work.
            values["collector"] = request.user
        try:
            with transaction.atomic():
                customer = customer_create(actor=request.user, **values)
                _terms_attach(request, form, customer)
                customer_policy_set(
                    actor=request.user, customer=customer, policy=form.cleaned_data["policy"]
                )
                queue_refresh(customer_ids=[customer.pk])
        except ValidationError as error:
            _refused(form, error)
        else:
            messages.success(request, f"{customer.name} created. Add their contacts below.")
            return redirect("customer_detail", pk=customer.pk)
    return render(request, "workspace/customer_edit.html", {"form": form, "customer": None})


@role_required(COLLECTOR)
@require_http_methods(["GET", "POST"])
def customer_contact_add(request, pk: int):
    customer = _customer_to_change(request, pk)
    form = ContactForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                contact = contact_create(actor=request.user, customer=customer, **form.cleaned_data)
                queue_refresh(customer_ids=[customer.pk])
        except ValidationError as error:
            _refused(form, error)
        else:
            return _done(request, customer, f"Contact {contact} added.")
    return _action(request, customer, "workspace/_contact_form.html", {"form": form})


@role_required(COLLECTOR)
@require_http_methods(["GET", "POST"])
def contact_edit(request, pk: int):
    contact = get_object_or_404(Contact, pk=pk)
    customer = _customer_to_change(request, contact.customer_id)
    form = ContactForm(_posted(request), contact=contact)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                changed = contact_update(actor=request.user, contact=contact, **form.cleaned_data)
                if changed:
                    queue_refresh(customer_ids=[customer.pk])
        except ValidationError as error:
            _refused(form, error)
        else:
            if not changed:
                return _done(request, customer, "Nothing changed.", messages.INFO)
            text = f"Contact {form.cleaned_data['name'] or contact} changed."
            if "email" in changed and contact.email_bounced_at:
                text += " The bounce is cleared: mail will go to the new address."
            return _done(request, customer, text)
    context = {"form": form, "contact": contact}
    return _action(request, customer, "workspace/_contact_form.html", context)
