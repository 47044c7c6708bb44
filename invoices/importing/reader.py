"""Reading an import file: bytes to lines to CSV records, and the checks of single fields.

Files can hold a million rows, so everything here streams and the per-row helpers stay cheap:
a row is parsed into a plain tuple, dates are memoised, amounts become integer cents.
"""

import codecs
import csv
import hashlib
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import BinaryIO

from invoices.money import parse_amount

from .columns import ISO_DATE

# numeric(14, 2) holds up to 999,999,999,999.99.
MAX_CENTS = 10**14 - 1


class RowError(Exception):
    """One row cannot be imported; reasons are short phrases fit to show after its line number."""

    def __init__(self, reasons: list[str]):
        super().__init__("; ".join(reasons))
        self.reasons = reasons


class CsvSource:
    """Streams a binary CSV file as (line number, fields, problem) records.

    Each physical line is decoded on its own so that a line that is not UTF-8 can be named
    by its number; every byte read also feeds the file's SHA-256."""

    def __init__(self, stream: BinaryIO):
        self.stream = stream
        self.digest = hashlib.sha256()
        self.bad_lines: set[int] = set()

    @property
    def sha256(self) -> str:
        return self.digest.hexdigest()

    def _lines(self) -> Iterator[str]:
        for number, raw in enumerate(self.stream, start=1):
            self.digest.update(raw)
            if number == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError:
                self.bad_lines.add(number)
                yield raw.decode("utf-8", "replace")

    def records(self) -> Iterator[tuple[int, list[str] | None, str | None]]:
        """Every non-blank record, the header first, with the line it starts on.

        A record that spans lines (a quoted newline) is reported at its first line."""
        reader = csv.reader(self._lines())
        last = 0
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield last + 1, None, f"cannot be read as CSV ({exc})"
                last = reader.line_num
                continue
            first, last = last + 1, reader.line_num
            if not any(value.strip() for value in fields):
                continue
            if self.bad_lines and any(n in self.bad_lines for n in range(first, last + 1)):
                yield first, None, "is not UTF-8 text (save the file as UTF-8)"
                continue
            yield first, fields, None


class DateParser:
    """Parses dates in one strptime format to ISO text, memoising: a ledger repeats dates."""

    def __init__(self, fmt: str = ISO_DATE):
        self.fmt = fmt
        self.label = "YYYY-MM-DD" if fmt == ISO_DATE else fmt
        self._seen: dict[str, str] = {}

    def __call__(self, text: str) -> str:
        try:
            return self._seen[text]
        except KeyError:
            pass
        if self.fmt == ISO_DATE:
            # fromisoformat also takes 20260105 and week dates; the format promises only this.
            if len(text) != 10 or text[4] != "-" or text[7] != "-":
                raise ValueError(text)
            value = date.fromisoformat(text)
        else:
            value = datetime.strptime(text, self.fmt).date()
        iso = value.isoformat()
        if len(self._seen) < 100_000:
            self._seen[text] = iso
        return iso


def get(values: list[str], index: int | None) -> str:
    return values[index].strip() if index is not None else ""


def text(value: str, column: str, max_length: int, reasons: list[str], *, required=True) -> str:
    if required and not value:
        reasons.append(f"{column} is missing")
    elif len(value) > max_length:
        reasons.append(f"{column} is longer than {max_length} characters")
    return value


def day(value: str, column: str, parse: DateParser, reasons: list[str], *, required=True):
    """ISO text of the date, or None (blank and optional, or bad: then a reason is added)."""
    if not value:
        if required:
            reasons.append(f"{column} is missing")
        return None
    try:
        return parse(value)
    except ValueError:
        reasons.append(f"{column} '{value}' is not a date in the format {parse.label}")
        return None


def cents(value: str, column: str, reasons: list[str]) -> int | None:
    """A positive amount with at most two decimals, as integer cents."""
    if not value:
        reasons.append(f"{column} is missing")
        return None
    try:
        amount = parse_amount(value)
    except ValueError as exc:
        reasons.append(f"{column} {exc}")
        return None
    if amount <= 0:
        reasons.append(f"{column} {value} must be more than zero")
        return None
    result = int(amount * 100)
    if result > MAX_CENTS:
        reasons.append(f"{column} {value} is too large")
        return None
    return result


def from_cents(value: int) -> Decimal:
    return Decimal(int(value)).scaleb(-2)
