#!/usr/bin/env bash
# Set everything up, then run the main job on the embedded default.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
PY=${PYTHON:-python3}
"$PY" -m audiogym.cli demo "$@"
