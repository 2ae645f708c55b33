"""Evaluation: one function for `audiogym eval` and for the trainers between stages.

For each task the policy writes a completion; it is scored with the same reward code as training:
correctness, think length, acoustic grounding (the distillation filter) with verified-claim
precision, and self-cognition errors. Results are aggregated overall, by category, by family and
for aligned vs conflict items, and written as JSON and a markdown table.
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from audiogym.errors import ConfigError
from audiogym.rewards.base import task_row
from audiogym.rewards.grounding import GroundingFilter, grounding_of_row
from audiogym.rewards.outcome import count_words, is_correct
from audiogym.rewards.parse import split_think
from audiogym.rewards.selfcog import self_cognition_error
from audiogym.tasks.core import LISTEN_CUES, AudioTask


def load_policy(spec: str, **kwargs: Any):
    """'oracle' | 'transcript' | 'random' | 'contrarian' | a model folder."""
    from audiogym.policies.scripted import POLICIES

    if spec in POLICIES:
        return POLICIES[spec]()
    if Path(spec).is_dir():
        from audiogym.policies.audio_lm import AudioLMPolicy

        return AudioLMPolicy(spec, **kwargs)
    raise ConfigError(f"policy {spec!r}: expected one of {', '.join(POLICIES)} or a model folder")


def eval_tasks(env_id: str | None = None, manifest: str | None = None, n: int = 200, seed: int = 0) -> list[AudioTask]:
    """`n` tasks of an environment (distinct seeds drawn from `seed`), or a manifest's rows."""
    from audiogym.data import source_name
    from audiogym.tasks.sources import make_source, source_tasks

    if manifest:
        from audiogym.tasks.manifest import Manifest

        m = Manifest(manifest, skip_invalid=True)
        return [m.task(i) for i in range(min(n, len(m)))]
    if not env_id or source_name(env_id) == "Manifest":
        raise ConfigError(
            f"unknown environment {env_id!r}; run 'audiogym list' for the ids (a manifest: --manifest PATH)"
        )
    return source_tasks(make_source(source_name(env_id)), n, seed)


@dataclass
class ItemResult:
    task_id: str
    family: str
    category: str
    conflict: bool
    n_choices: int
    answer: str
    completion: str
    tokens: int
    correct: bool
    think_words: int
    grounded: bool | None
    grounding: float | None
    claims_correct: int
    claims_wrong: int
    self_cognition_error: bool
    skill: str = ""
    difficulty: str = ""
    mmau_correct: bool | None = None  # MMAU's own answer matching (`mmau_string_match`), for comparison
    cue: str = ""  # aligned | conflict | independent | none (AudioTask.cue)

    def __post_init__(self) -> None:
        if not self.cue:  # results written before items carried it
            self.cue = "conflict" if self.conflict else "aligned"


def _tokens(text: str) -> set[str]:
    return set(re.findall(r"\b\w+\b", text.lower()))


def mmau_string_match(answer: str, prediction: str, choices: list[str]) -> bool:
    """MMAU's evaluation rule (its `string_match`): every word of the answer is in the prediction,
    and no word of a wrong choice that the answer lacks is. Looser and stricter than audiogym's
    parser in different places (it reads words, not letters: "(B)" alone is wrong there), so eval
    reports both."""
    pred, ans = _tokens(prediction), _tokens(answer)
    if not pred:
        return False
    wrong = set()
    for c in choices:
        ct = _tokens(c)
        if ct != ans:
            wrong |= ct - ans
    return ans <= pred and pred.isdisjoint(wrong)


def listening_index(items: list[ItemResult]) -> dict[str, float]:
    """Per family, aligned + (n - 1) * conflict - 1 over its aligned and conflict items (n: the
    number of options). Any policy that does not hear scores <= 0 (reading the transcript, avoiding
    its option, guessing); a perfect listener n - 1. Families without both kinds of items are left out."""
    out: dict[str, float] = {}
    for family in sorted({r.family for r in items}):
        mine = [r for r in items if r.family == family]
        aligned = [r.correct for r in mine if r.cue == "aligned"]
        conflict = [r.correct for r in mine if r.cue == "conflict"]
        if aligned and conflict:
            n = float(np.mean([r.n_choices for r in mine]))
            out[family] = float(np.mean(aligned) + (n - 1) * np.mean(conflict) - 1)
    return out


@dataclass
class EvalReport:
    policy: str
    items: list[ItemResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # input rows left out, and why
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        items = self.items
        audio = [r for r in items if r.category != "text"]
        acc = lambda rs: float(np.mean([r.correct for r in rs])) if rs else None  # noqa: E731
        groups: dict[str, dict[str, list[ItemResult]]] = {
            k: defaultdict(list) for k in ("category", "family", "skill", "difficulty")
        }
        for r in items:
            groups["category"][r.category].append(r)
            groups["family"][r.family].append(r)
            groups["skill"][r.skill].append(r)
            groups["difficulty"][r.difficulty].append(r)
        mmau = [r for r in items if r.mmau_correct is not None]
        listen = [r for r in audio if r.cue in LISTEN_CUES]
        conflict = [r for r in audio if r.cue == "conflict"]
        ok, bad = sum(r.claims_correct for r in audio), sum(r.claims_wrong for r in audio)
        return {
            "policy": self.policy,
            "n": len(items),
            "accuracy": acc(items),
            "accuracy_listen": acc(listen),
            "chance_listen": float(np.mean([1 / max(1, r.n_choices) for r in listen])) if listen else None,
            "accuracy_aligned": acc([r for r in audio if r.cue == "aligned"]),
            "accuracy_conflict": acc([r for r in audio if r.cue == "conflict"]),
            "accuracy_text": acc([r for r in items if r.category == "text"]),
            "chance_conflict": float(np.mean([1 / max(1, r.n_choices) for r in conflict])) if conflict else None,
            "listening_index": listening_index(audio),
            "mean_think_words": float(np.mean([r.think_words for r in items])) if items else 0.0,
            "mean_tokens": float(np.mean([r.tokens for r in items])) if items else 0.0,
            "grounding_rate": float(np.mean([bool(r.grounded) for r in audio])) if audio else None,
            "mean_grounding": float(np.mean([r.grounding or 0.0 for r in audio])) if audio else None,
            "verified_claim_precision": ok / (ok + bad) if ok + bad else None,
            "self_cognition_error_rate": float(np.mean([r.self_cognition_error for r in items])) if items else 0.0,
            "by_category": {k: {"n": len(v), "accuracy": acc(v)} for k, v in sorted(groups["category"].items())},
            "by_family": {k: {"n": len(v), "accuracy": acc(v)} for k, v in sorted(groups["family"].items())},
            "by_skill": {k: {"n": len(v), "accuracy": acc(v)} for k, v in sorted(groups["skill"].items())},
            "by_difficulty": {k: {"n": len(v), "accuracy": acc(v)} for k, v in sorted(groups["difficulty"].items())},
            "mmau_accuracy": float(np.mean([r.mmau_correct for r in mmau])) if mmau else None,
            "skipped": len(self.skipped),
            "warnings": list(self.warnings),
        }

    def markdown(self) -> str:
        s = self.summary()
        f = lambda x: "-" if x is None else f"{x:.3f}"  # noqa: E731
        lines = [
            f"## {s['policy']} on {s['n']} items",
            "",
            "| accuracy | aligned | conflict | text | think words | grounding rate | claim precision | self-cognition errors |",
            "|---|---|---|---|---|---|---|---|",
            f"| {f(s['accuracy'])} | {f(s['accuracy_aligned'])} | {f(s['accuracy_conflict'])} | {f(s['accuracy_text'])} "
            f"| {s['mean_think_words']:.1f} | {f(s['grounding_rate'])} | {f(s['verified_claim_precision'])} "
            f"| {f(s['self_cognition_error_rate'])} |",
            "",
        ]
        if s["mmau_accuracy"] is not None:
            lines += [f"Accuracy under MMAU's answer matching (its string_match rule): {f(s['mmau_accuracy'])}", ""]
        for title, key in (
            ("category (MMAU task)", "by_category"),
            ("family", "by_family"),
            ("skill (MMAU sub-category)", "by_skill"),
            ("difficulty", "by_difficulty"),
        ):
            if len(s[key]) > 1 or key in ("by_category", "by_family"):
                lines += [f"| {title} | n | accuracy |", "|---|---|---|"]
                lines += [f"| {k} | {v['n']} | {f(v['accuracy'])} |" for k, v in s[key].items()] + [""]
        if self.warnings:
            lines += ["Warnings:", *[f"- {w}" for w in self.warnings], ""]
        if self.skipped:
            lines += [f"Skipped input rows ({len(self.skipped)}):", *[f"- {m}" for m in self.skipped], ""]
        return "\n".join(lines)

    def write(self, folder: str | Path) -> Path:
        from audiogym.io import atomic_write_text

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_text(
            folder / "eval.json",
            json.dumps(
                {"summary": self.summary(), "skipped": self.skipped, "items": [r.__dict__ for r in self.items]},
                indent=1,
            ),
        )
        atomic_write_text(folder / "eval.md", self.markdown())
        return folder


def score_item(
    task: AudioTask, completion: str, tokens: int, grounding_filter: GroundingFilter | None = None
) -> ItemResult:
    think, _, _ = split_think(completion)
    grounded = score = None
    ok = bad = 0
    if task.category != "text":
        g = grounding_of_row(completion, task_row(task))
        score, ok, bad = g.score, len(g.correct), len(g.wrong)
        grounded = (grounding_filter or GroundingFilter()).judge(g)[0]
    answer_part = split_think(completion)[2]
    return ItemResult(
        task.id,
        task.family,
        task.category,
        task.conflict,
        len(task.choices),
        task.answer,
        completion,
        tokens,
        is_correct(completion, task.answer, task.choices),
        count_words(think or ""),
        grounded,
        score,
        ok,
        bad,
        self_cognition_error(completion) is not None,
        task.skill,
        task.difficulty,
        mmau_string_match(task.answer, answer_part, task.choices) if task.choices else None,
        task.cue,
    )


def evaluate(
    policy: Any, tasks: list[AudioTask], batch_size: int = 32, progress: bool = True, **generate_kwargs: Any
) -> EvalReport:
    """Generate one completion per task (greedy unless told otherwise) and score it."""
    from tqdm.auto import tqdm

    generate_kwargs.setdefault("temperature", 0.0)
    report = EvalReport(getattr(policy, "name", type(policy).__name__))
    bar = tqdm(total=len(tasks), desc=f"eval {report.policy}", unit="item", disable=not progress, leave=False)
    for start in range(0, len(tasks), batch_size):
        batch = tasks[start : start + batch_size]
        for task, gens in zip(batch, policy.generate(batch, num_samples=1, **generate_kwargs)):
            report.items.append(score_item(task, gens[0].text, gens[0].tokens))
        bar.update(len(batch))
    bar.close()
    can_answer = getattr(policy, "can_answer", None)
    if can_answer is not None:
        unanswerable = sum(not can_answer(t) for t in tasks)
        if unanswerable:
            report.warnings.append(
                f"the {report.policy} policy cannot answer {unanswerable} of {len(tasks)} items "
                "(no procedural family behind them, e.g. manifest rows); they count as wrong"
            )
    return report


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
    """A probe's stages pooled (conflict items, and aligned ones under each change's "aligned"):
    written with the stages to `folder/changes.json`; returns the two summary lines."""
    pooled = pooled_change(changes)
    aligned = pooled_change([c["aligned"] for c in changes])
    label = f"every round pooled ({len(changes)} stages)"
    (folder / "changes.json").write_text(
        json.dumps({"rounds": changes, "pooled": pooled, "pooled_aligned": aligned, "set": sets}, indent=2)
    )
    return [change_line(label, pooled), change_line(label, aligned, "Aligned")]


def change_line(label: str, c: dict[str, Any], items: str = "Conflict") -> str:
    return (
        f"{items} items, {label}: {c['before']:.3f} -> {c['after']:.3f} "
        f"({c['gained']} gained, {c['lost']} lost of {c['n']}; exact sign test p = {c['p_value']:.3g})"
    )
