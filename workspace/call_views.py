"""The calls page: a collector's calls for today with the outcome form, and completing a
task (a call with its outcome, or any other task) from it."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from accounts.roles import (
    COLLECTOR,
    MANAGER,
    has_role,
    read_only_notice,
    require_change,
    role_required,
)
from dunning import services
from dunning.calls import call_log
from dunning.exceptions import DunningError
from dunning.models import Task, TaskKind

from .call_selectors import calls_complete, calls_later, calls_today
from .forms import CallFilterForm, CallOutcomeForm

CALLS_PAGE = 50


@role_required(COLLECTOR)
@require_GET
def calls(request):
    """Today's calls of a collector (managers may pick one), in the customers' local time
    order, each with the customer's situation, a script and the outcome form."""
    form = None
    assignee = request.user
    if has_role(request.user, MANAGER):
        form = CallFilterForm(request.GET)
        if form.is_valid() and form.cleaned_data["collector"]:
            assignee = int(form.cleaned_data["collector"])
    now = timezone.now()
    page = Paginator(calls_today(assignee=assignee, now=now), CALLS_PAGE).get_page(
        request.GET.get("page")
    )
    calls_complete(page.object_list)
    for task in page.object_list:
        # A call assigned to this collector whose customer has since gone to a colleague.
        task.read_only = read_only_notice(request.user, task.customer)
        task.form = CallOutcomeForm(
            customer=task.customer,
            contacts=task.contacts,
            invoices=task.invoices,
            auto_id=f"id_task{task.pk}_%s",
        )
    later = None if page.object_list else calls_later(assignee=assignee, now=now)
    return render(
        request, "workspace/calls.html", {"page": page, "form": form, "now": now, "later": later}
    )


@role_required(COLLECTOR)
@require_POST
def task_complete(request, pk: int):
    task = get_object_or_404(Task.objects.select_related("customer"), pk=pk)
    require_change(request.user, task.customer)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        back = reverse("calls")
    if task.kind != TaskKind.CALL:
        try:
            services.task_complete(
                actor=request.user,
                task=task,
                at=timezone.now(),
                notes=request.POST.get("notes", ""),
            )
        except DunningError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"Done: {task.title}.")
        return redirect(back)
    form = CallOutcomeForm(request.POST, customer=task.customer)
    if not form.is_valid():
        problems = [
            f"{form.fields[name].label or name.capitalize()}: {' '.join(errors)}"
            if name != "__all__"
            else " ".join(errors)
            for name, errors in form.errors.items()
        ]
        messages.error(request, f"Call to {task.customer.name} not logged. " + " ".join(problems))
        return redirect(back)
    try:
        logged = call_log(
            actor=request.user,
            customer=task.customer,
            at=timezone.now(),
            task=task,
            **form.call_log_values(),
        )
    except DunningError as error:
        messages.error(request, f"Call to {task.customer.name} not logged: {error}")
    else:
        done = "; ".join(logged.follow_ups)
        messages.success(
            request,
            f"Call to {task.customer.name} logged" + (f": {done}." if done else "."),
        )
    return redirect(back)
