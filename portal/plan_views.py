"""The customer asks for a payment plan on their page, with the schedule shown live as they
change it (htmx asks `plan_schedule` for the partial; without JavaScript the "Show the
schedule" button does the same), and accepts a collector's counter-offer."""

import datetime as dt
from decimal import Decimal

from django import forms
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone

from dunning.forms import DATE
from dunning.selectors import PLAN_EVERY, plan_schedule
from invoices.dates import format_day

from . import plans, request_services
from .exceptions import PortalError
from .models import CustomerRequest, RequestStatus
from .views import public, public_form, today_of


class PlanRequestForm(forms.Form):
    count = forms.IntegerField(
        label="Number of instalments",
        min_value=plans.FEWEST,
        max_value=plans.MOST,
        help_text=f"Between {plans.FEWEST} and {plans.MOST}.",
    )
    every = forms.ChoiceField(label="How often", choices=list(PLAN_EVERY.items()))
    first_date = forms.DateField(label="First payment on", widget=DATE)
    message = forms.CharField(
        label="Anything you would like us to know (optional)",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, today: dt.date, total, **kwargs):
        super().__init__(*args, **kwargs)
        self.today, self.total = today, total
        self.earliest, self.latest = plans.first_date_range(today)
        self.fields["first_date"].widget.attrs.update(
            min=self.earliest.isoformat(), max=self.latest.isoformat()
        )
        self.fields[
            "first_date"
        ].help_text = f"From {format_day(self.earliest)} to {format_day(self.latest)}."

    def clean_first_date(self):
        day = self.cleaned_data["first_date"]
        if not self.earliest <= day <= self.latest:
            raise forms.ValidationError(
                f"Choose a day from {format_day(self.earliest)} to {format_day(self.latest)}."
            )
        return day

    def schedule(self) -> plans.Schedule | None:
        if not self.is_valid():
            return None
        data = self.cleaned_data
        if self.total < Decimal("0.01") * data["count"]:
            return None
        return plan_schedule(
            total=self.total,
            count=data["count"],
            first_date=data["first_date"],
            every=data["every"],
        )


def _form(link, data=None) -> PlanRequestForm:
    today = today_of(link)
    earliest, _latest = plans.first_date_range(today)
    return PlanRequestForm(
        data,
        today=today,
        total=plans.plan_total(link.customer, today=today),
        initial={"count": 3, "every": "month", "first_date": earliest},
    )


def _initial_schedule(form: PlanRequestForm):
    return PlanRequestForm(form.initial, today=form.today, total=form.total).schedule()


@public_form
def plan_request(request, link, token):
    """GET: the form with the schedule for its first values. POST without `send`: the
    schedule for the values given (no JavaScript); with `send`: ask for the plan."""
    refusal = plans.plan_refusal(link.customer)
    form = _form(link, request.POST if request.method == "POST" else None)
    schedule = form.schedule() if form.is_bound else _initial_schedule(form)
    if request.method == "POST" and "send" in request.POST and not refusal and schedule:
        data = form.cleaned_data
        try:
            plans.plan_request_make(
                link=link,
                count=data["count"],
                first_date=data["first_date"],
                every=data["every"],
                message=data["message"],
                now=timezone.now(),
            )
        except PortalError as error:
            form.add_error(None, str(error))
        else:
            return redirect(reverse("portal:page", args=[token]) + "?asked=plan#requests-title")
    context = {
        "customer": link.customer,
        "token": token,
        "form": form,
        "schedule": schedule,
        "refusal": refusal,
        "total": form.total,
    }
    return render(request, "portal/plan.html", context)


@public
def plan_request_schedule(request, link, token):
    """The schedule partial for the form's current values (htmx)."""
    form = _form(link, request.GET)
    context = {
        "customer": link.customer,
        "form": form,
        "schedule": form.schedule(),
        "total": form.total,
    }
    return render(request, "portal/_plan_schedule.html", context)


@public_form
def request_accept(request, link, token, pk: int):
    """GET: the collector's offer, to read before accepting; POST: accept it."""
    offer = (
        CustomerRequest.objects.filter(
            pk=pk, customer_id=link.customer_id, status=RequestStatus.COUNTERED
        )
        .select_related("customer", "contact")
        .first()
    )
    if offer is None:
        return None
    error = ""
    if request.method == "POST":
        try:
            request_services.request_counter_accept(link=link, request=offer, now=timezone.now())
        except PortalError as refusal:
            error = str(refusal)
        else:
            return redirect(reverse("portal:page", args=[token]) + "?accepted=1#requests-title")
    schedule = plans.schedule_of((offer.counter or {}).get("instalments", []))
    context = {
        "customer": link.customer,
        "token": token,
        "offer": offer,
        "schedule": schedule,
        "total": sum((amount for _due, amount in schedule), Decimal("0")),
        "words": request_services.offer_words(offer, offer.counter or {}),
        "error": error,
    }
    return render(request, "portal/plan_accept.html", context)


urlpatterns = [
    path("<str:token>/plan/", plan_request, name="plan_request"),
    path("<str:token>/plan/schedule/", plan_request_schedule, name="plan_request_schedule"),
    path("<str:token>/requests/<int:pk>/accept/", request_accept, name="request_accept"),
]
