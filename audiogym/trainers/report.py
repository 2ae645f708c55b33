"""The stage table (markdown, JSON, PNG) and the paired conflict-item test of a recipe run."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from audiogym.io import atomic_write_json, atomic_write_text

COLUMNS = [("accuracy", "acc"), ("accuracy_aligned", "aligned"), ("accuracy_conflict", "conflict"),
           ("accuracy_text", "text"), ("mean_think_words", "think words"), ("grounding_rate", "grounded"),
           ("self_cognition_error_rate", "self-cog err"), ("kept_fraction", "kept"), ("band_selected", "band sel.")]


def stage_row(stage: str, metrics: dict[str, Any]) -> dict[str, Any]:
    """One row of the table from a stage's metrics.json."""
    train = metrics.get("train", {})
    return {"stage": stage, **metrics["eval"], "kept_fraction": train.get("kept_fraction"),
            "band_selected": train.get("band_selected"), "seconds": metrics.get("seconds")}


def header() -> str:
    head = f"| {'stage':<22} | " + " | ".join(f"{c:>12}" for _, c in COLUMNS) + " |"
    return head + "\n|" + "|".join("-" * (len(x) + 2) for x in [" " * 22] + [" " * 12] * len(COLUMNS)) + "|"


def format_row(row: dict[str, Any]) -> str:
    def fmt(v: Any) -> str:
        if v is None:
            return "-"
        return f"{v:.3f}" if isinstance(v, float) and v <= 1.0 else f"{v:.1f}" if isinstance(v, float) else str(v)
    return f"| {row['stage']:<22} | " + " | ".join(f"{fmt(row.get(k)):>12}" for k, _ in COLUMNS) + " |"


def conflict_change(folder: Path, stage_names: list[str], rounds: int) -> dict[str, Any] | None:
    """Conflict items, the cold-start model against the model after the last round, item by item."""
    from audiogym.evaluation import change_line, paired_change
    last = [n for n in stage_names if n.startswith(f"round{rounds}_")]
    if not last or "cold_start_rlvr" not in stage_names:
        return None
    items = [json.loads((folder / n / "eval" / "eval.json").read_text())["items"] for n in ("cold_start_rlvr", last[-1])]
    c = paired_change(*items)
    c["line"] = change_line(f"cold_start_rlvr -> {last[-1]}", c)
    return c


def rl_changes(folder: Path, stage_names: list[str]) -> dict[str, dict[str, Any]]:
    """What each round's RL stage did to held-out conflict accuracy: its model against the model it
    started from (the round's distillation), item by item."""
    from audiogym.evaluation import change_line, paired_change
    out = {}
    for name in stage_names:
        if name.endswith("_rl") and name.replace("_rl", "_distill") in stage_names:
            before = name.replace("_rl", "_distill")
            items = [json.loads((folder / n / "eval" / "eval.json").read_text())["items"] for n in (before, name)]
            c = paired_change(*items)
            c["line"] = change_line(f"{before} -> {name}", c)
            out[name] = c
    return out


def self_cognition_path(rows: list[dict[str, Any]]) -> dict[str, float | None]:
    """The probe error after the cold start, after the rounds and after DPO (the report's Table 3)."""
    err = {r["stage"]: r.get("self_cognition_error_rate") for r in rows}
    rounds = [r["stage"] for r in rows if r["stage"].startswith("round")]
    return {"cold_start": err.get("cold_start_rlvr"), "rounds": err.get(rounds[-1]) if rounds else None,
            "dpo": err.get("self_cognition")}


def write_table(folder: Path, name: str, rows: list[dict[str, Any]], seconds: float,
                change: dict[str, Any] | None = None, rl: dict[str, dict[str, Any]] | None = None) -> None:
    md = "\n".join([header()] + [format_row(r) for r in rows])
    sc = self_cognition_path(rows)
    sc_line = "Self-cognition error on the probes: " + ", ".join(
        f"after {k.replace('_', ' ')} {v:.3f}" for k, v in sc.items() if v is not None)
    atomic_write_text(folder / "table.md", f"# MGRD recipe: {name}\n\n{md}\n\n"
                                           + (f"{change['line']}\n\n" if change else "")
                                           + "".join(f"{c['line']}\n" for c in (rl or {}).values())
                                           + f"\n{sc_line}\n\nTotal time: {seconds / 60:.1f} min\n")
    atomic_write_json(folder / "table.json", {"rows": rows, "seconds": seconds, "conflict_change": change,
                                              "rl_changes": rl or {}, "self_cognition": sc})
    plot_curves(rows, folder / "curves.png")


def plot_curves(rows: list[dict[str, Any]], path: Path) -> Path:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    stages = [r for r in rows if not r["stage"].startswith("baseline")]
    base = {r["stage"].split(": ")[1]: r for r in rows if r["stage"].startswith("baseline")}
    x = range(len(stages))
    fig, ax = plt.subplots(figsize=(10, 4.5))
    for key, label in [("accuracy_conflict", "conflict accuracy"), ("accuracy_aligned", "aligned accuracy"),
                       ("grounding_rate", "grounding rate"), ("accuracy_text", "text accuracy"),
                       ("self_cognition_error_rate", "self-cognition error")]:
        ys = [float(r[key]) if r.get(key) is not None else float("nan") for r in stages]
        ax.plot(list(x), ys, marker="o", label=label)
    if "transcript" in base and base["transcript"].get("accuracy_conflict") is not None:
        ax.axhline(base["transcript"]["accuracy_conflict"], ls="--", c="gray", lw=1, label="transcript baseline, conflict")
    ax.set_xticks(list(x), [r["stage"] for r in stages], rotation=30, ha="right", fontsize=8)
    ax.set_ylim(-0.02, 1.02)
    ax.set_title("MGRD recipe: held-out metrics after each stage")
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
