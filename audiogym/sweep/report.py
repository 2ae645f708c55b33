"""A sweep's results: one row per trial (settings and metrics), the metric against each swept
parameter (points per seed, mean per value), and the pooled paired test per variant."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from audiogym.io import atomic_write_json, atomic_write_text
from audiogym.recipe.plots import plot_rl
from audiogym.recipe.probing import eval_items
from audiogym.recipe.report import rl_stages, round_ends, trained
from audiogym.sweep.config import TRIAL_FILE, SweepConfig, objective


def _value(v: Any) -> str:
    return json.dumps(v, sort_keys=True) if isinstance(v, (dict, list)) else str(v)


def collect(sweep: SweepConfig, sweep_dir: Path) -> list[dict[str, Any]]:
    """Every trial folder's settings and results (unfinished trials have no metrics yet)."""
    rows = []
    for marker in sorted(sweep_dir.glob(f"*/{TRIAL_FILE}")):
        trial = json.loads(marker.read_text())
        table_path = marker.parent / "table.json"
        row: dict[str, Any] = {"trial": trial["name"], "seed": trial["seed"], **trial["values"], "finished": False}
        if table_path.exists():
            table = json.loads(table_path.read_text())
            stages = trained(table["rows"])
            last, ends = stages[-1], round_ends(table["rows"])
            row.update(
                finished=True,
                objective=objective(sweep, table),
                conflict_change=table.get("conflict_change"),
                last_stage=last["stage"],
                last_round_stage=ends[max(ends)]["stage"] if ends else None,
                accuracy=last.get("accuracy"),
                accuracy_conflict=last.get("accuracy_conflict"),
                grounding_rate=last.get("grounding_rate"),
                minutes=round(table.get("seconds", 0) / 60, 2),
                rl_changes=table.get("rl_changes") or {},
                stages={r["stage"]: {k: r.get(k) for k in STAGE_KEYS} for r in stages},
                rl=rl_stages(marker.parent, table["rows"]),
            )
        rows.append(row)
    return rows


# What the per-stage table of a sweep shows, averaged over a variant's seeds.
STAGE_KEYS = ("accuracy_conflict", "grounding_rate", "mean_think_words", "self_cognition_error_rate")


def variants(sweep: SweepConfig, rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Finished trials grouped by their swept values (seeds pooled)."""
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        if r["finished"]:
            out[", ".join(f"{k}={_value(r[k])}" for k in sweep.space)].append(r)
    return dict(out)


def write_results(sweep: SweepConfig, sweep_dir: Path, seconds: float) -> dict[str, Any]:
    from audiogym.stats import change_line, pooled_change

    rows = collect(sweep, sweep_dir)
    pooled = {}
    for name, group in variants(sweep, rows).items():
        changes = [r["conflict_change"] for r in group if r.get("conflict_change")]
        if changes:
            c = pooled_change(changes)
            pooled[name] = {**c, "line": change_line(f"{name}, {len(changes)} seeds pooled", c)}
    metric = sweep.metric.get("column") and f"{sweep.metric['stage']}.{sweep.metric['column']}" or "conflict gain"
    result = {
        "sweep": sweep.name,
        "metric": metric,
        "mode": sweep.mode,
        "seconds": seconds,
        "trials": rows,
        "pooled": pooled,
    }
    atomic_write_json(sweep_dir / "results.json", result)
    keys = list(sweep.space)
    head = ["trial", *keys, "seed", "objective", "conflict", "grounded", "minutes"]
    lines = [
        f"# Sweep {sweep.name}",
        "",
        f"Metric: {metric} ({sweep.mode}); {len(rows)} trials, "
        f"{sum(r['finished'] for r in rows)} finished, {seconds / 60:.1f} min.",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    fmt = lambda v: "-" if v is None else f"{v:.3f}" if isinstance(v, float) else _value(v)  # noqa: E731
    for r in rows:
        settings = [_value(r.get(k)) for k in ["trial", *keys, "seed"]]  # swept values as given (1e-4 stays 0.0001)
        metrics = [fmt(r.get(k)) for k in ["objective", "accuracy_conflict", "grounding_rate", "minutes"]]
        lines.append("| " + " | ".join(settings + metrics) + " |")
    if pooled:
        lines += [
            "",
            "Pooled paired test on the conflict items, cold start -> last round, per variant:",
            "",
            *[f"- {p['line']}" for p in pooled.values()],
        ]
    groups = variants(sweep, rows)
    rl_lines = []
    for name, group in groups.items():
        stage_changes = [c for r in group for c in (r.get("rl_changes") or {}).values()]
        if stage_changes:
            rl_lines.append(
                f"- {change_line(f'{name}, every RL stage of {len(group)} seeds', pooled_change(stage_changes))}"
            )
    if rl_lines:
        lines += [
            "",
            "What the RL stages did (each round's RL model against its distillation model, pooled):",
            "",
            *rl_lines,
        ]
    duel = head_to_head(groups, sweep_dir)
    if duel:
        lines += [
            "",
            f"Each variant against the first ({next(iter(groups))}), trial by trial on the same seed's "
            "held-out conflict items:",
            "",
            *[f"- {d['line']}" for d in duel],
        ]
        result["head_to_head"] = duel
        atomic_write_json(sweep_dir / "results.json", result)
    lines += [
        "",
        "Per stage, mean over each variant's seeds (conflict accuracy / grounding rate / think words / "
        "self-cognition error; band correct before -> after on RL stages):",
        "",
        *stage_table(groups),
    ]
    atomic_write_text(sweep_dir / "results.md", "\n".join(lines) + "\n")
    plot(sweep, rows, sweep_dir / "results.png", metric)
    plot_rl(groups, sweep_dir / "rl_curves.png")
    return result


def head_to_head(groups: dict[str, list[dict[str, Any]]], sweep_dir: Path) -> list[dict[str, Any]]:
    """Every variant against the first one, each trial paired with the first variant's trial of the
    same seed, item by item on the held-out conflict items of the last round's model and of the final
    model, pooled over seeds: the sweep's own paired test between its arms."""
    from audiogym.stats import change_line, paired_change, pooled_change

    names = list(groups)
    if len(names) < 2:
        return []
    first = {r["seed"]: r for r in groups[names[0]]}

    def items(row: dict[str, Any], stage: str) -> list[dict[str, Any]] | None:
        folder = sweep_dir / row["trial"]
        return eval_items(folder, stage) if (folder / stage / "eval" / "eval.json").exists() else None

    out = []
    for name in names[1:]:
        for which in ("last round", "final"):
            changes = []
            for r in groups[name]:
                ref = first.get(r["seed"])
                if ref is None:
                    continue
                stage = r.get("last_stage") if which == "final" else r.get("last_round_stage")
                a, b = (items(ref, stage), items(r, stage)) if stage else (None, None)
                if a and b:
                    changes.append(paired_change(a, b))
            if changes:
                c = pooled_change(changes)
                out.append(
                    {
                        **c,
                        "variant": name,
                        "model": which,
                        "line": change_line(f"{names[0]} -> {name}, {which} model, {len(changes)} seeds pooled", c),
                    }
                )
    return out


def _mean(xs: list[Any]) -> float | None:
    vals = [float(x) for x in xs if x is not None]
    return sum(vals) / len(vals) if vals else None


def stage_table(groups: dict[str, list[dict[str, Any]]]) -> list[str]:
    """One markdown row per stage, one column per variant."""
    names = list(groups)
    stages: list[str] = []
    for group in groups.values():
        for r in group:
            stages += [s for s in r.get("stages", {}) if s not in stages]
    out = ["| stage | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for stage in stages:
        cells = []
        for group in groups.values():
            vals = [_mean([r.get("stages", {}).get(stage, {}).get(k) for r in group]) for k in STAGE_KEYS]
            cell = " / ".join("-" if v is None else f"{v:.2f}" if v <= 1 else f"{v:.1f}" for v in vals)
            band = [
                _mean([r.get("rl", {}).get(stage, {}).get(k) for r in group])
                for k in ("band_correct_before", "band_correct_after")
            ]
            if None not in band:
                cell += f"; band {band[0]:.2f} -> {band[1]:.2f}"
            cells.append(cell)
        out.append(f"| {stage} | " + " | ".join(cells) + " |")
    return out


def plot(sweep: SweepConfig, rows: list[dict[str, Any]], path: Path, metric: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = list(sweep.space)
    fig, axes = plt.subplots(1, len(keys), figsize=(4.5 * len(keys), 3.8), squeeze=False)
    done = [r for r in rows if r["finished"] and r.get("objective") is not None]
    for ax, key in zip(axes[0], keys):
        labels = sorted({_value(r[key]) for r in done})
        for seed in sorted({r["seed"] for r in done}):
            pts = [(labels.index(_value(r[key])), r["objective"]) for r in done if r["seed"] == seed]
            ax.scatter([p[0] for p in pts], [p[1] for p in pts], label=f"seed {seed}", alpha=0.7)
        means = [
            sum(r["objective"] for r in done if _value(r[key]) == lab)
            / max(1, sum(_value(r[key]) == lab for r in done))
            for lab in labels
        ]
        ax.plot(range(len(labels)), means, "k-", marker="_", markersize=20, label="mean")
        ax.set_xticks(range(len(labels)), [lab[:24] for lab in labels], rotation=20, ha="right", fontsize=8)
        ax.set_xlabel(key.split("recipe.")[-1], fontsize=8)
        ax.set_ylabel(metric)
        ax.legend(fontsize=7)
    fig.suptitle(f"sweep {sweep.name}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
