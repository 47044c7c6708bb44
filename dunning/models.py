import datetime as dt
import secrets
import time

from django.conf import settings
from django.db import models
from django.db.models import Q

from invoices.dates import format_day
from invoices.models import MONEY, Contact, Customer, DebtorType, Invoice
from invoices.money import format_money
from letters.models import Document, InterestRegime, TemplateVersion

USER = settings.AUTH_USER_MODEL


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    PHONE = "phone", "Phone task"
    LETTER = "letter", "Letter"
    LEGAL = "legal", "Legal referral"
    TASK = "task", "Internal task"


class StepKind(models.TextChoices):
    CHASE = "chase", "Chase (counted from the due date)"
    CHECK = "check", "Satisfaction check (counted from the issue date, before the due date)"


class CreditorRole(models.TextChoices):
    CREDITOR = "creditor", "Original creditor (collecting our own invoices)"
    AGENCY = "agency", "Collection agency (collecting for others)"


class BarredDebts(models.TextChoices):
    """What a policy does with a debt past its limitation date: it is still owed, but no
    court will enforce it, so no message may say one will."""

    SOFT = "soft", "Soft reminders only (no legal action, no charges)"
    STOP = "stop", "Stop chasing"


class DunningSettings(models.Model):
    """The organisation's contact rules: one row (DunningSettings.current())."""

    window_start = models.TimeField(default=dt.time(9, 0), help_text="Emails go out from")
    window_end = models.TimeField(default=dt.time(17, 0), help_text="Emails go out until")
    phone_start = models.TimeField(default=dt.time(8, 0))
    phone_end = models.TimeField(default=dt.time(21, 0))
    business_days = models.CharField(
        max_length=13, default="0,1,2,3,4", help_text="Weekdays, Monday = 0"
    )
    holiday_country = models.CharField(max_length=2, default="GB", blank=True)
    holiday_subdivision = models.CharField(max_length=10, blank=True)
    min_interval_days = models.PositiveSmallIntegerField(
        default=3, help_text="At most one automated message per customer within this many days"
    )
    promise_grace_days = models.PositiveSmallIntegerField(default=3)
    promise_max_days = models.PositiveSmallIntegerField(
        default=30,
        help_text="A promise to pay can be at most this many days ahead; longer needs a plan",
    )
    plan_grace_days = models.PositiveSmallIntegerField(default=3)
    schedule_minutes = models.PositiveSmallIntegerField(default=15)
    # The credit-hold rule (dunning.credit_hold): blank and off = holds are only set by hand.
    credit_hold_overdue_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Put an account on credit hold once an invoice is this many days overdue",
    )
    credit_hold_over_limit = models.BooleanField(
        db_default=False,
        default=False,
        help_text="Put an account on credit hold once it owes over its limit",
    )
    creditor_role = models.CharField(
        max_length=8,
        choices=CreditorRole.choices,
        default=CreditorRole.CREDITOR,
        help_text="Debt-collection law binds a collection agency more tightly",
    )

    def __str__(self):
        return "Dunning settings"

    @classmethod
    def current(cls) -> "DunningSettings":
        row, _ = cls.objects.get_or_create(pk=1)
        return row

    @property
    def business_weekdays(self) -> frozenset[int]:
        return frozenset(int(d) for d in self.business_days.split(",") if d.strip())


class Policy(models.Model):
    name = models.CharField(max_length=100, unique=True)
    is_default = models.BooleanField(default=False)
    interest_regime = models.CharField(
        max_length=2,
        choices=InterestRegime.choices,
        blank=True,
        help_text="Claim statutory interest and fixed compensation in letters under this law",
    )
    barred_debts = models.CharField(
        max_length=4,
        choices=BarredDebts.choices,
        default=BarredDebts.SOFT,
        help_text="What happens to a debt past its limitation date",
    )
    repeat_every_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Once the ladder is done, send its last step again every this many days "
        "until paid; blank: once",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="policy_one_default"
            )
        ]
        verbose_name_plural = "policies"

    def __str__(self):
        return self.name

    @property
    def current_version(self) -> "PolicyVersion | None":
        return self.versions.order_by("-number").first()


class PolicyVersion(models.Model):
    """An immutable set of steps. Editing a policy creates the next version; a chase stays
    on the version it started on until an admin moves it."""

    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["policy", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "number"], name="policy_version_unique")
        ]

    def __str__(self):
        return f"{self.policy.name} v{self.number}"


class PolicyStep(models.Model):
    version = models.ForeignKey(PolicyVersion, on_delete=models.PROTECT, related_name="steps")
    position = models.PositiveSmallIntegerField(help_text="1 for the first step")
    name = models.CharField(max_length=100)
    offset_days = models.IntegerField(
        help_text="Days from the due date; negative = before (a check: days after issue)"
    )
    kind = models.CharField(
        max_length=5, choices=StepKind.choices, default=StepKind.CHASE, db_default="chase"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    # Phone and legal steps may name no template; messages always do (the editor checks).
    template = models.CharField(
        max_length=100, blank=True, help_text="Template key, e.g. friendly_reminder"
    )
    min_balance = models.DecimalField(**MONEY, default=0)
    business_days_only = models.BooleanField(default=True)
    use_escalation_contact = models.BooleanField(
        default=False, help_text="Address the escalation contact rather than accounts payable"
    )
    response_deadline_days = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Letters: business days given to pay"
    )
    attach_statement = models.BooleanField(
        default=False, help_text="Attach a statement of account (PDF) to the message"
    )
    attach_copies = models.BooleanField(
        db_default=False,
        default=False,
        help_text="Attach the copies of the invoices it chases (PDFs on file)",
    )
    # The UK Pre-Action Protocol for Debt Claims: an individual or sole trader in England
    # and Wales gets a Letter of Claim (with its reply form and financial statement) and
    # calendar days to reply, in place of this letter and its business days. The engine
    # then waits those days (and as many again from a reply asking for documents) before
    # a legal referral. Blank: everyone gets this step's own template.
    pre_action_template = models.CharField(
        max_length=100,
        blank=True,
        help_text="Letters: the template individuals and sole traders in England and Wales "
        "get instead, e.g. letter_of_claim",
    )
    pre_action_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Days they get to reply to it (the Protocol: at least 30)",
    )

    class Meta:
        ordering = ["version", "position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "position"], name="policy_step_position"),
            # The letter says 30 days: the engine may wait longer, never less.
            models.CheckConstraint(
                condition=Q(pre_action_days__isnull=True) | Q(pre_action_days__gte=30),
                name="policy_step_pre_action_days",
            ),
        ]

    def __str__(self):
        return f"{self.position}. {self.name} ({self.offset_days:+d} days, {self.channel})"


class PolicyRule(models.Model):
    """Which policy a customer gets by default: the first rule (lowest position) whose
    conditions all hold; blank conditions hold for everyone. A CustomerPolicy row (an
    explicit choice for one customer) comes before every rule; no rule matching, the
    default policy."""

    position = models.PositiveSmallIntegerField()
    debtor_type = models.CharField(max_length=12, choices=DebtorType.choices, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="Two-letter ISO code")
    min_balance = models.DecimalField(
        **MONEY,
        null=True,
        blank=True,
        help_text="Customers owing at least this much, in their own currency",
    )
    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="rules")

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["position"], name="policy_rule_position"),
        ]

    def __str__(self):
        return f"Rule {self.position} → {self.policy}"


class CustomerPolicy(models.Model):
    """Which policy chases a customer, chosen for it by a person; customers without a row
    get theirs from the policy rules, or the default policy."""

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="dunning")
    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="customers")

    def __str__(self):
        return f"{self.customer} → {self.policy}"


class ChaseStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    CLOSED = "closed", "Closed"


class Chase(models.Model):
    """One cycle of chasing a customer: from the first step until nothing is overdue."""

    # Indexed by chase_cycle_unique, whose first column it is.
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="chases", db_index=False
    )
    cycle = models.PositiveIntegerField()
    policy_version = models.ForeignKey(PolicyVersion, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=10, choices=ChaseStatus.choices, default=ChaseStatus.ACTIVE
    )
    started_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.CharField(max_length=200, blank=True)
    # A person moved the customer to a step (dunning.services.chase_move): this chase starts
    # there, its first step due at once, and the engine says who moved it and why.
    start_position = models.PositiveSmallIntegerField(db_default=1, default=1)
    moved_by = models.ForeignKey(
        USER,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # indexed where set (Meta): few chases are moved
    )
    move_reason = models.CharField(max_length=300, blank=True, db_default="", default="")

    class Meta:
        ordering = ["customer", "-cycle"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "cycle"], name="chase_cycle_unique"),
            models.UniqueConstraint(
                fields=["customer"], condition=Q(status="active"), name="chase_one_active"
            ),
        ]
        indexes = [
            models.Index(
                fields=["moved_by"], name="chase_moved_by", condition=Q(moved_by__isnull=False)
            )
        ]

    def __str__(self):
        return f"Chase {self.cycle} of {self.customer}"


class TouchStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # planned, waiting for delivery
    SENDING = "sending", "Sending"  # claimed by a worker
    # The hand-off began but its result never came back (a crash, a lost reply): it may
    # or may not have gone. Chasing waits until a person or a delivery event settles it.
    UNKNOWN = "unknown", "Outcome unknown"
    SENT = "sent", "Sent"  # the backend accepted it
    DELIVERED = "delivered", "Delivered"
    BOUNCED = "bounced", "Bounced"
    COMPLAINED = "complained", "Complained"
    FAILED = "failed", "Failed"  # gave up; shown in the UI
    SKIPPED = "skipped", "Skipped"  # the step's conditions were not met; the chase moves on
    CANCELLED = "cancelled", "Cancelled"  # paid, disputed or paused before delivery
    DONE = "done", "Done"  # tasks created (phone, referral, internal)


def touch_ref() -> str:
    return touch_refs(1)[0]


def touch_refs(count: int) -> list[str]:
    """count refs of 32 hex digits: the time in milliseconds, then 80 random bits (read
    from the system's randomness once for all of them; a run makes tens of thousands).

    Random bits alone would be as unguessable, but a new ref would land anywhere in the
    unique index on refs: a run adding a million would dirty a page of it for each, in an
    index larger than the database's cache. Led by the time, they are added at its end."""
    stamp = f"{time.time_ns() // 1_000_000:012x}"
    text = secrets.token_hex(10 * count)
    return [stamp + text[start : start + 20] for start in range(0, 20 * count, 20)]


class Touch(models.Model):
    """One contact attempt or collection action. `key` makes planning idempotent:
    one touch per customer, chase cycle and step."""

    key = models.CharField(max_length=100)
    # Unguessable: the Message-ID of every attempt and what ESP metadata carries, so a
    # forged delivery event cannot name a touch by counting.
    ref = models.CharField(max_length=32, default=touch_ref, editable=False)
    # Indexed by touch_customer_created, whose first column it is.
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="touches", db_index=False
    )
    chase = models.ForeignKey(
        Chase, null=True, blank=True, on_delete=models.PROTECT, related_name="touches"
    )
    step = models.ForeignKey(
        PolicyStep, null=True, blank=True, on_delete=models.PROTECT, related_name="touches"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    status = models.CharField(
        max_length=12, choices=TouchStatus.choices, default=TouchStatus.PENDING
    )
    automated = models.BooleanField(default=True)
    scheduled_for = models.DateTimeField()
    reason = models.TextField(blank=True)
    invoices = models.JSONField(
        default=list, blank=True, help_text="[{id, number, due_date, balance}] at planning"
    )
    total = models.DecimalField(**MONEY, default=0)
    currency = models.CharField(max_length=3)
    # The four links a run leaves empty are indexed only where set (Meta.indexes): a run
    # inserts a touch per customer, and each full index would take every one of them.
    contact = models.ForeignKey(
        Contact,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="touches",
        db_index=False,
    )
    to_email = models.EmailField(blank=True)
    subject = models.CharField(max_length=300, blank=True)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    esp_message_id = models.CharField(max_length=200, blank=True)
    template_version = models.ForeignKey(
        TemplateVersion,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    document = models.ForeignKey(
        Document,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="touches",
        db_index=False,
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claims = models.PositiveIntegerField(default=0)  # a worker's claim is its number
    # Set (and committed) just before the message goes to the mail server, cleared when an
    # attempt is put back: a claim that dies with it set may have been sent.
    handoff_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, db_index=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            *(
                models.Index(
                    fields=[link], name=f"touch_{link}", condition=Q(**{f"{link}__isnull": False})
                )
                for link in ("contact", "template_version", "document", "created_by")
            ),
            models.Index(fields=["status", "scheduled_for"], name="touch_status_due"),
            models.Index(fields=["customer", "created_at"], name="touch_customer_created"),
            # Plain indexes: a unique=True or db_index=True CharField also gets a second,
            # LIKE-only index on PostgreSQL that every insert pays for and nothing uses.
            # Where set only: a touch has none until it is handed to the mail service.
            models.Index(
                fields=["esp_message_id"], name="touch_esp_message", condition=~Q(esp_message_id="")
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["key"], name="touch_key_unique"),
            models.UniqueConstraint(fields=["ref"], name="touch_ref_unique"),
        ]

    def __str__(self):
        return f"{self.get_channel_display()} to {self.customer_id} ({self.status})"

    @property
    def message_id(self) -> str:
        """The Message-ID header of every attempt at this touch."""
        domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip("<> ") or "dunmore"
        return f"<{self.ref}@{domain}>"


class TaskKind(models.TextChoices):
    CALL = "call", "Phone call"
    FIX_CONTACT = "fix_contact", "Fix a contact"
    CHECK_SEND = "check_send", "Check whether a message went"
    REFERRAL = "referral", "Legal referral to approve"
    INTERNAL = "internal", "Internal task"


class TaskStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


class CallOutcome(models.TextChoices):
    PROMISE = "promise", "Promise to pay"
    DISPUTE = "dispute", "Dispute"
    PLAN_REQUESTED = "plan_requested", "Plan requested"
    SPOKE = "spoke", "Spoke, no commitment"
    NO_ANSWER = "no_answer", "No answer"
    WRONG_NUMBER = "wrong_number", "Wrong number"
    CALL_BACK = "call_back", "Call back later"


# Outcomes where the collector spoke with the debtor: for consumers no further call for
# seven days afterwards (Regulation F, 12 CFR 1006.14).
CONVERSATION_OUTCOMES = {
    CallOutcome.PROMISE,
    CallOutcome.DISPUTE,
    CallOutcome.PLAN_REQUESTED,
    CallOutcome.SPOKE,
}


class Task(models.Model):
    """Work for a person: a call to make, a contact to fix, a referral to approve."""

    kind = models.CharField(max_length=12, choices=TaskKind.choices)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="tasks")
    touch = models.ForeignKey(
        Touch, null=True, blank=True, on_delete=models.PROTECT, related_name="tasks"
    )
    assigned_to = models.ForeignKey(
        USER,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="dunning_tasks",
        db_index=False,  # task_queue leads with it
    )
    title = models.CharField(max_length=200)
    detail = models.TextField(blank=True)
    due_at = models.DateTimeField()
    window_end = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    outcome = models.CharField(max_length=16, choices=CallOutcome.choices, blank=True)
    notes = models.TextField(blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        USER,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # indexed where set (Meta): a task is created open
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["assigned_to", "status", "due_at"], name="task_queue"),
            models.Index(
                fields=["completed_by"],
                name="task_completed_by",
                condition=Q(completed_by__isnull=False),
            ),
        ]

    def __str__(self):
        return self.title


class HoldStatus(models.TextChoices):
    OPEN = "open", "Open"
    KEPT = "kept", "Kept"
    BROKEN = "broken", "Broken"
    CANCELLED = "cancelled", "Cancelled"


class PromiseToPay(models.Model):
    """The customer's word to pay an amount by a date; pauses dunning of the invoices it
    lists until the date plus grace. Promises recorded before they always listed their
    invoices may list none: those cover the whole account."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="promises")
    invoices = models.ManyToManyField(Invoice, blank=True, related_name="promises")
    amount = models.DecimalField(**MONEY)
    promised_for = models.DateField()
    grace_days = models.PositiveSmallIntegerField(default=3)
    status = models.CharField(max_length=10, choices=HoldStatus.choices, default=HoldStatus.OPEN)
    made_on = models.DateField()
    resolved_on = models.DateField(null=True, blank=True)
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-promised_for", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="promise_amount_positive")
        ]

    def __str__(self):
        return f"Promise of {self.amount} by {format_day(self.promised_for)}"

    @property
    def holds_until(self) -> dt.date:
        return self.promised_for + dt.timedelta(days=self.grace_days)


class PlanStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Completed"
    BROKEN = "broken", "Broken"
    CANCELLED = "cancelled", "Cancelled"


class PaymentPlan(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="plans")
    status = models.CharField(max_length=10, choices=PlanStatus.choices, default=PlanStatus.ACTIVE)
    agreed_on = models.DateField()
    grace_days = models.PositiveSmallIntegerField(default=3)
    note = models.TextField(blank=True)
    ended_on = models.DateField(null=True, blank=True)
    promissory_note = models.ForeignKey(
        Document, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-agreed_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"], condition=Q(status="active"), name="plan_one_active"
            )
        ]

    def __str__(self):
        return f"Payment plan for {self.customer} from {format_day(self.agreed_on)}"


class Instalment(models.Model):
    plan = models.ForeignKey(PaymentPlan, on_delete=models.CASCADE, related_name="instalments")
    due_date = models.DateField()
    amount = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["plan", "due_date"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="instalment_amount_positive")
        ]

    def __str__(self):
        return f"{self.amount} due {format_day(self.due_date)}"


class DeliveryEvent(models.Model):
    """An ESP tracking event, stored once: webhooks can arrive twice and out of order."""

    event_id = models.CharField(max_length=200, unique=True)
    touch = models.ForeignKey(
        Touch, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    event_type = models.CharField(max_length=30)
    recipient = models.CharField(max_length=254, blank=True)
    occurred_at = models.DateTimeField()
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.event_type} {self.event_id}"


class ReferralStatus(models.TextChoices):
    APPROVED = "approved", "Approved"
    DECLINED = "declined", "Declined"


class Referral(models.Model):
    """A manager's decision on a proposed legal referral. An approved referral puts the
    customer "in legal": automated contact stops, and the pack goes to the lawyer."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="referrals")
    task = models.OneToOneField(Task, on_delete=models.PROTECT, related_name="referral")
    status = models.CharField(max_length=10, choices=ReferralStatus.choices)
    reason = models.TextField(blank=True)
    total = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    invoices = models.JSONField(default=list, help_text="[{number, due_date, balance}]")
    pack = models.ForeignKey(
        Document, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField()

    class Meta:
        ordering = ["-decided_at", "-id"]
        indexes = [models.Index(fields=["customer", "status"], name="referral_customer")]

    def __str__(self):
        return f"Referral of {self.customer} ({self.status})"


class ClaimKind(models.TextChoices):
    """What the claim rests on: the law gives each its own limitation period. Invoices are
    open accounts unless a signed contract is on file (LEGAL.md)."""

    OPEN_ACCOUNT = "open_account", "Open account"
    WRITTEN_CONTRACT = "written_contract", "Written contract"
    SALE_OF_GOODS = "sale_of_goods", "Sale of goods"


class LimitationPeriod(models.Model):
    """How long a debt can be sued for, by jurisdiction and kind of claim (LEGAL.md; admins
    keep it current). An empty region is the whole country. A row applies to debts falling
    due from valid_from until the next row for the same jurisdiction and kind."""

    country = models.CharField(max_length=2)
    region = models.CharField(
        max_length=64, blank=True, help_text="ISO 3166-2 code without the country, e.g. NY"
    )
    kind = models.CharField(
        max_length=16, choices=ClaimKind.choices, default=ClaimKind.OPEN_ACCOUNT
    )
    valid_from = models.DateField(
        default=dt.date(2000, 1, 1), help_text="For debts falling due on or after this date"
    )
    years = models.PositiveSmallIntegerField()
    restarts = models.BooleanField(
        default=False,
        help_text="A part-payment or a written acknowledgement starts the period again",
    )
    note = models.CharField(max_length=200, blank=True, help_text="What it is and its source")

    class Meta:
        ordering = ["country", "region", "kind", "valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["country", "region", "kind", "valid_from"], name="limitation_once"
            ),
            models.CheckConstraint(condition=Q(years__gt=0), name="limitation_years_positive"),
        ]

    def __str__(self):
        where = f"{self.country}-{self.region}" if self.region else self.country
        return f"{where}, {self.get_kind_display().lower()}: {self.years} years"


class Claimant(models.TextChoices):
    """Who brings a small claim: some courts set a lower limit for businesses."""

    INDIVIDUAL = "individual", "An individual"
    BUSINESS = "business", "A business"


class SmallClaimsLimit(models.Model):
    """The most a small-claims court hears, by jurisdiction (LEGAL.md; admins keep it
    current), and a typical court fee. An empty region is the whole country; an empty
    claimant is anyone."""

    country = models.CharField(max_length=2)
    region = models.CharField(max_length=64, blank=True, help_text="e.g. CA, NY")
    claimant = models.CharField(max_length=10, choices=Claimant.choices, blank=True)
    valid_from = models.DateField(default=dt.date(2000, 1, 1))
    limit = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    fee = models.DecimalField(
        **MONEY, null=True, blank=True, help_text="Typical court fee for a claim near the limit"
    )
    note = models.CharField(max_length=300, blank=True, help_text="Which court, fee rules")

    class Meta:
        ordering = ["country", "region", "claimant", "valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["country", "region", "claimant", "valid_from"], name="small_claims_once"
            ),
            models.CheckConstraint(condition=Q(limit__gt=0), name="small_claims_limit_positive"),
        ]

    def __str__(self):
        where = f"{self.country}-{self.region}" if self.region else self.country
        return f"{where}: {format_money(self.limit, self.currency)}"


class Acknowledgement(models.Model):
    """The debtor acknowledged the debt in writing (a signed letter, an email). Where the
    jurisdiction says so, it starts the limitation period again for the invoices it names,
    or for all the customer owed that day when it names none."""

    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="acknowledgements", db_index=False
    )
    invoices = models.ManyToManyField(Invoice, blank=True, related_name="+")
    acknowledged_on = models.DateField()
    note = models.CharField(max_length=500, help_text="What they wrote, and where it is kept")
    recorded_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-acknowledged_on", "-id"]
        indexes = [
            models.Index(fields=["customer", "acknowledged_on"], name="acknowledgement_customer")
        ]

    def __str__(self):
        return f"Acknowledgement by {self.customer} on {format_day(self.acknowledged_on)}"


class CheckAnswer(models.TextChoices):
    ALL_IN_ORDER = "in_order", "All in order"
    PROBLEM = "problem", "There is a problem"


class SatisfactionAnswer(models.Model):
    """The customer's answer to the satisfaction check for one invoice: "all in order" is
    kept with the acknowledgement it makes, "a problem" with the dispute it opens. One
    answer per invoice: the first one stands."""

    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="satisfaction_answers", db_index=False
    )
    invoice = models.OneToOneField(
        Invoice, on_delete=models.PROTECT, related_name="satisfaction_answer"
    )
    touch = models.ForeignKey(
        "Touch", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answer = models.CharField(max_length=8, choices=CheckAnswer.choices)
    answered_at = models.DateTimeField()
    # The invoice was not yet due when answered: what the report counts as found early.
    before_due = models.BooleanField()
    acknowledgement = models.ForeignKey(
        Acknowledgement, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    dispute = models.ForeignKey(
        "invoices.Dispute", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-answered_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "answered_at"], name="satisfaction_customer"),
            models.Index(fields=["answered_at"], name="satisfaction_answered"),
        ]

    def __str__(self):
        return f"{self.get_answer_display()} for invoice {self.invoice_id}"


class DocumentsRequest(models.Model):
    """The debtor replied to a Letter of Claim asking for documents (a copy of the
    agreement, the invoices, a statement). Under the Pre-Action Protocol the creditor then
    waits again before going to court: the engine gives them the reply period once more
    from this day."""

    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="documents_requests", db_index=False
    )
    requested_on = models.DateField(help_text="The date of their reply")
    note = models.CharField(max_length=500, help_text="What they asked for")
    recorded_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-requested_on", "-id"]
        indexes = [
            models.Index(fields=["customer", "requested_on"], name="documents_request_customer")
        ]

    def __str__(self):
        return f"Documents requested by {self.customer} on {format_day(self.requested_on)}"


class Priority(models.IntegerChoices):
    """The queue's classes, worked in this order (PRODUCT.md: what is worth chasing first)."""

    ACT_NOW = 0, "Act now"  # a broken promise, or a phone task that is due
    CHASE = 1, "Chase"  # overdue and not paused
    WAITING = 2, "Waiting"  # overdue but paused: promise, plan, hold, dispute, legal
    NOT_DUE = 3, "Not due"  # open invoices, none overdue: not in the queue


class QueueEntry(models.Model):
    """One row per chased customer: what the collector's queue shows and sorts by.

    Written by every dunning run from the facts and plans it loads anyway, and rewritten
    for a customer straight after anything a collector does to them, so the queue page is
    an index scan on (collector, priority, weight) rather than a sum over a million
    invoices. Derived data only: deleting every row loses nothing the next run won't
    rebuild."""

    customer = models.OneToOneField(
        Customer, primary_key=True, on_delete=models.CASCADE, related_name="queue_entry"
    )
    collector = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    currency = models.CharField(max_length=3)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices)
    # Overdue balance weighted by days late: sum of balance x days late, as of planned_at.
    weight = models.DecimalField(max_digits=20, decimal_places=2, default=0)
    open_total = models.DecimalField(**MONEY, default=0)
    overdue_total = models.DecimalField(**MONEY, default=0)  # not in dispute
    overdue_count = models.PositiveIntegerField(default=0)
    disputed_total = models.DecimalField(**MONEY, default=0)
    oldest_due = models.DateField(null=True, blank=True)  # oldest overdue, not in dispute
    last_touch_at = models.DateTimeField(null=True, blank=True)
    last_touch = models.CharField(max_length=100, blank=True)
    next_step = models.CharField(max_length=100, blank=True)
    next_channel = models.CharField(max_length=10, blank=True)
    next_at = models.DateTimeField(null=True, blank=True)
    next_reason = models.TextField(blank=True)  # the engine's reason, or why nothing is due
    paused_by = models.TextField(blank=True)
    paused_until = models.DateField(null=True, blank=True)
    call_due_at = models.DateTimeField(null=True, blank=True)  # earliest open phone task
    broken_promise = models.BooleanField(default=False)
    promise = models.BooleanField(default=False)
    promised_for = models.DateField(null=True, blank=True)  # the open promise's date
    plan = models.BooleanField(default=False)
    on_hold = models.BooleanField(default=False)
    disputed = models.BooleanField(default=False)
    in_legal = models.BooleanField(default=False)
    no_contact = models.BooleanField(default=False)  # do not contact, or insolvent
    credit_hold = models.BooleanField(db_default=False, default=False)  # no new sales on credit
    planned_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["priority", "-weight", "customer"], name="queue_rank"),
            models.Index(
                fields=["collector", "priority", "-weight", "customer"],
                name="queue_rank_collector",
            ),
            # An age bucket is a narrow slice of oldest_due: found here, then sorted.
            models.Index(fields=["oldest_due"], name="queue_oldest_due"),
            # The few flagged rows in queue order, so a flag filter never walks the rest.
            models.Index(
                fields=["priority", "-weight", "customer"],
                name="queue_flagged",
                condition=Q(broken_promise=True)
                | Q(promise=True)
                | Q(plan=True)
                | Q(on_hold=True)
                | Q(disputed=True)
                | Q(in_legal=True)
                | Q(no_contact=True)
                | Q(credit_hold=True),
            ),
            # What goes out next, soonest first (the managers' seven-day preview).
            models.Index(
                fields=["next_at", "customer"],
                name="queue_next_at",
                condition=Q(next_at__isnull=False),
            ),
        ]

    def __str__(self):
        return f"{self.customer_id}: {self.get_priority_display()}"


class Run(models.Model):
    """One scheduled dunning run, as the worker ran it: /healthz and /metrics read when the
    last one finished. Kept here rather than read from django-q2's task results, which keep
    only the newest few hundred tasks of every kind, so a burst of other work cannot hide
    the last run. A run whose worker died has no finished_at."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    succeeded = models.BooleanField(null=True)  # None while running (or if its worker died)
    touches = models.IntegerField(default=0)  # what it planned and recorded
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        indexes = [models.Index(fields=["finished_at"], name="dunning_run_finished")]

    def __str__(self):
        return f"run {self.started_at:%Y-%m-%d %H:%M}"
