#!/usr/bin/env bash
# Installs what ccctl needs on Debian 12 (system packages, then the project into .venv).
# --test also installs what the test suite starts for real (PostgreSQL 15 server binaries).
set -euo pipefail
cd "$(dirname "$0")/.."
want_tests=0
[ "${1:-}" = "--test" ] && want_tests=1

packages=(python3 python3-venv ca-certificates)
# real servers the tests start: PostgreSQL, Chromium (Playwright drives it), Kannel + fakesmsc (SMS),
# Dovecot (IMAP); converters for fax and recordings
[ "$want_tests" = 1 ] && packages+=(postgresql-15 postgresql-client-15 chromium kannel kannel-extras dovecot-imapd)
packages+=(ghostscript img2pdf libtiff-tools poppler-utils ffmpeg)
if command -v apt-get >/dev/null 2>&1; then
    missing=()
    for pkg in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        sudo_cmd=""
        [ "$(id -u)" != 0 ] && sudo_cmd="sudo"
        echo "install.sh: installing Debian packages: ${missing[*]}" >&2
        $sudo_cmd apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
if [ "$want_tests" = 1 ]; then
    .venv/bin/python -m pip install -q -e '.[test]'
else
    .venv/bin/python -m pip install -q -e .
fi
echo "install.sh: ready (.venv/bin/ccctl)" >&2
