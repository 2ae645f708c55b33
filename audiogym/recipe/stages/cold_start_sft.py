"""Stage `cold_start_sft`: SFT on the cold-start mixture (MGRD step 1)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from audiogym.analysis import measure
from audiogym.policies.encoding import THINK_PREFILL
from audiogym.policies.scripted import OraclePolicy, TranscriptPolicy
from audiogym.recipe.rows import caption, caption_rows, direct_rows, reading_rows, rows_for
from audiogym.recipe.sections import ColdStartSection
from audiogym.recipe.stage import Stage, StageContext, write_selected
from audiogym.tasks import FAMILIES, AudioTask
from audiogym.tasks.sources import iter_tasks, make_tasks
from audiogym.trainers.sft import train_sft


def caption_first(completion: str, task: AudioTask) -> str:
    """A grounded chain that opens with the clip's caption in the words the base was pretrained to
    say ('beats per bar: 3; tempo bpm: 160'), from the facts the teacher measured: the chain starts
    from what the base hears instead of leaving that skill behind with the captions."""
    measured = FAMILIES[task.family].read_facts(measure(task.audio))
    line = caption({k: measured[k] for k in task.facts if measured.get(k) is not None})
    if not line or not completion.startswith(THINK_PREFILL):
        return completion
    return f"{THINK_PREFILL}{line}\n{completion[len(THINK_PREFILL) :]}"


def cold_start_rows(
    c: ColdStartSection, fams: list[str], seed: int, stream: Callable[[str], int], captioned: bool = False
) -> tuple[list[AudioTask], list[str], list[str]]:
    """The cold-start mixture: text chains, direct audio answers (empty think), transcript reading
    (`reading_rows`), teacher audio chains, and a share of questions that ask whether the model can
    hear, answered with the 'I can't hear audio' a text-LLM prior brings (what the self-cognition
    stage corrects).

    A `surrogate_share` of the chains reason from the transcript (the report's starting point). A
    surrogate teacher is only right where the transcript agrees with the audio, so, as with any
    correctness-filtered teacher data, its chains come from aligned items: the model learns that
    in its reasoning the words decide. The other chains are grounded (aligned and conflict items).
    `captioned` (recipe.caption_first): direct answers and grounded chains open with the clip's caption."""
    rng = np.random.default_rng(seed)
    tasks, comps, kinds = [], [], []
    for t in make_tasks(["TextReasoning"], c.text, stream("text")):
        tasks.append(t)
        comps.append(OraclePolicy().act(t))
        kinds.append("text")
    d_tasks, d_comps, d_kinds = direct_rows(
        fams, c.audio_direct, c.refusal_share, stream("direct"), cues=c.direct_cues, captioned=captioned
    )
    r_tasks, r_comps = reading_rows(fams, c.reading, stream("reading"))
    c_tasks, c_comps = caption_rows(fams, c.captions, stream("captions"))
    tasks += d_tasks + r_tasks + c_tasks
    comps += d_comps + r_comps + c_comps
    kinds += d_kinds + ["reading"] * len(r_tasks) + ["caption"] * len(c_tasks)
    pool = iter_tasks(fams, 4 * c.teacher_chains, stream("teacher_chains"))
    for _ in range(c.teacher_chains):
        t = next(pool)
        if rng.random() < c.surrogate_share:
            while FAMILIES[t.family].transcript_answer(t) != t.answer:
                t = next(pool)
            tasks.append(t)
            comps.append(TranscriptPolicy().act(t))
            kinds.append("surrogate_chain")
        else:
            tasks.append(t)
            chain = OraclePolicy().act(t)
            comps.append(caption_first(chain, t) if captioned else chain)
            kinds.append("grounded_chain")
    return tasks, comps, kinds


class ColdStartSFT(Stage):
    kind = "cold_start_sft"
    config_key = "cold_start"
    streams = {"text": 1, "direct": 2, "teacher_chains": 3, "reading": 5, "captions": 6}

    def run(self, ctx: StageContext) -> dict[str, Any]:
        tasks, comps, kinds = cold_start_rows(
            ctx.section, ctx.recipe.audio_families, ctx.seed, ctx.stream, ctx.recipe.caption_first
        )
        write_selected(ctx, ({"task_id": t.id, "kind": k, "completion": x} for t, x, k in zip(tasks, comps, kinds)))
        metrics = train_sft(ctx.job(), rows_for(tasks, comps, kind=kinds), ctx.section.sft)
        metrics["mix"] = {k: kinds.count(k) for k in sorted(set(kinds))}
        return metrics
