#!/usr/bin/env bash
# Set everything up, then run the main job on the embedded default: the whole MGRD recipe on the
# tiny audio LM (about 9 minutes on 2 CPU cores with the vLLM extra, 13 without), printing the stage table as it goes.
# Extra arguments go to `audiogym train`, e.g. --set recipe.name=again --report-to none.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
PY=${PYTHON:-python3}
"$PY" -m audiogym.cli train --config configs/tiny.yaml "$@"
