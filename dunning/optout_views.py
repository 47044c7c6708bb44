"""The public opt-out page that every consumer message links to. No login: the signed
token in the link is the proof; confirming takes a POST so link scanners change nothing."""

from django.contrib.auth.decorators import login_not_required
from django.core import signing
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_http_methods

from invoices.models import Customer

from . import services
from .delivery import OPT_OUT_SALT


@login_not_required
@require_http_methods(["GET", "POST"])
def opt_out(request, token: str):
    try:
        customer_id = signing.loads(token, salt=OPT_OUT_SALT)["customer"]
    except (signing.BadSignature, KeyError, TypeError):
        raise Http404("This opt-out link is not valid.") from None
    customer = get_object_or_404(Customer, pk=customer_id)
    done = request.method == "POST"
    if done:
        services.customer_opt_out(customer=customer)
    return render(request, "dunning/opt_out.html", {"customer": customer, "done": done})
