"""CSV import of customers, invoices and payments: all or nothing, idempotent, streaming."""

from .apply import KINDS, ImportRejected, ImportResult, import_run
from .columns import ISO_DATE, SCHEMAS, HeaderError, parse_mapping

__all__ = [
    "ISO_DATE",
    "KINDS",
    "SCHEMAS",
    "HeaderError",
    "ImportRejected",
    "ImportResult",
    "import_run",
    "parse_mapping",
]
