"""Restore the index behind chase_one_active (one active chase per customer).

Migration 0003 took the plain index off Chase.customer, and on PostgreSQL Django's
AlterField dropped every single-column index on customer_id with it, this partial unique
one included: the model kept declaring the constraint while the database no longer kept
it. Created again only where it is missing."""

from django.db import migrations

CREATE = (
    "CREATE UNIQUE INDEX IF NOT EXISTS chase_one_active "
    "ON dunning_chase (customer_id) WHERE status = 'active'"
)


class Migration(migrations.Migration):
    dependencies = [("dunning", "0019_touch_links_indexed_where_set")]

    operations = [migrations.RunSQL(CREATE, reverse_sql=migrations.RunSQL.noop)]
