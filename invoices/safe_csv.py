"""Writing CSV that people open in a spreadsheet, without handing it formulas to run.

A spreadsheet reads a cell that starts with = + - or @ as a formula, and one that starts with
a tab or a carriage return may be trimmed into one; a customer called
=HYPERLINK("http://evil","x") would otherwise become a live link in a manager's export. Every
CSV a person downloads or prints goes through writer() here.

The rule for each cell (OWASP's advice on CSV injection, with numbers kept usable):

- None is an empty cell.
- Numbers (Decimal, int, float) are written in plain digits: Decimal("-12.50") is -12.50,
  never 1E+3 or another form a spreadsheet might read as something else.
- Text that is a plain decimal number (an optional minus, digits, optionally a dot and
  digits) is left as it is: -12.50 is read as a number, never as a formula, and amounts must
  stay numbers that can be summed.
- Any other text whose first character, after leading spaces and line feeds, is = + - @ tab
  or carriage return gets a leading single quote, which spreadsheets show as text and do not
  evaluate: '=HYPERLINK(...), '-2+3, '@SUM(A1). Leading spaces count because an importer
  that trims them would uncover the formula behind.

A program reading the file back sees the quote too: the price of a file that is safe to open."""

import csv
import math
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from .money import AMOUNT_TEXT

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> str:
    """The text a value is written as, neutralised as the module docstring says."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        text = format(value, "f")
    elif isinstance(value, float) and math.isfinite(value):
        text = format(Decimal(repr(value)), "f")
    else:
        text = str(value)
    if text.lstrip(" \n").startswith(FORMULA_STARTS) and not AMOUNT_TEXT.fullmatch(text):
        return "'" + text
    return text


class SafeWriter:
    """csv.writer's writerow and writerows, with every cell passed through cell()."""

    def __init__(self, stream, **options):
        self._writer = csv.writer(stream, **options)

    def writerow(self, row: Iterable[Any]):
        return self._writer.writerow([cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(stream, **options) -> SafeWriter:
    """Like csv.writer(stream, **options), for CSV meant to be opened in a spreadsheet."""
    return SafeWriter(stream, **options)
