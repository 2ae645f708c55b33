"""Resident memory of the in-process vLLM engine on CPU, two ways measured in one run: the KV cache
at vLLM's CPU default (VLLM_CPU_KVCACHE_SPACE=2 GiB, what audiogym used before) and sized by
audiogym (`cpu_kv_cache_bytes`: a full batch of 512 sequences at the longest length). Each arm runs
in its own process (one engine per process); both generate the same seeded workload, so the tokens
must be identical and the throughputs comparable. Writes benchmarks/results/memory.json.
    python benchmarks/memory.py [--prompts 64] [--samples 8] [--new-tokens 48] [--model runs/tiny-model]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ARMS = {"vllm_default_2gib": "2", "sized": None}  # VLLM_CPU_KVCACHE_SPACE (GiB), or unset


def measure(model: str, prompts: int, samples: int, new_tokens: int) -> dict:
    """One arm, in this process: RSS after the imports, after the engine starts, after generating."""
    import numpy as np
    import psutil

    from audiogym.policies.vllm_engine import VLLMEngine, cpu_kv_cache_bytes
    from audiogym.tasks import AUDIO_FAMILIES

    rss = lambda: psutil.Process().memory_info().rss / 1e9  # noqa: E731
    out = {"rss_after_imports_gb": rss()}
    engine = VLLMEngine(model)
    out["rss_after_engine_gb"] = rss()
    names = list(AUDIO_FAMILIES)
    tasks = [AUDIO_FAMILIES[names[i % len(names)]].make(i) for i in range(prompts)]
    text = "<|audio_bos|><|AUDIO|><|audio_eos|>"
    t0 = time.perf_counter()
    ids = engine.generate(
        [text + t.question for t in tasks],
        [np.asarray(t.audio, dtype=np.float32) for t in tasks],
        n=samples,
        max_tokens=new_tokens,
        min_tokens=new_tokens,
        seed=0,
    )
    seconds = time.perf_counter() - t0
    out["rss_after_generate_gb"] = rss()
    out["tokens_per_s"] = sum(len(c) for p in ids for c in p) / seconds
    out["tokens_sha1"] = hashlib.sha1(json.dumps(ids).encode()).hexdigest()
    out["kv_cache_gib_sized"] = cpu_kv_cache_bytes(Path(model), "float32", 1024) / 1024**3
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prompts", type=int, default=64)
    ap.add_argument("--samples", type=int, default=8, help="samples per prompt")
    ap.add_argument("--new-tokens", type=int, default=48)
    ap.add_argument("--model", default="runs/tiny-model")
    ap.add_argument("--arm", choices=sorted(ARMS), help=argparse.SUPPRESS)  # the child process
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "memory.json"))
    args = ap.parse_args()
    if args.arm:
        print(json.dumps(measure(args.model, args.prompts, args.samples, args.new_tokens)))
        return
    from audiogym.policies.audio_lm import build_tiny_model
    from audiogym.policies.vllm_engine import vllm_available

    if not vllm_available():
        sys.exit("vLLM is not installed (the vllm-cpu extra): nothing to measure")
    if not (Path(args.model) / "config.json").exists():
        print(f"building the tiny model into {args.model} ...")
        build_tiny_model(args.model)
    arms = {}
    for arm, space in ARMS.items():
        env = {k: v for k, v in os.environ.items() if k != "VLLM_CPU_KVCACHE_SPACE"}
        if space:
            env["VLLM_CPU_KVCACHE_SPACE"] = space
        cmd = [sys.executable, __file__, "--arm", arm, "--model", args.model, "--prompts", str(args.prompts)]
        cmd += ["--samples", str(args.samples), "--new-tokens", str(args.new_tokens)]
        done = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if done.returncode:
            sys.exit(f"{arm} failed:\n{done.stderr[-2000:]}")
        arms[arm] = json.loads(done.stdout.strip().splitlines()[-1])
        print(arm, json.dumps(arms[arm]))
    base, sized = arms["vllm_default_2gib"], arms["sized"]
    result = {
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "threads": os.environ.get("OMP_NUM_THREADS"),
        },
        "workload": {"prompts": args.prompts, "samples": args.samples, "new_tokens": args.new_tokens},
        "arms": arms,
        "engine_rss_ratio": (sized["rss_after_engine_gb"] - sized["rss_after_imports_gb"])
        / (base["rss_after_engine_gb"] - base["rss_after_imports_gb"]),
        "peak_saved_gb": base["rss_after_generate_gb"] - sized["rss_after_generate_gb"],
        "throughput_ratio": sized["tokens_per_s"] / base["tokens_per_s"],
        "same_tokens": base["tokens_sha1"] == sized["tokens_sha1"],
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("engine_rss_ratio", "peak_saved_gb", "throughput_ratio", "same_tokens")}))


if __name__ == "__main__":
    main()
