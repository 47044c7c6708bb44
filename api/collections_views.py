"""The collections resources: disputes, promises, payment plans, notes, touches and tasks.

Thin like api.views: check the input, call the dunning or ledger service the screens use,
answer. Writes need the write_collections scope; a token acts for the firm (no collector
ownership), its label named as the actor on every audit event."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import OuterRef, Prefetch, Subquery
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from audit.models import AuditEvent
from dunning import services as dunning
from dunning.calls import call_log
from dunning.exceptions import DunningError
from dunning.models import (
    Instalment,
    PaymentPlan,
    PlanStatus,
    PromiseToPay,
    Task,
    TaskKind,
    TaskStatus,
    Touch,
)
from dunning.queue import queue_refresh
from invoices.exceptions import LedgerError
from invoices.models import Customer, Dispute, Invoice
from invoices.services import customer_note_add

from . import idempotency
from .collections_serializers import (
    CancelSerializer,
    DisputeOpenSerializer,
    DisputeResolveSerializer,
    DisputeSerializer,
    NoteCreateSerializer,
    NoteSerializer,
    PlanCancelSerializer,
    PlanCreateSerializer,
    PlanSerializer,
    PromiseCreateSerializer,
    PromiseSerializer,
    TaskCompleteSerializer,
    TaskSerializer,
    TouchSerializer,
)
from .errors import from_django, refused
from .models import Scope
from .views import ERRORS, IDEMPOTENCY_KEY, POST_ERRORS

NOTE_ADDED = "ledger.note.added"
CUSTOMER = OpenApiParameter("customer", str, description="Only this customer's (its external id)")


class NewestFirst(CursorPagination):
    ordering = ("-id",)
    page_size = 100
    page_size_query_param = "limit"
    max_page_size = 1000


def _refused(error: Exception) -> exceptions.ValidationError:
    if isinstance(error, DjangoValidationError):
        return from_django(error)
    return exceptions.ValidationError({"non_field_errors": [str(error)]})


def _customer(external_id: str) -> Customer:
    customer = Customer.objects.filter(external_id=external_id).first()
    if customer is None:
        raise exceptions.ValidationError(
            {"customer": [f"No customer has the external id “{external_id}”."]}
        )
    return customer


class CollectionsViewSet(viewsets.GenericViewSet):
    pagination_class = NewestFirst
    lookup_value_converter = "int"
    write_scope = Scope.WRITE_COLLECTIONS
    customer_field = "customer__external_id"

    def filter_queryset(self, queryset):
        customer = self.request.query_params.get("customer")
        if customer:
            queryset = queryset.filter(**{self.customer_field: customer})
        return queryset

    def _write(self, serializer_class, write, *, code=status.HTTP_201_CREATED, **known):
        """Validate the body, call write(token, **data), answer with what it returns."""
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        try:
            obj = write(self.request.auth, **{**serializer.validated_data, **known})
        except (LedgerError, DunningError, DjangoValidationError) as error:
            raise _refused(error) from error
        obj = self.get_queryset().get(pk=obj.pk)  # as a read shows it, relations and all
        return Response(self.get_serializer(obj).data, status=code)

    def _change(self, serializer_class, write):
        """As _write, for a change to the object at this address: what the service refuses
        is a 422 and changes nothing."""
        obj = self.get_object()
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        try:
            write(self.request.auth, obj, **serializer.validated_data)
        except (LedgerError, DunningError, DjangoValidationError) as error:
            raise refused(error) from error
        return Response(self.get_serializer(self.get_queryset().get(pk=obj.pk)).data)


# --- the writes, each through the screens' service, the token its actor --------------------


def _dispute_open(token, *, invoice, **values):
    found = Invoice.objects.filter(number=invoice).first()
    if found is None:
        raise exceptions.ValidationError({"invoice": [f"No invoice has the number “{invoice}”."]})
    return dunning.dispute_open_queued(
        actor=token.actor(), invoice=found, opened_on=timezone.localdate(), **values
    )


def _dispute_resolve(token, *, dispute, **values):
    return dunning.dispute_resolve_queued(
        actor=token.actor(), dispute=dispute, resolved_on=timezone.localdate(), **values
    )


def _promise_record(token, *, customer, invoices, **values):
    owner = _customer(customer)
    found = list(Invoice.objects.filter(number__in=invoices, customer=owner))
    missing = sorted(set(invoices) - {inv.number for inv in found})
    if missing:
        raise exceptions.ValidationError(
            {"invoices": [f"Not invoices of this customer: {', '.join(missing)}."]}
        )
    # The promise keeps who made it as a user; a token is none, so its label goes on the
    # audit event instead.
    return dunning.promise_record(
        actor=None,
        label=token.label,
        customer=owner,
        invoices=found,
        made_on=timezone.localdate(),
        **values,
    )


@transaction.atomic
def _promise_cancel(token, *, promise, note):
    dunning.promise_cancel(actor=token.actor(), promise=promise, on=timezone.localdate(), note=note)
    return promise


def _plan_create(token, *, customer, instalments, **values):
    # As for promises: the plan keeps its maker as a user, so the token's label goes on the
    # audit event instead.
    return dunning.plan_create(
        actor=None,
        label=token.label,
        customer=_customer(customer),
        agreed_on=timezone.localdate(),
        instalments=[(row["due_date"], row["amount"]) for row in instalments],
        **values,
    )


@transaction.atomic
def _plan_cancel(token, plan, *, reason):
    # Already cancelled: the first cancellation stands and a retry changes nothing. A plan
    # that ended otherwise (completed, broken) is refused by the service.
    plan = PaymentPlan.objects.select_for_update().get(pk=plan.pk)
    if plan.status != PlanStatus.CANCELLED:
        dunning.plan_cancel(actor=token.actor(), plan=plan, on=timezone.localdate(), note=reason)


@transaction.atomic
def _task_complete(token, task, *, outcome="", notes="", call_back_at=None):
    # Already done: the first completion stands and a retry changes nothing. A cancelled
    # task, or a message to settle on the customer's page, is refused by the service.
    task = Task.objects.select_for_update().get(pk=task.pk)
    if task.status == TaskStatus.DONE:
        return
    now = timezone.now()
    if task.kind == TaskKind.CALL:
        call_log(
            actor=token.actor(),
            customer=task.customer,
            at=now,
            outcome=outcome,
            notes=notes,
            task=task,
            call_back_at=call_back_at,
        )
    else:
        dunning.task_complete(actor=token.actor(), task=task, at=now, notes=notes)


@transaction.atomic
def _note_add(token, *, customer, text):
    owner = _customer(customer)
    event = customer_note_add(actor=token.actor(), customer=owner, text=text)
    queue_refresh(customer_ids=[owner.pk])
    return event


# --- the resources ----------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(parameters=[CUSTOMER], responses={200: DisputeSerializer, **ERRORS}),
    retrieve=extend_schema(responses={200: DisputeSerializer, **ERRORS}),
)
class DisputeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CollectionsViewSet):
    queryset = Dispute.objects.select_related("invoice__customer")
    serializer_class = DisputeSerializer
    customer_field = "invoice__customer__external_id"

    @extend_schema(
        request=DisputeOpenSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: DisputeSerializer, **POST_ERRORS},
        summary="Open a dispute on an invoice: it leaves dunning until resolved",
    )
    def create(self, request):
        return idempotency.once(request, lambda: self._write(DisputeOpenSerializer, _dispute_open))

    @extend_schema(
        request=DisputeResolveSerializer,
        responses={200: DisputeSerializer, **ERRORS},
        summary="Resolve a dispute, for us or for the customer (a credit note)",
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        dispute = self.get_object()
        return self._write(
            DisputeResolveSerializer, _dispute_resolve, code=status.HTTP_200_OK, dispute=dispute
        )


@extend_schema_view(
    list=extend_schema(parameters=[CUSTOMER], responses={200: PromiseSerializer, **ERRORS}),
    retrieve=extend_schema(responses={200: PromiseSerializer, **ERRORS}),
)
class PromiseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CollectionsViewSet):
    queryset = PromiseToPay.objects.select_related("customer").prefetch_related(
        Prefetch("invoices", queryset=Invoice.objects.order_by("due_date", "id"))
    )
    serializer_class = PromiseSerializer

    @extend_schema(
        request=PromiseCreateSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: PromiseSerializer, **POST_ERRORS},
        summary="Record a promise to pay: dunning of its invoices pauses until its date",
    )
    def create(self, request):
        return idempotency.once(
            request, lambda: self._write(PromiseCreateSerializer, _promise_record)
        )

    @extend_schema(
        request=CancelSerializer,
        responses={200: PromiseSerializer, **ERRORS},
        summary="Cancel an open promise: dunning resumes",
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        promise = self.get_object()
        return self._write(
            CancelSerializer, _promise_cancel, code=status.HTTP_200_OK, promise=promise
        )


@extend_schema_view(
    list=extend_schema(parameters=[CUSTOMER], responses={200: PlanSerializer, **ERRORS}),
    retrieve=extend_schema(responses={200: PlanSerializer, **ERRORS}),
)
class PlanViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CollectionsViewSet):
    queryset = PaymentPlan.objects.select_related("customer").prefetch_related(
        Prefetch("instalments", queryset=Instalment.objects.order_by("due_date", "id"))
    )
    serializer_class = PlanSerializer

    @extend_schema(
        request=PlanCreateSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: PlanSerializer, **POST_ERRORS},
        summary="Agree a payment plan: dunning pauses while its instalments are met",
    )
    def create(self, request):
        return idempotency.once(request, lambda: self._write(PlanCreateSerializer, _plan_create))

    @extend_schema(
        request=PlanCancelSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={200: PlanSerializer, **POST_ERRORS},
        summary="Cancel an active payment plan: dunning resumes",
        description="A plan already cancelled answers 200 as it is (the first cancellation "
        "stands) and records nothing, so a retry is harmless. 422: a plan that ended "
        "otherwise (completed or broken) cannot be cancelled.",
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return idempotency.once(request, lambda: self._change(PlanCancelSerializer, _plan_cancel))


@extend_schema_view(
    list=extend_schema(parameters=[CUSTOMER], responses={200: NoteSerializer, **ERRORS}),
)
class NoteViewSet(mixins.ListModelMixin, CollectionsViewSet):
    queryset = AuditEvent.objects.filter(action=NOTE_ADDED).annotate(
        customer_external_id=Subquery(
            Customer.objects.filter(pk=OuterRef("customer_id")).values("external_id")[:1]
        )
    )
    serializer_class = NoteSerializer
    customer_field = "customer_external_id"

    @extend_schema(
        request=NoteCreateSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: NoteSerializer, **POST_ERRORS},
        summary="Add a note to the customer's timeline",
    )
    def create(self, request):
        return idempotency.once(request, lambda: self._write(NoteCreateSerializer, _note_add))


@extend_schema_view(
    list=extend_schema(parameters=[CUSTOMER], responses={200: TouchSerializer, **ERRORS}),
    retrieve=extend_schema(responses={200: TouchSerializer, **ERRORS}),
)
class TouchViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CollectionsViewSet):
    """What dunning sent or will send (read-only: the engine writes these)."""

    queryset = Touch.objects.select_related("customer", "step")
    serializer_class = TouchSerializer


@extend_schema_view(
    list=extend_schema(parameters=[CUSTOMER], responses={200: TaskSerializer, **ERRORS}),
    retrieve=extend_schema(responses={200: TaskSerializer, **ERRORS}),
)
class TaskViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CollectionsViewSet):
    """Calls, letters and other work for people, and completing them."""

    queryset = Task.objects.select_related("customer", "assigned_to")
    serializer_class = TaskSerializer

    @extend_schema(
        request=TaskCompleteSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={200: TaskSerializer, **POST_ERRORS},
        summary="Complete a task; a call with its outcome (and the follow-up it calls for)",
        description="A task already done answers 200 as it is (the first completion stands) "
        "and records nothing. 422: a cancelled task, a call without its outcome, a message "
        "to settle on the customer's page.",
    )
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        return idempotency.once(
            request, lambda: self._change(TaskCompleteSerializer, _task_complete)
        )
