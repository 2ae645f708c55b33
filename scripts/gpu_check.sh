#!/usr/bin/env bash
# The GPU checks, on a CUDA machine where audiogym's dependencies are installed (CI has no GPU, so
# these run by hand): the CUDA tests (bf16 GRPO, CUDA/CPU parity), the GRPO step benchmark in bf16 on
# the tiny model and on a 0.5B-parameter model, and the whole recipe with minute settings on CUDA.
# Logs and JSON go to $OUT (default runs/gpu-check); each part has its own time limit and a failed
# part does not stop the next.
#     bash scripts/gpu_check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-runs/gpu-check}
mkdir -p "$out"
py=${PYTHON:-python3}
export PYTHONUNBUFFERED=1 WANDB_MODE=${WANDB_MODE:-offline}
quiet() { grep -v -e "Warning" -e "warnings.warn" -e "Loading weights" -e "^{'train_runtime'" -e "is_vllm_available" ; }

{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  "$py" -c "import torch, transformers, trl; print('torch', torch.__version__, 'transformers', transformers.__version__, 'trl', trl.__version__)"
} 2>&1

echo "== CUDA tests"
timeout 180 "$py" -m pytest -q -p no:cacheprovider tests/test_gpu.py >"$out/tests.log" 2>&1; tail -15 "$out/tests.log"

for size in tiny 0.5b; do
  echo "== GRPO step benchmark, $size model, bf16"
  SECONDS=0
  timeout 240 "$py" benchmarks/grpo.py --device cuda --size "$size" --steps 6 --repeats 1 \
    --out "$out/grpo_$size.json" 2>&1 | quiet >"$out/grpo_$size.log"
  echo "  ($SECONDS s with the model build)" >>"$out/grpo_$size.log"
  tail -12 "$out/grpo_$size.log"
done

echo "== the whole recipe, minute settings (tests/test_recipe.py), on CUDA"
run=$(mktemp -d)
SECONDS=0
timeout 300 "$py" -c "
import subprocess, sys
sys.path.insert(0, 'tests')
from test_recipe import MINUTE
cmd = [sys.executable, '-m', 'audiogym.cli', 'train', '--report-to', 'none', '--set', 'recipe.run_dir=' + sys.argv[1]]
for s in MINUTE:
    cmd += ['--set', s]
sys.exit(subprocess.call(cmd))
" "$run" 2>&1 | quiet >"$out/recipe.log"
echo "  (recipe: $SECONDS s)" >>"$out/recipe.log"
tail -40 "$out/recipe.log"
cp "$run"/tiny/table.md "$out/recipe_table.md" 2>/dev/null || true
