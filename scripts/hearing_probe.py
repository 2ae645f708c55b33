"""What each stage's model still hears, asked the base's own question: the base stage's hearing check
("Describe what you hear." on the run's dev clips; per family, the caption's categorical facts
right for the clip minus right for another clip, 0 = deaf) applied to the models of finished runs.
The base hears Meter while the question-answering model does not: this shows where it is lost.
Dev only (the check reads the dev split's clips).

    python scripts/hearing_probe.py runs/seed3 runs/seed4 --stages base cold_start_sft round1_distill --json hearing.json
"""

from __future__ import annotations

import argparse
from pathlib import Path

from audiogym.errors import ConfigError, run_script
from audiogym.io import atomic_write_json
from audiogym.recipe.config import load_config
from audiogym.recipe.stages.build_base import caption_hearing


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", type=Path, nargs="+", help="runs/<name> folders whose stage models are kept")
    ap.add_argument("--stages", nargs="+", default=["base", "cold_start_sft"], help="stage folders to check")
    ap.add_argument("--out", type=Path, default=None, help="where the captions go (default: <run>/hearing_probe)")
    ap.add_argument("--json", type=Path, help="write {run: {stage: {family: hearing}}} here")
    args = ap.parse_args(argv)
    for run in args.runs:  # every input checked before any work
        if not (run / "config.json").is_file():
            raise ConfigError(f"{run}: not a run folder (no config.json)")
        for stage in args.stages:
            if not (run / stage / "model" / "config.json").is_file():
                raise ConfigError(f"{run / stage}: no model (has the stage finished, and was its model kept?)")
    result: dict[str, dict[str, dict]] = {}
    for i, run in enumerate(args.runs):
        cfg = load_config(run / "config.json")
        r = cfg.recipe
        result[str(run)] = {}
        for stage in args.stages:
            # sampling resumes from the captions already in a folder: each run gets its own
            folder = (args.out / f"{i}-{run.name}" if args.out else run / "hearing_probe") / stage
            folder.mkdir(parents=True, exist_ok=True)
            per_family = caption_hearing(
                f"{run.name}/{stage}",
                folder,
                run / stage / "model",
                r,
                r.seed,
                r.pretrain.eval_per_family,
                r.pretrain.max_new_tokens,
            )
            result[str(run)][stage] = per_family
            print(f"{run.name} {stage}: " + ", ".join(f"{f} {v['hearing']:+.2f}" for f, v in per_family.items()))
    if args.json:
        atomic_write_json(args.json, result)


if __name__ == "__main__":
    run_script(main)
