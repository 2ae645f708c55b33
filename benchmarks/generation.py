"""Batched generation against one-sample-at-a-time generation of the same total, on the tiny
embedded model (KV cache on in both), with the ratio. Writes benchmarks/results/generation.json.
    python benchmarks/generation.py [--samples 32] [--new-tokens 48] [--model runs/tiny-model]
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
from audiogym.tasks import AUDIO_FAMILIES  # noqa: E402


def run(policy, tasks, batch_size, new_tokens):
    t0 = time.perf_counter()
    out = policy.generate(tasks, num_samples=1, temperature=1.0, max_new_tokens=new_tokens, batch_size=batch_size,
                          seed=0, min_new_tokens=new_tokens)
    dt = time.perf_counter() - t0
    return sum(g[0].tokens for g in out) / dt, dt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=32)
    ap.add_argument("--new-tokens", type=int, default=48)
    ap.add_argument("--model", default="runs/tiny-model")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "generation.json"))
    args = ap.parse_args()
    if not (Path(args.model) / "config.json").exists():
        print(f"building the tiny model into {args.model} ...")
        build_tiny_model(args.model)
    policy = AudioLMPolicy(args.model, device="cpu")
    # min_new_tokens = max_new_tokens: every sample generates the full length, the same total in both runs.
    names = list(AUDIO_FAMILIES)
    tasks = [AUDIO_FAMILIES[names[i % len(names)]].make(i) for i in range(args.samples)]
    run(policy, tasks[:2], 2, 4)  # warm up
    batched, t_b = run(policy, tasks, args.samples, args.new_tokens)
    single, t_s = run(policy, tasks, 1, args.new_tokens)
    print(f"{args.samples} samples x {args.new_tokens} new tokens, tiny model, {torch.get_num_threads()} threads")
    print(f"  batched (batch {args.samples})   {batched:8.0f} tokens/s  ({t_b:.2f} s)")
    print(f"  one at a time          {single:8.0f} tokens/s  ({t_s:.2f} s)")
    print(f"  speed-up               {batched / single:8.1f}x")
    result = {"benchmark": "generation", "audiogym": audiogym.__version__, "machine": platform.machine(),
              "threads": torch.get_num_threads(), "samples": args.samples, "new_tokens": args.new_tokens,
              "batched_tokens_per_s": batched, "single_tokens_per_s": single, "speedup": batched / single}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
