"""What a chain costs the listening of the policy that samples: over several variants of one RL
stage probed on the same seeds, does the variant that lengthens the chains more lower held-out
listening more?

Give it `probe_seeds.py` summaries (one per variant, each over the same seeds in the same order,
made by `rl_probe.py --samples K`). Per seed, the variants' change in the listen items' mean think
words (greedy answers) is ranked against their change in sampled listen accuracy (Spearman); the
seed is the unit, so the line to read is how many seeds show a negative rank correlation. The
pooled line (both changes centred within each seed, Pearson r and the slope in points of listening
per think word) treats seed x variant pairs as independent, which variants of one seed are not:
it is secondary.

    python scripts/chain_cost.py docs/results/dev/rl_round1/{default,steps128,grounding05}.json --json cost.json
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import numpy as np

from audiogym.errors import ConfigError, run_script
from audiogym.io import atomic_write_json


def read_variant(path: Path, stage: str) -> tuple[list[str], list[float], list[float]]:
    """(seed names, think-word changes, sampled-listen changes in points) of one summary."""
    if not path.is_file():
        raise ConfigError(f"{path}: no such summary (probe_seeds.py --json writes one)")
    summary = json.loads(path.read_text())
    got = summary.get("stages", {}).get(stage, {})
    missing = [k for k in ("think_words", "listen_sampled") if k not in got]
    if missing:
        raise ConfigError(f"{path}: {stage} has no {' or '.join(missing)} (probe with --samples, on this version)")
    seeds = [m.group(0) if (m := re.search(r"seed\d+", f)) else f for f in summary["folders"]]
    return seeds, got["think_words"]["diffs"], [100 * d for d in got["listen_sampled"]["diffs"]]


def chain_cost(paths: list[Path], stage: str = "round1_rl") -> dict:
    if len(paths) < 3:
        raise ConfigError("give at least 3 variants: a rank correlation over fewer says nothing")
    variants = {p.stem: read_variant(p, stage) for p in paths}
    seeds = next(iter(variants.values()))[0]
    for name, (s, _, _) in variants.items():
        if s != seeds:
            raise ConfigError(f"{name}: seeds {s}, not {seeds} (every variant must be probed on the same seeds)")
    think = np.array([v[1] for v in variants.values()])  # variants x seeds
    listen = np.array([v[2] for v in variants.values()])
    from scipy import stats

    rho = [float(stats.spearmanr(think[:, j], listen[:, j])[0]) for j in range(len(seeds))]
    t, ls = think - think.mean(axis=0), listen - listen.mean(axis=0)  # centred within each seed
    r = stats.pearsonr(t.ravel(), ls.ravel())
    return {
        "stage": stage,
        "seeds": seeds,
        "variants": {name: {"think_words": v[1], "listen_sampled_points": v[2]} for name, v in variants.items()},
        "spearman_per_seed": rho,
        "seeds_negative": sum(x < 0 for x in rho),
        "pooled_within_seed": {
            "pearson_r": float(r[0]),
            "p_value": float(r[1]),
            "slope_points_per_word": float(np.polyfit(t.ravel(), ls.ravel(), 1)[0]),
            "pairs": int(t.size),
        },
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("summaries", type=Path, nargs="+", help="probe_seeds.py --json files, one per variant")
    ap.add_argument("--stage", default="round1_rl")
    ap.add_argument("--json", type=Path, help="write the result here")
    args = ap.parse_args(argv)
    out = chain_cost(args.summaries, args.stage)
    for name, v in out["variants"].items():
        print(
            f"{name}: think words {np.mean(v['think_words']):+.1f}, "
            f"sampled listen {np.mean(v['listen_sampled_points']):+.1f} points (mean of {len(out['seeds'])} seeds)"
        )
    rho = " ".join(f"{x:+.2f}" for x in out["spearman_per_seed"])
    pooled = out["pooled_within_seed"]
    print(
        f"{args.stage}: rank correlation of think words with sampled listen over {len(out['variants'])} variants, "
        f"per seed {rho}; negative in {out['seeds_negative']} of {len(out['seeds'])} seeds"
    )
    print(
        f"pooled within seed (secondary: {pooled['pairs']} dependent pairs): r = {pooled['pearson_r']:+.2f}, "
        f"{pooled['slope_points_per_word']:+.2f} points per think word"
    )
    if args.json:
        atomic_write_json(args.json, out)


if __name__ == "__main__":
    run_script(main)
