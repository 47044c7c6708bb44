"""Promising a date to pay on the customer's page (services in portal.promises)."""

from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone

from invoices.models import Organisation

from . import promises
from .exceptions import PortalError
from .forms import PromiseForm
from .models import CustomerRequest
from .views import public, public_form, today_of


@public_form
def promise(request, link, token):
    customer = link.customer
    today = today_of(link)
    limits = promises.promise_limits(customer, today=today)
    refusal = promises.promise_refusal(customer)
    form = PromiseForm(
        request.POST if request.method == "POST" else None,
        today=today,
        initial={"amount": limits.overdue_total or limits.open_total, "promised_for": today},
    )
    if form.is_bound and not refusal and form.is_valid():
        data = form.cleaned_data
        try:
            made = promises.promise_make(
                link=link,
                amount=data["amount"],
                promised_for=data["promised_for"],
                message=data["message"],
                now=timezone.now(),
            )
        except PortalError as error:
            form.add_error(None, str(error))
        else:
            made_kind = "request" if isinstance(made, CustomerRequest) else "promise"
            return redirect(reverse("portal:promise_done", args=[token]) + f"?made={made_kind}")
    context = {
        "token": token,
        "customer": customer,
        "form": form,
        "limits": limits,
        "refusal": refusal,
        "organisation": Organisation.current(),
    }
    return render(request, "portal/promise.html", context)


@public
def promise_done(request, link, token):
    customer = link.customer
    asked = promises.latest_request(customer) if request.GET.get("made") == "request" else None
    context = {
        "token": token,
        "customer": customer,
        "contact": link.contact,
        "organisation": Organisation.current(),
        "asked": promises.offer_of(asked.proposal) if asked else None,
        "promise": None if asked else promises.latest_promise(customer),
    }
    return render(request, "portal/promise_done.html", context)


urlpatterns = [
    path("<str:token>/promise/", promise, name="promise"),
    path("<str:token>/promise/done/", promise_done, name="promise_done"),
]
