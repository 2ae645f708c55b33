#!/usr/bin/env bash
# verl in its own virtualenv (verl 0.9.x pins transformers < 5.11; audiogym's environment has a newer
# one): .venvs/verl with the CPU build of torch 2.13.0, verl 0.9.1, and audiogym itself (editable,
# without its training dependencies: the verl side only needs the tasks and rewards). Built once;
# `tests/test_verl.py` runs verl's own dataset and reward loading in it. CI builds it (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${AUDIOGYM_VERL_VENV:-.venvs/verl}
PY=${PYTHON:-python3}
export PIP_DISABLE_PIP_VERSION_CHECK=1
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import verl, audiogym.integrations.verl" 2>/dev/null; then
    echo "verl_env: ready ($VENV)"; exit 0
fi
echo "verl_env: building $VENV (torch 2.13.0 CPU, verl 0.9.1)"
"$PY" -m venv "$VENV"
pip() { "$VENV/bin/python" -m pip install -q "$@" 2>&1 | grep -v "Running pip as the 'root' user\|^WARNING: Location" || true; }
pip "torch==2.13.0"
"$VENV/bin/python" -c "import torch" 2>/dev/null || pip "torch==2.13.0" --index-url "${TORCH_INDEX_URL:-https://download.pytorch.org/whl/cpu}"
echo "torch==2.13.0" > "$VENV/constraints.txt"
pip "verl==0.9.1" -c "$VENV/constraints.txt"
pip gymnasium librosa soundfile pyyaml -c "$VENV/constraints.txt"
pip --no-deps -e .
"$VENV/bin/python" -c "import verl, audiogym.integrations.verl; print('verl_env: ready, verl', verl.__version__)"
