"""Reading an import file: bytes to lines to CSV records, and the checks of single fields.

Files can hold a million rows, so everything here streams and the per-row helpers stay cheap:
a row is parsed into a plain tuple, dates are memoised, amounts become integer cents.
"""

import codecs
import csv
import hashlib
import re
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import BinaryIO

from invoices.money import parse_amount
from jobs.models import Phase
from jobs.progress import report_done, report_phase

from .columns import ISO_DATE

# Lines read between two progress reports: often enough for a bar, rare enough to cost nothing.
REPORT_EVERY = 1024
# numeric(14, 2) holds up to 999,999,999,999.99.
MAX_CENTS = 10**14 - 1
NUL_PROBLEM = (
    "contains a NUL byte (0x00); the file does not look like CSV text (save it as CSV UTF-8)"
)
# Control characters (C0, DEL, C1) and the Unicode line and paragraph separators: no imported
# field is more than one line, and a stray one is how a record breaks a letter or a CSV export.
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


class RowError(Exception):
    """One row cannot be imported; reasons are short phrases fit to show after its line number."""

    def __init__(self, reasons: list[str]):
        super().__init__("; ".join(reasons))
        self.reasons = reasons


class CsvSource:
    """Streams a binary CSV file as (line number, fields, problem) records.

    Each physical line is decoded on its own so that a line that is not UTF-8 can be named
    by its number; every byte read also feeds the file's SHA-256. Reading stops at the first
    NUL byte: text files do not hold one, so the file is binary (a spreadsheet, UTF-16) and
    the rest of it would only add noise to the one problem worth reporting."""

    def __init__(self, stream: BinaryIO):
        self.stream = stream
        self.digest = hashlib.sha256()
        self.bad_lines: set[int] = set()
        self.nul_line: int | None = None

    @property
    def sha256(self) -> str:
        return self.digest.hexdigest()

    def _lines(self) -> Iterator[str]:
        report_phase(Phase.READING)
        number = 0
        for number, raw in enumerate(self.stream, start=1):
            if not number % REPORT_EVERY:
                report_done(number - 1)  # data rows, the header aside
            self.digest.update(raw)
            if b"\x00" in raw:
                self.nul_line = number
                return
            if number == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError:
                self.bad_lines.add(number)
                yield raw.decode("utf-8", "replace")
        # Every row is read; what follows checks them against the ledger.
        report_done(max(number - 1, 0))
        report_phase(Phase.CHECKING)

    def records(self) -> Iterator[tuple[int, list[str] | None, str | None]]:
        """Every non-blank record, the header first, with the line it starts on.

        A record that spans lines (a quoted newline) is reported at its first line."""
        reader = csv.reader(self._lines())
        last = 0
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                if self.nul_line is not None:
                    yield self.nul_line, None, NUL_PROBLEM
                return
            except csv.Error as exc:
                yield last + 1, None, csv_problem(exc)
                last = reader.line_num
                continue
            first, last = last + 1, reader.line_num
            if not any(value.strip() for value in fields):
                continue
            if self.bad_lines and any(n in self.bad_lines for n in range(first, last + 1)):
                yield first, None, "is not UTF-8 text (save the file as UTF-8)"
                continue
            yield first, fields, None


def csv_problem(exc: csv.Error) -> str:
    """The csv module's complaint in words an accountant can act on."""
    if "new-line character" in str(exc):
        # Lines ending in a bare carriage return: old Mac exports, or binary junk.
        return (
            "cannot be read as CSV: it holds a carriage return (0x0D) outside quotes "
            "(save the file as CSV UTF-8)"
        )
    if "field larger than field limit" in str(exc):
        return f"cannot be read as CSV: a field is longer than {csv.field_size_limit()} characters"
    return f"cannot be read as CSV ({exc})"


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
    elif CONTROL.search(value):
        reasons.append(f"{column} {control_problem(value)}")
    return value


def control_problem(value: str) -> str:
    found = CONTROL.search(value).group()
    if found in LINE_BREAKS:
        return "contains a line break; it must fit on one line"
    if found == "\t":
        return "contains a tab character"
    return f"contains a control character (0x{ord(found):02X})"


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
