"""Audio-contribution filtering (`audiogym select`): which questions need their audio.

Each item is answered K times in four conditions: with its audio, with the audio silenced, with
noise of the same loudness (RMS) in its place, and with no audio at all (text only). An item is
**weak-contribution** when the policy's accuracy without the audio (the three other conditions,
K samples each, pooled) reaches `threshold`: its answer survives without listening, so it trains
or measures reading, not hearing. The rest is **strong-contribution**. This is the step the
report's data pipeline and AudioMCQ share ("filter questions whose audio does not matter").

On audiogym's own items the truth is known: aligned items are answerable from the transcript,
conflict and audio-only items are not, and an independent item is exactly when its transcript
happens to name the answer.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from audiogym.rewards.outcome import is_correct
from audiogym.tasks.core import AudioTask

CONDITIONS = ("audio", "silence", "noise", "text")


def without_audio(task: AudioTask, condition: str, seed: int = 0) -> AudioTask:
    """The task in one condition: its own audio, silence, equal-RMS noise, or none (text only).
    The generator's facts go too: they describe the original clip."""
    if condition == "audio":
        return task
    if condition == "silence":
        audio = np.zeros_like(task.audio)
    elif condition == "noise":
        rms = float(np.sqrt(np.mean(np.square(task.audio, dtype=np.float64)))) if len(task.audio) else 0.0
        audio = (np.random.default_rng(seed).standard_normal(len(task.audio)) * rms).astype(np.float32)
        audio = np.clip(audio, -1.0, 1.0)
    elif condition == "text":
        audio = np.zeros(0, np.float32)
    else:
        raise ValueError(f"unknown condition {condition!r}; expected one of {', '.join(CONDITIONS)}")
    return dataclasses.replace(task, audio=audio, facts={})


@dataclass
class Selection:
    policy: str
    samples: int
    threshold: float
    items: list[dict[str, Any]] = field(
        default_factory=list
    )  # per item: id, group, difficulty, accuracy per condition, weak

    def summary(self) -> dict[str, Any]:
        def share(rows: list[dict[str, Any]]) -> dict[str, Any]:
            return {
                "n": len(rows),
                "weak": sum(r["weak"] for r in rows),
                "weak_share": float(np.mean([r["weak"] for r in rows])),
            }

        by = lambda key: {  # noqa: E731
            v: share([r for r in self.items if r[key] == v]) for v in sorted({r[key] for r in self.items})
        }
        return {
            "policy": self.policy,
            "samples": self.samples,
            "threshold": self.threshold,
            **share(self.items),
            "accuracy": {c: float(np.mean([r["accuracy"][c] for r in self.items])) for c in CONDITIONS},
            "by_group": by("group"),
            "by_difficulty": by("difficulty"),
        }

    def markdown(self) -> str:
        s = self.summary()
        pct = lambda x: f"{100 * x:.1f}%"  # noqa: E731
        lines = [
            f"## Audio contribution: {s['policy']} on {s['n']} items ({s['samples']} samples a condition)",
            "",
            f"Weak-contribution (accuracy without the audio >= {s['threshold']:g}): {s['weak']} of {s['n']} "
            f"({pct(s['weak_share'])}); strong: {s['n'] - s['weak']}.",
            "",
            "| condition | " + " | ".join(CONDITIONS) + " |",
            "|---|" + "---|" * len(CONDITIONS),
            "| accuracy | " + " | ".join(pct(s["accuracy"][c]) for c in CONDITIONS) + " |",
            "",
        ]
        for title, key in (("task / family", "by_group"), ("difficulty", "by_difficulty")):
            lines += [f"| {title} | n | weak | weak share |", "|---|---|---|---|"]
            lines += [f"| {k} | {v['n']} | {v['weak']} | {pct(v['weak_share'])} |" for k, v in s[key].items()] + [""]
        return "\n".join(lines)


def select(
    policy: Any,
    tasks: list[AudioTask],
    samples: int = 4,
    threshold: float = 0.5,
    batch_size: int = 32,
    progress: bool = True,
    **generate_kwargs: Any,
) -> Selection:
    """Answer every task `samples` times in every condition and mark each weak or strong."""
    from tqdm.auto import tqdm

    generate_kwargs.setdefault("temperature", 1.0 if samples > 1 else 0.0)
    result = Selection(getattr(policy, "name", type(policy).__name__), samples, threshold)
    correct: dict[str, dict[str, float]] = {t.id: {} for t in tasks}
    with tqdm(
        total=len(tasks) * len(CONDITIONS), desc="select", unit="answer", disable=not progress, leave=False
    ) as bar:
        for condition in CONDITIONS:
            for start in range(0, len(tasks), batch_size):
                batch = [
                    without_audio(t, condition, seed=i) for i, t in enumerate(tasks[start : start + batch_size], start)
                ]
                for task, gens in zip(batch, policy.generate(batch, num_samples=samples, **generate_kwargs)):
                    correct[task.id][condition] = float(
                        np.mean([is_correct(g.text, task.answer, task.choices) for g in gens])
                    )
                bar.update(len(batch))
    for t in tasks:
        acc = correct[t.id]
        deaf = float(np.mean([acc[c] for c in CONDITIONS if c != "audio"]))
        result.items.append(
            {
                "id": t.id,
                "group": t.family or t.category,
                "difficulty": t.difficulty,
                "cue": t.cue,
                "accuracy": acc,
                "accuracy_without_audio": deaf,
                "weak": deaf >= threshold,
            }
        )
    return result


def write_selection(
    selection: Selection, tasks: list[AudioTask], out: Path, records: list[dict[str, Any]] | None = None
) -> list[Path]:
    """strong.jsonl and weak.jsonl (loadable manifests: a benchmark's own rows with absolute audio
    paths, or audiogym items with their clips written under out/audio/), select.json, select.md."""
    from audiogym.io import atomic_write_text

    out.mkdir(parents=True, exist_ok=True)
    weak = {r["id"]: r["weak"] for r in selection.items}
    files: dict[bool, list[str]] = {True: [], False: []}
    for i, t in enumerate(tasks):
        if records is not None:
            row = dict(records[i])
        else:
            import soundfile as sf

            clip = out / "audio" / f"{t.id.replace('/', '_').replace('@', '_')}.wav"
            clip.parent.mkdir(parents=True, exist_ok=True)
            sf.write(clip, t.audio, t.sample_rate)
            row = {
                "id": t.id,
                "audio": str(clip.resolve()),
                "question": t.question,
                "choices": t.choices,
                "answer": t.answer,
                "category": t.category,
                "transcript": t.transcript,
                "difficulty": t.difficulty,
            }
        files[weak[t.id]].append(json.dumps(row, ensure_ascii=False, default=str))
    paths = []
    for name, is_weak in (("strong.jsonl", False), ("weak.jsonl", True)):
        atomic_write_text(out / name, "".join(x + "\n" for x in files[is_weak]))
        paths.append(out / name)
    atomic_write_text(
        out / "select.json", json.dumps({"summary": selection.summary(), "items": selection.items}, indent=1)
    )
    atomic_write_text(out / "select.md", selection.markdown())
    return paths + [out / "select.json", out / "select.md"]
