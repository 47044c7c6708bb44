"""Reads for the ledger screens.

Each page costs a fixed number of queries however many rows sit behind it: lists select
one page of rows first and then aggregate balances for that page only, so a list over
100,000 customers never sums a million invoices to show fifty of them."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import (
    Case,
    CharField,
    Count,
    DateField,
    DecimalField,
    Exists,
    F,
    Func,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, Concat
from django.utils.functional import cached_property

from accounts.roles import ADMIN, COLLECTOR, MANAGER
from audit.selectors import audit_timeline

from .models import (
    Allocation,
    Customer,
    Dispute,
    DisputeStatus,
    Invoice,
    InvoiceStatus,
    Payment,
)
from .money import ZERO

# An invoice with something left to pay: open, or open but paused by a dispute.
OUTSTANDING = (InvoiceStatus.OPEN, InvoiceStatus.IN_DISPUTE)
MONEY_OUTPUT = DecimalField(max_digits=14, decimal_places=2)

PAGE_SIZE = 50
# Counting every match costs more than the page itself once a million invoices sit behind a
# list; past 20 pages people narrow the filters instead, so we count no further than this.
COUNT_CAP = 1_000

CUSTOMER_FLAGS = ("on_hold", "do_not_contact", "insolvent", "credit_hold")

# Overdue ranges as (fewest, most) days overdue; None is open-ended.
OVERDUE_RANGES = {
    "not_due": (None, 0),
    "1_30": (1, 30),
    "31_60": (31, 60),
    "61_90": (61, 90),
    "90_plus": (91, None),
}


class DaysBetween(Func):
    """Whole days from the second date expression to the first."""

    output_field = IntegerField()

    def as_sql(self, compiler, connection, **extra_context):
        (later, later_params), (earlier, earlier_params) = (
            compiler.compile(e) for e in self.get_source_expressions()
        )
        if connection.vendor == "sqlite":
            sql = f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"
        else:
            # PostgreSQL: date minus date is a whole number of days.
            sql = f"(CAST({later} AS date) - {earlier})"
        return sql, (*later_params, *earlier_params)


class DaysLate(DaysBetween):
    """Whole days from a date column to as_of; negative while the date is still ahead."""

    def __init__(self, expression, as_of: date):
        super().__init__(Value(as_of, output_field=DateField()), expression)


def due_between(as_of: date, fewest: int | None, most: int | None) -> Q:
    """Invoices between fewest and most days overdue, as a due-date range (index friendly)."""
    condition = Q()
    if fewest is not None:
        condition &= Q(due_date__lte=as_of - timedelta(days=fewest))
    if most is not None:
        condition &= Q(due_date__gte=as_of - timedelta(days=most))
    return condition


# --- paging -----------------------------------------------------------------------------


class CappedPaginator(Paginator):
    """A Paginator that counts at most COUNT_CAP rows (SELECT COUNT(*) over a LIMIT subquery).

    `is_capped` tells the template to say "1,000+" instead of a total it never computed."""

    def __init__(self, object_list, per_page=PAGE_SIZE, cap=COUNT_CAP, count_queryset=None):
        super().__init__(object_list, per_page)
        self.cap = cap
        # Without the ordering and the annotations, which a count does not need.
        self.count_queryset = (
            count_queryset if count_queryset is not None else object_list.order_by().values("pk")
        )

    @cached_property
    def count(self):
        found = self.count_queryset[: self.cap + 1].count()
        self.is_capped = found > self.cap
        return min(found, self.cap)

    is_capped = False


@dataclass
class UncountedPage:
    """One page of a list that is too costly to count: it fetches one row more than it
    shows to learn whether a next page exists."""

    object_list: list
    number: int
    has_next: bool
    per_page: int = PAGE_SIZE

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def start_index(self) -> int:
        return (self.number - 1) * self.per_page + 1

    @property
    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self):
        return len(self.object_list)


def page_number(raw) -> int:
    """A page number from the query string; anything odd means the first page."""
    try:
        number = int(raw)
    except (TypeError, ValueError):
        return 1
    return min(max(number, 1), COUNT_CAP // PAGE_SIZE)


def uncounted_page(queryset, raw_number, per_page: int = PAGE_SIZE) -> UncountedPage:
    number = page_number(raw_number)
    start = (number - 1) * per_page
    rows = list(queryset[start : start + per_page + 1])
    return UncountedPage(
        object_list=rows[:per_page], number=number, has_next=len(rows) > per_page, per_page=per_page
    )


# --- customers --------------------------------------------------------------------------


def _sum_of(queryset, field: str):
    """A correlated subquery summing one column; Coalesce turns no rows into zero.

    SUM goes in as a plain function so that Django adds no GROUP BY to the subquery."""
    return Coalesce(
        Subquery(
            queryset.order_by().annotate(total=Func(F(field), function="SUM")).values("total")[:1],
            output_field=MONEY_OUTPUT,
        ),
        ZERO,
        output_field=MONEY_OUTPUT,
    )


# A search term matching at most this many customers is resolved to their ids first, so
# that the list's own query can use its indexes; a broader term is matched in place.
SEARCH_ID_CAP = 500


def customers_matching(q: str, *, prefix: str = "") -> Q:
    """A filter for customers whose name contains q or whose external id is q; with
    prefix="customer__" it filters invoices by their customer."""
    return matching(q, matching_ids(q), prefix=prefix)


def matching(q: str, ids: list[int] | None, *, prefix: str = "") -> Q:
    """customers_matching with the ids already looked up (None: more than the cap)."""
    if ids is None:
        return Q(**{f"{prefix}name__icontains": q}) | Q(**{f"{prefix}external_id": q})
    return Q(**{f"{prefix}pk__in": ids})


def matching_ids(q: str) -> list[int] | None:
    """The ids of the customers q finds, or None when it finds more than SEARCH_ID_CAP."""
    ids = list(
        Customer.objects.filter(Q(name__icontains=q) | Q(external_id=q))
        .order_by()
        .values_list("pk", flat=True)[: SEARCH_ID_CAP + 1]
    )
    return None if len(ids) > SEARCH_ID_CAP else ids


def _overdue_invoices(as_of: date) -> Q:
    return Q(status__in=OUTSTANDING, due_date__lt=as_of)


def customers_search(
    *,
    as_of: date,
    q: str = "",
    collector=None,
    unassigned: bool = False,
    currency: str = "",
    flag: str = "",
    has_overdue: bool = False,
    matched: Q | None = None,
) -> QuerySet[Customer]:
    """Customers matching the list's filters, by name (matched: the search term's filter,
    when already made). Collectors come in a second query rather than a join, which would
    keep the name index from serving the order."""
    customers = Customer.objects.prefetch_related("collector")
    if q:
        customers = customers.filter(matched if matched is not None else customers_matching(q))
    if unassigned:
        customers = customers.filter(collector__isnull=True)
    elif collector is not None:
        customers = customers.filter(collector=collector)
    if currency:
        customers = customers.filter(currency=currency)
    if flag in CUSTOMER_FLAGS:
        customers = customers.filter(**{flag: True})
    if has_overdue:
        overdue = Invoice.objects.filter(_overdue_invoices(as_of), customer=OuterRef("pk"))
        customers = customers.filter(Exists(overdue))
    return customers.order_by("name", "id")


def overdue_ranking(customers: QuerySet[Customer], *, as_of: date, descending: bool = True):
    """Rows of customer_id and overdue_total for the given customers that have anything
    overdue, largest first (or smallest). Summing the overdue invoices alone, grouped by
    customer, is far cheaper than a sum per customer over the whole customers table."""
    invoices = Invoice.objects.filter(_overdue_invoices(as_of))
    if customers.query.has_filters():
        invoices = invoices.filter(customer__in=customers.order_by().values("pk"))
    rows = invoices.order_by().values("customer_id").annotate(overdue_total=Sum("open_balance"))
    return rows.order_by("-overdue_total" if descending else "overdue_total", "customer_id")


def customers_page(*, as_of: date, raw_page, sort: str = "name", **filters):
    """One page of the customer list, with each customer's balances attached.

    Sorting by overdue balance lists only customers with something overdue."""
    q = filters.get("q")
    ids = matching_ids(q) if q else []
    customers = customers_search(as_of=as_of, matched=matching(q, ids) if q else None, **filters)
    if sort in ("overdue", "-overdue"):
        rows = overdue_ranking(customers, as_of=as_of, descending=sort == "-overdue")
        # Counting the customers that have something overdue can stop at the cap; counting
        # the grouped rows would have to finish the whole sum first.
        overdue = Invoice.objects.filter(_overdue_invoices(as_of), customer=OuterRef("pk"))
        counted = customers.filter(Exists(overdue)).order_by().values("pk")
        page = CappedPaginator(rows, count_queryset=counted).get_page(raw_page)
        by_pk = Customer.objects.prefetch_related("collector").in_bulk(
            [row["customer_id"] for row in page.object_list]
        )
        page.object_list = [by_pk[row["customer_id"]] for row in page.object_list]
    else:
        descending = sort == "-name"
        if descending:
            customers = customers.order_by("-name", "-id")
        rows = customers
        if q and ids is None:
            others = customers_search(as_of=as_of, **{**filters, "q": ""})
            rows = _WindowFirst(customers, others, descending=descending)
        counted = customers.order_by().values("pk")
        page = CappedPaginator(rows, count_queryset=counted).get_page(raw_page)
    page.object_list = customer_balances(page.object_list, as_of=as_of)
    return page


# How far along the name order a broad search looks before it sorts all it finds instead.
NAME_WINDOW = 20_000


class _WindowFirst:
    """The customers a broad term finds (more than SEARCH_ID_CAP), in name order, for a
    Paginator. The database either walks the name index, expecting the matches spread
    along it, or sorts every match. Where they sit together far along (a term shared by
    one kind of name), the walk reads most of the table first: 1.5-2.6 s at a million
    customers, against 0.37 s sorting. So a page is looked for first among the first
    NAME_WINDOW names of the list without the term (a range of the name index, however
    the database reads it) and only when that holds fewer than the page asks for are all
    the matches sorted. Both give the same rows: the window is the head of the same order."""

    ordered = True

    def __init__(self, customers, others, *, descending: bool):
        self.customers, self.others, self.descending = customers, others, descending

    def __getitem__(self, rows: slice) -> list:
        window = self._window()
        if window is None:  # a list shorter than the window: any reading is quick
            return list(self.customers[rows])
        found = list(self.customers.filter(window)[rows])
        if len(found) == rows.stop - rows.start:
            return found
        # Ordering by a copy of the name keeps the database off the name index: it finds
        # the matches by their trigrams and sorts them.
        name = Concat("name", Value(""), output_field=CharField())
        order = (name.desc(), "-id") if self.descending else (name.asc(), "id")
        return list(self.customers.order_by(*order)[rows])

    @cached_property
    def _edge(self) -> tuple | None:
        order = ("-name", "-id") if self.descending else ("name", "id")
        edge = self.others.order_by(*order).values_list("name", "id")[NAME_WINDOW - 1 : NAME_WINDOW]
        return next(iter(edge), None)

    def _window(self) -> Q | None:
        """The names up to the window's edge; None when the list is shorter than it."""
        if self._edge is None:
            return None
        name, pk = self._edge
        if self.descending:
            return Q(name__gt=name) | Q(name=name, id__gte=pk)
        return Q(name__lt=name) | Q(name=name, id__lte=pk)


def customer_balances(customers, *, as_of: date) -> list[Customer]:
    """Attach open_total, overdue_total and days_late (oldest overdue invoice) to each
    customer, in one aggregate query over those customers' outstanding invoices."""
    customers = list(customers)
    rows = (
        Invoice.objects.filter(customer_id__in=[c.pk for c in customers], status__in=OUTSTANDING)
        .order_by()
        .values("customer_id")
        .annotate(
            open_total=Sum("open_balance"),
            overdue_total=Sum("open_balance", filter=Q(due_date__lt=as_of)),
            oldest_due=Min("due_date", filter=Q(due_date__lt=as_of)),
        )
    )
    by_customer = {row["customer_id"]: row for row in rows}
    for customer in customers:
        row = by_customer.get(customer.pk, {})
        customer.open_total = row.get("open_total") or ZERO
        customer.overdue_total = row.get("overdue_total") or ZERO
        oldest = row.get("oldest_due")
        customer.days_late = (as_of - oldest).days if oldest else 0
    return customers


def customer_currencies() -> list[str]:
    """The currencies customers are in, for the filters. A DISTINCT would read all 100,000
    customers; this hops from one currency to the next along the index instead."""
    table = connection.ops.quote_name(Customer._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH RECURSIVE found(currency) AS (
                    SELECT MIN(currency) FROM {table}
                    UNION ALL
                    SELECT (SELECT MIN(currency) FROM {table} WHERE currency > found.currency)
                    FROM found WHERE found.currency IS NOT NULL
                )
                SELECT currency FROM found WHERE currency IS NOT NULL"""
        )
        return [currency for (currency,) in cursor.fetchall()]


@dataclass
class AgingBucket:
    key: str
    label: str
    amount: Decimal
    # Share of the open balance, in percent, and where its bar segment starts.
    share: float = 0.0
    offset: float = 0.0


@dataclass
class CustomerTotals:
    open: Decimal
    overdue: Decimal
    disputed: Decimal
    unallocated_credit: Decimal
    aging: list[AgingBucket]
    open_count: int = 0  # invoices with money outstanding


# Buckets by days past due, as (key, label, fewest, most); "current" is not yet due.
AGING = (
    ("current", "Current", None, 0),
    ("1_30", "1–30 days", 1, 30),
    ("31_60", "31–60 days", 31, 60),
    ("61_90", "61–90 days", 61, 90),
    ("90_plus", "90+ days", 91, None),
)


def customer_totals(customer: Customer, *, as_of: date) -> CustomerTotals:
    """Open, overdue and disputed balances, unallocated credit and the aging of the open
    balance, in two queries: one pass over the customer's outstanding invoices, summed per
    bucket, and one for disputes and unapplied payments."""
    buckets = (
        Invoice.objects.filter(customer=customer, status__in=OUTSTANDING)
        .order_by()
        .aggregate(
            count=Count("id"),
            **{
                f"b_{key}": Sum("open_balance", filter=due_between(as_of, fewest, most))
                for key, _label, fewest, most in AGING
            },
        )
    )
    row = (
        Customer.objects.filter(pk=customer.pk)
        .annotate(
            t_disputed=_sum_of(
                Dispute.objects.filter(invoice__customer=OuterRef("pk"), status=DisputeStatus.OPEN),
                "amount",
            ),
            # A reversed (bounced) payment never paid anything in.
            t_paid_in=_sum_of(
                Payment.objects.filter(customer=OuterRef("pk"), reversed_on__isnull=True), "amount"
            ),
            t_applied=_sum_of(
                Allocation.objects.filter(payment__customer=OuterRef("pk")), "amount"
            ),
        )
        .values("t_disputed", "t_paid_in", "t_applied")
        .get()
    )
    aging = [
        AgingBucket(key=key, label=label, amount=buckets[f"b_{key}"] or ZERO)
        for key, label, _fewest, _most in AGING
    ]
    total = sum((bucket.amount for bucket in aging), ZERO)
    offset = 0.0
    for bucket in aging:
        bucket.share = round(float(bucket.amount / total * 100), 2) if total else 0.0
        bucket.offset = offset
        offset += bucket.share
    return CustomerTotals(
        open=total,
        overdue=total - aging[0].amount,
        disputed=row["t_disputed"],
        unallocated_credit=row["t_paid_in"] - row["t_applied"],
        aging=aging,
        open_count=buckets["count"],
    )


def with_days_overdue(invoices, *, as_of: date) -> list[Invoice]:
    """Attach days_late to each invoice so templates need not call a method with an argument."""
    invoices = list(invoices)
    for invoice in invoices:
        invoice.days_late = invoice.days_overdue(as_of)
    return invoices


@dataclass
class CustomerPage:
    """The ledger's part of the customer page; the dunning app adds holds and the timeline."""

    customer: Customer
    totals: CustomerTotals
    contacts: list
    open_invoices: list
    open_disputes: list
    past_disputes: list

    @property
    def more_open_invoices(self) -> bool:
        return self.totals.open_count > len(self.open_invoices)


# The oldest first, as many as a collector reads on one page; a customer with more sees
# the rest in the invoice list (each row costs the page about 0.2 ms to render).
CUSTOMER_PAGE_OPEN_LIMIT = 100
CUSTOMER_PAGE_DISPUTE_LIMIT = 20
# What the page shows of each open invoice: loading no more keeps hundreds of rows cheap.
CUSTOMER_PAGE_INVOICE_FIELDS = (
    "customer_id",
    "number",
    "issue_date",
    "due_date",
    "currency",
    "amount",
    "open_balance",
    "status",
)


def customer_page(customer: Customer, *, as_of: date) -> CustomerPage:
    """The ledger's figures for the customer page, in a fixed number of queries (five)."""
    open_invoices = list(
        Invoice.objects.filter(customer=customer, status__in=OUTSTANDING)
        .only(*CUSTOMER_PAGE_INVOICE_FIELDS)
        .order_by("due_date", "number")[:CUSTOMER_PAGE_OPEN_LIMIT]
    )
    # Open disputes first: at most one per open invoice, so the limit keeps them all and
    # leaves room for the latest resolved ones.
    disputes = list(
        Dispute.objects.filter(invoice__customer=customer)
        .select_related("invoice", "owner", "credit_note")
        .order_by(Case(When(status=DisputeStatus.OPEN, then=0), default=1), "-opened_on", "-id")[
            : CUSTOMER_PAGE_OPEN_LIMIT + CUSTOMER_PAGE_DISPUTE_LIMIT
        ]
    )
    open_disputes = [d for d in disputes if d.is_open]
    return CustomerPage(
        customer=customer,
        totals=customer_totals(customer, as_of=as_of),
        contacts=list(customer.contacts.all()),
        open_invoices=with_days_overdue(open_invoices, as_of=as_of),
        open_disputes=open_disputes,
        past_disputes=[d for d in disputes if not d.is_open][:CUSTOMER_PAGE_DISPUTE_LIMIT],
    )


# --- invoices ---------------------------------------------------------------------------

INVOICE_STATUS_FILTERS = {
    "outstanding": Q(status__in=OUTSTANDING),
    "all": Q(),
    **{status.value: Q(status=status.value) for status in InvoiceStatus},
}


def invoices_search(
    *,
    as_of: date,
    status: str = "outstanding",
    overdue: str = "",
    q: str = "",
    currency: str = "",
    customer_id: int | None = None,
    sort: str = "due",
) -> QuerySet[Invoice]:
    """Invoices matching the list's filters. A single status with the due-date order walks
    the (status, due_date) index, so the default list stays fast on a million rows."""
    # The page's customers come in a second query: a join would make the database pair
    # every matching invoice with its customer before it could pick the first fifty.
    invoices = Invoice.objects.prefetch_related("customer").filter(
        INVOICE_STATUS_FILTERS.get(status, INVOICE_STATUS_FILTERS["outstanding"])
    )
    if overdue in OVERDUE_RANGES:
        # Only money still owed can be overdue.
        invoices = invoices.filter(status__in=OUTSTANDING).filter(
            due_between(as_of, *OVERDUE_RANGES[overdue])
        )
    if customer_id is not None:
        invoices = invoices.filter(customer_id=customer_id)
    if q:
        invoices = invoices.filter(
            Q(number__in={q, q.upper()}) | customers_matching(q, prefix="customer__")
        )
    if currency:
        invoices = invoices.filter(currency=currency)
    if sort == "-due":
        return invoices.order_by("-due_date", "-number")
    return invoices.order_by("due_date", "number")


@dataclass
class InvoicePage:
    invoice: Invoice
    allocations: list
    disputes: list
    timeline: list


def invoice_page(invoice: Invoice, *, as_of: date) -> InvoicePage:
    invoice.days_late = invoice.days_overdue(as_of)
    return InvoicePage(
        invoice=invoice,
        allocations=list(
            invoice.allocations.select_related("payment", "credit_note").order_by(
                "applied_on", "id"
            )
        ),
        disputes=list(invoice.disputes.select_related("owner", "credit_note")),
        timeline=audit_timeline(invoice_id=invoice.pk),
    )


def collectors() -> QuerySet:
    """The people the collector filter offers: active users whose role is Collector, and
    anyone, whatever their role, who has customers assigned (whose figures must stay
    reachable). A manager or an admin holding no customers is not a collector."""
    users = get_user_model().objects
    member = Group.user_set.through.objects.filter(user_id=OuterRef("pk"))
    is_collector = Exists(member.filter(group__name=COLLECTOR)) & ~Exists(
        member.filter(group__name__in=(MANAGER, ADMIN))
    )
    return users.filter(
        (Q(is_active=True, is_superuser=False) & is_collector) | Q(pk__in=_customer_holders())
    ).order_by("first_name", "last_name", "username")


def _customer_holders() -> RawSQL:
    """The distinct collector ids of the customers, as a subquery walking the collector
    index (one probe per collector). A per-user EXISTS is planned as a scan of every
    customer for each user who holds none: the planner expects any id to match early."""
    table = connection.ops.quote_name(Customer._meta.db_table)
    column = connection.ops.quote_name(Customer._meta.get_field("collector").column)
    return RawSQL(
        f"""
        WITH RECURSIVE held(id) AS (
            SELECT MIN({column}) FROM {table}
            UNION ALL
            SELECT (SELECT MIN({column}) FROM {table} WHERE {column} > held.id)
            FROM held WHERE held.id IS NOT NULL
        )
        SELECT id FROM held WHERE id IS NOT NULL
        """,
        [],
    )
