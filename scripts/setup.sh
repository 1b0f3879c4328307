#!/usr/bin/env bash
# Sets up handcalc on a fresh Debian machine: system packages, a venv in .venv, the package.
#
#   scripts/setup.sh run   what the main job needs: WeasyPrint's libraries, fonts, the package
#   scripts/setup.sh dev   the above, then the test bench: browser, databases, wrk, linters, torch
#
# Run again at any time: what is already there is not installed again (a second run takes a
# second or two), and a changed pyproject.toml is installed anew.
set -euo pipefail
cd "$(dirname "$0")/.."

PROFILE="${1:-dev}"
case "$PROFILE" in
    run) EXTRAS="" ;;
    dev) EXTRAS="[dev]" ;;
    *) echo "setup: unknown profile '$PROFILE'; accepted: run, dev" >&2; exit 2 ;;
esac

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"

# libharfbuzz-subset0: WeasyPrint is ~2.7x slower without it.
APT_PACKAGES=(python3 python3-venv libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0
              fonts-dejavu-core)
if [ "$PROFILE" = dev ]; then
    # poppler-utils: PDF checks; chromium: browser tests (never downloaded); wrk: the service
    # load benchmark; postgresql: the service's test on PostgreSQL (a throwaway cluster in a
    # temporary folder, never the system's); redis-server: the tests of limits shared across
    # web instances start their own on a free loopback port; python3-dev and gcc for packages
    # built from source.
    APT_PACKAGES+=(python3-dev gcc poppler-utils chromium wrk postgresql redis-server)
fi
if command -v apt-get >/dev/null 2>&1; then
    missing=()
    for p in "${APT_PACKAGES[@]}"; do
        dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "setup: installing Debian packages: ${missing[*]}"
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
            "${missing[@]}"
    fi
fi

PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
    .venv/bin/python -m pip install -q --upgrade pip
fi

# the package is installed once per version of pyproject.toml; "dev" includes "run"
stamp_of() { echo ".venv/.handcalc-setup-$1"; }
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
done_for() { [ -f "$(stamp_of "$1")" ] && [ "$(cat "$(stamp_of "$1")")" = "$want" ]; }
if done_for "$PROFILE" || { [ "$PROFILE" = run ] && done_for dev; }; then
    echo "setup: up to date (.venv, profile $PROFILE)"
    exit 0
fi
echo "setup: installing handcalc$EXTRAS into .venv (log: .venv/setup.log)"
# pip's and setuptools' notes go to the log; it is shown when the install fails
if ! .venv/bin/python -m pip install -q --disable-pip-version-check -e ".$EXTRAS" \
        > .venv/setup.log 2>&1; then
    cat .venv/setup.log >&2
    echo "setup: pip install failed (the log is above and in .venv/setup.log)" >&2
    exit 1
fi
echo "$want" > "$(stamp_of "$PROFILE")"
echo "setup: done (.venv, profile $PROFILE)"
