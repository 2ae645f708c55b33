"""`audiogym list | show | demo | gallery`: the tasks, looked at."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from audiogym.errors import AudiogymError


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


def add_commands(sub: argparse._SubParsersAction) -> None:
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
