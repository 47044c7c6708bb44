class LedgerError(Exception):
    """A change the ledger refuses; the message is fit to show to the user."""


class CurrencyMismatch(LedgerError):
    pass


class OverAllocation(LedgerError):
    pass


class InvoiceNotOpen(LedgerError):
    pass


class DisputeError(LedgerError):
    pass
