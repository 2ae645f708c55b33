"""MelodyContour: the pitch shape of a melody (ascending, descending, arch, valley)."""

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
from audiogym.tasks.synth import NOTE_NAMES

CONTOURS = ("ascending", "descending", "arch", "valley")
CONTOUR_CUES = {
    "ascending": ["climbing higher and higher to the stars", "rise up, rise up, reach the top"],
    "descending": ["falling down, sinking to the ground", "sliding down the hill below"],
    "arch": ["up the mountain and back down the other side", "we rose and then we fell again"],
    "valley": ["down into the valley and up again", "we sank low and then climbed back"],
}


def contour_steps(rng: np.random.Generator, contour: str, n_notes: int) -> list[int]:
    up = lambda: int(rng.integers(2, 5))  # noqa: E731 - a step of 2-4 semitones
    half = n_notes // 2
    if contour == "ascending":
        return [up() for _ in range(n_notes - 1)]
    if contour == "descending":
        return [-up() for _ in range(n_notes - 1)]
    if contour == "arch":
        return [up() for _ in range(half)] + [-up() for _ in range(n_notes - 1 - half)]
    return [-up() for _ in range(half)] + [up() for _ in range(n_notes - 1 - half)]


@dataclass
class MelodyConfig(FamilyConfig):
    n_notes: int = 6

    def validate(self) -> MelodyConfig:
        super().validate()
        check_range("n_notes", self.n_notes, 4, 12)
        return self


def melody_contour(rng: np.random.Generator, cfg: MelodyConfig) -> AudioTask:
    difficulty = pick_difficulty(rng, cfg)
    contour = str(rng.choice(CONTOURS))
    steps = contour_steps(rng, contour, cfg.n_notes)
    raw = np.cumsum([int(rng.integers(55, 72))] + steps)
    notes = list(raw - max(0, raw.max() - 79) + max(0, 52 - raw.min()))  # keep within G3..G5
    n = synth.n_samples(cfg.duration)
    note_n = int(n * 0.9) // cfg.n_notes
    out = np.zeros(n)
    for i, m in enumerate(notes):
        tone = synth.harmonic_tone(synth.midi_to_hz(m), note_n, np.array([1.0, 0.4, 0.2]), rng)
        synth.place(out, tone * synth.envelope(note_n, 0.02, 0.06), i * note_n)
    out = synth.add_noise(synth.at_level(out, -18), SNR_DB[difficulty], rng)
    transcript, conflict, cue = transcript_for(rng, CONTOUR_CUES, contour, cfg)
    return clip_task(
        rng,
        out,
        question="What is the shape of the melody's pitch contour?",
        options=list(CONTOURS),
        answer=contour,
        category="music",
        skill="melody",
        difficulty=difficulty,
        transcript=transcript,
        transcript_label="Lyrics",
        facts={"contour": contour, "notes": [NOTE_NAMES[int(m) % 12] + str(int(m) // 12 - 1) for m in notes]},
        conflict=conflict,
        cue=cue,
    )


def contour_grounded(task: AudioTask, facts: dict) -> str:
    c = facts["contour"]
    shape = {
        "ascending": "each note is higher than the one before: the pitch rises throughout",
        "descending": "each note is lower than the one before: the pitch falls throughout",
        "arch": "the pitch rises to a peak in the middle and then falls back",
        "valley": "the pitch falls to a low point in the middle and then rises again",
    }[c]
    notes = " - ".join(facts.get("notes", [])) or "a sequence of notes"
    return f"I hear the melody {notes}; {shape}. The contour is {c}."


# What a chain of thought can claim about these facts, and how grounding checks it.
CLAIMS = (
    ClaimSpec(
        "contour",
        patterns=(
            (
                "\\b(?:each|every) (?:pitch|note|tone)\\b[^.;]{0,20}?\\b(?:above|higher than|over)\\b[^.;]{0,15}?\\b(?:previous|last|one before|prior|preceding)\\b|\\b(?:steadily|ever|gradually|keeps? (?:getting|going)) higher\\b|\\b(?:moves|goes|gets|climbs) (?:steadily )?higher\\b",
                "ascending",
            ),
            (
                "\\b(?:each|every) (?:pitch|note|tone)\\b[^.;]{0,20}?\\b(?:below|lower than|under)\\b[^.;]{0,15}?\\b(?:previous|last|one before|prior|preceding)\\b|\\b(?:steadily|ever|gradually|keeps? (?:getting|going)) lower\\b|\\b(?:moves|goes|gets|sinks) (?:steadily )?lower\\b",
                "descending",
            ),
            (
                "\\bhigh (?:note|point|spot|peak)\\b[^.;]{0,20}?\\b(?:middle|halfway|centre|center)\\b|\\b(?:middle|halfway|centre|center)\\b[^.;]{0,20}?\\bhigh (?:note|point|spot)\\b",
                "arch",
            ),
            (
                "\\blow (?:note|point|spot)\\b[^.;]{0,20}?\\b(?:middle|halfway|centre|center)\\b|\\b(?:middle|halfway|centre|center)\\b[^.;]{0,20}?\\blow (?:note|point|spot)\\b",
                "valley",
            ),
            (
                "\\b(?:rising|climbing|going up|ascending)\\b[^.;]{0,12}?\\bnote (?:after|by|upon) note\\b|\\bnote (?:after|by) note\\b[^.;]{0,20}?\\b(?:rising|climbing|going up|higher)\\b",
                "ascending",
            ),
            (
                "\\b(?:falling|sinking|going down|descending)\\b[^.;]{0,12}?\\bnote (?:after|by|upon) note\\b|\\bnote (?:after|by) note\\b[^.;]{0,20}?\\b(?:falling|sinking|going down|lower)\\b",
                "descending",
            ),
            (
                "\\b(?:up|upward|upwards|higher|rises?|climbs?)\\b[^.;]{0,25}?\\bthen\\b[^.;]{0,20}?\\b(?:down|downward|downwards|lower|falls?|drops?|descends?|sinks?)\\b",
                "arch",
            ),
            (
                "\\b(?:down|downward|downwards|lower|falls?|drops?|descends?|sinks?)\\b[^.;]{0,25}?\\bthen\\b[^.;]{0,20}?\\b(?:up|upward|upwards|higher|rises?|climbs?)\\b",
                "valley",
            ),
            (
                "\\b(?:down|sinks?|dips?|drops?|falls?)\\b[^.;]{0,20}?\\binto a (?:dip|trough|hollow)\\b|\\b(?:dip|trough|hollow)\\b[^.;]{0,20}?\\b(?:back up|up again)\\b",
                "valley",
            ),
            (
                "\\b(?:up|climbs?|rises?)\\b[^.;]{0,20}?\\b(?:to|into) a (?:peak|top|crest|summit)\\b|\\b(?:peak|crest|summit)\\b[^.;]{0,20}?\\b(?:back down|down again)\\b",
                "arch",
            ),
            (
                "\\bstarts? (?:low|at the bottom) and (?:finish|end)\\w* (?:high|at the top)\\b|\\b(?:walk|walks|walking|step|steps|inch|inches|inching|creep|creeps) (?:up|upward|upwards)\\b",
                "ascending",
            ),
            (
                "\\bstarts? (?:high|at the top) and (?:finish|end)\\w* (?:low|at the bottom)\\b|\\b(?:walk|walks|walking|step|steps|inch|inches|inching|creep|creeps) (?:down|downward|downwards)\\b",
                "descending",
            ),
            (
                r"\bpeaks? (?:in|around|near|at) the middle\b|\b(?:tops? out|reaches? (?:its|a) (?:peak|top|high point))\b",
                "arch",
            ),
            (r"\bbottoms? out\b|\b(?:dips?|sags?) (?:in|around|near) the middle\b", "valley"),
            (
                r"\b(?:keeps?|kept) (?:stepping|going|climbing|moving) (?:up|upward|upwards)\b|\b(?:climbs?|rises?|goes up) all the way\b",
                "ascending",
            ),
            (
                r"\b(?:keeps?|kept) (?:stepping|going|falling|moving|sinking) (?:down|downward|downwards)\b|\b(?:sinks?|falls?|goes down) all the way\b",
                "descending",
            ),
            (
                r"\barch\b|\b(?:rises?|climbs?) to a (?:peak|high point)|\bhigh point in the middle|\bpeak in the middle|\bup,? (?:and )?then down\b|\bup and (?:then )?down\b|\b(?:ris\w*|climb\w*|goes up|ascend\w*)\b[^.;]{0,60}?\b(?:then|before|and)\b[^.;]{0,30}?\b(?:falls?|drops?|descends?|comes? (?:back )?down|goes (?:back )?down|sinks?)|先升后降|拱形",
                "arch",
            ),
            (
                r"\bvalley\b|\b(?:falls?|dips?|drops?|sinks?) to a low point|\blow point in the middle|\bdown,? (?:and )?then up\b|\bdown and (?:then )?up\b|\b(?:fall\w*|dip\w*|drop\w*|sink\w*|goes down|descend\w*)\b[^.;]{0,60}?\b(?:then|before|and)\b[^.;]{0,30}?\b(?:rises?|climbs?(?: back up)?|goes (?:back )?up|comes? (?:back )?up)|先降后升|谷形",
                "valley",
            ),
            (
                r"\bascending\b|\b(?:melody|tune|line|phrase|notes?|pitch|contour)\b[^.;]{0,30}?\b(?:rises|climbs|goes up|moves up|steps up(?:ward)?|ascends)\b(?![^.;]{0,30}\b(?:at the (?:very )?end|on the (?:last|final)))|\beach note is higher|\bevery note (?:is )?(?:above|higher than) the (?:last|previous|one before)|\bpitch goes up the whole way|上行|越来越高",
                "ascending",
            ),
            (
                r"\bdescending\b|\b(?:melody|tune|line|phrase|notes?|pitch|contour)\b[^.;]{0,30}?\b(?:falls|drops|goes down|moves down|steps down(?:ward)?|descends|sinks)\b(?![^.;]{0,30}\b(?:at the (?:very )?end|on the (?:last|final)))|\beach note is lower|\bevery note (?:is )?(?:below|lower than) the (?:previous|last|one before)|\bpitch goes down the whole way|下行|越来越低",
                "descending",
            ),
            (
                r"\b(?:keeps?|kept) (?:stepping|going|climbing|moving|getting) (?:higher|up)\b|\b(?:each|every) (?:successive|subsequent|next|following) note (?:is |sits |lands )?(?:higher|above)\b",
                "ascending",
            ),
            (
                r"\b(?:keeps?|kept) (?:stepping|going|falling|moving|getting) (?:lower|down)\b|\b(?:each|every) (?:successive|subsequent|next|following) note (?:is |sits |lands )?(?:lower|below)\b",
                "descending",
            ),
        ),
        anchors=("line", "melody", "tune", "phrase", "notes", "contour"),
        lexicon={
            "ascending": (
                "upward",
                "upwards",
                "ascends",
                "ascending",
                "higher and higher",
                "climbs steadily",
                "rises steadily",
            ),
            "descending": (
                "downward",
                "downwards",
                "descends",
                "descending",
                "lower and lower",
                "falls steadily",
                "sinks steadily",
            ),
        },
        triggers=(
            "pitch",
            "tone",
            "steadily",
            "ever",
            "gradually",
            "middle",
            "halfway",
            "centre",
            "center",
            "note after",
            "note by",
            "into a",
            "trough",
            "hollow",
            "crest",
            "summit",
            "starts",
            "walk",
            "inch",
            "creep",
            "peak",
            "top",
            "bottom",
            "sag",
            "dip",
            "stepping",
            "all the way",
            "arch",
            "peak",
            "valley",
            "low point",
            "high point",
            "up",
            "down",
            "ris",
            "fall",
            "ascend",
            "descend",
            "climb",
            "drop",
            "dip",
            "sink",
            "each note",
            "every note",
            "先",
            "拱",
            "谷",
            "上行",
            "下行",
            "越来越",
            "higher",
            "lower",
            "successive",
        ),
        compound=("arch", "valley"),
        value_words={"ascending": "ascending", "descending": "descending", "arch": "arch", "valley": "valley"},
    ),  # rise then fall in one sentence is one arch
)

# Words that cite this family's kind of evidence (evidence category -> terms, regexes matched
# against lowercased text; Chinese terms as plain text). The grounding reward reads every family's.
EVIDENCE: dict[str, tuple[str, ...]] = {
    "pitch_melody": (
        r"pitch",
        r"melod\w*",
        r"contour",
        r"notes?",
        r"interval\w*",
        r"semitones?",
        r"octaves?",
        r"ascend\w*",
        r"descend\w*",
        r"hz",
        r"fundamental",
        r"f0",
        "音高",
        "旋律",
        "音调",
        "音程",
        "八度",
        "赫兹",
    ),
}


MELODY_CONTOUR = register(
    Family(
        name="MelodyContour",
        category="music",
        config=MelodyConfig,
        generate=melody_contour,
        description="Shape of a melody: ascending, descending, arch or valley.",
        answer_keys=("contour",),
        read_facts=lambda m: {"contour": m.contour, "notes": m.note_names},
        answer_from=lambda f: f.get("contour") or "",
        grounded=contour_grounded,
        cues=CONTOUR_CUES,
        topic="direction",
        claims=CLAIMS,
        evidence=EVIDENCE,
    )
)
