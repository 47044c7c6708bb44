"""The API's resources. Thin: check the input, call one service in api.services, answer.

A token acts for the firm as a whole (like an admin's import), so the screens' ownership rule
(a collector changes only their own customers) does not apply here; scopes limit a token."""

from datetime import UTC

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.fields import DateTimeField
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from invoices.exceptions import LedgerError
from invoices.models import Customer, Invoice

from . import idempotency
from .errors import from_django
from .serializers import (
    CustomerCreateSerializer,
    CustomerSerializer,
    CustomerWriteSerializer,
    ErrorSerializer,
    InvoiceCreateSerializer,
    InvoiceSerializer,
    InvoiceWriteSerializer,
)
from .services import api_customer_upsert, api_invoice_upsert

ERRORS = {code: ErrorSerializer for code in (400, 401, 403, 404, 429)}
POST_ERRORS = {**ERRORS, 422: ErrorSerializer}
UPDATED_SINCE = OpenApiParameter(
    "updated_since",
    OpenApiTypes.DATETIME,
    description="Only what changed at or after this moment (ISO 8601), for incremental sync.",
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    description="Any unique string: a retry with the same key gets the first answer (24 h).",
)


def _decimal(value):
    return None if value is None else f"{value:f}"


def _day(value):
    return None if value is None else value.isoformat()


# As the serializers write a moment (in the current time zone, "Z" for UTC); a null stays null.
_moment = DateTimeField().to_representation


class ValuesList:
    """list() from .values() rows: a page of 1,000 builds no model or serializer objects
    (half the time of a page went there). The rows read the same as the serializer's:
    LIST_FIELDS maps each output name to its lookup and how it is written; a test compares
    the two."""

    LIST_FIELDS: dict[str, tuple[str, object]] = {}

    def list(self, request, *args, **kwargs):
        fields = self.LIST_FIELDS.items()
        lookups = [lookup for _, (lookup, _) in fields]
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()).values(*lookups))
        rows = [
            {name: write(row[lookup]) if write else row[lookup] for name, (lookup, write) in fields}
            for row in page
        ]
        return self.get_paginated_response(rows)


class ChangedOrder(CursorPagination):
    """Pages in the order things changed, stable while rows keep changing."""

    ordering = ("updated_at", "id")
    page_size = 100
    page_size_query_param = "limit"
    max_page_size = 1000


def _invalid(error: Exception) -> exceptions.ValidationError:
    if isinstance(error, DjangoValidationError):
        return from_django(error)
    return exceptions.ValidationError({"non_field_errors": [str(error)]})


class SyncViewSet(viewsets.GenericViewSet):
    pagination_class = ChangedOrder
    lookup_value_converter = "str"

    def filter_queryset(self, queryset):
        since = self.request.query_params.get("updated_since")
        if since:
            try:
                moment = parse_datetime(since)
                # In UTC: PostgreSQL refuses offsets past ±15:59 that Python accepts (+18:40).
                if moment is not None and moment.tzinfo is not None:
                    moment = moment.astimezone(UTC)
                else:
                    moment = None
            except (ValueError, OverflowError):  # not a date, or out of range once in UTC
                moment = None
            if moment is None:
                raise exceptions.ValidationError(
                    {"updated_since": ["Give an ISO 8601 date and time with its offset."]}
                )
            queryset = queryset.filter(updated_at__gte=moment)
        return queryset

    def _upsert(self, serializer_class, **known):
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        try:
            obj, created = self.upsert(**{**serializer.validated_data, **known})
        except (LedgerError, DjangoValidationError) as error:
            raise _invalid(error) from error
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(self.get_serializer(obj).data, status=code)


@extend_schema_view(
    list=extend_schema(parameters=[UPDATED_SINCE], responses={200: CustomerSerializer, **ERRORS}),
    retrieve=extend_schema(responses={200: CustomerSerializer, **ERRORS}),
)
class CustomerViewSet(ValuesList, mixins.ListModelMixin, mixins.RetrieveModelMixin, SyncViewSet):
    queryset = Customer.objects.all()
    serializer_class = CustomerSerializer
    lookup_field = "external_id"
    LIST_FIELDS = {
        "external_id": ("external_id", None),
        "name": ("name", None),
        "currency": ("currency", None),
        "country": ("country", None),
        "timezone": ("timezone", None),
        "language": ("language", None),
        "payment_terms_days": ("payment_terms_days", None),
        "credit_limit": ("credit_limit", _decimal),
        "on_hold": ("on_hold", None),
        "credit_hold": ("credit_hold", None),
        "updated_at": ("updated_at", _moment),
    }

    def upsert(self, *, external_id, **values):
        return api_customer_upsert(token=self.request.auth, external_id=external_id, values=values)

    @extend_schema(
        request=CustomerWriteSerializer,
        responses={200: CustomerSerializer, 201: CustomerSerializer, **ERRORS},
        summary="Create or change the customer with this external id",
    )
    def update(self, request, external_id):
        return self._upsert(CustomerWriteSerializer, external_id=external_id)

    @extend_schema(
        request=CustomerCreateSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            200: CustomerSerializer,
            201: CustomerSerializer,
            422: ErrorSerializer,
            **ERRORS,
        },
        summary="Create or change the customer named by external_id in the body",
    )
    def create(self, request):
        return idempotency.once(request, lambda: self._upsert(CustomerCreateSerializer))


@extend_schema_view(
    list=extend_schema(parameters=[UPDATED_SINCE], responses={200: InvoiceSerializer, **ERRORS}),
    retrieve=extend_schema(responses={200: InvoiceSerializer, **ERRORS}),
)
class InvoiceViewSet(ValuesList, mixins.ListModelMixin, mixins.RetrieveModelMixin, SyncViewSet):
    queryset = Invoice.objects.select_related("customer")
    serializer_class = InvoiceSerializer
    lookup_field = "number"
    LIST_FIELDS = {
        "number": ("number", None),
        "customer": ("customer__external_id", None),
        "issue_date": ("issue_date", _day),
        "due_date": ("due_date", _day),
        "currency": ("currency", None),
        "amount": ("amount", _decimal),
        "open_balance": ("open_balance", _decimal),
        "status": ("status", None),
        "updated_at": ("updated_at", _moment),
    }

    def upsert(self, **values):
        return api_invoice_upsert(token=self.request.auth, **values)

    @extend_schema(
        request=InvoiceWriteSerializer,
        responses={200: InvoiceSerializer, 201: InvoiceSerializer, **ERRORS},
        summary="Create or change the invoice with this number",
    )
    def update(self, request, number):
        return self._upsert(InvoiceWriteSerializer, number=number)

    @extend_schema(
        request=InvoiceCreateSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={200: InvoiceSerializer, 201: InvoiceSerializer, **POST_ERRORS},
        summary="Create or change the invoice named by number in the body",
    )
    def create(self, request):
        return idempotency.once(request, lambda: self._upsert(InvoiceCreateSerializer))
