"""Reads of the inbox, each a fixed number of queries however many replies there are."""

from django.db.models import Case, IntegerField, Prefetch, Value, When

from accounts.roles import MANAGER, has_role

from .models import InboundAttachment, InboundMessage, Status

LIMIT = 200


def _listing(queryset):
    return queryset.select_related("customer", "contact").prefetch_related(
        Prefetch(
            "attachments",
            queryset=InboundAttachment.objects.defer("content"),
        )
    )


def replies_waiting(*, user, limit: int = LIMIT) -> list[InboundMessage]:
    """New replies to handle: a collector's own customers' first, then the rest (a colleague
    covers for absence); managers and admins see all, oldest waiting first either way."""
    replies = InboundMessage.objects.filter(status=Status.NEW)
    if has_role(user, MANAGER):
        replies = replies.order_by("received_at", "id")
    else:
        mine = Case(
            When(customer__collector_id=user.pk, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )
        replies = replies.annotate(mine=mine).order_by("mine", "received_at", "id")
    return list(_listing(replies)[:limit])


def replies_unassigned(*, limit: int = LIMIT) -> list[InboundMessage]:
    replies = InboundMessage.objects.filter(status=Status.UNMATCHED).order_by("received_at", "id")
    return list(_listing(replies)[:limit])


HANDLED_PER_PAGE = 25


def replies_handled():
    """Handled replies, the latest handled first, for a paginator: who handled each and when."""
    replies = InboundMessage.objects.filter(status=Status.HANDLED).order_by("-handled_at", "-id")
    return _listing(replies.select_related("handled_by"))
