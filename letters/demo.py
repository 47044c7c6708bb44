"""The demo's letterhead: what a real firm's letters carry, so the demo's final demands
look like ones that could be posted. All of it made up."""

from .models import LetterSettings
from .services import letter_settings_update

DEMO_LETTERHEAD = {
    "address": "14 Wharf Street\nLeeds\nLS2 7EQ\nUnited Kingdom",
    "company_number": "09876543",
    "vat_id": "GB 287 4519 63",
    "bank_details": (
        "Northgate Bank plc\n"
        "Account name: Dunmore Demo Trading Ltd\n"
        "Sort code 40-11-62 · Account no. 31926819\n"
        "IBAN GB71 NGTB 4011 6231 9268 19\n"
        "BIC NGTBGB2L"
    ),
    "payment_reference": "your account number and the invoice numbers",
    "signature": "Maria Okafor\nCredit Control Manager",
}


def demo_letterhead_set() -> bool:
    """Give the demo its letterhead unless one is already set (an admin's edits stay);
    returns whether it did."""
    current = LetterSettings.current()
    if current.address or current.company_number or current.bank_details:
        return False
    letter_settings_update(actor=None, changes=DEMO_LETTERHEAD)
    return True
