"""Timbre: which kind of instrument sound plays, from the harmonic spectrum and the envelope."""

from __future__ import annotations

from typing import Any

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

TIMBRES = ("flute-like", "clarinet-like", "string-like", "plucked", "brassy")
TIMBRE_CUES = {
    "flute-like": ["and now, the flute solo", "our flautist takes the stage"],
    "clarinet-like": ["the clarinet carries the tune", "listen to our clarinetist"],
    "string-like": ["the violin section plays next", "here come the strings"],
    "plucked": ["now the guitar picks the melody", "listen to the harp"],
    "brassy": ["here comes the trumpet", "the horn section plays"],
}


def timbre_spectrum(kind: str) -> np.ndarray:
    k = np.arange(1, 31, dtype=np.float64)
    if kind == "flute-like":
        return np.where(k == 1, 1.0, np.where(k == 2, 0.06, 0.0))
    if kind == "clarinet-like":
        return np.where(k % 2 == 1, 1.0 / k, 0.01 / k)
    if kind == "string-like":
        return 1.0 / k
    if kind == "plucked":
        return 1.0 / k**1.3
    return k**1.5 * np.exp(-k / 2.5)  # brassy: strongest partials above the fundamental


def timbre(rng: np.random.Generator, cfg: FamilyConfig) -> AudioTask:
    difficulty = pick_difficulty(rng, cfg)
    kind = str(rng.choice(TIMBRES))
    n = synth.n_samples(cfg.duration)
    notes = [int(rng.integers(55, 70)) for _ in range(3)]
    note_n = n // 3
    out = np.zeros(n)
    spectrum = timbre_spectrum(kind)
    vib = 0.15 if kind in ("string-like", "flute-like") else 0.0
    if kind == "plucked":
        env = synth.envelope(note_n, 0.003, 0.03, decay_tau=0.15)
    elif kind == "flute-like":
        env = synth.envelope(note_n, 0.08, 0.08)
    else:
        env = synth.envelope(note_n, 0.04, 0.06)
    for i, m in enumerate(notes):
        tone = synth.harmonic_tone(synth.midi_to_hz(m), note_n, spectrum, rng, vibrato_hz=5.5, vibrato_semitones=vib)
        if kind == "flute-like":
            tone += 0.03 * synth.bandpass(rng.standard_normal(note_n), 1000, 5000)
        synth.place(out, tone * env, i * note_n)
    out = synth.add_noise(synth.at_level(out, -18), SNR_DB[difficulty], rng)
    transcript, conflict, cue = transcript_for(rng, TIMBRE_CUES, kind, cfg)
    return clip_task(
        rng,
        out,
        question="Which kind of instrument sound plays these notes?",
        options=list(TIMBRES),
        answer=kind,
        category="music",
        skill="timbre",
        difficulty=difficulty,
        transcript=transcript,
        transcript_label="Announcer",
        facts={"timbre": kind},
        conflict=conflict,
        cue=cue,
    )


TIMBRE_EVIDENCE = {
    "flute-like": "an almost pure tone: the fundamental with hardly any overtones, and a soft breathy attack",
    "clarinet-like": "strong odd harmonics (3rd, 5th, 7th) with weak even ones: a hollow, woody spectrum",
    "string-like": "a full series of harmonics falling off gradually: a bright, sawtooth-like spectrum with vibrato",
    "plucked": "a sharp attack and each note decaying quickly to silence",
    "brassy": "overtones stronger than the fundamental, peaking around the 3rd-4th harmonic: a bright, brassy spectrum",
}


def timbre_grounded(task: AudioTask, facts: dict) -> str:
    t = facts["timbre"]
    return f"Each note has {TIMBRE_EVIDENCE[t]}. That spectrum and envelope sound {t}, so the timbre is {t}."


# What a chain of thought can claim about these facts, and how grounding checks it.
CLAIMS = (
    ClaimSpec(
        "timbre",
        patterns=(
            (
                "\\b(?:overtones|harmonics|partials)\\b[^.;]{0,15}?\\b(?:outweigh|dominate|overpower|swamp|exceed|outshine)\\b[^.;]{0,10}?\\bfundamental\\b",
                "brassy",
            ),
            ("\\bquick to (?:die|fade|decay)\\b", "plucked"),
            ("\\bplucks?\\b|\\bplucking\\b|\\bpicking\\b|\\bpicks?\\b(?= (?:a |the )?strings?)", "plucked"),
            ("\\bbrass\\w*\\b(?<!brassy)", "brassy"),
            (
                "\\b(?:barely any|scarcely any|little|few|no real) (?:upper )?(?:overtones|partials|harmonics)\\b",
                "flute-like",
            ),
            (
                "\\bdies? (?:off |out |away )?(?:quickly|fast|at once|right away|immediately)\\b|\\b(?:guitar|harp|banjo|mandolin|lute|harpsichord)\\b",
                "plucked",
            ),
            ("\\bstruck\\b[^.;]{0,30}?\\bfades?\\b|\\bfades? (?:right|straight) away\\b", "plucked"),
            (
                r"\b(?:picked|plucked|pizzicato|strummed|twanged|twangy)\b|\bdecay\w* (?:fast|rapidly|quickly|at once)\b|\b(?:rings?|ringing) (?:and|then) (?:decays?|dies?|fades?)\b",
                "plucked",
            ),
            (r"\bbuzzy\b|\b(?:horn|trumpet|trombone|tuba|bugle|cornet)\b", "brassy"),
            (
                r"\b(?:airy|breathy|whistl\w*)\b|\b(?:close to|like|near) a sine(?: wave)?\b|\bsine wave\b",
                "flute-like",
            ),
            (r"\bwoody\b|\breed\b", "clarinet-like"),
            (r"\b(?:every|all the|each) harmonics? (?:is |are )?present\b", "string-like"),
            (
                r"\bodd(?:-numbered)? harmonics\b|\beven (?:harmonics|partials|overtones)\b[^.;]{0,25}?\b(?:missing|absent|weak|suppressed)|\breedy\b|\bhollow\b|奇次谐波|偶次谐波很弱",
                "clarinet-like",
            ),
            (
                r"\b(?:almost |nearly )?(?:a )?pure (?:tone|sine)\b|\bsine-like\b|\b(?:no|hardly any|almost no|very few) (?:upper )?(?:overtones|partials|harmonics)\b|纯音|没有什么泛音|几乎没有泛音",
                "flute-like",
            ),
            (
                r"\bdecay\w* quickly\b|\b(?:quick|fast|rapid) decay\b|\bdies? away quickly\b|\bdies? out quickly\b|\bplucked\b|拨弦|很快就衰减|迅速衰减",
                "plucked",
            ),
            (
                r"\bbrassy\b|\b(?:upper |higher )?(?:overtones|partials|harmonics) (?:are )?(?:louder|stronger) than the fundamental\b|\bblaring\b|铜管|泛音比基音还?强",
                "brassy",
            ),
            (
                r"\bsawtooth\b|\bsaw-like\b|\bfull series of harmonics\b|\b(?:rich|full) (?:series|set) of harmonics\b|\bharmonics (?:that )?fall off gradually\b|\bbowed\b|锯齿波",
                "string-like",
            ),
        ),
        triggers=(
            "outweigh",
            "dominate",
            "overpower",
            "swamp",
            "exceed",
            "outshine",
            "quick to",
            "pluck",
            "pick",
            "brass",
            "barely",
            "scarcely",
            "little",
            "few",
            "dies",
            "guitar",
            "harp",
            "banjo",
            "mandolin",
            "lute",
            "struck",
            "fade",
            "picked",
            "pizzicato",
            "strum",
            "twang",
            "decay",
            "ring",
            "buzzy",
            "horn",
            "trumpet",
            "trombone",
            "tuba",
            "bugle",
            "cornet",
            "airy",
            "breathy",
            "whistl",
            "sine",
            "present",
            "woody",
            "reed",
            "odd",
            "even",
            "pure",
            "sine",
            "overtone",
            "partial",
            "decay",
            "dies",
            "plucked",
            "brassy",
            "fundamental",
            "sawtooth",
            "saw-like",
            "harmonics",
            "bowed",
            "reedy",
            "hollow",
            "blaring",
            "奇次",
            "偶次",
            "纯音",
            "泛音",
            "拨弦",
            "衰减",
            "铜管",
            "锯齿",
        ),
        value_words={
            "plucked": "plucked",
            "brassy": "brassy",
            "bowed": "string-like",
            "sawtooth": "string-like",
            "pure tone": "flute-like",
            "pure-tone": "flute-like",
            "odd harmonics": "clarinet-like",
        },
    ),
)


def classify_timbre(m: Any) -> str | None:
    """The timbre class of a measurement (`audiogym.analysis.Measurement`): plucked by its decay,
    brassy when a harmonic outweighs the fundamental, flute-like when the low harmonics are weak,
    clarinet-like when the even harmonics are, else string-like."""
    p = m.harmonic_profile
    if len(p) < 8:
        return None
    if m.sustain_db < -12:
        return "plucked"
    if int(np.argmax(p)) >= 1:
        return "brassy"
    if sum(p[1:5]) < 0.3:
        return "flute-like"
    even, odd = np.mean([p[1], p[3], p[5]]), np.mean([p[2], p[4], p[6]])
    if even < 0.35 * odd:
        return "clarinet-like"
    return "string-like"


# Words that cite this family's kind of evidence (evidence category -> terms, regexes matched
# against lowercased text; Chinese terms as plain text). The grounding reward reads every family's.
EVIDENCE: dict[str, tuple[str, ...]] = {
    "timbre_instrument": (
        r"timbre",
        r"overtones?",
        r"harmonics",
        r"spectr\w*",
        r"bright\w*",
        r"breathy",
        r"brassy",
        r"plucked",
        r"sawtooth",
        r"attack",
        r"decay\w*",
        r"envelope",
        r"vibrato",
        "音色",
        "泛音",
        "谐波",
        "频谱",
    ),
}


TIMBRE = register(
    Family(
        name="Timbre",
        category="music",
        config=FamilyConfig,
        generate=timbre,
        description="Instrument-like timbre from spectrum and envelope (flute, clarinet, string, plucked, brass).",
        answer_keys=("timbre",),
        read_facts=lambda m: {"timbre": classify_timbre(m)},
        answer_from=lambda f: f.get("timbre") or "",
        grounded=timbre_grounded,
        cues=TIMBRE_CUES,
        topic="that instrument",
        claims=CLAIMS,
        evidence=EVIDENCE,
    )
)
