"""LoudnessTrend: whether a source approaches, recedes or stays, from its level over time."""

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

TRENDS = ("approaching", "receding", "steady")
TREND_CUES = {
    "approaching": ["here it comes, getting closer", "the train is arriving now"],
    "receding": ["there it goes, driving away", "the train is leaving the station"],
    "steady": ["it's just idling, parked right there", "the engine sits still outside"],
}


def loudness_trend(rng: np.random.Generator, cfg: FamilyConfig) -> AudioTask:
    difficulty = pick_difficulty(rng, cfg)
    trend = str(rng.choice(TRENDS))
    n = synth.n_samples(cfg.duration)
    f0 = float(rng.uniform(70, 130))
    engine = synth.harmonic_tone(f0, n, 1.0 / np.arange(1, 25), rng) + 0.3 * synth.bandpass(
        synth.noise(n, rng), 200, 3000
    )
    span = float(rng.uniform(18, 26))  # dB change over the clip
    wobble = rng.uniform(1, 3)  # drawn whatever the trend, so the draws after it do not depend on it
    if trend == "approaching":
        ramp = np.linspace(-span / 2, span / 2, n)
    elif trend == "receding":
        ramp = np.linspace(span / 2, -span / 2, n)
    else:
        ramp = np.sin(2 * np.pi * np.arange(n) / n * wobble)
    out = synth.at_level(engine, -26) * np.exp(ramp * (np.log(10) / 20))  # 10 ** (ramp / 20), as one exp
    out = synth.add_noise(out, SNR_DB[difficulty], rng)
    transcript, conflict, cue = transcript_for(rng, TREND_CUES, trend, cfg)
    slope = {"approaching": span, "receding": -span, "steady": 0.0}[trend] / cfg.duration
    return clip_task(
        rng,
        out,
        question="Is the sound source approaching, receding, or staying put?",
        options=list(TRENDS),
        answer=trend,
        category="sound",
        skill="loudness",
        difficulty=difficulty,
        transcript=transcript,
        transcript_label="Transcript",
        facts={"loudness_trend": trend, "level_slope_db_per_s": round(slope, 2)},
        conflict=conflict,
        cue=cue,
    )


def loudness_class(slope: float | None) -> str | None:
    if slope is None:
        return None
    return "approaching" if slope > 2.0 else "receding" if slope < -2.0 else "steady"


def trend_grounded(task: AudioTask, facts: dict) -> str:
    t = facts["loudness_trend"]
    s = facts.get("level_slope_db_per_s") or 0.0
    how = {
        "approaching": f"getting louder, about {abs(s):.0f} dB per second",
        "receding": f"getting quieter, about {abs(s):.0f} dB per second",
        "steady": "holding one level: its level stays the same from start to end",
    }[t]
    return f"The engine hum is {how}, so the source is {t}."


# What a chain of thought can claim about these facts, and how grounding checks it.
CLAIMS = (
    ClaimSpec(
        "loudness_trend",
        patterns=(
            (
                "\\bno (?:change|variation|difference|shift)\\b[^.;]{0,20}?\\b(?:loudness|volume|level)\\b|\\b(?:loudness|volume|level)\\b[^.;]{0,20}?\\bno (?:change|variation|shift)\\b",
                "steady",
            ),
            (
                "\\bstays? at (?:one|a single|the same|a constant|an even|a fixed) (?:level|volume|loudness|strength)\\b|\\bnothing (?:coming|approaching) or (?:going|receding|leaving)\\b|\\b(?:level|volume|loudness)\\b[^.;,]{0,20}?\\b(?:is |stays |remains )?(?:constant|unchanging|unchanged|stable|fixed|flat)\\b",
                "steady",
            ),
            (
                "\\bstarts? (?:out )?(?:faint|soft|quiet|quietly|softly|weak|distant|far)\\b[^.;]{0,25}?\\b(?:ends?|finish\\w*) (?:up )?(?:loud|strong|close|near|loudly)\\b",
                "approaching",
            ),
            (
                "\\bstarts? (?:out )?(?:loud|strong|close|near|loudly)\\b[^.;]{0,25}?\\b(?:ends?|finish\\w*) (?:up )?(?:faint|soft|quiet|quietly|softly|weak|distant|far)\\b",
                "receding",
            ),
            (
                "\\b(?:loudness|volume|level|sound|noise)\\b[^.;]{0,20}?\\b(?:doesn't|does not|never|didn't|did not) (?:change|vary|shift|move)\\b",
                "steady",
            ),
            (
                "\\b(?:stays?|staying|remains?|remaining|holds?|holding|keeps?|keeping) (?:steady|constant|even|level|the same|unchanged)\\b",
                "steady",
            ),
            (
                r"\b(?:swells?|swelling|builds? up|building up|grows? (?:stronger|bigger|nearer|closer)|growing (?:stronger|bigger|nearer|closer)|comes? (?:nearer|closer)|coming (?:nearer|closer)|gets? (?:nearer|closer|stronger|bigger)|getting (?:nearer|closer|stronger|bigger)|draws? (?:nearer|closer)|drawing (?:nearer|closer)|ramps? up|ramping up)\b",
                "approaching",
            ),
            (
                r"\b(?:shrinks? away|shrinking away|shrinks|dies? (?:down|away|off)|dying (?:down|away|off)|grows? (?:weaker|fainter|smaller|further|farther)|growing (?:weaker|fainter|smaller)|gets? (?:weaker|fainter|further|farther)|getting (?:weaker|fainter|further|farther)|moves? (?:off|away)|moving (?:off|away)|drifts? (?:off|away)|drifting (?:off|away)|tails? off|trails? off|recedes|ebbs? away)\b",
                "receding",
            ),
            (
                r"\b(?:keeps?|holds?|stays? at|remains? at|keeping|holding) the same (?:strength|volume|level|loudness|intensity)\b|\b(?:volume|loudness|level|strength|intensity)\b[^.;]{0,20}?\bnever (?:changes|moves|varies|shifts|rises or falls)\b|\bnothing gets (?:nearer|closer|louder) or (?:further|farther|quieter|softer)\b|\b(?:same|constant|unchanging|even) (?:strength|intensity)\b",
                "steady",
            ),
            (
                r"getting louder|gets louder|grows? louder|louder and louder|increasing (?:in )?(?:loudness|volume|level)|\bcrescendo|\b(?:level|volume|loudness|intensity|energy)\b[^.;]{0,20}?\b(?:keeps? |steadily )?(?:rising|rises|increasing|increases|growing|grows|climbing|climbs|swelling|swells)\b|越来越响|渐强|越来越大声",
                "approaching",
            ),
            (
                r"getting (?:quieter|softer)|gets (?:quieter|softer)|fad(?:es|ing) (?:away|out)|quieter and quieter|decreasing (?:in )?(?:loudness|volume|level)|\b(?:level|volume|loudness|intensity|energy)\b[^.;]{0,20}?\b(?:keeps? |steadily )?(?:dropping|drops|falling|falls|decreasing|decreases|shrinking|sinking|dying)\b|越来越小|渐弱|逐渐远去",
                "receding",
            ),
            (
                r"(?:steady|constant|unchanging|flat|even|stable) (?:loudness|volume|level)|\b(?:level|volume|loudness|intensity|energy)\b[^.;]{0,25}?\b(?:stays?|remains?|holds?)\b[^.;]{0,20}?\b(?:the same|constant|steady|flat|unchanged)\b|音量稳定|音量不变|前后差不多",
                "steady",
            ),
        ),
        anchors=("loud", "louder", "loudness", "volume", "level", "intensity", "sound", "noise", "engine", "car"),
        lexicon={
            "approaching": (
                "closer",
                "nearer",
                "towards?",
                "approach(?:es|ing)?",
                "grows",
                "growing",
                "builds",
                "building",
                "swells",
                "swelling",
                "increases",
                "increasing",
            ),
            "receding": (
                "away",
                "further",
                "farther",
                "fades",
                "fading",
                "diminish(?:es|ing)",
                "decreases",
                "decreasing",
                "dwindl(?:es|ing)",
                "recedes",
                "receding",
                "weaker",
                "fainter",
            ),
        },
        triggers=(
            "no change",
            "no variation",
            "no difference",
            "no shift",
            "stays at",
            "coming or",
            "constant",
            "unchang",
            "stable",
            "fixed",
            "flat",
            "starts",
            "doesn't",
            "does not",
            "didn't",
            "did not",
            "stay",
            "remain",
            "hold",
            "keep",
            "swell",
            "build",
            "grow",
            "near",
            "closer",
            "stronger",
            "bigger",
            "ramp",
            "shrink",
            "die",
            "dying",
            "weaker",
            "fainter",
            "away",
            "off",
            "recede",
            "same",
            "never",
            "nothing",
            "strength",
            "louder",
            "quieter",
            "softer",
            "fad",
            "loudness",
            "volume",
            "level",
            "intensity",
            "energy",
            "crescendo",
            "越来越",
            "渐",
            "音量",
            "远去",
            "差不多",
        ),
        value_words={"louder": "approaching", "quieter": "receding", "softer": "receding"},
    ),
)

# Words that cite this family's kind of evidence (evidence category -> terms, regexes matched
# against lowercased text; Chinese terms as plain text). The grounding reward reads every family's.
EVIDENCE: dict[str, tuple[str, ...]] = {
    "loudness_dynamics": (
        r"loud\w*",
        r"quiet\w*",
        r"soft\w*",
        r"volume",
        r"dynamics?",
        r"crescendo",
        r"decrescendo",
        r"fad(?:e|es|ing)",
        r"db",
        r"intensity",
        "响度",
        "音量",
        "渐强",
        "渐弱",
        "分贝",
    ),
}


LOUDNESS_TREND = register(
    Family(
        name="LoudnessTrend",
        category="sound",
        config=FamilyConfig,
        generate=loudness_trend,
        description="Whether a sound source approaches, recedes or stays (loudness over time).",
        answer_keys=("loudness_trend",),
        read_facts=lambda m: {
            "loudness_trend": loudness_class(m.level_slope_db_per_s),
            "level_slope_db_per_s": m.level_slope_db_per_s,
        },
        answer_from=lambda f: f.get("loudness_trend") or "",
        grounded=trend_grounded,
        cues=TREND_CUES,
        topic="movement",
        claims=CLAIMS,
        evidence=EVIDENCE,
    )
)
