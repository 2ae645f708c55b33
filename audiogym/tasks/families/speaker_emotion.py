"""SpeakerEmotion: the emotion a voice conveys through prosody (pitch, range, tremor, rate, level, pauses)."""

from __future__ import annotations

from typing import Any

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

# Prosody of each emotion: f0 base (Hz), accent range (st), rate (syl/s), level (dBFS),
# spectral tilt (smaller = harsher), tremor depth (st), pause length (s).
EMOTIONS: dict[str, dict[str, Any]] = {
    "calm": dict(f0=(120, 170), range_st=2.0, rate=3.8, level=-22, tilt=1.3, tremor=0.0, pause=0.0),
    "cheerful": dict(f0=(190, 250), range_st=9.0, rate=4.6, level=-18, tilt=1.1, tremor=0.0, pause=0.0),
    "angry": dict(f0=(150, 200), range_st=2.5, rate=5.0, level=-12, tilt=0.7, tremor=0.0, pause=0.0),
    "sad": dict(f0=(95, 130), range_st=1.0, rate=2.5, level=-30, tilt=1.6, tremor=0.0, pause=0.35),
    "distressed": dict(f0=(95, 140), range_st=1.5, rate=2.5, level=-28, tilt=1.4, tremor=1.2, pause=0.5),
}
EMOTION_CUES = {
    "calm": ["the meeting is at three, see you there", "let's go over the plan one more time"],
    "cheerful": ["I'm fine, everything is great", "this is wonderful news, I love it"],
    "angry": ["I told you a hundred times, stop it", "this is completely unacceptable"],
    "sad": ["I miss her so much, nothing feels the same", "it's over, there's no point anymore"],
    "distressed": ["please, I don't know what to do, help me", "something terrible happened, I can't breathe"],
}


def speaker_emotion(rng: np.random.Generator, cfg: FamilyConfig) -> AudioTask:
    difficulty = pick_difficulty(rng, cfg)
    emo = str(rng.choice(list(EMOTIONS)))
    p = EMOTIONS[emo]
    n = synth.n_samples(cfg.duration)
    f0, syl = utterance(
        rng,
        n,
        rate=p["rate"] * rng.uniform(0.92, 1.08),
        f0_base=float(rng.uniform(*p["f0"])),
        range_st=p["range_st"],
        tremor_st=p["tremor"],
        pause_s=p["pause"],
    )
    audio = synth.at_level(voice(f0, syl, rng, tilt=p["tilt"]), p["level"] + rng.uniform(-1.5, 1.5))
    facts = {
        "emotion": emo,
        "pitch_level": "high" if p["f0"][0] >= 150 else "low",
        "pitch_range": "wide" if p["range_st"] > 5 else "narrow",
        "tremor": p["tremor"] > 0,
        "rate": "fast" if p["rate"] > 4.2 else "slow" if p["rate"] < 3 else "moderate",
        "loudness": "loud" if p["level"] > -16 else "soft" if p["level"] < -25 else "moderate",
        "pauses": p["pause"] > 0,
    }
    return speech_task(
        rng,
        cfg,
        audio,
        difficulty=difficulty,
        cues=EMOTION_CUES,
        answer=emo,
        options=list(EMOTIONS),
        question="What emotional state does the speaker's voice convey?",
        skill="emotion",
        facts=facts,
    )


def emotion_from(m) -> str | None:
    """Prosodic reading of emotion from measured features (order matters: tremor first)."""
    if m.f0_median_hz is None:
        return None
    if m.tremor_st > 0.35:
        return "distressed"
    if m.f0_range_st > 4.5:
        return "cheerful"
    if m.level_db > -18.0:
        return "angry"
    if m.level_db < -25.5:
        return "sad"
    return "calm"


def emotion_grounded(task: AudioTask, facts: dict) -> str:
    e = facts["emotion"]
    bits = [
        f"the pitch is {facts.get('pitch_level', 'mid')} with a {facts.get('pitch_range', 'narrow')} range",
        f"the speaking rate is {facts.get('rate', 'moderate')}",
        f"the voice is {facts.get('loudness', 'moderate')}",
    ]
    if facts.get("tremor"):
        bits.append("the pitch trembles, a fast wavering tremor")
    if facts.get("pauses"):
        bits.append("there are long pauses between phrases")
    return f"Listening to the prosody: {'; '.join(bits)}. That voice sounds {e}."


def emotion_facts(m) -> dict:
    return {
        "emotion": emotion_from(m),
        "pitch_level": None if m.f0_median_hz is None else ("high" if m.f0_median_hz >= 150 else "low"),
        "pitch_range": "wide" if m.f0_range_st > 4.5 else "narrow",
        "tremor": m.tremor_st > 0.35 if m.f0_median_hz else None,
        "rate": "fast" if m.syllable_rate > 4.2 else "slow" if m.syllable_rate < 3 else "moderate",
        "loudness": "loud" if m.level_db > -16 else "soft" if m.level_db < -25 else "moderate",
        "pauses": m.pause_fraction > 0.3,
    }


# What a chain of thought can claim about these facts, and how grounding checks it.
CLAIMS = (
    ClaimSpec(
        "tremor",
        patterns=(
            ("\\bno (?:wobble|tremble|tremor|shake|shaking|quaver|quiver)\\b", False),
            (r"\bvoice (?:is |sounds |stays |remains |holds )?(?:steady|stable|firm|even|unwavering)\b", False),
            (r"\bno tremor\b|\bsteady pitch\b|\bwithout (?:a )?tremor\b|没有颤抖|不颤抖", False),
            (
                r"\btremor\b|\btrembl\w*|\bwaver\w*|\bshaky\b|\bshak(?:es|ing)\b|\bquaver\w*|\bwobbl\w*|颤抖|发颤|颤音",
                True,
            ),
        ),
        anchors=("voice", "pitch", "tone", "delivery"),
        lexicon={
            True: (
                "trembling",
                "trembles?",
                "tremulous",
                "quavering",
                "quavers?",
                "shaky",
                "shaking",
                "shakes",
                "wobbly",
                "wobbling",
                "wobbles",
                "quivering",
                "quivers?",
                "unsteady",
            ),
            False: ("steady", "stable", "firm", "controlled", "unwavering", "even"),
        },
        triggers=(
            "wobble",
            "tremble",
            "quiver",
            "steady",
            "stable",
            "firm",
            "unwavering",
            "tremor",
            "trembl",
            "waver",
            "shak",
            "quaver",
            "wobbl",
            "steady pitch",
            "颤",
        ),
        value_words={"trembling": True, "shaky": True, "steady": False},
    ),
    ClaimSpec(
        "pitch_range",
        patterns=(
            (
                "\\b(?:very little|hardly any|barely any|not much|little|minimal) (?:pitch )?(?:movement|variation|change|inflection|melody)\\b",
                "narrow",
            ),
            (
                "\\b(?:lots of|a lot of|plenty of|much|great|big|huge|a great deal of) (?:pitch )?(?:movement|variation|inflection)\\b",
                "wide",
            ),
            (
                r"\bpitch (?:jumps|swings|moves|leaps|bounces|goes|darts|flies) (?:around|all over|up and down|about)\b",
                "wide",
            ),
            (
                r"\bpitch (?:hardly|barely|scarcely|never) (?:moves|changes|varies|shifts)\b|\bflat,? (?:\w+ )?(?:pitch|voice)\b",
                "narrow",
            ),
            (
                r"\b(wide|narrow|broad|small|limited|big|large)[, ]+(?:\w+[, ]+){0,2}?(?:pitch )?range\b|\brange is (wide|narrow)\b",
                None,
            ),
            (r"\blarge pitch swings\b|音域宽|起伏大", "wide"),
            (r"\bmonoton\w*|音域窄|单调", "narrow"),
        ),
        anchors=("melody", "pitch", "intonation", "voice", "tone", "range", "prosody", "delivery"),
        lexicon={
            "wide": (
                "expressive",
                "up-and-down",
                "up and down",
                "animated",
                "lively",
                "varied",
                "sing-song",
                "swoop\\w*",
                "wide",
                "broad",
                "dynamic",
            ),
            "narrow": (
                "flat",
                "dull",
                "monotone",
                "monotonous",
                "droning",
                "unvarying",
                "narrow",
                "lifeless",
                "deadpan",
            ),
        },
        triggers=(
            "movement",
            "variation",
            "inflection",
            "pitch",
            "range",
            "pitch swings",
            "monoton",
            "音域",
            "单调",
            "起伏",
        ),
        value_words={"wide": "wide", "narrow": "narrow"},
        synonyms={"broad": "wide", "big": "wide", "large": "wide", "small": "narrow", "limited": "narrow"},
    ),
    ClaimSpec(
        "loudness",
        patterns=(
            (
                r"\bthe voice is (loud|soft|moderate)\b|\b(loud|soft|quiet)[, ]+(?:\w+[, ]+){0,3}?voice\b|\bat (?:a )?(moderate|low|high) (?:loudness|volume|level)\b|\bshouting\b",
                None,
            ),
            (r"声音(?:很)?(?:响亮|响|大)", "loud"),
            (r"声音(?:很)?(?:轻|小)", "soft"),
        ),
        triggers=("voice", "shouting", "loudness", "volume", "声音"),
        synonyms={"quiet": "soft", "shouting": "loud", "low": "soft", "high": "loud"},
        value_words={"loud": "loud", "soft": "soft", "quiet": "soft"},
    ),
    ClaimSpec(
        "pauses",
        patterns=(
            (
                r"\blong pauses\b|\bpauses between\b|\b(?:long|frequent|lengthy) (?:gaps|silences|breaks)\b|长时间停顿|停顿很长",
                True,
            ),
        ),
        triggers=("pause", "gaps", "silences", "breaks", "停顿"),
    ),
)

SPEAKER_EMOTION = register(
    Family(
        name="SpeakerEmotion",
        category="speech",
        config=FamilyConfig,
        generate=speaker_emotion,
        description="Emotion from prosody: f0 level and range, tremor, rate, energy, pauses.",
        answer_keys=("emotion",),
        read_facts=emotion_facts,
        answer_from=lambda f: f.get("emotion") or "",
        grounded=emotion_grounded,
        cues=EMOTION_CUES,
        topic="how the speaker feels",
        claims=CLAIMS,
    )
)
