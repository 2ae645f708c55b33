"""The `audiogym` command: list, show, demo, gallery, eval, train, sweep, compare.

Errors a user can cause print one line and exit with status 2; no traceback.
"""

from __future__ import annotations

import argparse
import errno
import json
import sys
from pathlib import Path

from audiogym.errors import AudiogymError

# OS errors a user's machine causes (not audiogym's bugs): one line, exit 2.
USER_OS_ERRORS = {errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EDQUOT, errno.EPERM}


def cmd_list(args: argparse.Namespace) -> None:
    from audiogym.envs import DESCRIPTIONS

    width = max(map(len, DESCRIPTIONS))
    for env_id, desc in DESCRIPTIONS.items():
        print(f"{env_id:<{width}}  {desc}")


def _source(env_id: str, path: str | None = None):
    """The task source behind an environment id (a family, the mixture, or a manifest)."""
    from audiogym.data import source_name
    from audiogym.envs import DESCRIPTIONS
    from audiogym.tasks.sources import make_source

    if env_id not in DESCRIPTIONS:
        raise AudiogymError(f"unknown environment {env_id!r}; run 'audiogym list' for the ids")
    return make_source(source_name(env_id), path=path)


def cmd_show(args: argparse.Namespace) -> None:
    import soundfile as sf

    from audiogym.plots import spectrogram_png
    from audiogym.tasks import render_prompt

    task = _source(args.env_id, args.path).make(args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = out / task.id
    if len(task.audio):
        sf.write(f"{stem}.wav", task.audio, task.sample_rate, subtype="FLOAT")
    spectrogram_png(task, f"{stem}.png")
    prompt = render_prompt(task)
    Path(f"{stem}.json").write_text(json.dumps({**task.to_json(), "prompt": prompt}, indent=2))
    print(prompt)
    print(f"answer: {task.answer}   conflict: {task.conflict}")
    print(f"wrote {stem}.wav, {stem}.png, {stem}.json" if len(task.audio) else f"wrote {stem}.png, {stem}.json")


def cmd_demo(args: argparse.Namespace) -> None:
    """One episode of every family, answered by the grounded oracle and the transcript reader."""
    import gymnasium as gym

    from audiogym.plots import spectrogram_png
    from audiogym.policies import OraclePolicy, TranscriptPolicy
    from audiogym.tasks import FAMILIES

    out = Path(args.out)
    oracle, cascade = OraclePolicy(), TranscriptPolicy()
    print(f"{'environment':<30} {'answer':<24} {'conflict':<8} {'oracle':>6} {'transcript':>10}")
    totals = [0.0, 0.0]
    for name in FAMILIES:
        env = gym.make(f"audiogym/{name}-v0")
        env.reset(seed=args.seed)
        task = env.unwrapped.task  # type: ignore[attr-defined]
        rewards: list[float] = []
        for policy in (oracle, cascade):
            env.reset(seed=args.seed)
            rewards.append(float(env.step(policy.act(task))[1]))
        totals = [a + b for a, b in zip(totals, rewards)]
        if len(task.audio):
            spectrogram_png(task, out / f"{task.id}.png")
        print(
            f"audiogym/{name}-v0".ljust(30),
            f"{task.answer[:23]:<24} {str(task.conflict):<8} {rewards[0]:>6.1f} {rewards[1]:>10.1f}",
        )
    n = len(FAMILIES)
    print(f"{'mean reward':<64} {totals[0] / n:>6.2f} {totals[1] / n:>10.2f}")
    print(f"spectrograms written to {out}/")


def cmd_gallery(args: argparse.Namespace) -> None:
    from audiogym.plots import write_gallery

    print(f"wrote {write_gallery(args.out, seed=args.seed)} and one PNG per audio family")


def cmd_eval(args: argparse.Namespace) -> None:
    from audiogym.evaluation import eval_tasks, evaluate, evaluate_manifest, load_policy

    if bool(args.env) == bool(args.manifest):
        raise AudiogymError("give exactly one of --env ID or --manifest PATH")
    if (Path(args.out) / "eval.json").exists() and not args.force:
        raise AudiogymError(
            f"{args.out} already holds an eval (eval.json); pass --force to replace it, or another --out"
        )
    if args.predictions and not args.manifest:
        raise AudiogymError("--predictions writes a benchmark's own format: it needs --manifest")
    if args.n is not None and args.n < 1:
        raise AudiogymError(f"--n {args.n}: expected a positive number of rows")
    policy = load_policy(args.policy)
    if args.manifest:
        from audiogym.tasks.manifest import Manifest

        m = Manifest(args.manifest, skip_invalid=True)
        if m.skipped:
            print(f"skipped {len(m.skipped)} invalid rows of {args.manifest} (listed in eval.json / eval.md)")
        for why, count in m.unsupported.items():
            print(f"not scored: {count} rows of {args.manifest} are {why}")
        report = evaluate_manifest(policy, m, n=args.n, batch_size=args.batch_size, max_new_tokens=args.max_new_tokens)
    else:
        tasks = eval_tasks(args.env, None, n=args.n or 200, seed=args.seed)
        report = evaluate(policy, tasks, batch_size=args.batch_size, max_new_tokens=args.max_new_tokens)
    for w in report.warnings:
        print(f"warning: {w}")
    out = report.write(args.out)
    from audiogym.plots import plot_breakdowns

    charts = plot_breakdowns(report.summary(), out)
    print(report.markdown())
    if args.predictions:
        from audiogym.benchmarks import write_predictions

        done = write_predictions(
            Path(args.predictions),
            m.benchmark,
            [r.record for r in m.rows[: len(report.items)]],
            [item.completion for item in report.items],
        )
        print(f"wrote {done} ({m.benchmark.name}'s format: the whole output under {m.benchmark.output_key!r})")
    print(f"wrote {out / 'eval.json'}, {out / 'eval.md'}" + "".join(f", {c.name}" for c in charts))


def cmd_select(args: argparse.Namespace) -> None:
    from audiogym.evaluation import eval_tasks, load_policy
    from audiogym.selection import select, write_selection

    if bool(args.env) == bool(args.manifest):
        raise AudiogymError("give exactly one of --env ID or --manifest PATH")
    if (Path(args.out) / "select.json").exists() and not args.force:
        raise AudiogymError(f"{args.out} already holds a selection (select.json); pass --force, or another --out")
    if args.samples < 1 or not 0 <= args.threshold <= 1:
        raise AudiogymError(f"--samples {args.samples} --threshold {args.threshold}: expected >= 1 and 0..1")
    policy = load_policy(args.policy)
    records = None
    if args.manifest:
        from audiogym.tasks.manifest import AUDIO_FIELDS, Manifest

        m = Manifest(args.manifest, skip_invalid=True)
        rows = m.rows[: args.n or len(m)]
        tasks = [m.task(i) for i in range(len(rows))]
        records = [
            {**r.record, **{k: str(r.audio_path.resolve()) for k in AUDIO_FIELDS if k in r.record}} for r in rows
        ]
    else:
        tasks = eval_tasks(args.env, None, n=args.n or 200, seed=args.seed)
    result = select(
        policy,
        tasks,
        samples=args.samples,
        threshold=args.threshold,
        batch_size=args.batch_size,
        max_new_tokens=args.max_new_tokens,
    )
    files = write_selection(result, tasks, Path(args.out), records)
    print(result.markdown())
    print("wrote " + ", ".join(str(f) for f in files))


def cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn

    from audiogym.serve import create_server_app

    if not 0 < args.port < 65536:
        raise AudiogymError(f"--port {args.port}: expected 1..65535")
    app = create_server_app(args.env, max_sessions=args.max_sessions)
    print(
        f"serving {args.env} over OpenEnv on http://{args.host}:{args.port} (ws /ws; Ctrl-C or SIGTERM stops)",
        flush=True,
    )
    import signal

    # uvicorn shuts down gracefully on SIGTERM, then raises the signal again for the handler it
    # found: this one makes that a clean exit (status 0) instead of death by signal.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning", ws_max_size=args.max_message_bytes)
    finally:
        print("server stopped", flush=True)


def cmd_export(args: argparse.Namespace) -> None:
    if min(args.n, args.n_test) < 1:
        raise AudiogymError(f"--n {args.n} --n-test {args.n_test}: expected positive numbers of rows")
    if (Path(args.out)).exists() and any(Path(args.out).iterdir()) and not args.force:
        raise AudiogymError(f"{args.out} is not empty; pass --force to write into it, or another --out")
    if args.format == "verl":
        from audiogym.integrations.verl import export_verl

        files = export_verl(args.env, args.n, args.n_test, args.seed, args.out)
    else:
        from audiogym.integrations.nemo_rl import export_nemo_rl

        files = export_nemo_rl(args.env, args.n, args.seed, args.out)
    print("wrote " + ", ".join(str(f) for f in files))


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


def main(argv: list[str] | None = None) -> int:
    import audiogym

    parser = argparse.ArgumentParser(prog="audiogym", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"audiogym {audiogym.__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="environment ids with one-line descriptions").set_defaults(fn=cmd_list)
    p = sub.add_parser("show", help="write one task's WAV, spectrogram PNG and JSON")
    p.add_argument("env_id")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs/show")
    p.add_argument("--path", help="manifest path for audiogym/Manifest-v0")
    p.set_defaults(fn=cmd_show)
    p = sub.add_parser("demo", help="answer one episode of every family with scripted policies")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs/demo")
    p.set_defaults(fn=cmd_demo)
    p = sub.add_parser("gallery", help="the task gallery: every family, one example per difficulty, with spectrograms")
    p.add_argument("--out", default="docs/gallery")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(fn=cmd_gallery)
    p = sub.add_parser("eval", help="accuracy, grounding and self-cognition of a policy on an env or a manifest")
    p.add_argument("--env", help="environment id, e.g. audiogym/Mixed-v0")
    p.add_argument("--manifest", help="a benchmark file: MMAU JSON, MMAR JSONL, MMAU-Pro parquet, or a JSONL manifest")
    p.add_argument("--policy", default="oracle", help="oracle | transcript | random | a model folder")
    p.add_argument(
        "--n", type=int, default=None, help="score only the first N rows (a manifest: all by default; an env: 200)"
    )
    p.add_argument(
        "--predictions", default=None, help="also write the rows with the model's output in the benchmark's own format"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--max-new-tokens", type=int, default=96)
    p.add_argument("--out", default="runs/eval")
    p.add_argument("--force", action="store_true", help="replace an existing eval in --out")
    p.set_defaults(fn=cmd_eval)
    p = sub.add_parser("select", help="audio-contribution filtering: which questions need their audio")
    p.add_argument("--env", help="environment id, e.g. audiogym/Mixed-v0")
    p.add_argument("--manifest", help="a benchmark file or JSONL manifest")
    p.add_argument("--policy", default="transcript", help="oracle | transcript | random | contrarian | a model folder")
    p.add_argument("--n", type=int, default=None, help="the first N rows (a manifest: all by default; an env: 200)")
    p.add_argument("--samples", type=int, default=4, help="answers per item and condition")
    p.add_argument("--threshold", type=float, default=0.5, help="weak when accuracy without the audio reaches this")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--max-new-tokens", type=int, default=96)
    p.add_argument("--out", default="runs/select")
    p.add_argument("--force", action="store_true", help="replace an existing selection in --out")
    p.set_defaults(fn=cmd_select)
    p = sub.add_parser("export", help="tasks as another engine's training data (verl parquet, NeMo-RL manifest)")
    p.add_argument("--format", choices=["verl", "nemo-rl"], required=True)
    p.add_argument("--env", default="audiogym/Mixed-v0", help="environment id")
    p.add_argument("--n", type=int, default=1000, help="training rows")
    p.add_argument("--n-test", type=int, default=200, help="test rows (verl's test.parquet)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs/export")
    p.add_argument("--force", action="store_true", help="write into a folder that is not empty")
    p.set_defaults(fn=cmd_export)
    p = sub.add_parser("serve", help="serve an environment over OpenEnv (HTTP + WebSocket sessions)")
    p.add_argument("--env", default="audiogym/Mixed-v0", help="environment id")
    p.add_argument("--host", default="127.0.0.1", help="the address to listen on (loopback unless you say otherwise)")
    p.add_argument("--port", type=int, default=8011)
    p.add_argument("--max-sessions", type=int, default=64, help="concurrent sessions (one env each)")
    p.add_argument("--max-message-bytes", type=int, default=1 << 20, help="larger WebSocket messages are refused")
    p.set_defaults(fn=cmd_serve)
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
    args = parser.parse_args(argv)
    try:
        args.fn(args)
    except AudiogymError as e:
        print(f"audiogym: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        if e.errno not in USER_OS_ERRORS:
            raise
        # a full disk, a read-only folder: what was finished stays, and --resume continues from it
        print(
            f"audiogym: error: cannot write {e.filename or ''}: {e.strerror}".replace("write : ", "write: "),
            file=sys.stderr,
        )
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
