"""Remembered column mappings: how one source system's export maps onto our columns."""

from django.db import transaction

from invoices.models import ColumnMapping

from .columns import ISO_DATE


def column_mapping_for(*, kind: str, source: str) -> ColumnMapping | None:
    if not source:
        return None
    return ColumnMapping.objects.filter(kind=kind, source=source).first()


@transaction.atomic
def column_mapping_save(
    *, kind: str, source: str, mapping: dict[str, str], date_format: str = ISO_DATE
) -> ColumnMapping:
    """Remember a mapping for the next file of this kind from this source."""
    saved, _ = ColumnMapping.objects.update_or_create(
        kind=kind, source=source, defaults={"mapping": mapping, "date_format": date_format}
    )
    return saved
