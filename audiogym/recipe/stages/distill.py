"""Stage `round<t>_distill`: grounding distillation, MGRD step 2a (eqs. 4-5).

K samples per perception-grounded audio question from model t-1; keep chains that are correct,
acoustically grounded and coherent; SFT on them (balanced over each family's answers) plus text,
replaying some cold-start direct rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from audiogym.policies.scripted import OraclePolicy
from audiogym.recipe.rows import caption_rows, direct_rows, mixed_tasks, rows_for
from audiogym.recipe.stage import Stage, StageContext, write_selected
from audiogym.rewards import GroundingFilter, is_correct, self_cognition_error, task_row
from audiogym.rewards.parse import split_think
from audiogym.tasks import AudioTask
from audiogym.tasks.sources import make_tasks
from audiogym.trainers.sft import train_sft


def coherent(completion: str, task: AudioTask) -> bool:
    """The reasoning's conclusion agrees with the final answer: the last option the think block
    names (if any) is the option the answer gives."""
    think, _, _ = split_think(completion)
    if not think or not task.choices:
        return True
    low = think.lower()
    last = max(((low.rfind(c.lower()), c) for c in task.choices), key=lambda x: x[0])
    return last[0] < 0 or last[1] == task.answer


def distinct_per_question(rows: list[dict[str, Any]], cap: int | None) -> list[dict[str, Any]]:
    """The chains to train on: duplicates of a question's chain dropped, at most `cap` per question
    (None: no cap), so questions the model already solves 8 of 8 times do not swamp the rest."""
    seen: set[tuple[str, str]] = set()
    count: dict[str, int] = {}
    out = []
    for r in rows:
        key = (r["task_id"], r["completion"])
        if key in seen or (cap is not None and count.get(r["task_id"], 0) >= cap):
            continue
        seen.add(key)
        count[r["task_id"]] = count.get(r["task_id"], 0) + 1
        out.append(r)
    return out


def balance_answers(rows: list[dict[str, Any]], tasks: list[AudioTask]) -> list[dict[str, Any]]:
    """Kept chains with every answer of a family equally often: each answer that has kept chains
    keeps as many as the rarest such answer has (spread over as many questions as possible); a
    family whose kept chains all give one answer sits the round out. Rows stay in their order.

    Why: the filter keeps what the model already says. A model whose chains lean to one answer
    ("medium", "waltz") has most of its kept chains on that answer, SFT on them leans it further,
    and after a few rounds every chain of the family ends in that answer. Equal counts per answer leave listening as the way to fit."""
    keep: set[int] = set()
    for groups in by_family_answer(rows, tasks).values():
        if len(groups) < 2:
            continue
        n = min(len(g) for g in groups.values())
        for g in groups.values():
            nth: dict[str, int] = {}  # a question's 1st chain before any question's 2nd
            ranked = []
            for i in g:
                nth[rows[i]["task_id"]] = nth.get(rows[i]["task_id"], -1) + 1
                ranked.append((nth[rows[i]["task_id"]], i))
            keep.update(i for _, i in sorted(ranked)[:n])
    return [r for i, r in enumerate(rows) if i in keep]


def by_family_answer(rows: list[dict[str, Any]], tasks: list[AudioTask]) -> dict[str, dict[str, list[int]]]:
    """family -> answer of the row's question -> indices of the rows."""
    answer = {t.id: t.answer for t in tasks}
    out: dict[str, dict[str, list[int]]] = {}
    for i, r in enumerate(rows):
        out.setdefault(r["family"], {}).setdefault(answer[r["task_id"]], []).append(i)
    return out


class Distill(Stage):
    kind = "distill"
    config_key = "rounds.distill"
    streams = {"questions": 0, "text": 1, "labelled": 2, "captions": 3}

    def run(self, ctx: StageContext) -> dict[str, Any]:
        c = ctx.section
        tasks = mixed_tasks(ctx.recipe.audio_families, c.questions, ctx.stream("questions"), c.conflict_share)
        by_id = {task.id: task for task in tasks}
        grounded = GroundingFilter()

        def score(task: AudioTask, text: str) -> dict[str, Any]:
            ok = is_correct(text, task.answer, task.choices)
            g_ok, reasons = grounded(task_row(task), text)
            coh = (
                coherent(text, task) and self_cognition_error(text) is None
            )  # "I can't hear" contradicts a cited sound
            kept = ok and coh and (g_ok or not c.require_grounded)
            return {"correct": ok, "grounded": g_ok, "coherent": coh, "kept": kept, "reasons": reasons}

        rollouts = ctx.sample(tasks, c.K, c.temperature, c.max_new_tokens, score)
        passed = [r for r in rollouts if r["kept"]]
        kept = distinct_per_question(passed, c.max_per_question)
        if c.balance_answers:
            kept = balance_answers(kept, tasks)
        write_selected(ctx, kept)
        # Eq. 5: the kept chains plus text. The kept chains are repeated so they are not swamped.
        # Beside them, fresh labelled audio questions (drawn anew each round, answered in the empty
        # think format, like the cold start's direct rows) keep a small model's perception while it
        # learns to reason; they are new supervised labels, which is why `chains: false` (the same
        # rows, no chains) is the control a claim about distillation needs. Wrong self-cognition is
        # filtered out of this data, as the report does: the "can you hear this?" questions among
        # them are answered from the audio, never with the cold start's refusal.
        text = make_tasks(["TextReasoning"], c.text, ctx.stream("text"))
        labelled, labelled_comps, _ = direct_rows(
            ctx.recipe.audio_families,
            c.labelled,
            c.probe_share,
            ctx.stream("labelled"),
            refuse=False,
            cues=c.labelled_cues,
            captioned=ctx.recipe.caption_first,
        )
        captions, caption_comps = caption_rows(ctx.recipe.audio_families, c.captions, ctx.stream("captions"))
        chains = kept if c.chains else []
        train_tasks = [by_id[r["task_id"]] for r in chains] * c.chain_repeats + text + labelled + captions
        comps = (
            [r["completion"] for r in chains] * c.chain_repeats
            + [OraclePolicy().act(x) for x in text]
            + labelled_comps
            + caption_comps
        )
        metrics = train_sft(ctx.job(), rows_for(train_tasks, comps), c.sft)
        metrics.update(
            kept_fraction=len(passed) / max(1, len(rollouts)),
            kept=len(passed),
            trained_chains=len(chains),
            labelled_rows=len(labelled),
            trained_chains_by_answer={
                f: {a: len(ix) for a, ix in g.items()} for f, g in by_family_answer(kept, tasks).items()
            },
            sampled=len(rollouts),
            questions_with_chain=len({r["task_id"] for r in kept}),
            grounded_fraction=float(np.mean([r["grounded"] for r in rollouts])) if rollouts else 0.0,
            correct_fraction=float(np.mean([r["correct"] for r in rollouts])) if rollouts else 0.0,
        )
        return metrics
