"""A backup's files. manifest.json describes the database dump; media.sha256 lists every
file of the media archive with its SHA-256, in sha256sum's format; SHA256SUMS covers the
other four, so `sha256sum --check` proves the backup whole before anything is restored."""

import hashlib
import json
from pathlib import Path

FORMAT = 1
MANIFEST = "manifest.json"
DUMP = "database.dump"
MEDIA_TAR = "media.tar"
MEDIA_HASHES = "media.sha256"
CHUNK = 1024 * 1024


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while block := stream.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def folder_hashes(root: Path) -> dict[str, str]:
    """Each file under root, by its path relative to root."""
    return {
        path.relative_to(root).as_posix(): file_sha256(path)
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def read_media_hashes(path: Path) -> dict[str, str]:
    """sha256sum's lines: the hash, two spaces, the file's path."""
    hashes = {}
    for line in path.read_text().splitlines():
        if line:
            sha256, name = line.split("  ", 1)
            hashes[name.removeprefix("./")] = sha256
    return hashes


def write_json(path: Path, value: dict) -> None:
    path.write_text(json.dumps(value, indent=2, sort_keys=True) + "\n")


def read_json(path: Path) -> dict:
    return json.loads(path.read_text())
