#!/usr/bin/env bash
# The same seed and thread count twice, native CPU kernels against AVX2 kernels forced (torch's ATen,
# oneDNN, MKL): a stand-in for two machines with different CPUs. Then `audiogym diverge` names the
# first stage and artifact that differ (docs/design.md, "Determinism"). A short recipe, ~5 minutes
# on 2 cores; extra arguments go to both runs (e.g. --set recipe.seed=301).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${KERNEL_DIVERGENCE_DIR:-runs/kernel_divergence}
short=(--set recipe.pretrain.sft.max_steps=100 --set recipe.cold_start.sft.max_steps=100
       --set recipe.cold_start.rlvr.max_steps=2 --set recipe.rounds.T=1 --set recipe.rounds.distill.questions=64
       --set recipe.rounds.distill.sft.max_steps=30 --set recipe.rounds.band.candidates=64
       --set recipe.rounds.rl.max_steps=8 --set recipe.self_cognition.dpo.max_steps=4 --set recipe.eval.per_family=12)
run() {  # name, core, env...
    local name=$1 core=$2; shift 2
    env "$@" OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 taskset -c "$core" python3 -m audiogym.cli train --report-to none \
        "${short[@]}" --set recipe.seed=300 --set recipe.name="$name" --set recipe.run_dir="$out" "${EXTRA[@]}" \
        > "$out/$name.log" 2>&1
}
EXTRA=("$@")
mkdir -p "$out"
run native 0 KERNELS=native &
run avx2 1 ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 MKL_ENABLE_INSTRUCTIONS=AVX2 &
wait
python3 -m audiogym.cli diverge "$out/native" "$out/avx2" || true
