"""Meter: waltz (accents every third beat) or march (every fourth)."""

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

METERS = {3: "waltz (groups of three)", 4: "march (groups of four)"}
METER_CUES = {
    METERS[3]: ["let's waltz around the ballroom", "a gentle waltz for you and me"],
    METERS[4]: ["left, right, soldiers on parade", "march along with the band"],
}


def meter(rng: np.random.Generator, cfg: FamilyConfig) -> AudioTask:
    difficulty = pick_difficulty(rng, cfg)
    beats = int(rng.choice([3, 4]))
    bpm = round(float(rng.uniform(132, 168)), 1)
    n = synth.n_samples(cfg.duration)
    out = synth.add_noise(
        synth.at_level(synth.beat_track(rng, n, bpm, accents_every=beats), -16), SNR_DB[difficulty], rng
    )
    answer = METERS[beats]
    transcript, conflict, cue = transcript_for(rng, METER_CUES, answer, cfg)
    return clip_task(
        rng,
        out,
        question="Is this rhythm a waltz or a march?",
        options=list(METERS.values()),
        answer=answer,
        category="music",
        skill="meter",
        difficulty=difficulty,
        transcript=transcript,
        transcript_label="Lyrics",
        facts={"beats_per_bar": beats, "tempo_bpm": bpm},
        conflict=conflict,
        cue=cue,
    )


def meter_grounded(task: AudioTask, facts: dict) -> str:
    b = facts["beats_per_bar"]
    return (
        f"A loud low drum hit falls on every {'third' if b == 3 else 'fourth'} beat with softer "
        f"clicks between, so the accents group the beats in {b}s: {b}/4 time, a {METERS[b]}."
    )


# What a chain of thought can claim about these facts, and how grounding checks it.
CLAIMS = (
    ClaimSpec(
        "beats_per_bar",
        patterns=(
            (
                "\\bcounted in (three|four|3|4)s?\\b|\\bin (?:a )?(three|four)[- ]count\\b|\\bcount(?:s|ing)? (?:it )?in (three|four)s?\\b",
                None,
            ),
            ("\\b(?:one|1)[-, ]+(?:two|2)[-, ]+(?:three|3)[-, ]+(?:one|1)\\b", 3),
            ("\\b(?:one|1)[-, ]+(?:two|2)[-, ]+(?:three|3)[-, ]+(?:four|4)\\b", 4),
            (
                r"\b(?:strong|heavy|loud|accented|big|hard|stressed)\b[^.;]{0,40}?\b(?:then|followed by|and|plus|before)\b[^.;]{0,12}?\b(?:two|2)\b[^.;]{0,14}?\b(?:light|lighter|weak|weaker|soft|softer|quiet|quieter|small|smaller|unaccented|unstressed)",
                3,
            ),
            (
                r"\b(?:strong|heavy|loud|accented|big|hard|stressed)\b[^.;]{0,40}?\b(?:then|followed by|and|plus|before)\b[^.;]{0,12}?\b(?:three|3)\b[^.;]{0,14}?\b(?:light|lighter|weak|weaker|soft|softer|quiet|quieter|small|smaller|unaccented|unstressed)",
                4,
            ),
            (r"\bone,? two,? three,? one\b|\boom[- ]pah[- ]pah\b(?![- ]pah)", 3),
            (r"\bone,? two,? three,? four\b|\boom[- ]pah[- ]pah[- ]pah\b", 4),
            (
                r"\bin (three|four|3|4)s\b|\bgroups? of (three|four|3|4)\b|\b([34])/4\b|\bevery (third|fourth) beat",
                None,
            ),
            (
                r"\bevery (three|four|3|4) beats\b|\bbars? of (three|four|3|4)\b|\b(three|four|3|4)[- ]beat (?:bars?|cycles?|groups?|patterns?|measures?|groupings?)\b",
                None,
            ),
            (
                r"\b(three|four|3|4) beats (?:per|a|in each|in every|to the|to a|in a) (?:bar|measure)\b|\b(?:bar|measure) (?:has|holds|contains|of) (three|four|3|4) beats\b|\bone (?:beat )?in (three|four)\b|\bcount of (three|four|3|4)\b",
                None,
            ),
            (r"([34三四])拍子|每小节([三四34])拍|每隔([三四34])拍", None),
            (r"每小节有?\s*([三四34])\s*拍|([三四34])拍一小节", None),
        ),
        triggers=(
            "counted",
            "count",
            "1-2",
            "1, 2",
            "1 2",
            "strong",
            "heavy",
            "loud",
            "accent",
            "stress",
            "one, two",
            "one two",
            "oom",
            "in three",
            "in four",
            "in 3",
            "in 4",
            "group",
            "/4",
            "every third",
            "every fourth",
            "beat",
            "bar",
            "measure",
            "one in",
            "count of",
            "拍",
        ),
        integer=True,
    ),
)

METER = register(
    Family(
        name="Meter",
        category="music",
        config=FamilyConfig,
        generate=meter,
        description="Meter from accent pattern: waltz (3) or march (4).",
        answer_keys=("beats_per_bar",),
        read_facts=lambda m: {"beats_per_bar": m.accent_period, "tempo_bpm": m.tempo_bpm},
        answer_from=lambda f: METERS.get(f.get("beats_per_bar") or 0, ""),
        grounded=meter_grounded,
        cues=METER_CUES,
        topic="that dance",
        claims=CLAIMS,
    )
)
