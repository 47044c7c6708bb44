"""The collector's queue: customers worth chasing, best first, and bulk actions on them."""

from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.roles import COLLECTOR, MANAGER, has_role, role_required
from invoices.forms import QueueFilterForm
from invoices.selectors import queue_page
from invoices.views import render_list


@role_required(COLLECTOR)
@require_GET
def queue(request):
    as_of = timezone.localdate()
    form = None
    if has_role(request.user, MANAGER):
        form = QueueFilterForm(request.GET)
        scope = form.filters()
    else:
        # A collector works their own customers.
        scope = {"collector": request.user}
    page = queue_page(as_of=as_of, raw_page=request.GET.get("page"), **scope)
    return render_list(
        request,
        page_template="invoices/queue.html",
        partial_template="invoices/_queue_table.html",
        context={"form": form, "page": page, "as_of": as_of},
    )
