#!/usr/bin/env bash
# Installs what ccctl needs on Debian 12 (system packages, then the project into .venv).
# --test also installs what the test suite starts for real: PostgreSQL 15 server binaries, Chromium,
# Kannel, Dovecot, SIPp and sox, and the FreeSWITCH 1.10 test build from ../shared/freeswitch/bundle/
# (when that folder is beside the clone; without it tests/switch/ is skipped and says so).
set -euo pipefail
cd "$(dirname "$0")/.."
want_tests=0
[ "${1:-}" = "--test" ] && want_tests=1

packages=(python3 python3-venv ca-certificates)
# real servers the tests start: PostgreSQL, Chromium (Playwright drives it), Kannel + fakesmsc (SMS),
# Dovecot (IMAP); converters for fax and recordings
[ "$want_tests" = 1 ] && packages+=(postgresql-15 postgresql-client-15 chromium kannel kannel-extras dovecot-imapd)
# the real-switch tier: SIPp plays patients and agents, sox makes and measures their voices, Kamailio is the
# SIP front before several switches,
# and the libraries the FreeSWITCH test build links against (its README lists them)
fs_bundle=$(ls ../shared/freeswitch/bundle/freeswitch-*-debian12-amd64.tar.xz 2>/dev/null | tail -n 1 || true)
[ "$want_tests" = 1 ] && packages+=(sip-tester sox kamailio kamailio-postgres-modules)
[ "$want_tests" = 1 ] && [ -n "$fs_bundle" ] && packages+=(libcurl4 libedit2 libflite1 libjpeg62-turbo
    libldap-2.5-0 libopus0 libpcre3 libsndfile1 libspeex1 libspeexdsp1 libsqlite3-0 libssl3 libtiff6 libuuid1 zlib1g)
packages+=(ghostscript img2pdf libtiff-tools poppler-utils ffmpeg)
# ccctl prompts build: a voice for every prompt language (espeak-ng has Mandarin and Polish)
packages+=(espeak-ng)
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

if [ "$want_tests" = 1 ]; then
    if [ -z "$fs_bundle" ]; then
        echo "install.sh: no FreeSWITCH test build in ../shared/freeswitch/bundle/: tests/switch/ will be skipped" >&2
    elif ! /usr/local/freeswitch/bin/freeswitch -version 2>/dev/null | grep -q "$(basename "$fs_bundle" | cut -d- -f2)"; then
        # the archive holds its files at their installed paths (/usr/local/freeswitch, /usr/local/lib)
        echo "install.sh: installing the FreeSWITCH test build $(basename "$fs_bundle")" >&2
        sudo_cmd=""
        [ "$(id -u)" != 0 ] && sudo_cmd="sudo"
        $sudo_cmd tar -C / -xJf "$fs_bundle"
        $sudo_cmd ldconfig
    fi
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
# the build tools stay current; what ccctl runs with is pinned in constraints.txt
.venv/bin/python -m pip install -q --upgrade pip setuptools wheel >/dev/null
if [ "$want_tests" = 1 ]; then
    .venv/bin/python -m pip install -q -c constraints.txt -e '.[test,bench]'
else
    .venv/bin/python -m pip install -q -c constraints.txt -e .
fi
echo "install.sh: ready (.venv/bin/ccctl)" >&2
