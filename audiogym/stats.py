"""Statistics over evaluations: paired item-level tests between two evaluations of the same items
(McNemar's exact sign test), their pooling over runs, and seed-level statistics (one number per
independent run), which is how a change is judged."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from audiogym.errors import ConfigError


def item_cue(item: dict[str, Any]) -> str:
    """An evaluated item's cue (items written before they carried one: from `conflict`)."""
    return item.get("cue") or ("conflict" if item["conflict"] else "aligned")


def paired_change(
    before: list[dict[str, Any]],
    after: list[dict[str, Any]],
    conflict: bool = True,
    cues: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """Two evaluations of the same held-out items (`eval.json` "items"), compared item by item on
    the conflict (or aligned) audio items, or on the items whose cue is in `cues` (e.g. LISTEN_CUES):
    accuracies, items gained and lost, and the exact two-sided sign test on those discordant items
    (McNemar's exact test). Items are not independent across stages or runs that share them: the
    test says whether one model pair differs on these items, not whether a method does (that is
    the seed-level comparison's job, `seed_level`)."""
    want = cues or (("conflict",) if conflict else ("aligned",))
    a = {r["task_id"]: r for r in before if r["category"] != "text" and item_cue(r) in want}
    b = {r["task_id"]: r for r in after if r["category"] != "text" and item_cue(r) in want}
    ids = sorted(a.keys() & b.keys())
    if not ids:
        raise ConfigError("paired_change: the two evaluations share no items")
    gained = sum(1 for i in ids if b[i]["correct"] and not a[i]["correct"])
    lost = sum(1 for i in ids if a[i]["correct"] and not b[i]["correct"])
    return {
        "n": len(ids),
        "before": float(np.mean([a[i]["correct"] for i in ids])),
        "after": float(np.mean([b[i]["correct"] for i in ids])),
        "gained": gained,
        "lost": lost,
        "p_value": sign_test_p(gained, lost),
    }


def stage_change(stage: str, before: list[dict[str, Any]], after: list[dict[str, Any]]) -> dict[str, Any]:
    """A probe's stage, item by item against the model it started from: conflict items (the change
    itself), aligned items under "aligned" (a gain must not be paid for there) and listen items
    (independent and audio-only: neither reading nor avoiding the words pays) under "listen"."""
    from audiogym.tasks.core import LISTEN_CUES

    def part(cues: tuple[str, ...]) -> dict[str, Any] | None:  # None: a held-out set without such items
        try:
            return paired_change(before, after, cues=cues)
        except ConfigError:
            return None

    c = paired_change(before, after)
    c["stage"] = stage
    c["aligned"] = part(("aligned",))
    c["listen"] = part(LISTEN_CUES)
    return c


def sign_test_p(gained: int, lost: int) -> float:
    """Exact two-sided sign test: under no change each discordant item is gained or lost with
    probability 1/2."""
    m = gained + lost
    return min(1.0, sum(math.comb(m, k) for k in range(min(gained, lost) + 1)) / 2 ** (m - 1)) if m else 1.0


def seed_level(diffs: list[float], confidence: float = 0.95, resamples: int = 10_000) -> dict[str, Any]:
    """Per-seed differences (one number per independent run, e.g. after - before accuracy) as the
    unit of evidence: their mean, a `confidence` interval over seeds from Student's t and from a
    percentile bootstrap (fixed resampling seed), a one-sample t-test p-value, and how many seeds
    moved up, down or not at all."""
    from scipy import stats

    x = np.asarray(diffs, dtype=np.float64)
    n = len(x)
    if n == 0:
        raise ConfigError("seed_level: no seeds")
    mean = float(x.mean())
    out: dict[str, Any] = {
        "n_seeds": n,
        "diffs": [float(v) for v in x],
        "mean": mean,
        "up": int((x > 0).sum()),
        "down": int((x < 0).sum()),
        "level": int((x == 0).sum()),
        "t_interval": None,
        "bootstrap_interval": None,
        "p_value": None,
    }
    if n >= 2:
        sem = float(x.std(ddof=1) / math.sqrt(n))
        if sem > 0:
            lo, hi = stats.t.interval(confidence, n - 1, loc=mean, scale=sem)
            out["t_interval"] = [float(lo), float(hi)]
            out["p_value"] = float(stats.ttest_1samp(x, 0.0).pvalue)
        else:
            out["t_interval"] = [mean, mean]
        rng = np.random.default_rng(0)
        means = x[rng.integers(0, n, size=(resamples, n))].mean(axis=1)
        a = (1 - confidence) / 2
        out["bootstrap_interval"] = [float(np.quantile(means, a)), float(np.quantile(means, 1 - a))]
    return out


def seed_level_line(label: str, s: dict[str, Any], unit: str = "points", scale: float = 100.0) -> str:
    """One line: per-seed differences, mean, 95% intervals (t and bootstrap), seeds up / down."""

    def f(v: float) -> str:
        return f"{v * scale:+.1f}"

    def interval(key: str) -> str:
        return "-" if s[key] is None else f"[{f(s[key][0])}, {f(s[key][1])}]"

    p = "" if s["p_value"] is None else f", t-test p = {s['p_value']:.3g}"
    return (
        f"{label}: per seed {' '.join(f(v) for v in s['diffs'])} {unit}; mean {f(s['mean'])}, 95% interval "
        f"{interval('t_interval')} (t), {interval('bootstrap_interval')} (bootstrap){p}; "
        f"{s['up']} of {s['n_seeds']} seeds up, {s['down']} down"
    )


def pooled_change(changes: list[dict[str, Any]]) -> dict[str, Any]:
    """Several runs' `paired_change` results taken together, item by item: the sign test over all
    discordant items of all runs. It treats every item as an independent pair, which runs that share
    a base model, overlapping data or descend from one another are not: it is a secondary line.
    Whether a change holds across seeds is `seed_level`'s question."""
    if not changes:
        raise ConfigError("pooled_change: no runs to pool")
    n = sum(c["n"] for c in changes)
    gained, lost = sum(c["gained"] for c in changes), sum(c["lost"] for c in changes)
    return {
        "n": n,
        "before": sum(c["before"] * c["n"] for c in changes) / n,
        "after": sum(c["after"] * c["n"] for c in changes) / n,
        "gained": gained,
        "lost": lost,
        "p_value": sign_test_p(gained, lost),
        "runs": len(changes),
    }


def write_pooled_changes(folder: Path, changes: list[dict[str, Any]], sets: list[str]) -> list[str]:
    """A probe's stages (as `stage_change` makes them) pooled on conflict, aligned and listen items
    (those the held-out sets have): written with the stages to `folder/changes.json`; returns the
    summary lines."""
    out: dict[str, Any] = {"rounds": changes, "set": sets}
    label = f"every round pooled ({len(changes)} stages)"
    lines = []
    for key, items in (("pooled", "Conflict"), ("pooled_aligned", "Aligned"), ("pooled_listen", "Listen")):
        part = items.lower()
        parts = [c if part == "conflict" else c[part] for c in changes]
        out[key] = pooled_change([x for x in parts if x]) if any(parts) else None
        if out[key]:
            lines.append(change_line(label, out[key], items))
    (folder / "changes.json").write_text(json.dumps(out, indent=2))
    return lines


def change_line(label: str, c: dict[str, Any], items: str = "Conflict") -> str:
    return (
        f"{items} items, {label}: {c['before']:.3f} -> {c['after']:.3f} "
        f"({c['gained']} gained, {c['lost']} lost of {c['n']}; exact sign test p = {c['p_value']:.3g})"
    )
