"""The API's ledger resources besides customers and invoices: contacts, payments with their
allocations, credit notes, and invoice copies. Thin, as api.views: check the input, call
one service in api.ledger_services, answer. Reads need the read scope, writes write_ledger.
A change the ledger refuses on a payment already on file (reverse, allocate) is a 422."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django.http import HttpResponse
from django.utils.dateparse import parse_date
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from invoice_copies.selectors import invoice_copy_newest
from invoices.exceptions import LedgerError
from invoices.models import Allocation, Contact, CreditNote, Invoice, Payment

from . import idempotency
from .errors import refused
from .ledger_serializers import (
    ContactSerializer,
    ContactWriteSerializer,
    CreditNoteSerializer,
    CreditNoteWriteSerializer,
    PaymentAllocateSerializer,
    PaymentReverseSerializer,
    PaymentSerializer,
    PaymentWriteSerializer,
)
from .ledger_services import (
    api_contact_upsert,
    api_credit_note_issue,
    api_payment_allocate,
    api_payment_record,
    api_payment_reverse,
)
from .views import ERRORS, IDEMPOTENCY_KEY, POST_ERRORS, _invalid

CUSTOMER = OpenApiParameter("customer", str, description="Only this customer's (external id).")


def _since(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(name, OpenApiTypes.DATE, description=description)


RECEIVED_SINCE = _since("received_since", "Only payments received on or after this day.")
ISSUED_SINCE = _since("issued_since", "Only credit notes issued on or after this day.")


def _pages(*ordering: str) -> type[CursorPagination]:
    # Contacts, payments and credit notes keep no updated_at: they page in an order that
    # new rows only extend (by id, or by day then id), so a cursor stays stable.
    return type(
        "Pages",
        (CursorPagination,),
        {
            "ordering": ordering,
            "page_size": 100,
            "page_size_query_param": "limit",
            "max_page_size": 1000,
        },
    )


def _allocations():
    return Prefetch("allocations", queryset=Allocation.objects.select_related("invoice"))


class LedgerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Lists filtered by customer (external id) and by a day field from a given day."""

    since_param = ""
    since_field = ""

    def filter_queryset(self, queryset):
        params = self.request.query_params
        if params.get("customer"):
            queryset = queryset.filter(customer__external_id=params["customer"])
        if self.since_param and params.get(self.since_param):
            day = parse_date(params[self.since_param])
            if day is None:
                raise exceptions.ValidationError({self.since_param: ["Give a date as YYYY-MM-DD."]})
            queryset = queryset.filter(**{f"{self.since_field}__gte": day})
        return queryset

    def _write(self, serializer_class, service):
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        try:
            obj, created = service(token=self.request.auth, **serializer.validated_data)
        except (LedgerError, DjangoValidationError) as error:
            raise _invalid(error) from error
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(self.get_serializer(self.get_queryset().get(pk=obj.pk)).data, status=code)


@extend_schema_view(
    list=extend_schema(parameters=[CUSTOMER], responses={200: ContactSerializer, **ERRORS}),
    retrieve=extend_schema(responses={200: ContactSerializer, **ERRORS}),
)
class ContactViewSet(LedgerViewSet):
    queryset = Contact.objects.select_related("customer")
    serializer_class = ContactSerializer
    pagination_class = _pages("id")
    lookup_value_converter = "int"

    @extend_schema(
        request=ContactWriteSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={200: ContactSerializer, 201: ContactSerializer, **POST_ERRORS},
        summary="Create or change the customer's contact with this email",
    )
    def create(self, request):
        def upsert(*, token, customer, email, **values):
            return api_contact_upsert(token=token, customer=customer, email=email, values=values)

        return idempotency.once(request, lambda: self._write(ContactWriteSerializer, upsert))


@extend_schema_view(
    list=extend_schema(
        parameters=[CUSTOMER, RECEIVED_SINCE], responses={200: PaymentSerializer, **ERRORS}
    ),
    retrieve=extend_schema(responses={200: PaymentSerializer, **ERRORS}),
)
class PaymentViewSet(LedgerViewSet):
    queryset = Payment.objects.select_related("customer").prefetch_related(_allocations())
    serializer_class = PaymentSerializer
    pagination_class = _pages("received_on", "id")
    lookup_value_converter = "int"
    since_param, since_field = "received_since", "received_on"

    @extend_schema(
        request=PaymentWriteSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={200: PaymentSerializer, 201: PaymentSerializer, **POST_ERRORS},
        summary="Record a payment (200 with the one on file when its external_key is known)",
    )
    def create(self, request):
        return idempotency.once(
            request, lambda: self._write(PaymentWriteSerializer, api_payment_record)
        )

    def _change(self, serializer_class, service):
        """Validate the body, call service(token, payment, **data) on this payment; what
        the ledger refuses is a 422 and changes nothing."""
        payment = self.get_object()
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        try:
            service(token=self.request.auth, payment=payment, **serializer.validated_data)
        except (LedgerError, DjangoValidationError) as error:
            raise refused(error) from error
        return Response(self.get_serializer(self.get_queryset().get(pk=payment.pk)).data)

    @extend_schema(
        request=PaymentReverseSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={200: PaymentSerializer, **POST_ERRORS},
        summary="Reverse a payment that bounced: the invoices it paid are open again",
        description="A payment already reversed answers 200 with the payment as it is (the "
        "first reversal and its reason stand) and records nothing, so a retry is harmless. "
        "422: the ledger refuses (e.g. a reversal dated before the payment was received).",
    )
    @action(detail=True, methods=["post"])
    def reverse(self, request, pk=None):
        return idempotency.once(
            request, lambda: self._change(PaymentReverseSerializer, api_payment_reverse)
        )

    @extend_schema(
        request=PaymentAllocateSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={200: PaymentSerializer, **POST_ERRORS},
        summary="Apply a payment's unapplied cash to invoices (none named: oldest first)",
        description="All or nothing. 422, and nothing applied, for more than is left to apply "
        "or than an invoice owes, another customer's invoice, another currency, or a reversed "
        "payment. Not idempotent by itself: send an Idempotency-Key to retry safely.",
    )
    @action(detail=True, methods=["post"])
    def allocate(self, request, pk=None):
        return idempotency.once(
            request, lambda: self._change(PaymentAllocateSerializer, api_payment_allocate)
        )


@extend_schema_view(
    list=extend_schema(
        parameters=[CUSTOMER, ISSUED_SINCE], responses={200: CreditNoteSerializer, **ERRORS}
    ),
    retrieve=extend_schema(responses={200: CreditNoteSerializer, **ERRORS}),
)
class CreditNoteViewSet(LedgerViewSet):
    queryset = CreditNote.objects.select_related("customer").prefetch_related(_allocations())
    serializer_class = CreditNoteSerializer
    pagination_class = _pages("issued_on", "id")
    lookup_field = "number"
    lookup_value_converter = "str"
    since_param, since_field = "issued_since", "issued_on"

    @extend_schema(
        request=CreditNoteWriteSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={200: CreditNoteSerializer, 201: CreditNoteSerializer, **POST_ERRORS},
        summary="Credit an invoice (200 with the one on file when its number is known)",
    )
    def create(self, request):
        return idempotency.once(
            request, lambda: self._write(CreditNoteWriteSerializer, api_credit_note_issue)
        )


class InvoiceCopyViewSet(viewsets.GenericViewSet):
    """GET /invoices/{number}/copy/: the invoice's newest copy, the one sent to the customer."""

    queryset = Invoice.objects.all()

    @extend_schema(
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, **ERRORS},
        summary="The newest copy of the invoice, as a PDF",
    )
    def list(self, request, number):
        invoice = Invoice.objects.filter(number=number).only("pk").first()
        document = invoice_copy_newest(invoice.pk) if invoice else None
        if document is None:
            raise exceptions.NotFound("No invoice with this number has a copy on file.")
        response = HttpResponse(bytes(document.content), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{document.filename}"'
        response["ETag"] = f'"{document.sha256}"'
        return response
