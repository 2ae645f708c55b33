"""Tempo: slow, moderate or fast drum beats (beats per minute); the lyrics may disagree."""

from __future__ import annotations

import numpy as np

from audiogym.tasks import synth
from audiogym.tasks.core import AudioTask
from audiogym.tasks.family import (
    SNR_DB,
    ClaimSpec,
    Family,
    FamilyConfig,
    clip_task,
    pick_difficulty,
    transcript_for,
)
from audiogym.tasks.registry import register

TEMPO_BANDS = {"slow": (58.0, 76.0), "moderate": (92.0, 112.0), "fast": (132.0, 168.0)}
TEMPO_CUES = {
    "slow": ["take it easy, lazy Sunday afternoon", "drifting gently, no need to hurry"],
    "moderate": ["walking steady down the road", "keep an even pace, step by step"],
    "fast": ["running racing, can't stop now", "quick quick, we're in a rush"],
}


def tempo_class(bpm: float | None) -> str | None:
    """Slow below 84 BPM, fast above 122, moderate between (boundaries sit in the gaps)."""
    if bpm is None:
        return None
    return "slow" if bpm < 84 else "fast" if bpm > 122 else "moderate"


def tempo(rng: np.random.Generator, cfg: FamilyConfig) -> AudioTask:
    difficulty = pick_difficulty(rng, cfg)
    cls = str(rng.choice(list(TEMPO_BANDS)))
    bpm = round(float(rng.uniform(*TEMPO_BANDS[cls])), 1)
    n = synth.n_samples(cfg.duration)
    beats = synth.beat_track(rng, n, bpm)
    pad = synth.harmonic_tone(synth.midi_to_hz(int(rng.integers(48, 60))), n, np.array([1, 0.5, 0.3]), rng)
    out = synth.at_level(beats, -16) + synth.at_level(pad, -30)
    out = synth.add_noise(out, SNR_DB[difficulty], rng)
    transcript, conflict, cue = transcript_for(rng, TEMPO_CUES, cls, cfg)
    return clip_task(
        rng,
        out,
        question="How would you describe the tempo of this beat?",
        options=list(TEMPO_BANDS),
        answer=cls,
        category="music",
        skill="rhythm",
        difficulty=difficulty,
        transcript=transcript,
        transcript_label="Lyrics",
        facts={"tempo_bpm": bpm, "tempo_class": cls},
        conflict=conflict,
        cue=cue,
    )


def tempo_grounded(task: AudioTask, facts: dict) -> str:
    bpm = facts.get("tempo_bpm")
    cls = facts["tempo_class"]
    gap = f"about {60.0 / bpm:.2f} s between beats, roughly {bpm:.0f} BPM" if bpm else "an irregular pulse"
    return f"The drum hits are evenly spaced with {gap}. That tempo is {cls}, so the beat is {cls}."


# What a chain of thought can claim about these facts, and how grounding checks it.
CLAIMS = (
    ClaimSpec(
        "tempo_bpm",
        patterns=(
            ("\\bmetronome(?: marking| mark| setting| speed)?\\b[^.;]{0,25}?\\b(\\d{2,3})\\b", None),
            (r"(\d{2,3})\s*(?:\w+\s+)?(?:a|per|each|every|to the|in a|in one) minute\b", None),
            (r"(\d{2,3}(?:\.\d+)?)\s*(?:bpm|beats?\s*(?:per|a|each|every|/)\s*min(?:ute)?)\b", None),
            (
                r"(\d{2,3}(?:\.\d+)?)\s*(?:kicks?|hits?|beats?|pulses?|strokes?)?\s*(?:per|a|each|every)\s+minute\b",
                None,
            ),
            (r"每分钟\s*(?:大约|约)?\s*(\d{2,3})\s*拍|(\d{2,3})\s*拍每分钟", None),
        ),
        triggers=("metronome", "minute", "bpm", "minute", "每分钟", "拍每分钟"),
        tolerance=0.15,
    ),
    ClaimSpec(
        "tempo_class",
        patterns=(
            (
                (
                    r"\b(slow|moderate|fast|quick|brisk)\s+(?:tempo|beat|pace)\b|\btempo is (slow|"
                    r"moderate|fast)\b"
                ),
                None,
            ),
        ),
        triggers=("tempo", "beat", "pace"),
        synonyms={"quick": "fast", "brisk": "fast"},
        derive=lambda f: tempo_class(f["tempo_bpm"]) if isinstance(f.get("tempo_bpm"), (int, float)) else None,
        value_words={"slow": "slow", "moderate": "moderate", "fast": "fast", "quick": "fast", "brisk": "fast"},
    ),
)

# Words that cite this family's kind of evidence (evidence category -> terms, regexes matched
# against lowercased text; Chinese terms as plain text). The grounding reward reads every family's.
EVIDENCE: dict[str, tuple[str, ...]] = {
    "tempo_rhythm": (
        r"tempo",
        r"bpm",
        r"beats?",
        r"rhythm\w*",
        r"met(?:er|re)",
        r"waltz",
        r"march",
        r"downbeats?",
        r"accents?",
        r"pulse",
        r"syncopat\w*",
        "节奏",
        "节拍",
        "速度",
        "拍子",
    ),
}


TEMPO = register(
    Family(
        name="Tempo",
        category="music",
        config=FamilyConfig,
        generate=tempo,
        description="Tempo of a drum beat: slow, moderate or fast.",
        answer_keys=("tempo_class",),
        read_facts=lambda m: {"tempo_bpm": m.tempo_bpm, "tempo_class": tempo_class(m.tempo_bpm)},
        answer_from=lambda f: f.get("tempo_class") or "",
        grounded=tempo_grounded,
        cues=TEMPO_CUES,
        topic="pace",
        claims=CLAIMS,
        evidence=EVIDENCE,
    )
)
