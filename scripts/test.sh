#!/usr/bin/env bash
# Sets up (idempotent) and runs lint, format check, type check and the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev
.venv/bin/ruff check handcalc web tests bench
.venv/bin/ruff format --check handcalc web tests bench
.venv/bin/mypy
.venv/bin/python -m pytest -q "$@"
