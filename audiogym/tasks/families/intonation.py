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
from audiogym.tasks.voice import speech_task, utterance, voice

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
    audio = synth.at_level(voice(f0, syl, rng), -20)
    return speech_task(
        rng,
        cfg,
        audio,
        difficulty=difficulty,
        cues=INTONATION_CUES,
        answer=kind,
        options=list(INTONATIONS),
        question="Does the speaker's intonation make this a question or a statement?",
        skill="intonation",
        facts={"intonation": kind, "final_pitch": "rising" if kind == "question" else "falling"},
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
                "\\b(?:last|final) (?:syllable|word|note|sound)\\b[^.;]{0,20}?\\b(?:pitched|goes|turns|swings|moves|is|tilts|curls|kicks) up(?:ward)?\\b",
                "rising",
            ),
            (
                "\\b(?:last|final) (?:syllable|word|note|sound)\\b[^.;]{0,20}?\\b(?:pitched|goes|turns|swings|moves|is|tilts|curls) down(?:ward)?\\b",
                "falling",
            ),
            (
                r"\bends? (?:on|with) (?:a |an )?(?:upturn|uptick|upswing|upward turn|lift)\b",
                "rising",
            ),
            (
                r"\bends? (?:on|with) (?:a |an )?(?:downturn|downswing|downward turn|drop|dip)\b",
                "falling",
            ),
            (
                r"\bris\w*[^.;]{0,30}?\bat the end\b|\brising (?:final )?intonation|\bends? (?:on|with) (?:a |an )?(?:rise|rising|upward)|\b(?:goes|glides?|moves|turns|swings) up(?:ward)?\b[^.;]{0,40}?\b(?:last|final|end)|\b(?:last|final|end\w*|close)\b[^.;]{0,40}?\b(?:rises?|rising|goes up|climbs?|glides? upward|upward)\b|\bend\w*\W{0,3}(?:\w+\W+){0,2}up\b|\bintonation rises\b|句尾上扬|升调|音高升高|上扬",
                "rising",
            ),
            (
                r"\bfall\w*[^.;]{0,30}?\bat the end\b|\bfalling (?:final )?intonation|\bends? (?:on|with) (?:a |an )?(?:fall|falling|downward)|\b(?:goes|glides?|moves|turns|drops) down(?:ward)?\b[^.;]{0,40}?\b(?:last|final|end)|\b(?:last|final|end\w*|close)\b[^.;]{0,40}?\b(?:falls?|falling|goes down|drops?|sinks?|glides? downward|downward|falls away)\b|\bend\w*\W{0,3}(?:\w+\W+){0,2}down\b|\bintonation falls\b|句尾下降|降调|音高降低",
                "falling",
            ),
            (
                r"\b(?:goes up|rises|climbs|lifts|swings up)\b[^.;]{0,30}?\b(?:on|at|over|in|for) the (?:last|final)\b|句尾[^。，]{0,6}(?:上扬|上升|升高|往上)",
                "rising",
            ),
            (
                r"\b(?:drops|falls|sinks|dips|goes down)\b[^.;]{0,30}?\b(?:on|at|over|in|for) the (?:last|final)\b|句尾[^。，]{0,6}(?:下降|降低|往下|下沉)",
                "falling",
            ),
            (
                r"\b(?:ris\w*|lift\w*|climb\w*|goes up|rais\w*|turns up|swings up)\b[^.;]{0,30}?\bat the (?:very )?end\b|(?:结尾|末尾|最后)[^。，]{0,6}(?:上扬|上升|升高|往上)",
                "rising",
            ),
            (
                r"\b(?:drop\w*|sink\w*|dip\w*|lower\w*|goes down|comes down|turns down)\b[^.;]{0,30}?\bat the (?:very )?end\b|(?:结尾|末尾|最后)[^。，]{0,6}(?:下降|降低|往下|下沉)",
                "falling",
            ),
        ),
        anchors=(
            "end",
            "ending",
            "ends",
            "last",
            "final",
            "finish",
            "finishes",
            "close",
            "inflection",
            "inflections",
            "intonation",
            "tail",
        ),
        lexicon={
            "rising": (
                "up",
                "upward",
                "upwards",
                "upturn",
                "rises?",
                "rising",
                "lifts?",
                "lifting",
                "climbs?",
                "climbing",
                "raised?",
                "higher",
                "uptick",
                "upswing",
                "curls? up",
            ),
            "falling": (
                "down",
                "downward",
                "downwards",
                "downturn",
                "falls?",
                "falling",
                "drops?",
                "dropping",
                "dips?",
                "lower(?:s|ed|ing)?",
                "sinks?",
                "sinking",
                "descends?",
                "descending",
                "downswing",
            ),
        },
        triggers=(
            "syllable",
            "upturn",
            "downturn",
            "at the end",
            "intonation",
            "ends",
            "end",
            "final",
            "last",
            "close",
            "句尾",
            "升调",
            "降调",
            "上扬",
            "升高",
            "降低",
            "结尾",
            "末尾",
            "最后",
        ),
        value_words={"rising": "rising", "falling": "falling"},
    ),
)

# Words that cite this family's kind of evidence (evidence category -> terms, regexes matched
# against lowercased text; Chinese terms as plain text). The grounding reward reads every family's.
EVIDENCE: dict[str, tuple[str, ...]] = {
    "voice_prosody": (
        r"intonation",
        r"prosod\w*",
        r"voice",
        r"tremor",
        r"trembl\w*",
        r"waver\w*",
        r"shaky",
        r"syllables?",
        r"pauses?",
        r"speaking rate",
        "语调",
        "语气",
        "颤抖",
        "语速",
        "停顿",
        "嗓音",
    ),
}


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
        evidence=EVIDENCE,
    )
)
