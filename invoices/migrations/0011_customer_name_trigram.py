from django.db import migrations

# Django renders name__icontains on PostgreSQL as UPPER("name"::text) LIKE UPPER(%s): a
# trigram index on that same expression lets a search read only the names that can match
# instead of every customer. SQLite keeps scanning; it only holds small data sets.
INDEX = "invoices_customer_name_trgm"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON invoices_customer "
        "USING gin (UPPER(name::text) gin_trgm_ops)"
    )
    # Statistics on the indexed expression let the planner tell a broad term ("Ltd") from
    # a narrow one; without them it guesses the same share of matches for every term.
    schema_editor.execute("ANALYZE invoices_customer")


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # The extension stays: other indexes may come to rely on it.
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("invoices", "0010_changed_order_indexes"),
    ]

    operations = [
        migrations.RunPython(create_index, drop_index, elidable=False),
    ]
