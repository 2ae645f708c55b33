"""ChordMood: the mood of a chord progression, from its chord quality; the lyrics may disagree."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from audiogym.tasks import synth
from audiogym.tasks.core import AudioTask
from audiogym.tasks.family import (
    SNR_DB,
    ClaimSpec,
    Family,
    FamilyConfig,
    check_range,
    clip_task,
    pick_difficulty,
    transcript_for,
)
from audiogym.tasks.registry import register
from audiogym.tasks.synth import NOTE_NAMES, TRIADS

MOODS = {"major": "cheerful", "minor": "sad", "diminished": "tense", "augmented": "mysterious"}
CHORD_CUES = {
    "cheerful": ["sunshine on my face, we're dancing all day long", "happy days are here, we laugh and sing"],
    "sad": ["tears fall down, I'm all alone tonight", "goodbye my love, my heart is broken"],
    "tense": ["something's wrong, they're coming closer", "hold your breath, danger in the dark"],
    "mysterious": ["whispers in the fog, secrets no one knows", "strange lights drift across the silent sky"],
}


@dataclass
class ChordMoodConfig(FamilyConfig):
    n_chords: int = 4

    def validate(self) -> ChordMoodConfig:
        super().validate()
        check_range("n_chords", self.n_chords, 2, 8)
        return self


def chord_mood(rng: np.random.Generator, cfg: ChordMoodConfig) -> AudioTask:
    difficulty = pick_difficulty(rng, cfg)
    quality = str(rng.choice(list(TRIADS)))
    n = synth.n_samples(cfg.duration)
    seg = n // cfg.n_chords
    out = np.zeros(n)
    roots = []
    root = int(rng.integers(55, 63))
    env = synth.envelope(seg, 0.01, 0.05, decay_tau=0.9)  # every note of every chord
    phases = []
    for _ in range(cfg.n_chords):  # the draws in the order one chord at a time makes them
        roots.append(root)
        phases.append(synth.tone_phases(rng, len(TRIADS[quality])))
        root = 55 + (root - 55 + int(rng.choice([5, 7, 2, 9]))) % 9
    tones = synth.midi_to_hz(np.add.outer(roots, TRIADS[quality]))
    out[: cfg.n_chords * seg] = (synth.chords(tones, seg, np.array([1.0, 0.3, 0.1]), np.array(phases)) * env).ravel()
    out = synth.add_noise(synth.at_level(out, -18), SNR_DB[difficulty], rng)
    mood = MOODS[quality]
    transcript, conflict, cue = transcript_for(rng, CHORD_CUES, mood, cfg)
    return clip_task(
        rng,
        out,
        question="What mood does this music convey?",
        options=list(CHORD_CUES),
        answer=mood,
        category="music",
        skill="harmony",
        difficulty=difficulty,
        transcript=transcript,
        transcript_label="Lyrics",
        facts={"chord_quality": quality, "mood": mood, "roots": [NOTE_NAMES[r % 12] for r in roots]},
        conflict=conflict,
        cue=cue,
    )


def chord_grounded(task: AudioTask, facts: dict) -> str:
    q = facts["chord_quality"]
    detail = {
        "major": "a major third and a perfect fifth above the root: bright major triads",
        "minor": "a minor third and a perfect fifth above the root: minor triads",
        "diminished": "two stacked minor thirds, a diminished fifth: unstable diminished triads",
        "augmented": "two stacked major thirds, an augmented fifth: floating augmented triads",
    }[q]
    roots = ", ".join(facts.get("roots", [])) or "several roots"
    return (
        f"I hear a progression of sustained chords on {roots}. Each chord has {detail}. "
        f"The harmony is {q}, and {q} harmony sounds {MOODS[q]}, so the mood is {MOODS[q]}."
    )


# What a chain of thought can claim about these facts, and how grounding checks it.
CLAIMS = (
    ClaimSpec(
        "chord_quality",
        patterns=(
            (
                r"\b(?:stack|stacks|stacked|two) (?:\w+ )?minor thirds\b|\b(?:flat(?:tened)?|lowered|diminished) fifth\b",
                "diminished",
            ),
            (
                r"\b(?:stack|stacks|stacked|two) (?:\w+ )?major thirds\b|\b(?:raised|sharp(?:ened)?|augmented) fifth\b",
                "augmented",
            ),
            (
                r"\b(?:has|have|with|on) (?:a |an )?(?:\w+ )?(major|minor) third\b(?! and a (?:flat|diminished|raised|sharp|augmented))|\b(major|minor)[- ]key\b|\b(major|minor|diminished|augmented)\b(?:[- ]\w+)? (?:sound|colou?r|feel|flavou?r)\b",
                None,
            ),
            (r"\bflat(?:tened)? third\b", "minor"),
            (
                r"\b(major|minor|diminished|augmented)(?:-sounding)?\s+(?:chords?|triads?|harmon(?:y|ies)|keys?|mode|quality|progression|tonality|sonorit(?:y|ies)|colou?r)\b",
                None,
            ),
            (
                r"\b(?:harmony|chords?|triads?|progression|tonality|chord quality|triad quality|quality|key|mode)\b[^.;]{0,25}?\b(?:is|are|sounds?|feels?|seems?|stays?|:)\s+(?:\w+\s+){0,2}?(major|minor|diminished|augmented)\b",
                None,
            ),
            (
                r"\b(?:triad quality|chord quality)\s*:\s*(major|minor|diminished|augmented)\b|\bcall the chord quality (major|minor|diminished|augmented)\b",
                None,
            ),
            (r"\b0-4-7\b|\bmajor third (?:over|above|on top of) the root", "major"),
            (
                r"\b0-3-7\b|\b(?:flat(?:ten)?ed|lowered) third\b|\bminor third (?:over|above|on top of) the root",
                "minor",
            ),
            (
                r"\b0-3-6\b|\b(?:flat(?:ten)?ed|diminished|lowered) fifth\b|\btritone\b|\btwo minor thirds\b",
                "diminished",
            ),
            (r"\b0-4-8\b|\b(?:raised|augmented|sharp(?:ened)?) fifth\b|\btwo major thirds\b", "augmented"),
            (r"大三和弦|大调|大和弦", "major"),
            (r"小三和弦|小调|小和弦", "minor"),
            (r"减三?和弦|减五度", "diminished"),
            (r"增三?和弦|增五度", "augmented"),
        ),
        anchors=(
            "chord",
            "chords",
            "triad",
            "triads",
            "third",
            "thirds",
            "harmony",
            "harmonies",
            "key",
            "mode",
            "tonality",
            "progression",
            "intervals",
        ),
        lexicon={
            "major": ("major(?!\\s+thirds)",),
            "minor": ("minor(?!\\s+thirds)",),
            "diminished": ("diminished",),
            "augmented": ("augmented",),
        },
        triggers=(
            "flat",
            "lowered",
            "raised",
            "sharp",
            "stack",
            "two",
            "key",
            "sound",
            "colour",
            "color",
            "feel",
            "flavo",
            "major",
            "minor",
            "diminished",
            "augmented",
            "0-",
            "third",
            "fifth",
            "tritone",
            "和弦",
            "调",
        ),
        value_words={
            r"major(?!\s+(?:thirds?|sixths?|sevenths?|seconds?|intervals?))": "major",
            r"minor(?!\s+(?:thirds?|sixths?|sevenths?|seconds?|intervals?))": "minor",
            "diminished": "diminished",
            "augmented": "augmented",
        },
    ),
)

# Words that cite this family's kind of evidence (evidence category -> terms, regexes matched
# against lowercased text; Chinese terms as plain text). The grounding reward reads every family's.
EVIDENCE: dict[str, tuple[str, ...]] = {
    "harmony_mode": (
        r"chords?",
        r"triads?",
        r"harmon(?:y|ies)",
        r"major",
        r"minor",
        r"diminished",
        r"augmented",
        r"tonality",
        r"dissonan\w*",
        r"consonan\w*",
        r"thirds?",
        r"fifths?",
        "和弦",
        "和声",
        "大调",
        "小调",
        "调式",
    ),
}


CHORD_MOOD = register(
    Family(
        name="ChordMood",
        category="music",
        config=ChordMoodConfig,
        generate=chord_mood,
        description="Mood of a chord progression (major/minor/diminished/augmented); lyrics may disagree.",
        answer_keys=("chord_quality",),
        read_facts=lambda m: {"chord_quality": m.chord_quality, "roots": m.chord_roots},
        answer_from=lambda f: MOODS.get(f.get("chord_quality") or "", ""),
        grounded=chord_grounded,
        cues=CHORD_CUES,
        topic="that feeling",
        claims=CLAIMS,
        evidence=EVIDENCE,
    )
)
