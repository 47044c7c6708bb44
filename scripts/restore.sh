#!/usr/bin/env bash
# Restore a backup written by scripts/backup.sh into a new database and a new media folder,
# then check the restore against the backup's manifest.
#
#   DATABASE_URL=postgres://…/dunmore_restored MEDIA_ROOT=/srv/restored/media \
#       scripts/restore.sh [--force] /backups/dunmore-20260301T020000Z
#
# 1. Checks the backup's files against its SHA256SUMS.
# 2. Creates the database when it does not exist (the user needs CREATEDB; otherwise create
#    it empty beforehand). A database that already holds tables is refused, and so is a
#    media folder that holds files, unless --force: then the backup's tables replace the
#    database's (pg_restore --clean) and its files are written over the folder's.
# 3. pg_restore in one transaction (all or nothing), objects owned by DATABASE_URL's user;
#    the media archive into MEDIA_ROOT.
# 4. Checks it with manage.py backup_verify: no migration of this code left unapplied (as
#    migrate --check), the audit trail's chain (as audit_verify) and its newest event, each
#    table's row count, every stored document's and media file's SHA-256, the balances per
#    customer and the ledger's own totals. Prints a summary; exits non-zero on any difference.
#
# Needs pg_restore and psql of the dump's PostgreSQL major version or newer.
set -euo pipefail

usage() {
    echo "usage: DATABASE_URL=postgres://…/NEW_DB MEDIA_ROOT=NEW_DIR $0 [--force] BACKUP_DIR" >&2
    exit 2
}
force=false
args=()
for arg in "$@"; do
    case "$arg" in
        --force) force=true ;;
        -*) usage ;;
        *) args+=("$arg") ;;
    esac
done
[ "${#args[@]}" -eq 1 ] || usage
: "${DATABASE_URL:?DATABASE_URL must name the database to restore into}"
: "${MEDIA_ROOT:?MEDIA_ROOT must name the media folder to restore into}"

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PY="${PY:-$ROOT/.venv/bin/python}"
[ -x "$PY" ] || PY=python3
backup="$(cd "${args[0]}" && pwd)"

fail() {
    echo "restore: $*" >&2
    exit 1
}
for tool in pg_restore psql tar sha256sum; do
    command -v "$tool" >/dev/null || fail "$tool is not installed"
done

# --- 1. the backup is whole ------------------------------------------------------------
for file in database.dump manifest.json media.tar media.sha256 SHA256SUMS; do
    [ -f "$backup/$file" ] || fail "$backup/$file is missing: not a complete backup"
done
(cd "$backup" && sha256sum --check --quiet SHA256SUMS) ||
    fail "the backup's files do not match its SHA256SUMS: it is damaged"

# --- 2. the database and the media folder are new (or --force) -------------------------
# libpq reads postgres:// and postgresql:// URLs; Django's other spellings mean the same.
url="postgresql://${DATABASE_URL#*://}"
# A password moves from the URL to PGPASSWORD, out of sight of `ps` (percent-decoded).
userinfo="${url#postgresql://}"
userinfo="${userinfo%%/*}"
if [[ "$userinfo" == *@* && "${userinfo%@*}" == *:* ]]; then
    userinfo="${userinfo%@*}"
    password="${userinfo#*:}"
    password="${password//\\/\\\\}" # printf %b below reads backslashes
    PGPASSWORD="$(printf '%b' "${password//%/\\x}")"
    export PGPASSWORD
    url="${url/"$userinfo@"/"${userinfo%%:*}@"}"
fi
base="${url%%\?*}"
params="${url:${#base}}"
name="${base##*/}"
[[ "$base" == postgresql://*/* && -n "$name" ]] || fail "DATABASE_URL names no database"
server="${base%/*}/postgres$params"

sql() { # sql URL: the query on stdin, one value out
    psql "$1" --no-psqlrc --quiet --tuples-only --no-align -v ON_ERROR_STOP=1 -v name="$name"
}
exists="$(sql "$server" <<<"SELECT 1 FROM pg_database WHERE datname = :'name'")"
clean=()
if [ -z "$exists" ]; then
    echo "Creating the database $name"
    sql "$server" <<<'CREATE DATABASE :"name"' >/dev/null
else
    tables="$(sql "$url" <<<"SELECT count(*) FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
          AND n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND n.nspname NOT LIKE 'pg_toast%'")"
    if [ "$tables" -gt 0 ]; then
        $force || fail "the database $name already holds $tables tables and sequences;" \
            "restore into a new database, or add --force to replace them"
        echo "Replacing the $tables tables and sequences of $name (--force)"
        clean=(--clean --if-exists)
    fi
fi
mkdir -p "$MEDIA_ROOT"
media="$(cd "$MEDIA_ROOT" && pwd)"
if [ -n "$(ls -A "$media")" ]; then
    $force || fail "the media folder $media is not empty;" \
        "restore into a new folder, or add --force to write over it"
fi

# --- 3. restore -----------------------------------------------------------------------------
echo "Restoring the database into $name"
pg_restore --dbname="$url" --no-owner --no-privileges --exit-on-error --single-transaction \
    "${clean[@]}" "$backup/database.dump"
echo "Restoring the media files into $media"
tar --extract --file "$backup/media.tar" --directory "$media" --no-same-owner

# --- 4. check ---------------------------------------------------------------------------
cd "$ROOT"
echo
if ! MEDIA_ROOT="$media" "$PY" manage.py backup_verify "$backup" --media-root "$media"; then
    echo >&2
    echo "RESTORE CHECK FAILED: the restore differs from the backup (see above)." >&2
    exit 1
fi
echo "Restore checked: the database $name and $media match $(basename "$backup")."
