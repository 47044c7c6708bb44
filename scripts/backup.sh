#!/usr/bin/env bash
# One backup of Dunmore: the PostgreSQL database and the media folder, with a manifest.
#
#   DATABASE_URL=postgres://… MEDIA_ROOT=/srv/dunmore/media scripts/backup.sh /backups
#
# Writes /backups/dunmore-<UTC time>/ holding
#   database.dump   pg_dump --format=custom, restored with pg_restore (scripts/restore.sh)
#   manifest.json   the dump's SHA-256 and what it holds: each table's row count, each
#                   app's latest migration, the audit trail's head, the SHA-256 of every
#                   document stored in the database, the balances per customer and currency
#   media.tar       the media folder
#   media.sha256    every file in media.tar with its SHA-256 (sha256sum's format)
#   SHA256SUMS      the four files above, for `sha256sum --check` before restoring
# and prints that folder's path last. The folder appears under its final name only once
# everything in it is written (until then it is named *.partial).
#
# Order: the database first, then the media folder. Letters, referral packs, invoice copies,
# dispute evidence, signed terms and inbound attachments are stored in the database (bytes
# and SHA-256 in one row), so they are always consistent with the rows that refer to them.
# The media folder holds only CSV uploads waiting between the import's steps: one imported
# in between is not in the archive, and an import whose upload is gone asks for it again.
# The manifest's facts are read inside the dump's own snapshot (backup_database), so they
# describe exactly what the dump holds even while the app keeps writing.
#
# Needs pg_dump of the server's major version or newer (Debian: postgresql-client).
set -euo pipefail

usage() {
    echo "usage: DATABASE_URL=postgres://… MEDIA_ROOT=… $0 OUTPUT_DIR" >&2
    exit 2
}
[ $# -eq 1 ] || usage
: "${DATABASE_URL:?DATABASE_URL must name the PostgreSQL database to back up}"
: "${MEDIA_ROOT:?MEDIA_ROOT must name the media folder to back up}"

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PY="${PY:-$ROOT/.venv/bin/python}"
[ -x "$PY" ] || PY=python3
for tool in pg_dump tar sha256sum; do
    command -v "$tool" >/dev/null || { echo "backup: $tool is not installed" >&2; exit 1; }
done
mkdir -p "$1"
output="$(cd "$1" && pwd)"

final="$output/dunmore-$(date -u +%Y%m%dT%H%M%SZ)"
work="$final.partial"
if [ -e "$final" ] || [ -e "$work" ]; then
    echo "backup: $final already exists" >&2
    exit 1
fi
mkdir "$work"
trap 'rm -rf "$work"' EXIT
if [ -d "$MEDIA_ROOT" ]; then
    media="$(cd "$MEDIA_ROOT" && pwd)"
else
    # Nothing was ever uploaded: an empty archive keeps every backup the same shape.
    echo "backup: MEDIA_ROOT $MEDIA_ROOT does not exist yet; archiving no media files" >&2
    media="$work/.no-media"
    mkdir "$media"
fi

cd "$ROOT"
"$PY" manage.py backup_database "$work"
# Numeric owners and a stable order: the archive restores on any machine, the same way.
# Exit status 1 is GNU tar's "a file changed or vanished while it was read": an upload
# imported meanwhile, harmless (the hashes below are of what the archive holds).
tar --create --file "$work/media.tar" --directory "$media" --sort=name --numeric-owner \
    --warning=no-file-changed --warning=no-file-removed . || [ $? -eq 1 ]
rm -rf "$work/.no-media"
# Each file's hash read back from the archive itself, in sha256sum's format: a file that
# changed on disk after it was archived cannot make the list disagree with the archive.
# shellcheck disable=SC2016 # expanded by the shell tar starts for each file
tar --extract --file "$work/media.tar" \
    --to-command='printf "%s  %s\n" "$(sha256sum | cut -d" " -f1)" "${TAR_FILENAME#./}"' \
    >"$work/media.sha256"
(cd "$work" && sha256sum database.dump manifest.json media.tar media.sha256 >SHA256SUMS)

mv "$work" "$final"
trap - EXIT
echo "Backup written: $final"
echo "$final"
