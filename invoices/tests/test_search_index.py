"""Customer search: on PostgreSQL it reads a trigram index rather than every customer's name,
and it finds the same customers either way."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from invoices import selectors
from invoices.selectors import customers_search
from invoices.tests.factories import CustomerFactory
from workspace.queue_selectors import queue_entries

pytestmark = pytest.mark.django_db

on_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the trigram index exists on PostgreSQL only"
)

TODAY = dt.date(2026, 3, 15)
NOW = dt.datetime(2026, 3, 15, 9, tzinfo=dt.UTC)
INDEX = "invoices_customer_name_trgm"
NAMES = [
    "Harbour North Ltd",
    "harbour south",
    "HARBOUR EAST",
    "Café Zoë Ltd",
    "CAFÉ ZOË LTD",
    "50% Off Ltd",
    "5000 Off Ltd",
    "100% Pure",
    "a_b Trading",
    "aXb Trading",
    "Pine Joinery",
]


@pytest.fixture
def customers():
    return {name: CustomerFactory(name=name) for name in NAMES}


def found(q: str) -> list[str]:
    return [c.name for c in customers_search(as_of=TODAY, q=q)]


def set_local(**settings) -> None:
    with connection.cursor() as cursor:
        for name, value in settings.items():
            cursor.execute(f"SET LOCAL {name} = {value}")


def name_searches(run) -> list[str]:
    """The SQL of the queries that matched customer names while run() ran."""
    with CaptureQueriesContext(connection) as queries:
        run()
    return [query["sql"] for query in queries if "LIKE UPPER(" in query["sql"]]


def plan(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_a_search_ignores_the_case_of_names(customers):
    assert found("HARBOUR") == ["HARBOUR EAST", "Harbour North Ltd", "harbour south"]


def test_a_search_finds_names_with_accents(customers):
    assert "Café Zoë Ltd" in found("é Zo")


def test_a_percent_sign_in_the_search_is_matched_literally(customers):
    assert found("0%") == ["100% Pure", "50% Off Ltd"]


def test_an_underscore_in_the_search_is_matched_literally(customers):
    assert found("a_b") == ["a_b Trading"]


@on_postgres
def test_on_postgresql_a_search_ignores_the_case_of_accented_letters(customers):
    assert found("café ZOË") == ["CAFÉ ZOË LTD", "Café Zoë Ltd"]


@on_postgres
def test_the_customer_names_have_a_trigram_index_on_the_searched_expression(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [INDEX])
        (definition,) = cursor.fetchone()

    assert "USING gin (upper((name)::text) gin_trgm_ops)" in definition


@on_postgres
def test_the_queue_search_reads_names_through_the_trigram_index(customers):
    # A handful of rows is always cheaper to scan: forbid that, so that the plan shows
    # whether the index can serve the SQL Django writes.
    set_local(enable_seqscan="off")

    searches = name_searches(lambda: list(queue_entries(now=NOW, today=TODAY, q="harbour")))

    assert searches
    assert all(INDEX in plan(sql) for sql in searches)


@on_postgres
def test_the_customer_list_search_reads_names_through_the_trigram_index(customers):
    set_local(enable_seqscan="off")

    searches = name_searches(lambda: found("Café"))

    assert searches
    assert all(INDEX in plan(sql) for sql in searches)


@on_postgres
@pytest.mark.parametrize(
    "q", ["harbour", "HARBOUR", "Ltd", "café", "CAFÉ", "zoë ltd", "0%", "% ", "a_b", "_", "no"]
)
def test_the_index_finds_exactly_what_reading_every_name_finds(customers, q):
    with_index = found(q)
    set_local(enable_bitmapscan="off", enable_indexscan="off")

    assert with_index == found(q)


@pytest.mark.parametrize("sort", ["name", "-name"])
def test_a_broad_term_lists_the_same_pages_within_the_window_or_sorting_all(monkeypatch, sort):
    """A term finding more customers than are resolved to ids is paged among the first
    names of the list first, and past them by sorting every match: the pages are the same
    as the plain name order's, whether the matches sit at the head of the list, far along
    it or spread over it (pages of 50; the first page of "Aardvark" lies in the window)."""
    monkeypatch.setattr(selectors, "SEARCH_ID_CAP", 2)
    monkeypatch.setattr(selectors, "NAME_WINDOW", 60)
    for n in range(70):
        CustomerFactory(name=f"Aardvark {n:02d}")
    for n in range(5):
        CustomerFactory(name=f"Zebra Crossing {n:02d}")  # together, at the end
        CustomerFactory(name=f"Mid {n} Crossing")

    for q in ("Crossing", "Zebra", "Aardvark", "0"):
        every = sorted(customers_search(as_of=TODAY, q=q), key=lambda c: (c.name, c.pk))
        if sort == "-name":
            every = every[::-1]
        shown = []
        for number in range(1, 5):
            page = selectors.customers_page(as_of=TODAY, raw_page=str(number), sort=sort, q=q)
            shown += [c.name for c in page.object_list]
            if not page.has_next():
                break
        assert shown == [c.name for c in every], q
