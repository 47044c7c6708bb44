"""What became of each file of a ZIP of invoice copies, as the report page shows it. Plain
data, so that it can wait in the session between the upload and the report (PRG)."""

from dataclasses import asdict, dataclass, field

# fate -> (label, what it means), in the order the report counts them.
FATES = {
    "attached": ("Attached", "stored as the invoice's copy"),
    "duplicate": ("Already on file", "the same PDF was already attached to this invoice"),
    "not_yours": ("Not yours", "the invoice is another collector's customer's: not attached"),
    "unknown": ("Unknown invoice", "no invoice has this number"),
    "not_pdf": ("Not a PDF", "not attached"),
    "too_large": ("Too large", "over 10 MB: not attached"),
    "encrypted": ("Encrypted", "password-protected in the ZIP: not attached"),
    "unsafe": ("Ignored", "its name leads outside the ZIP"),
    "folder": ("Folder", "skipped (the files in it are read)"),
    "system": ("System file", "skipped"),
}


@dataclass
class FileFate:
    name: str
    fate: str
    invoice: str = ""  # the invoice number it names
    customer: str = ""
    customer_id: int | None = None
    detail: str = ""

    @property
    def label(self) -> str:
        return FATES[self.fate][0]

    @property
    def explanation(self) -> str:
        return self.detail or FATES[self.fate][1]


@dataclass
class CopiesReport:
    archive: str
    files: list[FileFate] = field(default_factory=list)

    def add(self, name: str, fate: str, **details) -> None:
        self.files.append(FileFate(name=name, fate=fate, **details))

    def count(self, fate: str) -> int:
        return sum(1 for f in self.files if f.fate == fate)

    @property
    def counts(self) -> list[tuple[str, str, int]]:
        """(fate, label, how many) for each fate that happened."""
        return [(k, label, n) for k, (label, _) in FATES.items() if (n := self.count(k))]

    def as_data(self) -> dict:
        return asdict(self)

    @classmethod
    def from_data(cls, data: dict) -> "CopiesReport":
        return cls(archive=data["archive"], files=[FileFate(**f) for f in data["files"]])
