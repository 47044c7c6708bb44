from django.utils import timezone

from .confirmations import confirmation_deliver, confirmations_sweep


def confirmation_deliver_task(pk: int) -> str:
    return confirmation_deliver(pk)


def confirmations_sweep_task() -> int:
    return confirmations_sweep(now=timezone.now())
