"""Each RL stage of finished runs against the stage before it, on listening accuracy of the
sampling policy: every listen item (independent and audio-only) answered `--samples` times at the
RL stage's rollout temperature, per item the share right (`HeldOut.sampled_listen`).

The stage table's listen column is greedy decoding: one path per item. The RL stage optimises
the expected reward of the policy that samples, and in the tiny model the greedy path can stop
inside its think block (no answer) where the samples go on to answer; this reads the policy the
stage trains. Each run is one seed: the summary is per-seed changes, their mean, 95% interval and
seeds up/down (`stats.seed_level`). Models are read from each run's `<stage>/model`.

    python scripts/sampled_listen.py runs/seed{0,1,2,3,4} --split dev --json dev_sampled.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from audiogym.errors import ConfigError, run_script
from audiogym.io import atomic_write_json
from audiogym.recipe.config import load_config
from audiogym.recipe.heldout import HeldOut
from audiogym.recipe.report import rl_pairs
from audiogym.recipe.seeds import SPLITS
from audiogym.stats import seed_level, seed_level_line


def run_stages(run: Path) -> list[tuple[str, str]]:
    """(the stage before, the RL stage) names of a finished run, every model present."""
    if not (run / "table.json").is_file() or not (run / "config.json").is_file():
        raise ConfigError(f"{run}: not a finished run folder (no table.json / config.json)")
    pairs = [(b["stage"], r["stage"]) for b, r in rl_pairs(json.loads((run / "table.json").read_text())["rows"])]
    for stage in {s for p in pairs for s in p}:
        if not (run / stage / "model" / "config.json").is_file():
            raise ConfigError(f"{run / stage}: no model to sample from")
    return pairs


def measure(run: Path, split: str, samples: int, cache: Path, per_family: int | None) -> dict[str, dict]:
    """{stage: sampled_listen} for the run's RL stages and the stages before them; each stage's
    result is kept in `<run>/<stage>/<cache>` and read back on the next call."""
    cfg = load_config(run / "config.json", [f"recipe.eval.per_family={per_family}"] if per_family else [])
    rl = cfg.recipe.rounds.rl
    held = HeldOut(cfg.recipe, split)
    out = {}
    for stage in sorted({s for p in run_stages(run) for s in p}):
        out[stage] = held.sampled_listen(run / stage / "model", samples, rl.temperature, rl.top_k, run / stage / cache)
        print(f"{run.name} {stage}: sampled listen {out[stage]['listen']:.3f}", flush=True)
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", type=Path, nargs="+", help="finished run folders, one per seed")
    ap.add_argument("--split", choices=sorted(SPLITS), default="dev", help="held-out split (test: reports only)")
    ap.add_argument("--samples", type=int, default=8, help="samples per listen item")
    ap.add_argument("--per-family", type=int, help="held-out audio items per family (default: the run's)")
    ap.add_argument("--json", type=Path, help="write per-run values and the seed-level summary here")
    args = ap.parse_args(argv)
    if args.samples < 1:
        raise ConfigError(f"--samples {args.samples}: expected at least 1")
    pairs = {run: run_stages(run) for run in args.runs}  # every run checked before any work
    cache = Path(f"sampled_listen_{args.split}_{args.samples}_{args.per_family or 'run'}.json")
    per_run = {str(run): measure(run, args.split, args.samples, cache, args.per_family) for run in args.runs}
    names = [p[1] for p in pairs[args.runs[0]]]
    summary = {}
    for i, stage in enumerate(names):
        before = [per_run[str(r)][pairs[r][i][0]]["listen"] for r in args.runs]
        after = [per_run[str(r)][pairs[r][i][1]]["listen"] for r in args.runs]
        summary[stage] = seed_level([a - b for a, b in zip(after, before)])
        summary[stage].update(before=before, after=after)
        print(seed_level_line(f"{stage}, sampled listen ({args.split})", summary[stage]))
    if args.json:
        values = {
            run: {stage: {k: v for k, v in m.items() if k != "items"} for stage, m in by_stage.items()}
            for run, by_stage in per_run.items()
        }
        atomic_write_json(args.json, {"split": args.split, "samples": args.samples, "runs": values, "stages": summary})


if __name__ == "__main__":
    run_script(main)
