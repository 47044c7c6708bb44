"""Contacts, payments with their allocations, and credit notes, as the API shows and takes
them. Money is a string with 2 decimals beside its currency."""

from decimal import Decimal

from rest_framework import serializers

from invoices.models import Allocation, Contact, ContactRole, CreditNote, Payment, PaymentMethod

MONEY = {"max_digits": 14, "decimal_places": 2, "min_value": Decimal("0.01")}


class ContactSerializer(serializers.ModelSerializer):
    customer = serializers.CharField(source="customer.external_id", read_only=True)

    class Meta:
        model = Contact
        fields = [
            "id",
            "customer",
            "name",
            "role",
            "email",
            "phone",
            "address",
            "is_primary",
            "email_opt_out",
            "phone_opt_out",
            "post_opt_out",
        ]
        read_only_fields = fields


class ContactWriteSerializer(serializers.Serializer):
    """A contact is named by its customer and email; fields left out keep their value."""

    customer = serializers.CharField(max_length=64, help_text="The customer's external id")
    email = serializers.EmailField(help_text="With the customer, names the contact")
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    role = serializers.ChoiceField(choices=ContactRole.choices, required=False)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    address = serializers.CharField(required=False, allow_blank=True)
    is_primary = serializers.BooleanField(required=False)
    email_opt_out = serializers.BooleanField(required=False)
    phone_opt_out = serializers.BooleanField(required=False)
    post_opt_out = serializers.BooleanField(required=False)


class AllocationSerializer(serializers.ModelSerializer):
    invoice = serializers.CharField(source="invoice.number", read_only=True)

    class Meta:
        model = Allocation
        fields = ["invoice", "amount", "applied_on"]
        read_only_fields = fields


class PaymentSerializer(serializers.ModelSerializer):
    customer = serializers.CharField(source="customer.external_id", read_only=True)
    allocations = AllocationSerializer(many=True, read_only=True)

    class Meta:
        model = Payment
        fields = [
            "id",
            "external_key",
            "customer",
            "received_on",
            "amount",
            "currency",
            "unapplied",
            "reference",
            "method",
            "reversed_on",
            "reversal_reason",
            "allocations",
        ]
        read_only_fields = fields


class PaymentReverseSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=200, help_text="Why it bounced, e.g. cheque returned unpaid"
    )


class AllocationWriteSerializer(serializers.Serializer):
    invoice = serializers.CharField(max_length=64, help_text="The invoice's number")
    amount = serializers.DecimalField(**MONEY)


class PaymentAllocateSerializer(serializers.Serializer):
    allocations = AllocationWriteSerializer(
        many=True,
        required=False,
        allow_empty=False,
        help_text="Invoices of the payment's customer and currency, with the amount to apply "
        "to each; left out, the unapplied amount goes to the oldest open invoices first",
    )


class PaymentWriteSerializer(serializers.Serializer):
    customer = serializers.CharField(max_length=64, help_text="The customer's external id")
    amount = serializers.DecimalField(**MONEY)
    received_on = serializers.DateField()
    currency = serializers.CharField(max_length=3, required=False)
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True)
    method = serializers.ChoiceField(choices=PaymentMethod.choices, required=False)
    external_key = serializers.CharField(
        max_length=64,
        required=False,
        help_text="Your own id of the payment: the same key twice records one payment",
    )
    allocations = serializers.DictField(
        child=serializers.DecimalField(**MONEY),
        required=False,
        allow_empty=False,
        help_text="{invoice number: amount}; left out, the oldest open invoices are paid first",
    )


class CreditNoteSerializer(serializers.ModelSerializer):
    customer = serializers.CharField(source="customer.external_id", read_only=True)
    allocations = AllocationSerializer(many=True, read_only=True)

    class Meta:
        model = CreditNote
        fields = [
            "number",
            "customer",
            "issued_on",
            "amount",
            "currency",
            "reason",
            "is_write_off",
            "allocations",
        ]
        read_only_fields = fields


class CreditNoteWriteSerializer(serializers.Serializer):
    invoice = serializers.CharField(max_length=64, help_text="The number of the invoice credited")
    amount = serializers.DecimalField(**MONEY)
    reason = serializers.CharField(max_length=300)
    issued_on = serializers.DateField()
    number = serializers.CharField(
        max_length=64,
        required=False,
        help_text="Your credit note number: the same number twice issues once; left out, "
        "one is given",
    )
