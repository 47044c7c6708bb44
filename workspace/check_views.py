"""A collector settles a message whose outcome is unknown, or that could not be sent
(dunning.outcomes): one POST per answer, back to the customer's page."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.roles import COLLECTOR, require_change, role_required
from dunning.exceptions import DunningError
from dunning.models import Task, TaskKind
from dunning.outcomes import AGAIN, SENT, SKIP, outcome_settle

DONE = {
    SENT: "Marked as sent: chasing goes on from the next step.",
    AGAIN: "Sent again.",
    SKIP: "Step skipped: chasing goes on from the next step.",
}


@role_required(COLLECTOR)
@require_POST
def message_settle(request, pk: int):
    task = get_object_or_404(
        Task.objects.select_related("customer"), pk=pk, kind=TaskKind.CHECK_SEND
    )
    require_change(request.user, task.customer)
    choice = request.POST.get("choice", "")
    try:
        touch = outcome_settle(actor=request.user, task=task, choice=choice, at=timezone.now())
    except DunningError as error:
        messages.error(request, str(error))
    else:
        text = DONE[choice]
        if choice == AGAIN and touch.status != "sent":
            text = f"Put back to send again: it is now {touch.get_status_display().lower()}."
        messages.success(request, text)
    return redirect("customer_detail", pk=task.customer_id)
