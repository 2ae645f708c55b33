"""`audiogym eval | select`: a policy on an env or a benchmark manifest; which questions need their audio."""

from __future__ import annotations

import argparse
from pathlib import Path

from audiogym.errors import AudiogymError


def check_source(args: argparse.Namespace, written: str, what: str) -> None:
    """The checks eval and select share: one source, a positive --n, no earlier output replaced unasked."""
    if bool(args.env) == bool(args.manifest):
        raise AudiogymError("give exactly one of --env ID or --manifest PATH")
    if args.n is not None and args.n < 1:
        raise AudiogymError(f"--n {args.n}: expected a positive number of rows")
    if (Path(args.out) / written).exists() and not args.force:
        raise AudiogymError(
            f"{args.out} already holds {what} ({written}); pass --force to replace it, or another --out"
        )


def cmd_eval(args: argparse.Namespace) -> None:
    from audiogym.evaluation import eval_tasks, evaluate, evaluate_manifest, load_policy

    check_source(args, "eval.json", "an eval")
    if args.predictions and not args.manifest:
        raise AudiogymError("--predictions writes a benchmark's own format: it needs --manifest")
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

    check_source(args, "select.json", "a selection")
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


def source_arguments(p: argparse.ArgumentParser, policy: str, out: str, manifest_help: str) -> None:
    """The arguments eval and select share: where the questions come from, who answers, where it goes."""
    p.add_argument("--env", help="environment id, e.g. audiogym/Mixed-v0")
    p.add_argument("--manifest", help=manifest_help)
    p.add_argument("--policy", default=policy, help="oracle | transcript | random | contrarian | a model folder")
    p.add_argument(
        "--n", type=int, default=None, help="the first N rows only (a manifest: all by default; an env: 200)"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--max-new-tokens", type=int, default=96)
    p.add_argument("--out", default=out)
    p.add_argument("--force", action="store_true", help="replace what an earlier run wrote in --out")


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help="accuracy, grounding and self-cognition of a policy on an env or a manifest")
    source_arguments(
        p, "oracle", "runs/eval", "a benchmark file: MMAU JSON, MMAR JSONL, MMAU-Pro parquet, or a JSONL manifest"
    )
    p.add_argument(
        "--predictions", default=None, help="also write the rows with the model's output in the benchmark's own format"
    )
    p.set_defaults(fn=cmd_eval)
    p = sub.add_parser("select", help="audio-contribution filtering: which questions need their audio")
    source_arguments(p, "transcript", "runs/select", "a benchmark file or JSONL manifest")
    p.add_argument("--samples", type=int, default=4, help="answers per item and condition")
    p.add_argument("--threshold", type=float, default=0.5, help="weak when accuracy without the audio reaches this")
    p.set_defaults(fn=cmd_select)
