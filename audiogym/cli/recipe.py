"""`audiogym train | sweep | compare`: the MGRD recipe, its variants on Ray Tune, finished runs compared."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from audiogym.errors import AudiogymError


def quiet_console() -> None:
    """The console of a training run shows progress bars and the stage table: the libraries' known
    notices (TRL's vLLM version range, deprecations inside vLLM, transformers' per-load bars and
    notes) are left out. `audiogym train --verbose` keeps them."""
    import warnings

    warnings.filterwarnings("ignore", message="TRL currently supports vLLM versions")
    warnings.filterwarnings("ignore", category=FutureWarning)
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def cmd_train(args: argparse.Namespace) -> None:
    if not args.verbose:
        quiet_console()
    from audiogym.recipe.config import load_config

    cfg = load_config(args.config, args.set)  # every config error surfaces here, before any work (and before TRL loads)
    from audiogym.recipe.runner import Recipe

    recipe = Recipe(cfg, resume=args.resume, report_to=args.report_to, verbose=args.verbose)
    recipe.run()
    from audiogym.trainers import dist

    if dist.is_main():
        print(f"wrote {recipe.folder / 'table.md'}, table.json and curves.png")


def cmd_sweep(args: argparse.Namespace) -> None:
    """A sweep of recipe variants over seeds on Ray Tune (configs/sweeps/*.yaml)."""
    from audiogym.sweep.run import run_sweep

    result = run_sweep(args.config, resume=args.resume, address=args.address, run_dir=args.run_dir, cpus=args.cpus)
    for p in result["pooled"].values():
        print(p["line"])
    print(f"wrote {Path(args.run_dir) / result['sweep'] / 'results.md'}, results.json and results.png")


def cmd_compare(args: argparse.Namespace) -> None:
    """Finished runs of one recipe on different seeds, compared seed by seed first: for the cold
    start -> last round change, each round's RL stage and their mean, the per-seed differences,
    their mean, 95% intervals over seeds and how many seeds moved which way. Then, as secondary
    lines, each run's paired item-level test and the items of all runs pooled (which treats items
    as independent), and each run's self-cognition error path."""
    from audiogym.stats import change_line, pooled_change

    changes: list[dict] = []
    rl: dict[str, list[dict]] = {}
    tables: list[tuple[str, dict]] = []
    for run in args.runs:
        path = Path(run) / "table.json"
        try:
            table = json.loads(path.read_text())
            change = table.get("conflict_change")
        except (OSError, ValueError, AttributeError):
            change = None
        if not change:
            raise AudiogymError(f"{run}: no finished recipe with rounds here (no conflict_change in {path})")
        changes.append(change)
        tables.append((run, table))
        for stage, c in (table.get("rl_changes") or {}).items():
            rl.setdefault(stage, []).append(c)
    from audiogym.recipe.report import seed_level_block

    for line in seed_level_block(tables):
        print(line)
    print("Secondary: item-level paired tests (items pooled across runs are not independent samples):")
    for (run, _), change in zip(tables, changes):
        print(f"  {run}: {change['line']}")
    print("  " + change_line(f"{len(changes)} runs pooled", pooled_change(changes)))
    for stage, cs in rl.items():
        print("  " + change_line(f"{stage} (before -> after the stage), {len(cs)} runs pooled", pooled_change(cs)))
    if rl:
        every = [c for cs in rl.values() for c in cs]
        print("  " + change_line(f"every RL stage, {len(every)} stages pooled", pooled_change(every)))
    for run, table in tables:
        sc = table.get("self_cognition") or {}
        if sc:
            print(
                f"{run}: self-cognition error "
                + ", ".join(f"{k.replace('_', ' ')} {v:.3f}" for k, v in sc.items() if v is not None)
            )
    if args.rounds:
        _compare_rounds(tables, args.rounds)


def _compare_rounds(tables: list[tuple[str, dict]], plot: str) -> None:
    """`compare --rounds PNG`: conflict accuracy after T = 0..T rounds, pooled over the runs, each T
    against the cold start, and its gap over the transcript baseline (the textual surrogate)."""
    from audiogym.recipe.plots import plot_rounds
    from audiogym.recipe.report import round_changes
    from audiogym.stats import change_line, pooled_change

    per_run = {}
    for run, table in tables:
        try:
            per_run[run] = round_changes(Path(run), table["rows"])
        except (OSError, ValueError, KeyError) as e:
            raise AudiogymError(f"{run}: a stage's held-out evaluation cannot be read ({e})") from None
    transcripts = [
        r.get("accuracy_conflict") for _, t in tables for r in t["rows"] if r.get("baseline") == "transcript"
    ]
    known = [x for x in transcripts if x is not None]
    transcript = sum(known) / len(known) if known else 0.0
    for t in sorted(set.intersection(*(set(c) for c in per_run.values()))):
        pooled = pooled_change([c[t] for c in per_run.values()])
        print(
            change_line(f"cold start -> T={t} rounds, {len(per_run)} runs pooled", pooled)
            + f"; gap over the transcript baseline ({transcript:.3f}): {pooled['after'] - transcript:+.3f}"
        )
        if t:
            print(
                "  "
                + change_line(f"T={t - 1} -> T={t}", pooled_change([c[t]["from_previous"] for c in per_run.values()]))
            )
    print(f"wrote {plot_rounds(per_run, transcript, Path(plot))}")


def cmd_diverge(args: argparse.Namespace) -> int:
    from audiogym.recipe.divergence import first_divergence

    compared, diff = first_divergence(args.run_a, args.run_b)
    if diff is None:
        print(f"identical: {len(compared)} stages ({', '.join(compared)}): rows, rollouts, weights and answers")
        return 0
    print(f"first difference: stage {diff.stage}, {diff.artifact}: {diff.detail}")
    print(f"identical before it: {', '.join(compared[:-1]) or 'nothing'}")
    return 1


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="run the MGRD recipe (cold start, grounding rounds, self-cognition)")
    p.add_argument(
        "--config", default=None, help="recipe YAML (default: the embedded tiny recipe, as in configs/tiny.yaml)"
    )
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override, e.g. recipe.rounds.T=1")
    p.add_argument("--resume", action="store_true", help="continue a run: only unfinished stages run")
    p.add_argument(
        "--report-to",
        choices=["wandb", "none"],
        default="wandb",
        help="tracking (wandb, offline unless configured; the default) or none",
    )
    p.add_argument(
        "--verbose",
        action="store_true",
        help="print the trainers' per-step logs (else they go to each stage's trainer_log.jsonl)",
    )
    p.set_defaults(fn=cmd_train)
    p = sub.add_parser("sweep", help="recipe variants over seeds on Ray Tune, tracked in wandb")
    p.add_argument("--config", required=True, help="a sweep file, e.g. configs/sweeps/minute.yaml")
    p.add_argument("--resume", action="store_true", help="continue: finished trials are not run again")
    p.add_argument("--address", default=None, help="an existing Ray cluster (default: RAY_ADDRESS, else local)")
    p.add_argument("--run-dir", default="runs", help="where runs/<sweep>/ goes")
    p.add_argument("--cpus", type=int, default=None, help="CPUs for a local Ray (default: all)")
    p.set_defaults(fn=cmd_sweep)
    p = sub.add_parser("compare", help="paired conflict-item change of finished runs, and of all of them pooled")
    p.add_argument("runs", nargs="+", metavar="RUN_DIR", help="runs/<name> folders of finished `audiogym train` runs")
    p.add_argument(
        "--rounds",
        metavar="PNG",
        default=None,
        help="also the rounds ablation read from the runs: conflict accuracy after T = 0..T rounds, plotted to PNG",
    )
    p.set_defaults(fn=cmd_compare)
    p = sub.add_parser(
        "diverge", help="where two runs of one recipe part ways: the first stage and artifact that differ"
    )
    p.add_argument("run_a", metavar="RUN_A", help="a runs/<name> folder")
    p.add_argument("run_b", metavar="RUN_B", help="another, e.g. the same seed on another machine")
    p.set_defaults(fn=cmd_diverge)
