"""The collectors' screen for what customers asked for on their page: the list of requests
waiting for a decision, and one request with approve, decline (with a note) and counter
(another schedule for a plan, another date and amount for a promise)."""

import datetime as dt
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from accounts.roles import COLLECTOR, may_change, read_only_notice, role_required
from dunning.forms import DATE, amount_field
from dunning.selectors import PLAN_EVERY
from invoices.dates import format_day

from . import plans, request_services, selectors
from .exceptions import PortalError
from .models import CustomerRequest, RequestKind, RequestStatus


def _note(help_text: str) -> forms.CharField:
    return forms.CharField(
        label="Note to the customer",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=help_text,
    )


class DecisionForm(forms.Form):
    note = _note("Shown on their page and in the email. Needed to decline.")


class CounterForm(forms.Form):
    note = _note("Shown with your offer on their page and in the email.")


class PlanCounterForm(CounterForm):
    count = forms.IntegerField(label="Instalments", min_value=1, max_value=60)
    every = forms.ChoiceField(label="How often", choices=list(PLAN_EVERY.items()))
    first_date = forms.DateField(label="First instalment on", widget=DATE)

    def __init__(self, *args, today: dt.date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today

    def clean_first_date(self):
        day = self.cleaned_data["first_date"]
        if day <= self.today:
            raise forms.ValidationError(f"Choose a day after today ({format_day(self.today)}).")
        return day


class PromiseCounterForm(CounterForm):
    amount = amount_field(label="Amount")
    date = forms.DateField(label="To pay by", widget=DATE)

    def __init__(self, *args, today: dt.date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today

    def clean_date(self):
        day = self.cleaned_data["date"]
        if day < self.today:
            raise forms.ValidationError("Choose today or a later day.")
        return day


def _counter_form(asked: CustomerRequest, data=None):
    today = plans.customer_today(asked.customer, timezone.now())
    proposal = asked.proposal
    if asked.kind == RequestKind.PLAN:
        initial = {k: proposal.get(k) for k in ("count", "every", "first_date")}
        return PlanCounterForm(data, today=today, initial=initial, prefix="counter")
    if asked.kind == RequestKind.PROMISE:
        initial = {"amount": proposal.get("amount"), "date": proposal.get("promised_for")}
        return PromiseCounterForm(data, today=today, initial=initial, prefix="counter")
    return None


def _counter_offer(asked: CustomerRequest, form) -> dict:
    data = form.cleaned_data
    if asked.kind == RequestKind.PLAN:
        return plans.plan_offer(
            total=Decimal(asked.proposal["total"]),
            count=data["count"],
            first_date=data["first_date"],
            every=data["every"],
        )
    # The keys of a promise request's proposal (portal.promises).
    return {
        **asked.proposal,
        "amount": str(data["amount"]),
        "promised_for": data["date"].isoformat(),
    }


@role_required(COLLECTOR)
@require_GET
def requests_list(request):
    mine = request.GET.get("show") == "mine"
    context = {
        "waiting": selectors.requests_waiting(user=request.user, mine=mine),
        "mine": mine,
    }
    return render(request, "portal/staff_requests.html", context)


def _decide(request, asked: CustomerRequest, decision: str, decide_form, counter_form):
    """Run the decision the POST asks for; the message on success, None on a form error."""
    now = timezone.now()
    form = counter_form if decision == "counter" else decide_form
    if form is None or not form.is_valid():
        return None
    note = form.cleaned_data["note"]
    try:
        if decision == "approve":
            request_services.request_approve(actor=request.user, request=asked, now=now, note=note)
            return "approved"
        if decision == "decline":
            if not note.strip():
                decide_form.add_error("note", "Say why: the customer reads this note.")
                return None
            request_services.request_decline(actor=request.user, request=asked, now=now, note=note)
            return "declined"
        request_services.request_counter(
            actor=request.user,
            request=asked,
            counter=_counter_offer(asked, counter_form),
            now=now,
            note=note,
        )
        return "answered with your offer"
    except PortalError as error:
        # Shown above the page: the forms are gone when someone else decided it meanwhile.
        messages.error(request, str(error))
    return None


@role_required(COLLECTOR)
@require_http_methods(["GET", "POST"])
def request_detail(request, pk: int):
    asked = selectors.request_detail(pk)
    if asked is None:
        raise Http404("No such request.")
    posted = request.POST if request.method == "POST" else None
    decision = request.POST.get("decision", "")
    decide_form = DecisionForm(posted if decision in ("approve", "decline") else None)
    counter_form = _counter_form(asked, posted if decision == "counter" else None)
    if posted is not None:
        if decision not in ("approve", "decline", "counter"):
            messages.error(request, "Choose approve, decline or counter.")
        else:
            done = _decide(request, asked, decision, decide_form, counter_form)
            if done:
                messages.success(
                    request, f"{asked.get_kind_display()} request from {asked.customer} {done}."
                )
                return redirect(reverse("portal:requests"))
            asked = selectors.request_detail(pk)
    schedule = plans.schedule_of(asked.proposal.get("instalments", []))
    counter_schedule = plans.schedule_of((asked.counter or {}).get("instalments", []))
    context = {
        "asked": asked,
        "customer": asked.customer,
        "decide_form": decide_form,
        "counter_form": counter_form,
        "can_decide": asked.status == RequestStatus.PENDING
        and may_change(request.user, asked.customer),
        "read_only": read_only_notice(request.user, asked.customer),
        "proposal_words": request_services.offer_words(asked, asked.proposal),
        "counter_words": request_services.offer_words(asked, asked.counter)
        if asked.counter
        else "",
        "schedule": schedule,
        "proposal_total": sum((amount for _due, amount in schedule), Decimal("0")),
        "counter_schedule": counter_schedule,
        "counter_total": sum((amount for _due, amount in counter_schedule), Decimal("0")),
    }
    return render(request, "portal/staff_request.html", context)


urlpatterns = [
    path("staff/requests/", requests_list, name="requests"),
    path("staff/requests/<int:pk>/", request_detail, name="request_detail"),
]
