"""Every constraint and index the models declare exists in the database: a migration that
alters a field can drop an index it did not name (Django drops every single-column index
on a column whose own index goes), and nothing else would notice."""

from django.apps import apps
from django.db import connection


def test_every_declared_constraint_and_index_is_in_the_database(db):
    missing = []
    with connection.cursor() as cursor:
        for model in apps.get_models():
            if not model._meta.managed or model._meta.proxy:
                continue
            found = connection.introspection.get_constraints(cursor, model._meta.db_table)
            for declared in [*model._meta.constraints, *model._meta.indexes]:
                if not _supported(declared):
                    continue
                if declared.name not in found:
                    missing.append(f"{model._meta.label}: {declared.name}")
    assert missing == []


def _supported(declared) -> bool:
    """Django creates nothing for a constraint the database cannot keep (SQLite: a unique
    constraint with NULLs not distinct)."""
    if getattr(declared, "nulls_distinct", None) is None:
        return True
    return connection.features.supports_nulls_distinct_unique_constraints
