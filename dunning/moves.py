"""Moving a customer on the ladder: a person sends the chase to a given step.

The active chase closes (its pending messages are cancelled) and a new one opens on the
customer's policy as it applies now (dunning.rules), starting at the chosen step: the
engine counts the steps before it as done and makes that step due at once, inside every
other rule, and says who moved it and why (dunning.engine). Moving to step 1 restarts."""

import datetime as dt

from django.db import transaction
from django.db.models import Max

from audit.services import audit_record
from invoices.models import Customer, Invoice

from .exceptions import DunningError
from .models import Chase, ChaseStatus, PolicyStep, PolicyVersion, StepKind, Touch, TouchStatus
from .planning import chase_close
from .queue import queue_refresh
from .rules import OPEN_STATUSES, policy_for


def move_ladder(customer: Customer) -> tuple[PolicyVersion | None, list[PolicyStep]]:
    """The policy version a move would open the new chase on, and its steps in order."""
    policy, _why = policy_for(customer)
    version = policy.current_version if policy else None
    steps = list(version.steps.order_by("position")) if version else []
    return version, steps


def _user_name(user) -> str:
    return (user.get_full_name() or user.get_username()) if user else "the system"


@transaction.atomic
def chase_move(*, actor, customer: Customer, position: int, reason: str, at: dt.datetime) -> Chase:
    """Move the customer to the step at `position` of their policy: close the active chase
    and open the next one there. The reason is required; audited; the queue row is
    re-planned in the same transaction."""
    reason = " ".join(reason.split())
    if not reason:
        raise DunningError("Say why the customer is moved on the ladder.")
    # One move (or run's chase start) at a time for this customer.
    Customer.objects.select_for_update().filter(pk=customer.pk).first()
    if not Invoice.objects.filter(customer=customer, status__in=OPEN_STATUSES).exists():
        raise DunningError(f"{customer.name} has no open invoices: there is nothing to chase.")
    version, steps = move_ladder(customer)
    if version is None:
        raise DunningError("No policy chases this customer: set a default policy first.")
    # The satisfaction check is no step of the ladder: a chase cannot start there.
    step = next((s for s in steps if s.position == position and s.kind != StepKind.CHECK), None)
    if step is None:
        raise DunningError(f"{version.policy.name} has no step {position}.")

    active = Chase.objects.filter(customer=customer, status=ChaseStatus.ACTIVE).first()
    before = None
    if active is not None:
        before = (
            Touch.objects.filter(chase=active, step__isnull=False)
            .exclude(status=TouchStatus.CANCELLED)
            .order_by("-step__position")
            .values_list("step__position", "step__name")
            .first()
        )
    from_words = f"step {before[0]} ({before[1]})" if before else "the start of the ladder"
    to_words = f"step {position} ({step.name})"
    if active is not None:
        chase_close(
            chase_id=active.pk,
            at=at,
            reason=f"moved to {to_words} by {_user_name(actor)}: {reason}",
            actor=actor,
        )
    last = Chase.objects.filter(customer=customer).aggregate(last=Max("cycle"))["last"] or 0
    chase = Chase.objects.create(
        customer=customer,
        cycle=last + 1,
        policy_version=version,
        status=ChaseStatus.ACTIVE,
        started_at=at,
        start_position=position,
        moved_by=actor,
        move_reason=reason[:300],
    )
    audit_record(
        action="dunning.chase.moved_to_step",
        actor=actor,
        customer_id=customer.pk,
        summary=f"Moved on the ladder from {from_words} to {to_words}: {reason}",
        data={
            "chase_id": chase.pk,
            "closed_chase_id": active.pk if active else None,
            "from_step": before[1] if before else None,
            "from_position": before[0] if before else None,
            "to_step": step.name,
            "to_position": position,
            "policy_version": version.pk,
            "reason": reason,
        },
    )
    queue_refresh(customer_ids=[customer.pk], as_of=at)
    return chase
