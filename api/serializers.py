from decimal import Decimal

from rest_framework import serializers

from invoices.models import Customer, Invoice


class ErrorDetailSerializer(serializers.Serializer):
    line = serializers.IntegerField(required=False, help_text="Row of a list, from 1")
    field = serializers.CharField(required=False)
    message = serializers.CharField(required=False)


class ErrorBodySerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    details = ErrorDetailSerializer(many=True)


class ErrorSerializer(serializers.Serializer):
    """Every error the API returns."""

    error = ErrorBodySerializer()


class CustomerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = [
            "external_id",
            "name",
            "currency",
            "country",
            "timezone",
            "language",
            "payment_terms_days",
            "credit_limit",
            "on_hold",
            "credit_hold",
            "updated_at",
        ]
        read_only_fields = fields


class CustomerWriteSerializer(serializers.Serializer):
    """Fields left out keep their value (or the organisation's default on a new customer)."""

    name = serializers.CharField(max_length=200)
    currency = serializers.CharField(max_length=3, required=False)
    country = serializers.CharField(max_length=2, required=False, allow_blank=True)
    timezone = serializers.CharField(max_length=64, required=False)
    language = serializers.CharField(max_length=16, required=False)
    payment_terms_days = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    credit_limit = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=0, required=False, allow_null=True
    )


class CustomerCreateSerializer(CustomerWriteSerializer):
    external_id = serializers.CharField(max_length=64)


class InvoiceSerializer(serializers.ModelSerializer):
    customer = serializers.CharField(source="customer.external_id", read_only=True)

    class Meta:
        model = Invoice
        fields = [
            "number",
            "customer",
            "issue_date",
            "due_date",
            "currency",
            "amount",
            "open_balance",
            "status",
            "updated_at",
        ]
        read_only_fields = fields


class InvoiceWriteSerializer(serializers.Serializer):
    customer = serializers.CharField(max_length=64, help_text="The customer's external id")
    issue_date = serializers.DateField()
    due_date = serializers.DateField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0.01"))
    currency = serializers.CharField(max_length=3, required=False)


class InvoiceCreateSerializer(InvoiceWriteSerializer):
    number = serializers.CharField(max_length=64)
