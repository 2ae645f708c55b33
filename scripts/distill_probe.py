"""Tune a round's distillation in isolation: from a finished run's models, redo each
`round<t>_distill` SFT with other settings and compare held-out accuracy item by item.

The run's own samples are reused (`round<t>_distill/rollouts.jsonl`: same model, same seed, so
sampling again would give them back), so only the kept-chain selection and the SFT run: about two
minutes a stage on one core. Each redone stage starts from the model the run's stage started from
(`cold_start_rlvr` or `round<t-1>_rl`) and is evaluated on the run's held-out items; the script
prints the change from that model (conflict and aligned items) and from the run's own distilled
model. With no `--set` it reproduces the run's stage (0 gained, 0 lost against it).

    python scripts/distill_probe.py runs/tiny probes/tiny --tag labelled200 --set recipe.rounds.distill.labelled=200
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

from audiogym.errors import ConfigError, run_script
from audiogym.recipe.config import load_config
from audiogym.recipe.heldout import HeldOut
from audiogym.recipe.probing import eval_items, probe_change
from audiogym.recipe.stage import StageContext
from audiogym.recipe.stages import recipe_stages
from audiogym.recipe.stages.distill import Distill
from audiogym.stats import change_line, paired_change, write_pooled_changes


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path, help="a finished run folder (holds config.json and round<t>_distill/)")
    ap.add_argument("out", type=Path, help="where the probe's stages and evaluations go")
    ap.add_argument("--tag", required=True, help="this variant's name (a subfolder of OUT)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="config override (repeatable)")
    ap.add_argument("--rounds", type=int, nargs="+", help="only these rounds (default: every round of the run)")
    args = ap.parse_args(argv)
    if not (args.run / "config.json").is_file():
        raise ConfigError(f"{args.run}: not a run folder (no config.json)")
    cfg = load_config(args.run / "config.json", args.set)  # the run's own config, then the variant
    rounds = args.rounds or list(range(1, cfg.recipe.rounds.T + 1))
    stages = recipe_stages(cfg)
    distill = {s.round: s for s in stages if isinstance(s, Distill)}
    start = {t: stages[stages.index(distill[t]) - 1].name for t in rounds if t in distill}
    for t in rounds:  # every round checked before any work
        if not 1 <= t <= cfg.recipe.rounds.T:
            raise ConfigError(f"--rounds {t}: the run has rounds 1..{cfg.recipe.rounds.T}")
        for need in (
            args.run / start[t] / "model" / "config.json",
            args.run / distill[t].name / "rollouts.jsonl",
            args.run / distill[t].name / "eval" / "eval.json",
        ):
            if not need.is_file():
                raise ConfigError(f"{need}: missing (has the run finished round {t}?)")
    held = HeldOut(cfg.recipe)
    changes = []
    for t in rounds:
        stage = distill[t]
        name = stage.name
        folder = args.out / args.tag / name
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        shutil.copy2(args.run / name / "rollouts.jsonl", folder / "rollouts.jsonl")  # sampling picks them up
        started = time.time()
        ctx = StageContext(stage, folder, args.run / start[t] / "model", cfg, stages.index(stage))
        train = stage.run(ctx)
        held.evaluate(ctx.model_out, folder / "eval")
        shutil.rmtree(ctx.model_out)  # the evaluation is what the probe keeps
        before, after = eval_items(args.run, start[t]), eval_items(args.out / args.tag, name)
        c = probe_change(name, before, after)
        c["against_run"] = paired_change(eval_items(args.run, name), after)
        c.update(
            seconds=time.time() - started,
            train_rows=train.get("train_rows"),
            trained_chains=train.get("trained_chains"),
        )
        changes.append(c)
        for key, what in ((None, "Conflict"), ("aligned", "Aligned"), ("listen", "Listen")):
            if c[key] if key else c:  # a held-out set may lack such items
                print(f"{args.tag}: {change_line(f'{start[t]} -> {name}', c[key] if key else c, what)}", flush=True)
        own = f"the run's own {name} -> this one"
        print(f"{args.tag}: {change_line(own, c['against_run'])}", flush=True)
    for line in write_pooled_changes(args.out / args.tag, changes, args.set):
        print(f"{args.tag}: {line}")


if __name__ == "__main__":
    run_script(main)
