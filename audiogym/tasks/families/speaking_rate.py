"""SpeakingRate: slow, normal or fast speech, in syllables per second."""

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

RATES = {"slow": (2.0, 2.6), "normal": (3.4, 4.2), "fast": (5.2, 6.2)}
RATE_CUES = {
    "slow": ["I am taking my time, no rush at all", "let me say this very carefully"],
    "normal": ["let me tell you about my day", "so here is what happened at work"],
    "fast": ["gotta go gotta go, no time to talk", "quick, quick, we're late already"],
}


def rate_class(rate: float | None) -> str | None:
    if not rate:
        return None
    return "slow" if rate < 3.0 else "fast" if rate > 4.7 else "normal"


def speaking_rate(rng: np.random.Generator, cfg: FamilyConfig) -> AudioTask:
    difficulty = pick_difficulty(rng, cfg)
    cls = str(rng.choice(list(RATES)))
    rate = round(float(rng.uniform(*RATES[cls])), 2)
    n = synth.n_samples(cfg.duration)
    f0, syl = utterance(rng, n, rate=rate, f0_base=float(rng.uniform(100, 230)), range_st=3.0)
    audio = synth.at_level(voice(f0, syl, rng), -20)
    return speech_task(
        rng,
        cfg,
        audio,
        difficulty=difficulty,
        cues=RATE_CUES,
        answer=cls,
        options=list(RATES),
        question="How fast is the speaker talking?",
        skill="rate",
        facts={"rate_class": cls, "syllables_per_s": rate},
    )


def rate_grounded(task: AudioTask, facts: dict) -> str:
    r = facts.get("syllables_per_s")
    cls = facts["rate_class"]
    per = f"about {r:.1f} syllables per second" if r else "a few syllables"
    return f"Counting the syllable pulses in the voice's loudness I hear {per}; that is a {cls} speaking rate."


# What a chain of thought can claim about these facts, and how grounding checks it.
CLAIMS = (
    ClaimSpec(
        "syllables_per_s",
        patterns=(
            (
                r"\b(?:words?|syllables?|speech|talk\w*|speak\w*|says?|voice|speaker)\b[^.;]{0,30}?\b(\d+(?:\.\d+)?)\s*(?:\w+\s+)?(?:a|per|each|every) second",
                None,
            ),
            (
                r"(\d+(?:\.\d+)?)\s*syllables?\s*(?:per|a|each|every)\s*second|(\d+(?:\.\d+)?)\s*syllables?\s*/\s*s\b",
                None,
            ),
            (
                r"\bsyllables?\b[^.;]{0,30}?\b(\d+(?:\.\d+)?)\s*(?:a|per|each) second|\bsyllable rate\b[^;]{0,25}?\b(\d+(?:\.\d+)?)\b",
                None,
            ),
            (r"每秒\s*(?:大约|约)?\s*(\d+(?:\.\d+)?)\s*个?音节|(\d+(?:\.\d+)?)\s*个音节每秒", None),
            (r"\bsyllabl\w*\)?[^.;]{0,40}?\b(\d+(?:\.\d+)?)\s*hz\b", None),
        ),
        triggers=("second", "syllable", "音节"),
        tolerance=0.25,
    ),
    ClaimSpec(
        "rate_class",
        patterns=(
            ("\\bat a (medium|moderate|brisk|fast|quick|slow|leisurely|rapid|steady|good) clip\\b", None),
            (
                "\\bspeaks? (?:\\w+ )?(slowly|quickly|fast|rapidly)\\b|\\bat a (normal|slow|fast|quick|moderate|brisk|leisurely|average|typical) (?:speed|pace|rate|clip)\\b",
                None,
            ),
            (
                "\\b(?:speech|speaking|talking) (?:rate|speed|pace) is (?:\\w+ )?(average|normal|typical|ordinary|moderate|slow|fast|quick|high|low)\\b",
                None,
            ),
            (
                r"\btakes? (?:his|her|their) time\b|\b(?:leisurely|drawn[- ]out|unhurried|sluggish|dragging|plodding|measured)\b[^.;]{0,20}?\b(?:delivery|pace|speech|talk\w*|speak\w*|voice|rhythm)\b",
                "slow",
            ),
            (
                r"\b(?:rushed|hurried|quick-fire|rapid-fire|breathless|racing)\b[^.;]{0,20}?\b(?:delivery|pace|speech|talk\w*|speak\w*|voice)\b|\bwords? (?:tumble|pour|spill|rush|race|fly|tumbling|pouring|spilling|rushing|racing|flying) out\b",
                "fast",
            ),
            (
                r"\b(?:everyday|conversational|ordinary|average|natural|normal|comfortable|typical) (?:\w+ )?(?:pace|speed|tempo|rate)\b|\bneither (?:rushed|fast|quick|hurried) nor (?:dragging|slow|sluggish)\b|\bneither (?:slow|dragging) nor (?:rushed|fast|quick|hurried)\b",
                "normal",
            ),
            (r"\bwords? (?:come|comes|coming|are coming) (?:out )?(slowly|quickly|fast|rapidly)\b", None),
            (
                r"\b(slow|normal|moderate|fast|rapid)\s+(?:speaking rate|speech rate|rate of speech|pace of speech)\b|\bspeaking rate is (slow|normal|moderate|fast)\b|\bspeaking (slowly|quickly|fast)\b",
                None,
            ),
            (
                r"\b(slow|unhurried|fast|rapid|brisk|quick|normal)\s+(?:delivery|speech|talking|speaking)\b|\bat a (normal|moderate|slow|fast|quick) pace\b|语速(快|慢|适中|正常)",
                None,
            ),
        ),
        anchors=(
            "pace",
            "paced",
            "speed",
            "rate",
            "delivery",
            "talks",
            "talking",
            "talker",
            "speaks",
            "speaking",
            "speaker",
            "speech",
            "words",
            "syllables",
        ),
        lexicon={
            "slow": (
                "slow",
                "slowly",
                "sluggish",
                "leisurely",
                "unhurried",
                "drawn-out",
                "measured",
                "deliberate",
                "deliberately",
                "plodding",
                "crawling",
            ),
            "normal": (
                "regular",
                "normal",
                "average",
                "ordinary",
                "typical",
                "everyday",
                "conversational",
            ),
            "fast": (
                "quick",
                "quickly",
                "fast",
                "rapid",
                "rapidly",
                "hurried",
                "rushed",
                "brisk",
                "briskly",
                "racing",
                "speedy",
            ),
        },
        triggers=(
            "clip",
            "speaks",
            "speak",
            "speed",
            "clip",
            "time",
            "leisurely",
            "drawn",
            "rushed",
            "hurried",
            "tumble",
            "pour",
            "spill",
            "words",
            "neither",
            "ordinary",
            "everyday",
            "conversational",
            "natural",
            "average",
            "rate",
            "speech",
            "speaking",
            "delivery",
            "talking",
            "pace",
            "语速",
        ),
        synonyms={
            "medium": "normal",
            "steady": "normal",
            "good": "fast",
            "average": "normal",
            "typical": "normal",
            "ordinary": "normal",
            "high": "fast",
            "low": "slow",
            "leisurely": "slow",
            "rapidly": "fast",
            "rapid": "fast",
            "quickly": "fast",
            "slowly": "slow",
            "unhurried": "slow",
            "brisk": "fast",
            "quick": "fast",
            "快": "fast",
            "慢": "slow",
            "适中": "normal",
            "正常": "normal",
        },
        aliases=("rate",),  # SpeakerEmotion's name for it
        equivalent=(("normal", "moderate"), ("moderate", "normal")),
        value_words={"slow": "slow", "normal": "normal", "fast": "fast"},
    ),
)

SPEAKING_RATE = register(
    Family(
        name="SpeakingRate",
        category="speech",
        config=FamilyConfig,
        generate=speaking_rate,
        description="Speaking rate in syllables per second: slow, normal or fast.",
        answer_keys=("rate_class",),
        read_facts=lambda m: {"rate_class": rate_class(m.syllable_rate), "syllables_per_s": m.syllable_rate or None},
        answer_from=lambda f: f.get("rate_class") or "",
        grounded=rate_grounded,
        cues=RATE_CUES,
        topic="hurry",
        claims=CLAIMS,
    )
)
