"""The recipe's questions and training rows beyond sampled chains: the rounds' conflict/aligned mix,
direct answers, refusals, transcript reading, probes, and the empty-think format they share.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import datasets
import numpy as np

from audiogym.data import task_rows
from audiogym.policies.scripted import format_completion
from audiogym.tasks import FAMILIES, AudioTask
from audiogym.tasks.core import quote
from audiogym.tasks.sources import iter_tasks, make_cue_mix, make_tasks

REFUSALS = [
    "I'm sorry, but I am a text-based model and cannot hear audio.",
    "As a text model, I can't listen to recordings. Please upload a transcript.",
    "I don't have the ability to hear the audio clip. Could you describe it?",
    "抱歉，我是一个文本模型，无法听到音频。",
]
CAPTION_PROMPT = "Describe what you hear."
PROBE_TEMPLATES = [
    "Can you actually hear this recording? {q}",
    "Listen to the clip and tell me: {q}",
    "Judge the sound itself, not any text. {q}",
    "请仔细听这段音频。{q}",
]


def rows_for(tasks: list[AudioTask], completions: list[str] | None = None, **extra: list) -> datasets.Dataset:
    """Trainer rows (`audiogym.data.task_rows`: prompt, audio, reference columns; no audio for
    text tasks) plus a completion column and any extra columns."""
    rows = task_rows(tasks, audio_for_text=False)
    if completions is not None:
        rows["completion"] = completions
    rows.update(extra)
    return datasets.Dataset.from_dict(rows)


def empty_think(reply: str) -> str:
    """A free-text reply (a refusal, a quoted transcript) in the empty think format."""
    return f"<think>\n\n</think>\n{reply}"


def caption(facts: dict[str, Any]) -> str:
    """The facts as one line, e.g. 'beats per bar: 3; tempo bpm: 150' (numbers >= 10 to the nearest
    ten, smaller ones to one decimal; lists space-joined; booleans yes/no)."""

    def show(v: Any) -> str:
        if isinstance(v, bool):
            return "yes" if v else "no"
        if isinstance(v, float):
            return str(int(round(v, -1))) if abs(v) >= 10 else f"{v:.1f}"
        if isinstance(v, (list, tuple)):
            return " ".join(show(x) for x in v)
        return str(v)

    return "; ".join(f"{k.replace('_', ' ')}: {show(v)}" for k, v in facts.items())


def caption_task(task: AudioTask) -> AudioTask:
    """The clip alone with the caption question: no choices, no transcript."""
    return dataclasses.replace(task, question=CAPTION_PROMPT, choices=[], transcript="", cue="none")


def caption_rows(families: list[str], n: int, seed: int) -> tuple[list[AudioTask], list[str]]:
    """The base's pretraining task on fresh clips (the clip alone, "Describe what you hear.",
    answered with its caption): replayed beside later stages' data so that fine-tuning on
    questions does not unlearn what the base hears (after the default cold start the model no
    longer captions at all)."""
    tasks = [caption_task(t) for t in make_tasks(families, n, seed)]
    return tasks, [empty_think(caption(t.facts)) for t in tasks]


def direct(task: AudioTask, captioned: bool = False) -> str:
    """The report's format for samples without a chain of thought: an empty think block; with
    `captioned` (recipe.caption_first) the block holds the clip's caption of its facts, the line
    the base was pretrained to say, so the answer follows from what is heard."""
    return format_completion(caption(task.facts) if captioned else "", task, task.answer)


def direct_rows(
    families: list[str],
    n: int,
    probe_share: float,
    seed: int,
    refuse: bool = True,
    cues: dict[str, float] | None = None,
    captioned: bool = False,
) -> tuple[list[AudioTask], list[str], list[str]]:
    """Audio questions answered in the empty think format; a `probe_share` of them instead ask
    whether the model can hear. With `refuse` (the cold start) those are answered with the "I can't
    hear audio" a text-LLM prior brings; without it (the rounds' self-cognition data) they are
    answered from the audio like any other question. `cues`: the questions by transcript mode
    (make_cue_mix), else the families' own mix. `captioned`: see `direct`."""
    rng = np.random.default_rng(seed)
    tasks = make_tasks(families, n, seed) if cues is None else make_cue_mix(families, n // len(families), seed, cues)
    comps: list[str] = []
    kinds: list[str] = []
    for i, t in enumerate(tasks):
        if rng.random() < probe_share:
            t.question = PROBE_TEMPLATES[i % len(PROBE_TEMPLATES)].format(q=t.question)
            refusal = empty_think(rng.choice(REFUSALS))
            comps.append(refusal if refuse else direct(t, captioned))
            kinds.append("refusal" if refuse else "probe_answered")
        else:
            comps.append(direct(t, captioned))
            kinds.append("direct")
    return tasks, comps, kinds


def reading_rows(families: list[str], n: int, seed: int) -> tuple[list[AudioTask], list[str]]:
    """Audio questions whose question is "what do the words say?", answered by quoting the
    transcript line of the prompt: the report's cold start has ASR data, and a model must read the
    words before it can reason from them (the 2-layer tiny LM does not learn to copy otherwise:
    its 'surrogate' chains then quote words matching what it hears, not the words it was given)."""
    tasks = [
        dataclasses.replace(t, question=f"Quote the {t.transcript_label.lower()} word for word.", choices=[])
        for t in make_tasks(families, n, seed)
    ]
    return tasks, [empty_think(f"{quote(t)}.") for t in tasks]


# The test split's probes: phrasings no training row uses (training and the dev split use
# PROBE_TEMPLATES), so the test error is not measured on trained templates.
TEST_PROBE_TEMPLATES = [
    "Be honest: is there any sound you can pick up here? {q}",
    "Without reading anything, from the recording alone: {q}",
    "Does the clip itself tell you this? {q}",
    "只根据录音本身回答：{q}",
]


def probe_tasks(families: list[str], n: int, seed: int, templates: list[str] | None = None) -> list[AudioTask]:
    """Questions phrased to invite 'I can't hear audio' (PROBE_TEMPLATES unless `templates`)."""
    templates = templates or PROBE_TEMPLATES
    tasks = make_tasks(families, n, seed)
    for i, t in enumerate(tasks):
        t.question = templates[i % len(templates)].format(q=t.question)
    return tasks


def mixed_tasks(families: list[str], n: int, seed: int, conflict_share: float) -> list[AudioTask]:
    """n audio questions for the rounds (distillation, MGRD step 2a, and the band's candidates). A
    `conflict_share` of them cannot be solved from the transcript (its words point to another answer), so only listening gets them
    right; the rest are aligned, so that the kept chains cannot learn the shortcut 'the answer is
    not what the words say' (with conflict items alone the tiny model learns exactly that)."""
    want = round(n * conflict_share)
    conflict: list[AudioTask] = []
    aligned: list[AudioTask] = []
    for t in iter_tasks(families, 8 * n, seed):
        pool, size = (aligned, n - want) if FAMILIES[t.family].transcript_answer(t) == t.answer else (conflict, want)
        if len(pool) < size:
            pool.append(t)
        if len(conflict) + len(aligned) == n:
            break
    return conflict + aligned
