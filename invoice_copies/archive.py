"""Reading a ZIP of invoice PDFs without trusting it: no file is written to disk, names
that climb out of the archive are ignored, encrypted members refused, and the number of
entries, each member's size and the total unpacked are capped while reading, whatever the
archive declares (a zip bomb lies about its sizes)."""

import re
import zipfile
from dataclasses import dataclass

from .exceptions import ArchiveRefused

MB = 1024 * 1024
MAX_ENTRIES = 500
MAX_MEMBER_BYTES = 10 * MB
MAX_TOTAL_BYTES = 200 * MB
CHUNK = 64 * 1024


@dataclass(frozen=True)
class Member:
    """One entry of the archive: its content (PDF names only), or why it was passed over."""

    name: str
    content: bytes | None = None
    skipped: str = ""  # a fate of report.FATES when passed over
    detail: str = ""

    @property
    def stem(self) -> str:
        """The invoice number the file is named by: its name without folder and .pdf."""
        return self.name.rsplit("/", 1)[-1][:-4]


def _unsafe(name: str) -> bool:
    parts = name.split("/")
    return (
        name.startswith("/")
        or re.match(r"^[A-Za-z]:", name) is not None
        or ".." in parts
        or "\x00" in name
    )


def _system_file(name: str) -> bool:
    # What macOS and Windows put beside the files: not documents.
    base = name.rsplit("/", 1)[-1]
    return name.startswith("__MACOSX/") or base.startswith("._") or base in {".DS_Store"}


def _read_capped(archive: zipfile.ZipFile, info: zipfile.ZipInfo, room: int) -> bytes | None:
    """The member's bytes, or None past MAX_MEMBER_BYTES; raises ArchiveRefused once the
    archive as a whole unpacks past its cap (`room` is what is left of it)."""
    out = bytearray()
    with archive.open(info) as stream:
        while chunk := stream.read(CHUNK):
            out += chunk
            if len(out) > room:
                raise ArchiveRefused(
                    f"The ZIP unpacks to more than {MAX_TOTAL_BYTES // MB} MB: nothing was "
                    "attached. Split it into smaller ZIPs."
                )
            if len(out) > MAX_MEMBER_BYTES:
                return None
    return bytes(out)


def archive_read(upload) -> list[Member]:
    """Every entry of the ZIP with what became of it. Raises ArchiveRefused (nothing read
    is kept) when the file is not a ZIP, is damaged, or is too big once unpacked."""
    try:
        with zipfile.ZipFile(upload) as archive:
            entries = archive.infolist()
            if len(entries) > MAX_ENTRIES:
                raise ArchiveRefused(
                    f"The ZIP holds {len(entries)} entries; at most {MAX_ENTRIES} are taken "
                    "at once. Split it into smaller ZIPs."
                )
            return _members(archive, entries)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError) as error:
        raise ArchiveRefused(
            f"The file is not a ZIP archive that can be read ({error}): nothing was attached."
        ) from error


def _members(archive: zipfile.ZipFile, entries: list[zipfile.ZipInfo]) -> list[Member]:
    members = []
    room = MAX_TOTAL_BYTES
    for info in entries:
        name = info.filename.replace("\\", "/")
        if _unsafe(name):
            members.append(Member(name, skipped="unsafe"))
        elif info.is_dir():
            members.append(Member(name, skipped="folder"))
        elif _system_file(name):
            members.append(Member(name, skipped="system"))
        elif not name.lower().endswith(".pdf"):
            members.append(Member(name, skipped="not_pdf", detail="not named .pdf"))
        elif info.flag_bits & 0x1:
            members.append(Member(name, skipped="encrypted"))
        elif info.file_size > MAX_MEMBER_BYTES:
            members.append(Member(name, skipped="too_large"))
        else:
            content = _read_capped(archive, info, room)
            if content is None:
                members.append(Member(name, skipped="too_large"))
                room -= MAX_MEMBER_BYTES
            else:
                members.append(Member(name, content=content))
                room -= len(content)
    return members
