"""Tune a round's RL stage in isolation: from a finished run's `round<t>_distill` models, run each
`round<t>_rl` again with other settings and compare held-out conflict accuracy item by item.

A whole run answers "did the recipe change help?" only over five seeds (40+ minutes); the RL stage
alone takes a minute. This re-runs just that stage (same seed, same band candidates) from the run's
own distilled models, evaluates before and after on a held-out set larger than the run's
(`--per-family`), and pools the rounds with the exact sign test. `--reference` evaluates the run's
own RL models instead of training (the settings the run was made with).

    python scripts/rl_probe.py runs/tiny probes/tiny --tag steps64 --set recipe.rounds.rl.max_steps=64
    python scripts/rl_probe.py runs/tiny probes/tiny --tag reference --reference

`--band-fit K` also reads whether the stage fitted its band's clips or its band's prompts: the
band's share right before and after, on each band question asked as the stage drew it and asked
afresh K times (Family.reask: the options reordered, an independent item's words drawn again).

`--supervised` is the labelled control of the stage: instead of GRPO, SFT on the same questions (the
band the run's own stage drew, read from its selected.jsonl, and the stage's text questions), each
answered with its gold answer in the empty think format, for the stage's steps at its rate with as
many questions a step as its rollouts hold. It reads what labels buy at the RL stage's prompts and
budget, where GRPO's reward only says right or wrong.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

from audiogym.errors import ConfigError, run_script
from audiogym.io import read_jsonl
from audiogym.recipe.config import load_config
from audiogym.recipe.heldout import HeldOut
from audiogym.recipe.probing import eval_items, probe_change
from audiogym.recipe.rollouts import sample
from audiogym.recipe.rows import direct, rows_for
from audiogym.recipe.stage import StageContext
from audiogym.recipe.stages import recipe_stages
from audiogym.recipe.stages.band_rl import BandRL, as_drawn, scorer
from audiogym.rewards import build_reward
from audiogym.stats import change_line, write_pooled_changes
from audiogym.tasks import FAMILIES, AudioTask
from audiogym.tasks.sources import make_tasks, task_from_id
from audiogym.trainers.sections import SFTSection
from audiogym.trainers.sft import train_sft


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path, help="a finished run folder (holds config.json and round<t>_distill/)")
    ap.add_argument("out", type=Path, help="where the probe's evaluations go (distilled models evaluated once)")
    ap.add_argument("--tag", required=True, help="this variant's name (a subfolder of OUT)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="config override (repeatable)")
    ap.add_argument("--reference", action="store_true", help="evaluate the run's own RL models; train nothing")
    ap.add_argument(
        "--supervised",
        action="store_true",
        help="the labelled control: SFT on the run's band questions with their gold answers, at the stage's budget",
    )
    ap.add_argument("--per-family", type=int, default=80, help="held-out audio items per family")
    ap.add_argument("--rounds", type=int, nargs="+", help="only these rounds (default: every round of the run)")
    ap.add_argument(
        "--samples",
        type=int,
        default=0,
        help="also read the sampling policy's listening, this many samples per listen item at the RL "
        "stage's temperature (HeldOut.sampled_listen; 0: greedy only)",
    )
    ap.add_argument(
        "--band-fit",
        type=int,
        default=0,
        metavar="K",
        help="also read the band's share right asked as trained and asked afresh K times, before and after",
    )
    args = ap.parse_args(argv)
    if not (args.run / "config.json").is_file():
        raise ConfigError(f"{args.run}: not a run folder (no config.json)")
    # the run's own config (seed, families, rounds), the probe's held-out size, then the variant
    cfg = load_config(args.run / "config.json", [f"recipe.eval.per_family={args.per_family}", *args.set])
    if args.reference and args.supervised:
        raise ConfigError("--reference and --supervised: choose one (the run's own stage, or the labelled control)")
    rounds = args.rounds or list(range(1, cfg.recipe.rounds.T + 1))
    stages = recipe_stages(cfg)
    rl = {s.round: s for s in stages if isinstance(s, BandRL)}
    for t in rounds:  # every round checked before any work
        if not 1 <= t <= cfg.recipe.rounds.T:
            raise ConfigError(f"--rounds {t}: the run has rounds 1..{cfg.recipe.rounds.T}")
        start = stages[stages.index(rl[t]) - 1].name
        if not (args.run / start / "model" / "config.json").is_file():
            raise ConfigError(f"{args.run / start}: no model (has the run finished round {t}?)")
        if (args.reference or args.supervised) and not (args.run / rl[t].name / "metrics.json").is_file():
            raise ConfigError(f"{args.run / rl[t].name}: no finished stage to read (has the run finished round {t}?)")
    if args.samples < 0 or args.band_fit < 0:
        raise ConfigError("--samples and --band-fit: expected 0 (off) or more")
    held = HeldOut(cfg.recipe)
    rl_cfg = cfg.recipe.rounds.rl

    def sampled(model: Path, keep: Path) -> float:
        """The sampling policy's listen accuracy, kept in `keep` (the distilled model's is read once)."""
        return held.sampled_listen(model, args.samples, rl_cfg.temperature, rl_cfg.top_k, keep)["listen"]

    changes = []
    for t in rounds:
        stage = rl[t]
        distilled, name = stages[stages.index(stage) - 1].name, stage.name
        if not (args.out / distilled / "eval" / "eval.json").is_file():
            held.evaluate(args.run / distilled / "model", args.out / distilled / "eval")
        folder = args.out / args.tag / name
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        started = time.time()
        if args.reference:
            model, train = (
                args.run / name / "model",
                json.loads((args.run / name / "metrics.json").read_text())["train"],
            )
        else:
            ctx = StageContext(stage, folder, args.run / distilled / "model", cfg, stages.index(stage))
            train = supervised_control(ctx, args.run / name) if args.supervised else stage.run(ctx)
            model = ctx.model_out
        held.evaluate(model, folder / "eval")
        before, after = eval_items(args.out, distilled), eval_items(args.out / args.tag, name)
        c = probe_change(name, before, after)
        c.update(
            seconds=time.time() - started,
            band_selected=train.get("band_selected"),
            band_twins=train.get("band_twins"),
            band_reward_before=train.get("band_reward_before"),
            band_reward_after=train.get("band_reward_after"),
        )
        if args.samples:
            name_k = f"sampled_listen_{args.samples}.json"
            c["listen_sampled"] = {
                "before": sampled(args.run / distilled / "model", args.out / distilled / name_k),
                "after": sampled(model, folder / name_k),
            }
        if args.band_fit and train.get("band_selected"):
            stage_dir = args.run / name if args.reference or args.supervised else folder
            c.update(band_fit(cfg, stage_dir, args.run / distilled / "model", model, folder, args.band_fit))
            print(
                f"{args.tag}: band right, asked as trained {c['band_asked']['before']:.3f} -> "
                f"{c['band_asked']['after']:.3f}, asked afresh {c['band_afresh']['before']:.3f} -> "
                f"{c['band_afresh']['after']:.3f}",
                flush=True,
            )
        if not args.reference:
            shutil.rmtree(folder / "model")  # the evaluation is what the probe keeps
        changes.append(c)
        print(
            f"{args.tag}: {change_line(f'{distilled} -> {name}', c)}; band reward "
            f"{c['band_reward_before'] or 0:.2f} -> {c['band_reward_after'] or 0:.2f}",
            flush=True,
        )
        for key, items in (("aligned", "Aligned"), ("listen", "Listen")):
            if c[key]:  # a held-out set may lack such items
                print(f"{args.tag}: {change_line(f'{distilled} -> {name}', c[key], items)}", flush=True)
        if args.samples:
            ls = c["listen_sampled"]
            print(
                f"{args.tag}: sampled listen ({args.samples} a item) {ls['before']:.3f} -> {ls['after']:.3f}",
                flush=True,
            )
    for line in write_pooled_changes(args.out / args.tag, changes, args.set):
        print(f"{args.tag}: {line}")


def band_tasks(stage_dir: Path) -> list[AudioTask]:
    """The band an RL stage drew, from its selected.jsonl."""
    band = [task_from_id(row["task_id"]) for row in read_jsonl(stage_dir / "selected.jsonl")]
    if any(t is None for t in band):
        raise ConfigError(f"{stage_dir}/selected.jsonl: ids that name no task")
    return band


def supervised_control(ctx: StageContext, stage_dir: Path) -> dict:
    """SFT in place of a band RL stage: the band its run drew (`stage_dir`/selected.jsonl) and the
    stage's own text questions, answered with their gold answers in the empty think format, for
    `rl.max_steps` steps of `rl.batch // rl.num_generations` questions (the prompts a GRPO step
    holds) at `rl.lr`; with `band.reask` or `band.fresh_clips` the questions are redrawn as the RL
    stage redraws them."""
    rl = ctx.section.rl
    band = band_tasks(stage_dir)
    tasks = as_drawn(band + make_tasks(["TextReasoning"], rl.text, ctx.stream("text")), ctx)
    section = SFTSection(max_steps=rl.max_steps, batch=max(1, rl.batch // rl.num_generations), lr=rl.lr)
    metrics = train_sft(ctx.job(), rows_for(tasks, [direct(t) for t in tasks]), section)
    return {**metrics, "band_selected": len(band)}


FRESH_ASKING = 10_000  # askings from here on are ones no RL stage draws (it draws 1 .. a few dozen)


def band_fit(cfg, stage_dir: Path, before: Path, after: Path, out: Path, askings: int) -> dict[str, dict[str, float]]:
    """The band's share right (`band.samples` a question at temperature 1.0, as the band was drawn) from
    the models before and after the stage, on its questions asked as the stage drew them and asked
    afresh `askings` times; before and after share the samples' seed."""
    band, rl = cfg.recipe.rounds.band, cfg.recipe.rounds.rl
    asked = band_tasks(stage_dir)
    afresh = [FAMILIES[t.family].reask(t, FRESH_ASKING + a) for t in asked for a in range(askings)]
    score = scorer(build_reward(rl.reward))
    fit: dict[str, dict[str, float]] = {"band_asked": {}, "band_afresh": {}}
    for when, model in (("before", before), ("after", after)):
        for key, tasks in (("band_asked", asked), ("band_afresh", afresh)):
            folder = out / "band_fit" / f"{key}_{when}"
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            rows = sample(
                f"band fit ({key}, {when})",
                folder,
                model,
                cfg.recipe.seed,
                tasks,
                band.samples,
                1.0,
                band.max_new_tokens,
                score,
                backend=cfg.recipe.generation.backend,
            )
            fit[key][when] = sum(r["correct"] for r in rows) / len(rows)
    return fit


if __name__ == "__main__":
    run_script(main)
