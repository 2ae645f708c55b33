"""Pictures people would rather look at than numbers: spectrograms of tasks, and the task gallery."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import numpy as np

from audiogym.tasks.core import AudioTask


def spectrogram_png(task: AudioTask, path: str | Path) -> Path:
    """Log-mel spectrogram of the task's audio, titled with the question and the answer."""
    import matplotlib

    matplotlib.use("Agg")
    import librosa
    import librosa.display
    import matplotlib.pyplot as plt

    import audiogym.analysis  # noqa: F401  (sets the numba cache before librosa loads)

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(9, 4))
    if len(task.audio):
        mel = librosa.feature.melspectrogram(y=task.audio, sr=task.sample_rate, n_fft=2048, hop_length=256, n_mels=128)
        img = librosa.display.specshow(
            librosa.power_to_db(mel, ref=np.max),
            sr=task.sample_rate,
            hop_length=256,
            x_axis="time",
            y_axis="mel",
            ax=ax,
        )
        fig.colorbar(img, ax=ax, format="%+2.0f dB")
    title = f"{task.id}: {task.question}\nanswer: {task.answer}" + ("  (transcript conflicts)" if task.conflict else "")
    ax.set_title("\n".join(textwrap.wrap(title, 90, replace_whitespace=False)), fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


DIFFICULTIES = ("easy", "medium", "hard")


def _mel_db(audio: np.ndarray, sr: int) -> np.ndarray:
    import librosa

    import audiogym.analysis  # noqa: F401  (sets the numba cache before librosa loads)

    mel = librosa.feature.melspectrogram(y=audio, sr=sr, n_fft=2048, hop_length=256, n_mels=128)
    return librosa.power_to_db(mel, ref=np.max)


def family_png(tasks: list[AudioTask], path: str | Path) -> Path:
    """One family's examples side by side (one log-mel spectrogram per task, titled by difficulty)."""
    import matplotlib

    matplotlib.use("Agg")
    import librosa.display
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, len(tasks), figsize=(3.6 * len(tasks), 2.6), squeeze=False)
    for ax, task in zip(axes[0], tasks):
        librosa.display.specshow(
            _mel_db(task.audio, task.sample_rate),
            sr=task.sample_rate,
            hop_length=256,
            x_axis="time",
            y_axis="mel",
            ax=ax,
        )
        ax.set_title(f"{task.difficulty}: {task.answer}", fontsize=9)
        ax.tick_params(labelsize=7)
        ax.set_xlabel("s", fontsize=7)
        ax.set_ylabel("Hz (mel)", fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=72)
    plt.close(fig)
    return path


def _facts(facts: dict[str, Any]) -> str:
    def fmt(v: Any) -> str:
        return f"{v:.2f}".rstrip("0").rstrip(".") if isinstance(v, float) else str(v)

    return ", ".join(f"{k}: {fmt(v)}" for k, v in facts.items()) or "-"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def write_gallery(out: str | Path, seed: int = 0) -> Path:
    """The task gallery: for every registered family one example per difficulty (seed `seed`) with
    its question, choices, transcript, answer, true facts and the facts measured from its audio,
    and one PNG of their spectrograms per audio family. Writes `out/index.md` and `out/<Family>.png`."""
    from audiogym.analysis import measure
    from audiogym.tasks import FAMILIES

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    lines = [
        "# Task gallery",
        "",
        "Every registered family, one example per difficulty, as `audiogym gallery` writes it (seeds "
        f"{seed}, {seed + 1}, {seed + 2}). *Facts* are the generator's truth; *measured* are what `audiogym.analysis` reads from "
        "the audio through the family's own `read_facts`. A conflict item's transcript points to a "
        "wrong option.",
        "",
    ]
    for name, family in FAMILIES.items():
        tasks = [family.make(seed + i, {"difficulty": d}) for i, d in enumerate(DIFFICULTIES)]
        lines += [f"## {name}", "", f"{family.description} ({family.category})", ""]
        if any(len(t.audio) for t in tasks):
            family_png(tasks, out / f"{name}.png")
            lines += [f"![{name}: log-mel spectrograms, easy / medium / hard]({name}.png)", ""]
        lines += ["| | " + " | ".join(DIFFICULTIES) + " |", "|---|" + "---|" * len(DIFFICULTIES)]
        rows = {
            "question": [t.question for t in tasks],
            "choices": [" / ".join(t.choices) or "-" for t in tasks],
            "transcript": [f"{t.transcript_label}: {t.transcript}" if t.transcript else "-" for t in tasks],
            "answer": [f"**{t.answer}**" + (" (conflict)" if t.conflict else "") for t in tasks],
            "facts": [_facts(t.facts) for t in tasks],
            "measured": [_facts(family.read_facts(measure(t.audio))) if len(t.audio) else "-" for t in tasks],
        }
        lines += [f"| {k} | " + " | ".join(_cell(v) for v in vs) + " |" for k, vs in rows.items()]
        lines.append("")
    page = out / "index.md"
    page.write_text("\n".join(lines), encoding="utf-8")
    return page


def plot_breakdowns(summary: dict[str, Any], folder: str | Path) -> list[Path]:
    """One bar chart per benchmark breakdown of an eval summary (`eval_<field>.png`): accuracy on the
    extracted answer and on the whole output, per value, with each bar's row count."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = []
    for name, groups in (summary.get("breakdowns") or {}).items():
        keys = list(groups)
        x = np.arange(len(keys))
        fig, ax = plt.subplots(figsize=(max(4.0, 0.7 * len(keys) + 2), 3.2))
        for offset, field, label in ((-0.2, "accuracy", "extracted answer"), (0.2, "raw", "whole output")):
            ax.bar(x + offset, [100 * (groups[k][field] or 0) for k in keys], width=0.4, label=label)
        ax.set_xticks(x, [f"{textwrap.shorten(k, 28)}\n(n={groups[k]['n']})" for k in keys], fontsize=7, rotation=30)
        ax.set_ylabel("accuracy, official rule (%)")
        ax.set_ylim(0, 100)
        ax.set_title(f"{summary.get('benchmark')}: {summary.get('policy')} by {name}", fontsize=9)
        ax.legend(fontsize=7)
        fig.tight_layout()
        path = Path(folder) / f"eval_{name.replace('-', '_')}.png"
        fig.savefig(path, dpi=90)
        plt.close(fig)
        out.append(path)
    return out
