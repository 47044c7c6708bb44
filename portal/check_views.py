"""The satisfaction check on the customer's page: one page per invoice with both answers,
and one page per answer. GET only shows a confirm button and POST records: mail scanners
follow every link in a message, and a click they make must never answer for anyone."""

from django import forms
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone

from dunning.checks import DETAIL_MAX
from dunning.exceptions import DunningError
from dunning.models import CheckAnswer
from invoices.exceptions import DisputeError
from invoices.models import DisputeReason

from . import checks
from .views import public, public_form, today_of


class ProblemForm(forms.Form):
    reason = forms.ChoiceField(
        label="What is the problem?",
        choices=[("", "Choose one"), *DisputeReason.choices],
        error_messages={"required": "Choose what the problem is."},
    )
    detail = forms.CharField(
        label="Tell us more (optional)",
        required=False,
        max_length=DETAIL_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


def _page(link, pk: int):
    return checks.check_page(link.customer, pk, today=today_of(link))


def _context(link, token, check, **more) -> dict:
    return {"customer": link.customer, "token": token, "check": check, **more}


def _done(token: str, pk: int):
    return redirect(reverse("portal:check", args=[token, pk]) + "?answered=1")


@public
def check(request, link, token, pk: int):
    page = _page(link, pk)
    if page is None:
        return None
    answered = request.GET.get("answered") == "1"
    return render(request, "portal/check.html", _context(link, token, page, answered=answered))


def _record(request, link, token, page, answer: str, **fields):
    """Record an answer; the error for the page, or None once recorded."""
    try:
        checks.check_answer(
            link=link, invoice=page.invoice, answer=answer, now=timezone.now(), **fields
        )
    except (DunningError, DisputeError) as error:
        return str(error)
    return None


@public_form
def check_in_order(request, link, token, pk: int):
    page = _page(link, pk)
    if page is None:
        return None
    error = ""
    if request.method == "POST" and page.open:
        error = _record(request, link, token, page, CheckAnswer.ALL_IN_ORDER)
        if not error:
            return _done(token, pk)
    elif request.method == "POST":
        return _done(token, pk)  # answered meanwhile: its page says what was answered
    context = _context(link, token, page, error=error)
    return render(request, "portal/check_in_order.html", context)


@public_form
def check_problem(request, link, token, pk: int):
    page = _page(link, pk)
    if page is None:
        return None
    if request.method == "POST" and not page.open:
        return _done(token, pk)
    form = ProblemForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        error = _record(
            request,
            link,
            token,
            page,
            CheckAnswer.PROBLEM,
            reason=form.cleaned_data["reason"],
            detail=form.cleaned_data["detail"],
        )
        if not error:
            return _done(token, pk)
        form.add_error(None, error)
    return render(request, "portal/check_problem.html", _context(link, token, page, form=form))


urlpatterns = [
    path("<str:token>/check/<int:pk>/", check, name="check"),
    path("<str:token>/check/<int:pk>/in-order/", check_in_order, name="check_in_order"),
    path("<str:token>/check/<int:pk>/problem/", check_problem, name="check_problem"),
]
