"""The stage table (markdown, JSON, PNG) and the paired item tests of a recipe run.

The table shows the dev split (`heldout`); each row also carries the test split's summary under
"test", which is what reports read. `listen` is accuracy on the items where neither reading nor
avoiding the transcript pays (independent and audio-only), beside its chance level."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from audiogym.io import atomic_write_json, atomic_write_text
from audiogym.recipe.probing import eval_items

COLUMNS = [
    ("accuracy_listen", "listen"),
    ("chance_listen", "chance"),
    ("accuracy", "acc"),
    ("accuracy_aligned", "aligned"),
    ("accuracy_conflict", "conflict"),
    ("accuracy_text", "text"),
    ("mean_think_words", "think words"),
    ("grounding_rate", "grounded"),
    ("self_cognition_error_rate", "self-cog err"),
    ("kept_fraction", "kept"),
    ("band_selected", "band sel."),
]


def stage_row(stage: dict[str, Any], metrics: dict[str, Any]) -> dict[str, Any]:
    """One row of the table from a stage's description (`Stage.describe`) and its metrics.json."""
    train = metrics.get("train", {})
    return {
        **stage,
        **metrics["eval"],
        "test": metrics.get("test"),
        "kept_fraction": train.get("kept_fraction"),
        "band_selected": train.get("band_selected"),
        "hearing": train.get("hearing"),
        "seconds": metrics.get("seconds"),
    }


def hearing_line(row: dict[str, Any]) -> str | None:
    """What a pretrained base hears (`stages.build_base.hearing`), one family a field."""
    h = row.get("hearing")
    if not h:
        return None
    per = ", ".join(f"{f} {v['hearing']:+.2f}" for f, v in h.items())
    return f"{row['stage']} hears (dev clips; caption facts right for the clip minus for another clip, 0 = deaf): {per}"


def baseline_row(name: str, summary: dict[str, Any], test: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"stage": f"baseline: {name}", "kind": "baseline", "baseline": name, **summary, "test": test}


# Which rows are which: every reader below goes by the rows' kind, round and phase, never by name.


def trained(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The stages' rows (not the baselines)."""
    return [r for r in rows if r.get("kind") != "baseline"]


def cold_start_end(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The row of the model the rounds start from: the cold start's last stage."""
    cold = [r for r in rows if r.get("phase") == "cold_start"]
    return cold[-1] if cold else None


def round_ends(rows: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """Round t -> the row of the model that round t ends with."""
    return {r["round"]: r for r in rows if r.get("phase") == "round"}


def rl_pairs(rows: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(the stage before, the RL stage) for each round's RL stage."""
    stages = trained(rows)
    return [
        (stages[i - 1], r)
        for i, r in enumerate(stages)
        if r.get("kind") == "rl" and i > 0 and stages[i - 1].get("round") == r.get("round")
    ]


def header() -> str:
    head = f"| {'stage':<22} | " + " | ".join(f"{c:>12}" for _, c in COLUMNS) + " |"
    return head + "\n|" + "|".join("-" * (len(x) + 2) for x in [" " * 22] + [" " * 12] * len(COLUMNS)) + "|"


def format_row(row: dict[str, Any]) -> str:
    def fmt(v: Any) -> str:
        if v is None:
            return "-"
        return f"{v:.3f}" if isinstance(v, float) and v <= 1.0 else f"{v:.1f}" if isinstance(v, float) else str(v)

    return f"| {row['stage']:<22} | " + " | ".join(f"{fmt(row.get(k)):>12}" for k, _ in COLUMNS) + " |"


def conflict_change(folder: Path, rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Conflict items, the cold-start model against the model after the last round, item by item."""
    from audiogym.stats import change_line, paired_change

    start, ends = cold_start_end(rows), round_ends(rows)
    if start is None or not ends:
        return None
    last = ends[max(ends)]["stage"]
    c = paired_change(eval_items(folder, start["stage"]), eval_items(folder, last))
    c["line"] = change_line(f"{start['stage']} -> {last}", c)
    return c


# What an RL stage's metrics.json says about its training: the band questions resampled before and
# after it, and the per-step series (first -> last quarter of the steps).
RL_TRAIN_KEYS = (
    "band_selected",
    "band_contrarian_correct",
    "band_chance",
    "band_correct_before",
    "band_correct_after",
    "band_reward_before",
    "band_reward_after",
    "band_hearing",
    "audio_reward_first",
    "audio_reward_last",
    "audio_think_words_first",
    "audio_think_words_last",
    "entropy_first",
    "entropy_last",
    "kl_first",
    "kl_last",
)


def rl_changes(folder: Path, rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """What each round's RL stage did: held-out conflict accuracy of its model against the model it
    started from (the round's distillation), item by item, beside what it did on its own training
    questions (RL_TRAIN_KEYS)."""
    from audiogym.stats import change_line, paired_change

    out, train = {}, rl_stages(folder, rows)
    for before, row in rl_pairs(rows):
        name = row["stage"]
        c = paired_change(eval_items(folder, before["stage"]), eval_items(folder, name))
        c["line"] = change_line(f"{before['stage']} -> {name}", c)
        c.update({k: train.get(name, {}).get(k) for k in RL_TRAIN_KEYS})
        c["train_line"] = training_line(name, c)
        out[name] = c
    return out


def training_line(stage: str, m: dict[str, Any]) -> str:
    """One line on what an RL stage did on what it trained on."""

    def arrow(a: str, b: str, fmt: str = ".2f") -> str:
        return "-" if m.get(a) is None or m.get(b) is None else f"{m[a]:{fmt}} -> {m[b]:{fmt}}"

    return (
        f"{stage} on its {m.get('band_selected') or 0} band questions: reward {arrow('band_reward_before', 'band_reward_after')}"
        f" (correct {arrow('band_correct_before', 'band_correct_after')}, resampled before and after); per step, "
        f"first -> last quarter: audio reward {arrow('audio_reward_first', 'audio_reward_last')}, think words "
        f"{arrow('audio_think_words_first', 'audio_think_words_last', '.1f')}, entropy "
        f"{arrow('entropy_first', 'entropy_last')}, KL {arrow('kl_first', 'kl_last', '.3f')}"
        + (
            f"; a deaf contrarian on the band: correct {m['band_contrarian_correct']:.2f} (chance {m['band_chance']:.2f})"
            if m.get("band_contrarian_correct") is not None
            else ""
        )
        + (
            f"; sampled hearing of its candidates, least heard: {least_heard(m['band_hearing'])}"
            if m.get("band_hearing")
            else ""
        )
    )


def least_heard(hearing: dict[str, dict[str, float]], n: int = 3) -> str:
    """The n family/mode cells an RL stage's candidates are heard least in (stages.band_rl.sampled_hearing)."""
    cells = sorted((v, f"{family}/{mode}") for family, modes in hearing.items() for mode, v in modes.items())
    return ", ".join(f"{name} {v:+.2f}" for v, name in cells[:n])


def rl_stages(trial: Path, rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each RL stage's training curve and band resampling (its metrics.json), by stage."""
    out = {}
    for _, row in rl_pairs(rows):
        path = trial / row["stage"] / "metrics.json"
        if path.exists():
            train = json.loads(path.read_text()).get("train", {})
            out[row["stage"]] = {k: train.get(k) for k in ("curve", *RL_TRAIN_KEYS)}
    return out


def round_changes(folder: Path, rows: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """The rounds ablation read from one finished run: for T = 0 (the cold start), 1, 2, ... the
    model after round T's RL stage against the cold-start model, item by item on the held-out
    conflict items (and, as "from_previous", against the model after round T-1). A round's stages
    do not depend on how many rounds follow (each stage's seed is fixed by its position), so this
    run's round-T model is the final model of a T-round run before its DPO stage."""
    from audiogym.stats import paired_change

    first = cold_start_end(rows)
    if first is None:
        return {}
    start = previous = eval_items(folder, first["stage"])
    out = {0: paired_change(start, start)}
    for t, row in sorted(round_ends(rows).items()):
        now = eval_items(folder, row["stage"])
        out[t] = {**paired_change(start, now), "from_previous": paired_change(previous, now)}
        previous = now
    return out


def self_cognition_path(rows: list[dict[str, Any]]) -> dict[str, float | None]:
    """The probe error after the cold start, after the rounds and after DPO (the report's Table 3)."""

    def err(row: dict[str, Any] | None) -> float | None:
        return None if row is None else row.get("self_cognition_error_rate")

    ends = round_ends(rows)
    dpo = [r for r in rows if r.get("kind") == "self_cognition"]
    return {
        "cold_start": err(cold_start_end(rows)),
        "rounds": err(ends[max(ends)]) if ends else None,
        "dpo": err(dpo[-1] if dpo else None),
    }


def peak_rss_gb() -> float:
    """The largest resident set this process (and, separately, any waited-for child) reached, in GB
    (Linux reports kilobytes)."""
    import resource

    return max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)) / 1e6


def write_table(
    folder: Path,
    name: str,
    rows: list[dict[str, Any]],
    seconds: float,
    change: dict[str, Any] | None = None,
    rl: dict[str, dict[str, Any]] | None = None,
) -> None:
    md = "\n".join([header()] + [format_row(r) for r in rows])
    peak = peak_rss_gb()
    sc = self_cognition_path(rows)
    sc_line = "Self-cognition error on the probes: " + ", ".join(
        f"after {k.replace('_', ' ')} {v:.3f}" for k, v in sc.items() if v is not None
    )
    atomic_write_text(
        folder / "table.md",
        f"# MGRD recipe: {name}\n\n{md}\n\n"
        + (f"{change['line']}\n\n" if change else "")
        + "".join(f"{c['line']}\n{c['train_line']}\n" for c in (rl or {}).values())
        + f"\n{sc_line}\n\nTotal time: {seconds / 60:.1f} min; peak memory (resident, this process and its"
        f" children): {peak:.1f} GB\n",
    )
    atomic_write_json(
        folder / "table.json",
        {
            "rows": rows,
            "seconds": seconds,
            "peak_rss_gb": peak,
            "conflict_change": change,
            "rl_changes": rl or {},
            "self_cognition": sc,
        },
    )
    from audiogym.recipe.plots import plot_curves, plot_rl

    base = {r["baseline"]: r for r in rows if r.get("kind") == "baseline"}
    plot_curves(trained(rows), base, folder / "curves.png")
    if rl:
        plot_rl({name: [{"rl": rl_stages(folder, rows)}]}, folder / "rl_curves.png")


def rl_stage_change(rows: list[dict[str, Any]], stage: str, key: str) -> float | None:
    """An RL stage's row minus the row of the stage before it, on one summary key (None if either lacks it)."""
    for before, row in rl_pairs(rows):
        if row["stage"] == stage and before.get(key) is not None and row.get(key) is not None:
            return float(row[key] - before[key])
    return None


def seed_level_block(tables: list[tuple[str, dict]]) -> list[str]:
    """The seed-level lines of `compare` (each run is one seed)."""
    from audiogym.stats import seed_level, seed_level_line

    n = len(tables)
    lines = [f"Seed level ({n} runs; the unit is the run, intervals over runs):"]
    diff = [t["conflict_change"]["after"] - t["conflict_change"]["before"] for _, t in tables]
    lines.append("  " + seed_level_line("Conflict accuracy, cold start -> last round", seed_level(diff)))
    listen = []
    for _, t in tables:
        rows, ends = t.get("rows") or [], round_ends(t.get("rows") or [])
        start = cold_start_end(rows)
        last = ends[max(ends)] if ends else None
        if start is None or last is None or start.get("accuracy_listen") is None or last.get("accuracy_listen") is None:
            break
        listen.append(last["accuracy_listen"] - start["accuracy_listen"])
    if len(listen) == n:
        lines.append("  " + seed_level_line("Listen accuracy, cold start -> last round", seed_level(listen)))
    stages = [
        s for s in (tables[0][1].get("rl_changes") or {}) if all(s in (t.get("rl_changes") or {}) for _, t in tables)
    ]
    for stage in stages:
        d = [t["rl_changes"][stage]["after"] - t["rl_changes"][stage]["before"] for _, t in tables]
        lines.append("  " + seed_level_line(f"Conflict accuracy, {stage} (before -> after)", seed_level(d)))
        for items in ("listen", "aligned"):  # where only listening pays; and what the words' items pay for it
            d = [rl_stage_change(t.get("rows") or [], stage, f"accuracy_{items}") for _, t in tables]
            if None not in d:
                label = f"{items.capitalize()} accuracy, {stage} (before -> after)"
                lines.append("  " + seed_level_line(label, seed_level(d)))
    if len(stages) > 1:
        d = [
            sum(t["rl_changes"][s]["after"] - t["rl_changes"][s]["before"] for s in stages) / len(stages)
            for _, t in tables
        ]
        lines.append("  " + seed_level_line("Conflict accuracy, mean over the RL stages of a run", seed_level(d)))
    return lines
