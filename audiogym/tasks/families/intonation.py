"""Intonation: a question (final pitch rise) or a statement (final fall), whatever the words say."""

from __future__ import annotations

import numpy as np

from audiogym.tasks import synth
from audiogym.tasks.core import AudioTask
from audiogym.tasks.family import (
    ClaimSpec,
    Family,
    FamilyConfig,
    pick_difficulty,
)
from audiogym.tasks.registry import register
from audiogym.tasks.voice import speech_task, utterance

INTONATIONS = ("question", "statement")
INTONATION_CUES = {
    "question": ["are you coming tomorrow", "did you finish the report", "is it raining outside"],
    "statement": ["you are coming tomorrow", "I finished the report", "it is raining outside"],
}


def intonation(rng: np.random.Generator, cfg: FamilyConfig) -> AudioTask:
    difficulty = pick_difficulty(rng, cfg)
    kind = str(rng.choice(INTONATIONS))
    n = synth.n_samples(cfg.duration)
    f0, syl = utterance(
        rng,
        n,
        rate=float(rng.uniform(3.5, 4.5)),
        f0_base=float(rng.uniform(110, 220)),
        range_st=2.0,
        final="rise" if kind == "question" else "fall",
    )
    audio = synth.at_level(synth.voice(f0, syl, rng), -20)
    return speech_task(
        rng,
        cfg,
        audio,
        difficulty,
        INTONATION_CUES,
        kind,
        list(INTONATIONS),
        "Does the speaker's intonation make this a question or a statement?",
        "intonation",
        {"intonation": kind, "final_pitch": "rising" if kind == "question" else "falling"},
    )


def intonation_grounded(task: AudioTask, facts: dict) -> str:
    k = facts["intonation"]
    move = "rises sharply at the end of the utterance" if k == "question" else "falls at the end of the utterance"
    return f"The voice's pitch {move}; {'rising' if k == 'question' else 'falling'} final intonation marks a {k}."


# What a chain of thought can claim about these facts, and how grounding checks it.
CLAIMS = (
    ClaimSpec(
        "final_pitch",
        patterns=(
            (
                (
                    r"\bris\w*[^.]{0,30}?\bat the end\b|\brising (?:final )?intonation|\bends? (?:on|"
                    r"with) a rise|句尾上扬|升调"
                ),
                "rising",
            ),
            (
                (
                    r"\bfall\w*[^.]{0,30}?\bat the end\b|\bfalling (?:final )?intonation|"
                    r"\bends? (?:on|with) a fall|句尾下降|降调"
                ),
                "falling",
            ),
        ),
        triggers=("at the end", "intonation", "ends ", "end on", "end with", "句尾", "升调", "降调"),
    ),
)

INTONATION = register(
    Family(
        name="Intonation",
        category="speech",
        config=FamilyConfig,
        generate=intonation,
        description="Question (final pitch rise) or statement (final fall), whatever the words' syntax.",
        answer_keys=("intonation",),
        read_facts=lambda m: {
            "intonation": None if m.final_pitch is None else ("question" if m.final_pitch == "rising" else "statement"),
            "final_pitch": m.final_pitch,
        },
        answer_from=lambda f: f.get("intonation") or "",
        grounded=intonation_grounded,
        cues=INTONATION_CUES,
        topic="whether something is asked",
        claims=CLAIMS,
    )
)
