"""Environment throughput and analysis speed, each beside a baseline measured in the same run.

1. Episodes per second per family: reset (generates the task) + step (parses and scores a
   trivial answer), against the cost of reset alone (so the step overhead is visible).
2. Analysis clips per second: `audiogym.analysis.measure` (one STFT + yin) against a naive librosa
   pipeline (pyin + chroma_cqt + beat_track) on the same clips.

Prints a table with ratios and writes benchmarks/results/envs.json.
    python benchmarks/envs.py [--episodes 50] [--rounds 5] [--clips 24]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "2")

import gymnasium as gym  # noqa: E402

import audiogym  # noqa: E402
from audiogym.analysis import measure  # noqa: E402
from audiogym.tasks import AUDIO_FAMILIES, FAMILIES  # noqa: E402


def naive_librosa(y, sr=16000):
    import librosa

    librosa.pyin(y, fmin=60, fmax=1000, sr=sr)
    librosa.feature.chroma_cqt(y=y, sr=sr)
    librosa.beat.beat_track(y=y, sr=sr)


def timed(fn, n, rounds=1):
    """Seconds per call, the best of `rounds` rounds of n calls (seeds 0..n-1 each round), so a
    burst of load on a shared machine does not decide the figure."""
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        for i in range(n):
            fn(i)
        best = min(best, (time.perf_counter() - t0) / n)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--episodes", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=5, help="best of this many rounds of --episodes (families in turn)")
    ap.add_argument("--clips", type=int, default=24)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "envs.json"))
    args = ap.parse_args()

    measure(AUDIO_FAMILIES["Tempo"].make(0).audio)  # warm librosa's compiled kernels
    naive_librosa(AUDIO_FAMILIES["Tempo"].make(0).audio)

    envs = {name: gym.make(f"audiogym/{name}-v0") for name in FAMILIES}
    for env in envs.values():
        env.reset(seed=0)
    # Round-robin over the families, each round timing every family once, keeping each family's best
    # round: this VM's speed halves for minutes at a time, and timing one family's rounds back to back
    # let such a spell decide a family's figure (the same code read 386 and 673 median minutes apart).
    reset_s = dict.fromkeys(envs, float("inf"))
    episode_s = dict.fromkeys(envs, float("inf"))
    for _ in range(args.rounds):
        for name, env in envs.items():
            reset_s[name] = min(reset_s[name], timed(lambda i, env=env: env.reset(seed=i), args.episodes))
            episode_s[name] = min(
                episode_s[name],
                timed(lambda i, env=env: (env.reset(seed=i), env.step("The answer is (A).")), args.episodes),
            )
    rows = []
    print(f"{'environment':<28} {'episodes/s':>10} {'resets/s':>9} {'step share':>10}")
    for name in envs:
        share = max(0.0, 1 - reset_s[name] / episode_s[name])
        rows.append(
            {
                "env": f"audiogym/{name}-v0",
                "episodes_per_s": 1 / episode_s[name],
                "resets_per_s": 1 / reset_s[name],
                "step_share": share,
            }
        )
        print(f"audiogym/{name}-v0".ljust(28), f"{1 / episode_s[name]:>10.1f} {1 / reset_s[name]:>9.1f} {share:>10.1%}")

    rates = sorted(r["episodes_per_s"] for r in rows)
    audio_rates = sorted(r["episodes_per_s"] for r in rows if r["env"].split("/")[1][:-3] in AUDIO_FAMILIES)
    summary = {
        "min_episodes_per_s": rates[0],
        "median_episodes_per_s": statistics.median(rates),
        "median_audio_episodes_per_s": statistics.median(audio_rates),
    }
    print(
        f"slowest {rates[0]:.1f} episodes/s, median {summary['median_episodes_per_s']:.1f} "
        f"(audio families only: {summary['median_audio_episodes_per_s']:.1f})"
    )

    names = list(AUDIO_FAMILIES)
    clips = [AUDIO_FAMILIES[names[i % len(names)]].make(1000 + i).audio for i in range(args.clips)]
    ours = timed(lambda i: measure(clips[i]), len(clips), args.rounds)
    base = timed(lambda i: naive_librosa(clips[i]), len(clips), args.rounds)
    print(f"\nanalysis of {len(clips)} clips of 4 s:")
    print(f"  audiogym.analysis.measure        {1 / ours:8.1f} clips/s  ({ours * 1000:.0f} ms/clip)")
    print(f"  pyin + chroma_cqt + beat_track   {1 / base:8.1f} clips/s  ({base * 1000:.0f} ms/clip)")
    print(f"  speed-up                         {base / ours:8.1f}x")

    result = {
        "benchmark": "envs",
        "audiogym": audiogym.__version__,
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "episodes_per_family": args.episodes,
        "rounds": args.rounds,
        "envs": rows,
        **summary,
        "analysis": {
            "clips": len(clips),
            "measure_clips_per_s": 1 / ours,
            "naive_clips_per_s": 1 / base,
            "speedup": base / ours,
        },
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
