"""Managers decide legal referrals: the open proposals, one case with its limitation dates,
approve (building the pack) or decline with a reason."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts.roles import MANAGER, require_change, role_required

from .exceptions import DunningError
from .models import Referral, Task, TaskKind, TaskStatus
from .referrals import referral_approve, referral_case, referral_decline


@role_required(MANAGER)
def referral_list(request):
    proposed = Task.objects.filter(kind=TaskKind.REFERRAL, status=TaskStatus.OPEN).select_related(
        "customer"
    )
    decided = Referral.objects.select_related("customer", "decided_by", "pack")[:50]
    return render(request, "dunning/referral_list.html", {"proposed": proposed, "decided": decided})


@role_required(MANAGER)
@require_GET
def referral_detail(request, pk: int):
    task = get_object_or_404(
        Task.objects.select_related("customer", "touch"), pk=pk, kind=TaskKind.REFERRAL
    )
    referral = Referral.objects.filter(task=task).select_related("pack", "decided_by").first()
    return render(
        request,
        "dunning/referral_detail.html",
        {"task": task, "case": referral_case(task), "referral": referral},
    )


@role_required(MANAGER)
@require_POST
def referral_decide(request, pk: int):
    task = Task.objects.filter(pk=pk).select_related("customer").first()
    if task is not None:
        require_change(request.user, task.customer)
    reason = request.POST.get("reason", "")
    try:
        if request.POST.get("decision") == "approve":
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
