"""Managers decide legal referrals: the open proposals, one case with what a decision needs
(its invoices, final demands, payments, promises, disputes, contacts and limitation dates),
approve (confirmed, building the pack) or decline with a reason."""

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.roles import MANAGER, require_change, role_required

from .court import court_case
from .exceptions import DunningError
from .models import Referral, Task, TaskKind
from .referrals import (
    REASON_MAX,
    referral_approve,
    referral_case,
    referral_decline,
    referral_history,
    referral_lines,
    referral_proposals,
)

APPROVE, DECLINE = "approve", "decline"
DECIDED_ROWS = 50


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[(APPROVE, "Approve"), (DECLINE, "Decline")])
    reason = forms.CharField(required=False)
    confirm = forms.BooleanField(required=False)

    def clean_reason(self):
        reason = self.cleaned_data["reason"]
        # Checked here rather than with max_length so the message can say how long it is,
        # and so the browser does not silently cut a pasted text short.
        if len(reason) > REASON_MAX:
            raise forms.ValidationError(
                f"Keep the reason to {REASON_MAX:,} characters; this one has {len(reason):,}. "
                "Put longer notes on the customer's page."
            )
        return reason

    def clean(self):
        data = super().clean()
        if data.get("decision") == APPROVE and not data.get("confirm"):
            self.add_error(
                "confirm",
                "Tick the box to confirm: approving stops all chasing and cannot be undone.",
            )
        if data.get("decision") == DECLINE and "reason" in data and not data["reason"]:
            self.add_error("reason", "Say why the referral is declined.")
        return data


@role_required(MANAGER)
@require_GET
def referral_list(request):
    decided = (
        Referral.objects.select_related("customer", "decided_by", "pack")
        .defer("pack__content")
        .order_by("-decided_at", "-id")[:DECIDED_ROWS]
    )
    return render(
        request,
        "dunning/referral_list.html",
        {"proposed": referral_proposals(), "decided": decided},
    )


def _referral_task(pk: int) -> Task | None:
    return (
        Task.objects.select_related("customer", "touch")
        .defer("touch__body_text", "touch__body_html")
        .filter(pk=pk, kind=TaskKind.REFERRAL)
        .first()
    )


def _decision_page(request, task: Task, form: DecisionForm):
    referral = (
        Referral.objects.filter(task=task)
        .select_related("pack", "decided_by")
        .defer("pack__content")
        .first()
    )
    case = None if referral else referral_case(task)
    context = {
        "task": task,
        "referral": referral,
        "case": case,
        # Weighed before deciding; a decided referral keeps it in its pack.
        "court": court_case(case, today=timezone.localdate()) if case else None,
        "referred": referral_lines(referral) if referral else [],
        "history": referral_history(task.customer),
        "form": form,
        "reason_max": f"{REASON_MAX:,}",
    }
    return render(request, "dunning/referral_detail.html", context)


@role_required(MANAGER)
@require_GET
def referral_detail(request, pk: int):
    task = _referral_task(pk)
    if task is None:
        raise Http404("There is no such referral.")
    return _decision_page(request, task, DecisionForm())


@role_required(MANAGER)
@require_POST
def referral_decide(request, pk: int):
    task = _referral_task(pk)
    if task is None:
        messages.error(request, "There is no such referral.")
        return redirect("dunning:referral_detail", pk)
    require_change(request.user, task.customer)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _decision_page(request, task, form)
    reason = form.cleaned_data["reason"]
    try:
        if form.cleaned_data["decision"] == APPROVE:
            referral = referral_approve(actor=request.user, task_id=pk, reason=reason)
            messages.success(
                request,
                f"Referral of {referral.customer.name} approved; the pack is ready and "
                "automated contact has stopped.",
            )
        else:
            referral = referral_decline(actor=request.user, task_id=pk, reason=reason)
            messages.success(request, f"Referral of {referral.customer.name} declined.")
    except DunningError as error:
        messages.error(request, str(error))
    return redirect("dunning:referral_detail", pk)
