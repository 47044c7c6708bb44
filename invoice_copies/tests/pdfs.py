"""Real PDFs and ZIPs for the tests, made in memory."""

import io
import zipfile

from pypdf import PdfWriter


def pdf_bytes(label: str = "an invoice", *, width: int = 595, height: int = 842) -> bytes:
    """A valid one-page PDF; a different label makes different bytes."""
    writer = PdfWriter()
    writer.add_blank_page(width=width, height=height)
    writer.add_metadata({"/Title": label})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def zip_bytes(files: dict[str, bytes], *, compression=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=compression) as archive:
        for name, content in files.items():
            if name.endswith("/"):
                archive.writestr(zipfile.ZipInfo(name), b"")
            else:
                archive.writestr(name, content)
    return out.getvalue()
