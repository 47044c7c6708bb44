"""Temporary tables that hold an import while it is checked and applied, and the few SQL
spellings that differ between PostgreSQL and SQLite.

Amounts travel as integer cents: SQLite keeps decimals as floating point, and sums or
comparisons of floats would drift by a fraction of a cent."""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from django.db import connection

SQLITE_BATCH = 5_000


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def differs(a: str, b: str) -> str:
    """a <> b where NULL equals NULL."""
    return f"{a} IS DISTINCT FROM {b}" if is_postgres() else f"{a} IS NOT {b}"


def to_cents(expr: str) -> str:
    return f"CAST(ROUND({expr} * 100) AS BIGINT)"


def from_cents(expr: str) -> str:
    return f"({expr}) / 100.0"


class TempTable:
    """A temporary table; rows are loaded into `columns`, `derived` ones are filled by SQL."""

    def __init__(
        self,
        name: str,
        columns: Sequence[tuple[str, str]],
        derived: Sequence[tuple[str, str]] = (),
    ):
        self.name = name
        self.columns = [*columns, *derived]
        self.names = [column for column, _ in columns]

    def create(self, cursor) -> None:
        definition = ", ".join(f"{column} {kind}" for column, kind in self.columns)
        cursor.execute(f"DROP TABLE IF EXISTS {self.name}")
        cursor.execute(f"CREATE TEMPORARY TABLE {self.name} ({definition})")

    def drop(self, cursor) -> None:
        cursor.execute(f"DROP TABLE IF EXISTS {self.name}")

    def analyze(self, cursor) -> None:
        # Autovacuum never analyses temporary tables; without statistics PostgreSQL plans
        # the joins against a million staged rows as if there were a handful.
        if is_postgres():
            cursor.execute(f"ANALYZE {self.name}")

    @contextmanager
    def loader(self, cursor) -> Iterator:
        """Yields add(row); rows go in with COPY on PostgreSQL, in batches on SQLite."""
        columns = ", ".join(self.names)
        if is_postgres():
            with cursor.copy(f"COPY {self.name} ({columns}) FROM STDIN") as copy:
                yield copy.write_row
            return
        sql = f"INSERT INTO {self.name} ({columns}) VALUES ({', '.join(['%s'] * len(self.names))})"
        pending = []

        def add(row):
            pending.append(row)
            if len(pending) >= SQLITE_BATCH:
                cursor.executemany(sql, pending)
                pending.clear()

        yield add
        if pending:
            cursor.executemany(sql, pending)


# Ids of invoices whose balance must be derived again before the import commits.
TOUCHED = TempTable("import_touched", [("id", "BIGINT PRIMARY KEY")])
# Ids of existing records the import changes (each gets its own audit event).
CHANGED = TempTable("import_changed", [("id", "BIGINT PRIMARY KEY")])


def remember_ids(cursor, table: TempTable, select_sql: str, params: Sequence = ()) -> None:
    """Add the ids a query returns (as column id) to an id table, once each."""
    # ON CONFLICT rather than NOT EXISTS on the table being filled: a plan that scans the
    # growing table once per row would turn quadratic. (SQLite needs the WHERE to parse it.)
    cursor.execute(
        f"INSERT INTO {table.name} (id) SELECT DISTINCT x.id FROM ({select_sql}) x "
        f"WHERE x.id IS NOT NULL ON CONFLICT (id) DO NOTHING",
        params,
    )


def changed_any(cursor) -> bool:
    cursor.execute(f"SELECT 1 FROM {CHANGED.name} LIMIT 1")
    return cursor.fetchone() is not None


def index_stage(cursor, column: str) -> None:
    """Index the staged rows for the chunked per-record work that follows."""
    cursor.execute(f"CREATE INDEX import_stage_{column} ON import_stage ({column})")


def id_chunks(cursor, table: TempTable, size: int = 2_000) -> Iterator[list[int]]:
    """The ids in an id table, a chunk at a time, so memory stays flat on big imports."""
    last = 0
    while True:
        cursor.execute(
            f"SELECT id FROM {table.name} WHERE id > %s ORDER BY id LIMIT %s", [last, size]
        )
        ids = [row[0] for row in cursor.fetchall()]
        if not ids:
            return
        yield ids
        last = ids[-1]


def dedupe_stage(cursor, key: str) -> None:
    """Keep the first of identical rows (checked identical before this runs)."""
    # Only the duplicates' lines are listed, so the IN list stays small and hashed: a NOT IN
    # over a million first lines would not fit in work_mem and run quadratically.
    cursor.execute(
        f"""
        DELETE FROM import_stage WHERE line IN (
            SELECT s.line FROM import_stage s
            JOIN (SELECT {key}, MIN(line) AS first FROM import_stage
                  GROUP BY {key} HAVING COUNT(*) > 1) d ON d.{key} = s.{key}
            WHERE s.line <> d.first)
        """
    )


def placeholders(values: Sequence) -> str:
    return ", ".join(["%s"] * len(values))
