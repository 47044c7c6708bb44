#!/usr/bin/env bash
# Make sure the Debian/Ubuntu packages Dunmore needs outside Python are installed.
#
#   scripts/system-deps.sh weasyprint            # the libraries WeasyPrint loads for PDFs
#   scripts/system-deps.sh weasyprint chromium   # plus the browser the browser tests drive
#
# Installs what is missing with apt-get when run as root; otherwise names the packages to
# install and exits non-zero. Never downloads a browser of its own (no `playwright install`).
set -euo pipefail

WEASYPRINT_PACKAGES=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0)
CHROMIUM_PACKAGES=(chromium)
# Debian's own Python 3.11 creates virtualenvs only with this package installed.
VENV_PACKAGES=(python3.11-venv)

wanted=()
for group in "$@"; do
    case "$group" in
        weasyprint) wanted+=("${WEASYPRINT_PACKAGES[@]}") ;;
        chromium) wanted+=("${CHROMIUM_PACKAGES[@]}") ;;
        venv) wanted+=("${VENV_PACKAGES[@]}") ;;
        *) echo "system-deps: unknown group '$group' (use weasyprint, chromium, venv)" >&2; exit 2 ;;
    esac
done
[ "${#wanted[@]}" -eq 0 ] && exit 0

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "system-deps: not a Debian/Ubuntu system; make sure these (or your system's" \
        "equivalents) are installed: ${wanted[*]}" >&2
    exit 0
fi

missing=()
for package in "${wanted[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing+=("$package")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

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
