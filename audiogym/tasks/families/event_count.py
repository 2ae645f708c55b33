"""EventCount: how many knocks or beeps sound over a hum and noise."""

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
    shuffled_choices,
    transcript_for,
)
from audiogym.tasks.registry import register

NUMBER_WORDS = ("one", "two", "three", "four", "five", "six", "seven", "eight")
EVENT_CUES = {str(i + 1): [f"knock {w} times", f"the alarm beeps {w} times"] for i, w in enumerate(NUMBER_WORDS)}
# "knock one times" is wrong English; say it properly for one.
EVENT_CUES["1"] = ["knock once", "the alarm beeps once"]


@dataclass
class EventCountConfig(FamilyConfig):
    max_events: int = 8

    def validate(self) -> EventCountConfig:
        super().validate()
        check_range("max_events", self.max_events, 2, 8)
        return self


def event_count(rng: np.random.Generator, cfg: EventCountConfig) -> AudioTask:
    difficulty = pick_difficulty(rng, cfg)
    count = int(rng.integers(1, cfg.max_events + 1))
    kind = str(rng.choice(["knocks", "beeps"]))
    n = synth.n_samples(cfg.duration)
    slot = (cfg.duration - 0.3) / cfg.max_events  # events sit in distinct slots, >= 0.3 s apart
    slots = np.sort(rng.choice(cfg.max_events, size=count, replace=False))
    out = np.zeros(n)
    freq = float(rng.uniform(700, 1400))
    # the draws in the order one knock at a time would make them (pitch, click noise, onset), then
    # every knock in one pass
    pitches, clicks, starts = [], [], []
    for s in slots:
        if kind == "knocks":
            pitches.append(float(rng.uniform(150, 250)))
            clicks.append(rng.standard_normal(synth.KNOCK_SAMPLES))
        starts.append(synth.n_samples(0.1 + s * slot + rng.uniform(0, slot - 0.2)))
    events = synth.knocks(np.array(pitches), np.array(clicks)) if kind == "knocks" else [synth.beep(freq, 0.09)] * count
    for ev, start in zip(events, starts):
        synth.place(out, ev, start)
    out = synth.at_level(out, -22)
    hum = synth.harmonic_tone(float(rng.choice([50.0, 60.0])), n, np.array([1, 0.5, 0.3]), rng)
    out = synth.add_noise(out + synth.at_level(hum, -40), SNR_DB[difficulty], rng)
    answer = str(count)
    options = [str(i) for i in range(1, cfg.max_events + 1)]
    cues: dict[str, list[str]] = EVENT_CUES
    k: int | None = 4
    if cfg.transcript_mode == "independent":  # the words name one of the 4 shown counts, uniformly
        options, k = shuffled_choices(rng, options, answer, k), None
        cues = {c: EVENT_CUES[c] for c in options}
    transcript, conflict, cue = transcript_for(rng, cues, answer, cfg)
    return clip_task(
        rng,
        out,
        question=f"How many {kind} do you hear?",
        options=options,
        answer=answer,
        category="sound",
        skill="counting",
        difficulty=difficulty,
        transcript=transcript,
        transcript_label="Transcript",
        facts={"event_count": count, "event_kind": kind},
        conflict=conflict,
        cue=cue,
        k=k,
        sort_key=int,
    )


def count_grounded(task: AudioTask, facts: dict) -> str:
    c = facts["event_count"]
    return (
        f"Over a steady low hum I count separate sharp onsets, each a short burst followed by "
        f"silence: {', '.join(str(i + 1) for i in range(c))}. That is {c} events."
    )


# What a chain of thought can claim about these facts, and how grounding checks it.
CLAIMS = (
    ClaimSpec(
        "event_count",
        patterns=(
            (
                "\\b(?:total|number|count|tally)\\b(?: number)?(?: of \\w+)?\\s*(?:[:=]|is|was|comes to|came to|of)\\s*(\\d|one|two|three|four|five|six|seven|eight)\\b",
                None,
            ),
            (
                r"\b(?:that|which|this) makes (\d+|one|two|three|four|five|six|seven|eight)\b|\b(\d+|one|two|three|four|five|six|seven|eight) in all\b",
                None,
            ),
            (
                r"\b(\d|one|two|three|four|five|six|seven|eight)\s+(?:separate\s+|distinct\s+|sharp\s+|clear\s+|short\s+)?(?:knocks?|beeps?|events?|hits?|taps?|bursts?|onsets?|transients?|clicks?)\b",
                None,
            ),
            (r"\bknock(?:s|ed)? (once|twice)\b|\bbeep(?:s|ed)? (once|twice)\b", None),
            (
                r"\b(?:knocks?|beeps?|taps?|bursts?|onsets?|events?)\b[^.;]{0,25}?\b(\d|one|two|three|four|five|six|seven|eight) times\b|\b(?:knocks?|beeps?|bursts?|onsets?|events?|transients?)\b[^.;]{0,25}?:\s*(\d|one|two|three|four|five|six|seven|eight) of them\b",
                None,
            ),
            (
                r"\b(?:exactly|precisely|in total|altogether)\s+(\d|one|two|three|four|five|six|seven|eight)\b|\b(\d|one|two|three|four|five|six|seven|eight)\s+(?:in total|altogether|in all)\b",
                None,
            ),
            (r"([一二两三四五六七八\d])\s*[声下次]", None),
        ),
        triggers=(
            "total",
            "number",
            "count",
            "tally",
            "makes",
            "in all",
            "knock",
            "beep",
            "event",
            "hit",
            "tap",
            "burst",
            "onset",
            "transient",
            "click",
            "exactly",
            "precisely",
            "total",
            "altogether",
            "声",
            "下",
            "次",
        ),
        tolerance=0.0,
        integer=True,
    ),
)

EVENT_COUNT = register(
    Family(
        name="EventCount",
        category="sound",
        config=EventCountConfig,
        generate=event_count,
        description="Count 1-8 knocks or beeps over a hum and noise.",
        answer_keys=("event_count",),
        read_facts=lambda m: {"event_count": m.event_count},
        answer_from=lambda f: str(f.get("event_count")),
        grounded=count_grounded,
        cues=EVENT_CUES,
        topic="how many there are",
        claims=CLAIMS,
        ordered_choices=True,
    )
)
