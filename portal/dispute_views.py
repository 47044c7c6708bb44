"""Raising a question or dispute on the customer's page (services in portal.disputes), and
the staff download of what the customer attached."""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from accounts.roles import COLLECTOR, role_required
from invoices.models import Organisation
from letters.models import Document, DocumentKind

from . import disputes
from .exceptions import PortalError
from .forms import DisputeForm
from .views import public, public_form


@public_form
def dispute(request, link, token):
    invoices = disputes.disputable(link.customer)
    form = DisputeForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        invoices=invoices,
        initial={"invoices": [int(request.GET["invoice"])]}
        if request.GET.get("invoice", "").isdigit()
        else None,
    )
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            disputes.dispute_raise(
                link=link,
                invoices=data["chosen"],
                reason=data["reason"],
                amount=data["amount"],
                message=data["message"],
                uploads=data["attachments"],
                now=timezone.now(),
            )
        except PortalError as error:
            form.add_error(None, str(error))
        else:
            return redirect("portal:dispute_done", token)
    context = {
        "token": token,
        "customer": link.customer,
        "form": form,
        "invoices": invoices,
        "ticked": {str(v) for v in (form["invoices"].value() or ())},
        "can_raise": any(not i.under_review for i in invoices),
    }
    return render(request, "portal/dispute.html", context)


@public
def dispute_done(request, link, token):
    context = {
        "token": token,
        "contact": link.contact,
        "organisation": Organisation.current(),
        "disputes": disputes.under_review(link.customer),
    }
    return render(request, "portal/dispute_done.html", context)


@role_required(COLLECTOR)
@require_GET
def evidence(request, pk: int):
    # Anyone with a role may read any customer's records. A customer's upload is served as
    # a download that never runs in the browser, whatever it contains.
    document = get_object_or_404(Document, pk=pk, kind=DocumentKind.CUSTOMER_UPLOAD)
    response = HttpResponse(bytes(document.content), content_type=document.content_type)
    response["Content-Disposition"] = content_disposition_header(True, document.filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    return response


urlpatterns = [
    path("staff/evidence/<int:pk>/", evidence, name="evidence"),
    path("<str:token>/dispute/", dispute, name="dispute"),
    path("<str:token>/dispute/done/", dispute_done, name="dispute_done"),
]
