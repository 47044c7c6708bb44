"""CSV fixtures for the import tests, and two helpers to feed files to import_csv."""

from io import StringIO
from pathlib import Path

from django.core.management import call_command

HERE = Path(__file__).parent


def write_csv(tmp_path: Path, content: str | bytes, name: str = "import.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def import_csv(kind: str, path: Path, *args: str) -> str:
    """Run the command; returns what it printed, raises CommandError on a rejected file."""
    out = StringIO()
    call_command("import_csv", kind, str(path), *args, stdout=out)
    return out.getvalue()
