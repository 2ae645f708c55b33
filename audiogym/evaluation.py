"""Evaluation: one function for `audiogym eval` and for the trainers between stages.

For each task the policy writes a completion; it is scored with the same reward code as training:
correctness, think length, acoustic grounding (the distillation filter) with verified-claim
precision, and self-cognition errors. Results are aggregated overall, by category, by family and
for aligned vs conflict items, and written as JSON and a markdown table.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from audiogym.benchmarks import official_match
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
    mmau_correct: bool | None = None  # the official rule on the extracted final answer (`official_match`)
    cue: str = ""  # aligned | conflict | independent | none (AudioTask.cue)
    official_raw: bool | None = None  # the official rule on the whole output (what the official script computes)
    fields: dict[str, str] = field(default_factory=dict)  # a benchmark row's breakdown fields (task, modality, ...)

    def __post_init__(self) -> None:
        if not self.cue:  # results written before items carried it
            self.cue = "conflict" if self.conflict else "aligned"


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
    benchmark: str | None = None  # MMAU, MMAR, MMAU-Pro, manifest (a manifest's layout), else None
    scope: str = ""  # which rows were scored, e.g. "all 1000 rows" or "the first 200 of 1000 rows (--n 200)"
    unsupported: dict[str, int] = field(default_factory=dict)  # benchmark rows not scored, by reason

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
        raw = [r for r in items if r.official_raw is not None]
        breakdowns: dict[str, dict[str, list[ItemResult]]] = {}
        for r in items:
            for k, v in r.fields.items():
                breakdowns.setdefault(k, defaultdict(list))[v].append(r)
        official = lambda rs: float(np.mean([bool(r.mmau_correct) for r in rs])) if rs else None  # noqa: E731
        official_raw = lambda rs: float(np.mean([bool(r.official_raw) for r in rs])) if rs else None  # noqa: E731
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
            "official_raw_accuracy": official_raw(raw),
            "benchmark": self.benchmark,
            "scope": self.scope,
            "breakdowns": {
                k: {
                    v: {"n": len(rs), "accuracy": official(rs), "raw": official_raw(rs)}
                    for v, rs in sorted(groups_.items())
                }
                for k, groups_ in breakdowns.items()
            },
            "unsupported": dict(self.unsupported),
            "skipped": len(self.skipped),
            "warnings": list(self.warnings),
        }

    def markdown(self) -> str:
        s = self.summary()
        if s["benchmark"]:
            return self._benchmark_markdown(s)
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
        for title, key in (
            ("category", "by_category"),
            ("family", "by_family"),
            ("skill", "by_skill"),
            ("difficulty", "by_difficulty"),
        ):
            if len(s[key]) > 1 or key in ("by_category", "by_family"):
                lines += [f"| {title} | n | accuracy |", "|---|---|---|"]
                lines += [f"| {k} | {v['n']} | {f(v['accuracy'])} |" for k, v in s[key].items()] + [""]
        return "\n".join(lines + self._notes())

    def _benchmark_markdown(self, s: dict[str, Any]) -> str:
        pct = lambda x: "-" if x is None else f"{100 * x:.2f}%"  # noqa: E731
        lines = [
            f"## {s['policy']} on {s['benchmark']}: {s['scope'] or str(s['n']) + ' rows'}",
            "",
            f"Accuracy, the official rule (MMAU's/MMAR's string_match) on the extracted final answer: **{pct(s['mmau_accuracy'])}**",
            f"(on the whole output, as the official script scores `--predictions`: {pct(s['official_raw_accuracy'])};"
            f" audiogym's answer parser: {pct(s['accuracy'])}).",
            "",
        ]
        if s["benchmark"] == "MMAU-Pro":
            lines += ["MMAU-Pro's official MCQ scorer matches by NV-Embed-v2 similarity, which is not run here.", ""]
        for name, groups in s["breakdowns"].items():
            lines += [f"| {name} | n | accuracy (extracted) | accuracy (whole output) |", "|---|---|---|---|"]
            lines += [f"| {k} | {v['n']} | {pct(v['accuracy'])} | {pct(v['raw'])} |" for k, v in groups.items()] + [""]
        if s["unsupported"]:
            lines += ["Rows not scored (not multiple-choice audio questions):"]
            lines += [f"- {why}: {n}" for why, n in s["unsupported"].items()] + [""]
        return "\n".join(lines + self._notes())

    def _notes(self) -> list[str]:
        lines: list[str] = []
        if self.warnings:
            lines += ["Warnings:", *[f"- {w}" for w in self.warnings], ""]
        if self.skipped:
            lines += [f"Skipped input rows ({len(self.skipped)}):", *[f"- {m}" for m in self.skipped], ""]
        return lines

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
        official_match(task.answer, answer_part, task.choices) if task.choices else None,
        task.cue,
        official_match(task.answer, completion, task.choices) if task.choices else None,
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


def evaluate_manifest(
    policy: Any,
    manifest: Any,
    n: int | None = None,
    batch_size: int = 32,
    progress: bool = True,
    **generate_kwargs: Any,
) -> EvalReport:
    """Every row of a benchmark manifest (`--n`: the first n), scored as `evaluate` does, with the
    benchmark's breakdown fields on each item (a row without one counts under "(none)")."""
    total = len(manifest)
    k = total if n is None else max(0, min(n, total))
    tasks = [manifest.task(i) for i in range(k)]
    report = evaluate(policy, tasks, batch_size, progress, **generate_kwargs)
    bench = manifest.benchmark
    present = [f for f in bench.breakdowns if any(r.record.get(f) not in (None, "") for r in manifest.rows)]
    for item, row in zip(report.items, manifest.rows):
        item.fields = {f: str(row.record.get(f) or "(none)") for f in present}
    report.benchmark = bench.name
    report.scope = f"all {total} rows" if k == total else f"the first {k} of {total} rows (--n {n})"
    report.unsupported = dict(manifest.unsupported)
    report.skipped = [msg for _, msg in manifest.skipped] + [f"note: {x}" for x in manifest.notes]
    return report
