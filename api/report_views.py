"""Read-only policies, and the aging and metrics reports: the same selectors as the dashboard
and `manage.py ar_report`, so the API, the screens and the command agree to the cent."""

import datetime as dt
from decimal import Decimal

from django.db.models import Prefetch
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, serializers, viewsets
from rest_framework.response import Response

from dunning.models import Policy, PolicyStep, PolicyVersion
from reports.aging import DEFAULT_EDGES, aging, buckets_for
from reports.metrics import currencies_in_use, monthly_figures

from .views import ERRORS

# --- policies ---------------------------------------------------------------------------------


class PolicyStepSerializer(serializers.ModelSerializer):
    class Meta:
        model = PolicyStep
        fields = ["position", "name", "offset_days", "kind", "channel", "min_balance"]
        read_only_fields = fields


class PolicySerializer(serializers.ModelSerializer):
    version = serializers.SerializerMethodField(help_text="The current version's number")
    steps = serializers.SerializerMethodField(help_text="The current version's steps")

    class Meta:
        model = Policy
        fields = ["id", "name", "is_default", "version", "steps"]
        read_only_fields = fields

    @staticmethod
    def _current(policy) -> PolicyVersion | None:
        # The prefetch holds the versions newest first: no query per policy.
        versions = policy.versions.all()
        return versions[0] if versions else None

    def get_version(self, policy) -> int | None:
        current = self._current(policy)
        return current.number if current else None

    @extend_schema_field(PolicyStepSerializer(many=True))
    def get_steps(self, policy):
        current = self._current(policy)
        return PolicyStepSerializer(current.steps.all() if current else [], many=True).data


@extend_schema_view(
    list=extend_schema(responses={200: PolicySerializer, **ERRORS}),
    retrieve=extend_schema(responses={200: PolicySerializer, **ERRORS}),
)
class PolicyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Dunning policies with their current version's steps (read-only: policies are
    versioned on the screens)."""

    queryset = Policy.objects.order_by("name", "id").prefetch_related(
        Prefetch(
            "versions",
            queryset=PolicyVersion.objects.order_by("-number").prefetch_related(
                Prefetch("steps", queryset=PolicyStep.objects.order_by("position"))
            ),
        )
    )
    serializer_class = PolicySerializer
    pagination_class = None  # a handful at most
    lookup_value_converter = "int"


# --- aging and metrics ---------------------------------------------------------------------

AS_OF = OpenApiParameter(
    "as_of", OpenApiTypes.DATE, description="The day to report on (YYYY-MM-DD); default today"
)
CURRENCY = OpenApiParameter(
    "currency", str, description="One currency (ISO code); default each currency in use"
)
MONTHS = OpenApiParameter(
    "months", int, description="How many months up to as_of, oldest first (1–24; default 1)"
)


def _as_of(request) -> tuple[dt.date, dt.date]:
    today = timezone.localdate()
    text = request.query_params.get("as_of")
    if not text:
        return today, today
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise exceptions.ValidationError({"as_of": ["Give a date as YYYY-MM-DD."]}) from None
    if day > today:
        raise exceptions.ValidationError(
            {"as_of": ["The date is in the future; reports look back."]}
        )
    return day, today


def _currencies(request) -> list[str]:
    known = currencies_in_use()
    currency = request.query_params.get("currency", "").upper()
    if not currency:
        return known
    if currency not in known:
        raise exceptions.ValidationError(
            {"currency": [f"No invoices in {currency}; in use: {', '.join(known) or 'none'}."]}
        )
    return [currency]


def _decimal(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


class AgingBucketSerializer(serializers.Serializer):
    bucket = serializers.CharField(help_text="current, 1-30, 31-60, 61-90, 90+")
    count = serializers.IntegerField()
    amount = serializers.CharField(help_text="Decimal string, 2 places")


class AgingSerializer(serializers.Serializer):
    as_of = serializers.DateField()
    currency = serializers.CharField()
    buckets = AgingBucketSerializer(many=True)
    count = serializers.IntegerField()
    total_open = serializers.CharField()


class MetricsSerializer(serializers.Serializer):
    period_end = serializers.DateField(help_text="The month's last day, or as_of")
    partial = serializers.BooleanField(help_text="A month to date, not a whole month")
    currency = serializers.CharField()
    credit_sales = serializers.CharField()
    ar_open = serializers.CharField()
    ar_close = serializers.CharField()
    ar_current = serializers.CharField()
    dso = serializers.CharField(allow_null=True, help_text="Days, decimal string")
    countback_dso = serializers.CharField(allow_null=True)
    best_possible_dso = serializers.CharField(allow_null=True)
    add = serializers.CharField(allow_null=True)
    cei = serializers.CharField(allow_null=True, help_text="Percent, decimal string")


def aging_report(*, as_of: dt.date, today: dt.date, currency: str) -> dict:
    """One currency's aging on as_of, in the DEFAULT_EDGES buckets, as ar_report gives it."""
    buckets = buckets_for(DEFAULT_EDGES)
    rows = aging(as_of=as_of, today=today, buckets=buckets, currency=currency)
    row = rows[0] if rows else None
    return {
        "as_of": as_of,
        "currency": currency,
        "buckets": [
            {
                "bucket": bucket.key,
                "count": row.counts[i] if row else 0,
                "amount": str(row.amounts[i]) if row else "0.00",
            }
            for i, bucket in enumerate(buckets)
        ],
        "count": row.count if row else 0,
        "total_open": str(row.total) if row else "0.00",
    }


class AgingViewSet(viewsets.ViewSet):
    """Open receivables by days past due, per currency."""

    @extend_schema(
        parameters=[AS_OF, CURRENCY],
        responses={200: AgingSerializer(many=True), **ERRORS},
        summary="Aging per currency on a day",
    )
    def list(self, request):
        day, today = _as_of(request)
        body = [
            aging_report(as_of=day, today=today, currency=currency)
            for currency in _currencies(request)
        ]
        return Response(AgingSerializer(body, many=True).data)


class MetricsViewSet(viewsets.ViewSet):
    """DSO, countback DSO, best possible DSO, ADD and CEI per month and currency."""

    @extend_schema(
        parameters=[AS_OF, CURRENCY, MONTHS],
        responses={200: MetricsSerializer(many=True), **ERRORS},
        summary="Collection metrics per month up to a day, per currency",
    )
    def list(self, request):
        day, _ = _as_of(request)
        try:
            months = int(request.query_params.get("months", 1))
        except ValueError:
            months = 0
        if not 1 <= months <= 24:
            raise exceptions.ValidationError({"months": ["Give a whole number from 1 to 24."]})
        body = [
            {
                "period_end": month.month_end,
                "partial": month.partial,
                "currency": currency,
                "credit_sales": str(month.credit_sales),
                "ar_open": str(month.ar_open),
                "ar_close": str(month.ar_close),
                "ar_current": str(month.ar_current),
                "dso": _decimal(month.dso),
                "countback_dso": _decimal(month.countback_dso),
                "best_possible_dso": _decimal(month.best_dso),
                "add": _decimal(month.add),
                "cei": _decimal(month.cei),
            }
            for currency in _currencies(request)
            for month in monthly_figures(as_of=day, currency=currency, months=months)
        ]
        return Response(MetricsSerializer(body, many=True).data)
