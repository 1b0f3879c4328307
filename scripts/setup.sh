#!/usr/bin/env bash
# Installs everything handcalc needs on a fresh Debian machine: system packages, a venv, the package.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"

# libharfbuzz-subset0: WeasyPrint is ~2.7x slower without it; chromium: browser tests (never downloaded);
# wrk: the service load benchmark; postgresql: the service's test on PostgreSQL (a throwaway
# cluster in a temporary folder, never the system's).
APT_PACKAGES=(python3 python3-venv python3-dev gcc libpango-1.0-0 libpangoft2-1.0-0
              libharfbuzz-subset0 fonts-dejavu-core poppler-utils chromium wrk postgresql)
if command -v apt-get >/dev/null 2>&1; then
    missing=()
    for p in "${APT_PACKAGES[@]}"; do
        dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "setup: installing Debian packages: ${missing[*]}"
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
    fi
fi

PY="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[dev]'
echo "setup: done (.venv)"
