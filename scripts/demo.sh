#!/usr/bin/env bash
# The main job on one machine: set up, write a worksheet, its answer key and worked solutions to
# out/, then serve the grading site (embedded SQLite in instance/) until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh run
mkdir -p out
SEED="${SEED:-7}"
.venv/bin/handcalc generate --seed "$SEED" --format json -o out/problem.json
.venv/bin/handcalc generate --seed "$SEED" --format pdf -o out/worksheet.pdf
.venv/bin/handcalc generate --seed "$SEED" --format pdf --key -o out/key.pdf
.venv/bin/handcalc generate --seed "$SEED" --format pdf --solutions -o out/solutions.pdf
echo "demo: out/worksheet.pdf, out/key.pdf, out/solutions.pdf and out/problem.json are ready"
exec .venv/bin/handcalc serve --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}"
