#!/usr/bin/env bash
# Make sure the Debian/Ubuntu packages Dunmore needs outside Python are installed.
#
#   scripts/system-deps.sh weasyprint                # the libraries WeasyPrint loads for PDFs
#   scripts/system-deps.sh weasyprint chromium       # plus the browser the browser tests drive
#   scripts/system-deps.sh weasyprint chromium axe   # plus axe-core, the accessibility checker
#   scripts/system-deps.sh pgclient                  # pg_dump, pg_restore, psql (backups)
#
# Installs what is missing with apt-get when run as root; otherwise names the packages to
# install and exits non-zero. Never downloads a browser of its own (no `playwright install`).
# The axe group installs the pinned axe-core of tests/axe/package-lock.json with `npm ci`.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
AXE_DIR="$ROOT/tests/axe"

WEASYPRINT_PACKAGES=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0)
CHROMIUM_PACKAGES=(chromium)
# scripts/backup.sh and restore.sh, and their restore drill test.
PGCLIENT_PACKAGES=(postgresql-client)
# Debian's own Python 3.11 creates virtualenvs only with this package installed.
VENV_PACKAGES=(python3.11-venv)

wanted=()
want_axe=false
for group in "$@"; do
    case "$group" in
        weasyprint) wanted+=("${WEASYPRINT_PACKAGES[@]}") ;;
        chromium) wanted+=("${CHROMIUM_PACKAGES[@]}") ;;
        pgclient) wanted+=("${PGCLIENT_PACKAGES[@]}") ;;
        venv) wanted+=("${VENV_PACKAGES[@]}") ;;
        axe)
            want_axe=true
            # Any npm will do (a Node.js from elsewhere brings its own); Debian's only when none.
            command -v npm >/dev/null 2>&1 || wanted+=(npm)
            ;;
        *) echo "system-deps: unknown group '$group' (use weasyprint, chromium, pgclient, venv, axe)" >&2; exit 2 ;;
    esac
done

# axe-core for the accessibility tests, exactly as locked (integrity checked by npm ci).
# Skipped while the installed copy is newer than the lock file, so a repeat run is offline.
install_axe() {
    $want_axe || return 0
    local stamp="$AXE_DIR/node_modules/.package-lock.json"
    if [ -f "$stamp" ] && [ "$stamp" -nt "$AXE_DIR/package-lock.json" ]; then
        return 0
    fi
    if ! command -v npm >/dev/null 2>&1; then
        echo "system-deps: npm is missing; install Node.js and npm, then run make again" >&2
        exit 1
    fi
    echo "system-deps: installing axe-core into tests/axe (npm ci)"
    if ! npm ci --prefix "$AXE_DIR" --no-audit --no-fund --loglevel=error >/dev/null; then
        echo "system-deps: npm ci could not install axe-core into tests/axe" >&2
        exit 1
    fi
}

if [ "${#wanted[@]}" -eq 0 ]; then
    install_axe
    exit 0
fi

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "system-deps: not a Debian/Ubuntu system; make sure these (or your system's" \
        "equivalents) are installed: ${wanted[*]}" >&2
    install_axe
    exit 0
fi

missing=()
for package in "${wanted[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing+=("$package")
done
if [ "${#missing[@]}" -eq 0 ]; then
    install_axe
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    cat >&2 <<MSG

Dunmore needs these system packages, which are not installed:

    ${missing[*]}

Install them once, then run make again:

    sudo apt-get update && sudo apt-get install -y ${missing[*]}

MSG
    exit 1
fi

echo "system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
if ! apt-get install -y -qq --no-install-recommends "${missing[@]}"; then
    echo "system-deps: apt-get could not install: ${missing[*]}" >&2
    case " ${missing[*]} " in
        *" chromium "*) echo "  (Ubuntu has no 'chromium' package, only a snap; the browser" \
            "tests expect Debian's /usr/bin/chromium)" >&2 ;;
    esac
    exit 1
fi
install_axe
