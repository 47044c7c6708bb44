"""The collections resources' JSON: disputes, promises, payment plans, notes, touches, tasks.

A customer is named by its external id and an invoice by its number, as elsewhere in the API;
money is a string with 2 decimals next to its currency."""

from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from dunning.models import CallOutcome, Instalment, PaymentPlan, PromiseToPay, Task, Touch
from invoices.models import Dispute, DisputeReason, DisputeStatus

MONEY = {"max_digits": 14, "decimal_places": 2}
POSITIVE = {**MONEY, "min_value": Decimal("0.01")}


class DisputeSerializer(serializers.ModelSerializer):
    invoice = serializers.CharField(source="invoice.number", read_only=True)
    customer = serializers.CharField(source="invoice.customer.external_id", read_only=True)
    currency = serializers.CharField(source="invoice.currency", read_only=True)

    class Meta:
        model = Dispute
        fields = [
            "id",
            "invoice",
            "customer",
            "reason",
            "detail",
            "amount",
            "currency",
            "status",
            "raised_via",
            "opened_on",
            "resolved_on",
            "resolution_note",
        ]
        read_only_fields = fields


class DisputeOpenSerializer(serializers.Serializer):
    invoice = serializers.CharField(max_length=64, help_text="The invoice's number")
    reason = serializers.ChoiceField(choices=DisputeReason.choices)
    detail = serializers.CharField(required=False, allow_blank=True, default="")
    amount = serializers.DecimalField(
        **POSITIVE, required=False, help_text="Default: the invoice's open balance"
    )


class DisputeResolveSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(
        choices=[
            (DisputeStatus.RESOLVED_FOR_US, DisputeStatus.RESOLVED_FOR_US.label),
            (DisputeStatus.RESOLVED_FOR_CUSTOMER, DisputeStatus.RESOLVED_FOR_CUSTOMER.label),
        ]
    )
    note = serializers.CharField(required=False, allow_blank=True, default="")
    credit_amount = serializers.DecimalField(
        **POSITIVE,
        required=False,
        help_text="Resolved for the customer: the credit note (default: the amount in dispute)",
    )


class PromiseSerializer(serializers.ModelSerializer):
    customer = serializers.CharField(source="customer.external_id", read_only=True)
    currency = serializers.CharField(source="customer.currency", read_only=True)
    invoices = serializers.SlugRelatedField(slug_field="number", many=True, read_only=True)

    class Meta:
        model = PromiseToPay
        fields = [
            "id",
            "customer",
            "amount",
            "currency",
            "promised_for",
            "grace_days",
            "status",
            "made_on",
            "resolved_on",
            "note",
            "invoices",
        ]
        read_only_fields = fields


class PromiseCreateSerializer(serializers.Serializer):
    customer = serializers.CharField(max_length=64, help_text="The customer's external id")
    amount = serializers.DecimalField(**POSITIVE)
    promised_for = serializers.DateField()
    invoices = serializers.ListField(
        child=serializers.CharField(max_length=64),
        required=False,
        default=list,
        help_text="Invoice numbers; none: those overdue today",
    )
    grace_days = serializers.IntegerField(min_value=0, max_value=365, required=False)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class CancelSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")


API_CALL_OUTCOMES = [
    (value, label)
    for value, label in CallOutcome.choices
    # A promise or a dispute has its own endpoint, with the data it needs.
    if value not in (CallOutcome.PROMISE, CallOutcome.DISPUTE)
]


class TaskCompleteSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(
        choices=API_CALL_OUTCOMES,
        required=False,
        help_text="A call's outcome (required for a call task); record a promise or a dispute "
        "with POST /promises/ or /disputes/ and complete the call as spoke",
    )
    notes = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    call_back_at = serializers.DateTimeField(
        required=False, help_text="With outcome call_back: when they asked to be called"
    )


class PlanCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, help_text="Why the plan ends, for the timeline")


class InstalmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Instalment
        fields = ["due_date", "amount"]


class PlanSerializer(serializers.ModelSerializer):
    customer = serializers.CharField(source="customer.external_id", read_only=True)
    currency = serializers.CharField(source="customer.currency", read_only=True)
    instalments = InstalmentSerializer(many=True, read_only=True)

    class Meta:
        model = PaymentPlan
        fields = [
            "id",
            "customer",
            "status",
            "agreed_on",
            "grace_days",
            "note",
            "ended_on",
            "currency",
            "instalments",
        ]
        read_only_fields = fields


class InstalmentWriteSerializer(serializers.Serializer):
    due_date = serializers.DateField()
    amount = serializers.DecimalField(**POSITIVE)


class PlanCreateSerializer(serializers.Serializer):
    customer = serializers.CharField(max_length=64, help_text="The customer's external id")
    instalments = InstalmentWriteSerializer(many=True, allow_empty=False)
    grace_days = serializers.IntegerField(min_value=0, max_value=365, required=False)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class NoteSerializer(serializers.Serializer):
    """A note is the audit event that records it (ledger.note.added)."""

    id = serializers.IntegerField(read_only=True)
    customer = serializers.CharField(source="customer_external_id", read_only=True)
    text = serializers.SerializerMethodField()
    author = serializers.CharField(source="actor_label", read_only=True)
    at = serializers.DateTimeField(read_only=True)

    def get_text(self, event) -> str:
        return event.data.get("text", "")


class NoteCreateSerializer(serializers.Serializer):
    customer = serializers.CharField(max_length=64, help_text="The customer's external id")
    text = serializers.CharField(max_length=2000)


class TouchInvoiceSerializer(serializers.Serializer):
    number = serializers.CharField()
    due_date = serializers.CharField()
    balance = serializers.CharField()


class TouchSerializer(serializers.ModelSerializer):
    customer = serializers.CharField(source="customer.external_id", read_only=True)
    step = serializers.CharField(source="step.name", read_only=True, allow_null=True)
    invoices = serializers.SerializerMethodField()

    class Meta:
        model = Touch
        fields = [
            "id",
            "ref",
            "customer",
            "channel",
            "status",
            "step",
            "automated",
            "scheduled_for",
            "sent_at",
            "total",
            "currency",
            "invoices",
        ]
        read_only_fields = fields

    @extend_schema_field(TouchInvoiceSerializer(many=True))
    def get_invoices(self, touch):
        # As planned: the invoices and balances the touch spoke of, not today's.
        return [
            {
                "number": str(row.get("number", "")),
                "due_date": str(row.get("due_date", "")),
                "balance": str(row.get("balance", "")),
            }
            for row in touch.invoices or []
        ]


class TaskSerializer(serializers.ModelSerializer):
    customer = serializers.CharField(source="customer.external_id", read_only=True)
    assigned_to = serializers.CharField(
        source="assigned_to.username", read_only=True, allow_null=True
    )

    class Meta:
        model = Task
        fields = [
            "id",
            "kind",
            "customer",
            "title",
            "detail",
            "due_at",
            "status",
            "outcome",
            "notes",
            "assigned_to",
            "completed_at",
        ]
        read_only_fields = fields
