"""The recipe's pictures: held-out metrics by stage, the RL stages' per-step curves, and the rounds
ablation (conflict accuracy against the number of rounds)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def plot_rl(groups: dict[str, list[dict[str, Any]]], path: Path) -> Path:
    """The RL stages' per-step audio reward and think words, the rounds one after another, one
    line per run coloured by group (a sweep's variants, or one run)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    for i, (name, group) in enumerate(groups.items()):
        for j, r in enumerate(group):
            for ax, key in zip(axes, ("audio_reward", "audio_think_words")):
                ys: list[float] = []
                for stage in r.get("rl", {}):
                    ys += [float("nan") if v is None else v for v in (r["rl"][stage].get("curve") or {}).get(key, [])]
                ax.plot(range(1, len(ys) + 1), ys, color=f"C{i}", alpha=0.6, lw=1, label=name[:40] if j == 0 else None)
    for ax, title in zip(axes, ("mean reward of the audio (band) items", "think words on the audio items")):
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("RL step (rounds one after another)", fontsize=8)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_rounds(per_run: dict[str, dict[int, dict[str, Any]]], transcript: float, path: Path) -> Path:
    """Held-out conflict accuracy against the number of rounds T, one line per run and their pooled
    mean, beside the transcript baseline (the textual surrogate)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for _run, changes in per_run.items():
        ts = sorted(changes)
        ax.plot(ts, [changes[t]["after"] for t in ts], color="0.6", lw=1, marker=".", alpha=0.8)
    from audiogym.stats import pooled_change

    ts = sorted(set.intersection(*(set(c) for c in per_run.values())))
    pooled = [pooled_change([c[t] for c in per_run.values()])["after"] for t in ts]
    ax.plot(ts, pooled, color="C0", lw=2.5, marker="o", label=f"model, {len(per_run)} runs pooled")
    ax.axhline(transcript, color="C3", ls="--", label="transcript baseline (textual surrogate)")
    ax.set_xticks(ts)
    ax.set_xlabel("grounding rounds T")
    ax.set_ylabel("held-out conflict accuracy")
    ax.set_ylim(-0.02, 1.0)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_curves(stages: list[dict[str, Any]], baselines: dict[str, dict[str, Any]], path: Path) -> Path:
    """Held-out metrics after each stage (`stages`: the table's stage rows), beside the transcript
    baseline (`baselines`: name -> row)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    base = baselines
    x = range(len(stages))
    fig, ax = plt.subplots(figsize=(10, 4.5))
    for key, label in [
        ("accuracy_conflict", "conflict accuracy"),
        ("accuracy_aligned", "aligned accuracy"),
        ("grounding_rate", "grounding rate"),
        ("accuracy_text", "text accuracy"),
        ("self_cognition_error_rate", "self-cognition error"),
    ]:
        ys = [float(r[key]) if r.get(key) is not None else float("nan") for r in stages]
        ax.plot(list(x), ys, marker="o", label=label)
    if "transcript" in base and base["transcript"].get("accuracy_conflict") is not None:
        ax.axhline(
            base["transcript"]["accuracy_conflict"], ls="--", c="gray", lw=1, label="transcript baseline, conflict"
        )
    ax.set_xticks(list(x), [r["stage"] for r in stages], rotation=30, ha="right", fontsize=8)
    ax.set_ylim(-0.02, 1.02)
    ax.set_title("MGRD recipe: held-out metrics after each stage")
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
