"""VoicePitch: a low, medium or high voice, from its fundamental frequency."""

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

PITCHES = {"low": (85.0, 115.0), "medium": (150.0, 185.0), "high": (240.0, 300.0)}
PITCH_CUES = {
    "low": ["this is grandpa speaking, listen to me", "I'm the big old bear of the forest"],
    "medium": ["hello, this is your neighbour", "hi, I'm calling about the appointment"],
    "high": ["hi, I'm the little girl next door", "I'm a tiny mouse, squeak squeak"],
}


def pitch_class(f0: float | None) -> str | None:
    if f0 is None:
        return None
    return "low" if f0 < 132 else "high" if f0 > 212 else "medium"


def voice_pitch(rng: np.random.Generator, cfg: FamilyConfig) -> AudioTask:
    difficulty = pick_difficulty(rng, cfg)
    cls = str(rng.choice(list(PITCHES)))
    f0_base = round(float(rng.uniform(*PITCHES[cls])), 1)
    n = synth.n_samples(cfg.duration)
    f0, syl = utterance(rng, n, rate=float(rng.uniform(3.5, 4.5)), f0_base=f0_base, range_st=2.0)
    audio = synth.at_level(voice(f0, syl, rng), -20)
    return speech_task(
        rng,
        cfg,
        audio,
        difficulty=difficulty,
        cues=PITCH_CUES,
        answer=cls,
        options=list(PITCHES),
        question="Is the speaker's voice low, medium or high pitched?",
        skill="pitch",
        facts={"pitch_class": cls, "f0_hz": f0_base},
    )


def pitch_grounded(task: AudioTask, facts: dict) -> str:
    f0 = facts.get("f0_hz")
    cls = facts["pitch_class"]
    est = f"around {f0:.0f} Hz" if f0 else "hard to pin down"
    return f"The voice's fundamental frequency is {est}; that is a {cls} pitched voice."


# What a chain of thought can claim about these facts, and how grounding checks it.
CLAIMS = (
    ClaimSpec(
        "pitch_class",
        patterns=(
            (
                "\\bpitched (?:in|at|around) the middle\\b|\\bneither (?:a )?high nor (?:a )?low\\b|\\bneither (?:a )?low nor (?:a )?high\\b",
                "medium",
            ),
            (
                "\\bvoice (?:is|sounds|seems) (?:\\w+ )?(deep|booming|gravelly|rumbly|squeaky|shrill|piping|high|low)\\b|\\b(rumbly)\\b(?:[, ]+[\\w']+){0,2}?[, ]+voice\\b",
                None,
            ),
            (
                r"\b(deep|booming|baritone|bass|gravelly|rumbling|squeaky|shrill|piping|childlike|child-like|soprano|reedy)\b(?:[, ]+\w+){0,2}?[, ]+voice\b",
                None,
            ),
            (
                r"\bvoice (?:sits|is|lies) (?:down |up )?(?:in|at) (?:the |a )?(bass|baritone|treble|soprano|middle|mid)\b",
                None,
            ),
            (
                r"\b(?:middle|mid)[- ](?:of the )?range\b|\bmiddle of the range\b",
                "medium",
            ),
            (r"\b(low|medium|high)(?:-| )pitched\b|\b(low|deep|high)\s+voice\b|(低|高)音调的?声音", None),
        ),
        anchors=("voice", "voiced", "speaker", "register", "timbre"),
        lexicon={
            "low": ("deep", "low", "bass", "baritone", "booming", "gravelly", "rumbly", "rumbling"),
            "high": ("high", "squeaky", "shrill", "piping", "treble", "soprano", "childlike", "child-like"),
            "medium": ("medium", "middle", "mid", "mid-range"),
        },
        triggers=("pitched", "neither", "rumbly", "voice", "range", "mid", "pitched", "voice", "音调"),
        synonyms={
            "rumbly": "low",
            "booming": "low",
            "baritone": "low",
            "bass": "low",
            "gravelly": "low",
            "rumbling": "low",
            "squeaky": "high",
            "shrill": "high",
            "piping": "high",
            "childlike": "high",
            "child-like": "high",
            "soprano": "high",
            "treble": "high",
            "reedy": "high",
            "middle": "medium",
            "mid": "medium",
            "deep": "low",
            "低": "low",
            "高": "high",
        },
        aliases=("pitch_level",),
        value_words={"low": "low", "medium": "medium", "high": "high"},
    ),  # SpeakerEmotion's name for it
    ClaimSpec(
        "f0_hz",
        patterns=(
            (r"(\d{2,4})\s*(?:cycles|vibrations|times|oscillations) (?:a|per|each|every) second", None),
            (
                r"(?:fundamental|pitch|f0|voice|speaker|frequency)[^.;]{0,40}?(\d{2,4})\s*hz\b|基频[^。]{0,10}?(\d{2,4})\s*赫兹",
                None,
            ),
        ),
        triggers=("cycles", "vibrations", "oscillations", "times", "hz", "赫兹"),
        tolerance=0.2,
    ),
)

VOICE_PITCH = register(
    Family(
        name="VoicePitch",
        category="speech",
        config=FamilyConfig,
        generate=voice_pitch,
        description="Voice pitch (fundamental frequency): low, medium or high.",
        answer_keys=("pitch_class",),
        read_facts=lambda m: {"pitch_class": pitch_class(m.f0_median_hz), "f0_hz": m.f0_median_hz},
        answer_from=lambda f: f.get("pitch_class") or "",
        grounded=pitch_grounded,
        cues=PITCH_CUES,
        topic="who is speaking",
        claims=CLAIMS,
    )
)
