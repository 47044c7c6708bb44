"""Moving a customer on the ladder, from the customer page's action area (dunning.moves):
the chase starts again at the chosen step, due at once, with the reason given. For those
who may change the customer, like every action."""

from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts.roles import COLLECTOR, role_required
from dunning.exceptions import DunningError
from dunning.forms import LadderMoveForm
from dunning.moves import chase_move, move_ladder

from .customer_views import _action, _customer_to_change, _done, _posted


@role_required(COLLECTOR)
@require_http_methods(["GET", "POST"])
def customer_move(request, pk: int):
    customer = _customer_to_change(request, pk)
    version, steps = move_ladder(customer)
    form = LadderMoveForm(_posted(request), steps=steps)
    if form.is_valid():
        data = form.cleaned_data
        try:
            chase_move(
                actor=request.user,
                customer=customer,
                position=data["position"],
                reason=data["reason"],
                at=timezone.now(),
            )
        except DunningError as error:
            form.add_error(None, str(error))
        else:
            name = next(s.name for s in steps if s.position == data["position"])
            return _done(
                request,
                customer,
                f"Moved to step {data['position']} ({name}): it is due now, within the "
                "contact rules.",
            )
    return _action(
        request,
        customer,
        "workspace/_action_move.html",
        {"form": form, "policy": version.policy if version else None},
    )
