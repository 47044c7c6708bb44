"""Putting invoice copies behind a posted letter, so that the post room prints one PDF."""

import io
import logging

from pypdf import PdfReader, PdfWriter

log = logging.getLogger(__name__)


def letter_with_copies(letter: bytes, copies: list[tuple[str, bytes]]) -> bytes:
    """The letter followed by each copy's pages. A copy that cannot be read (uploads are
    checked, so only a file damaged since) is left out rather than stopping the letter."""
    if not copies:
        return letter
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(letter)))
    for filename, content in copies:
        try:
            reader = PdfReader(io.BytesIO(content))
            if reader.is_encrypted:
                reader.decrypt("")
            writer.append(reader)
        except Exception:
            log.warning("invoice copy %s could not be appended to a letter", filename)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
