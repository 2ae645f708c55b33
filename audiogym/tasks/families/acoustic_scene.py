"""AcousticScene: where a recording was made, from its background; a voice in front may mislead."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from audiogym.tasks import synth
from audiogym.tasks.core import AudioTask
from audiogym.tasks.family import (
    ClaimSpec,
    Family,
    FamilyConfig,
    check_range,
    clip_task,
    pick_difficulty,
    transcript_for,
)
from audiogym.tasks.registry import register
from audiogym.tasks.scenes import SCENE_MAKERS
from audiogym.tasks.voice import utterance, voice

SCENES = ("street", "rain", "reverberant hall", "quiet room", "park")
SCENE_CUES = {
    "street": ["I'm out here on Main Street, traffic all around", "standing at the bus stop downtown"],
    "rain": ["grab your umbrella, it's pouring out", "what a wet and stormy day"],
    "reverberant hall": ["welcome to this grand cathedral", "thank you all for coming to the concert hall"],
    "quiet room": ["I'm sitting alone in my quiet study", "here in the silent library"],
    "park": ["out here in the park by the trees", "a lovely walk through the garden"],
}


@dataclass
class SceneConfig(FamilyConfig):
    foreground_speech: float = 0.5  # probability of a speech-like voice in the foreground

    def validate(self) -> SceneConfig:
        super().validate()
        check_range("foreground_speech", self.foreground_speech, 0.0, 1.0)
        return self


def speech_foreground(rng: np.random.Generator, n: int) -> np.ndarray:
    f0, syl = utterance(rng, n, rate=4.0, f0_base=float(rng.uniform(170, 230)), range_st=3.0)
    return synth.at_level(voice(f0, syl, rng), -26)


def acoustic_scene(rng: np.random.Generator, cfg: SceneConfig) -> AudioTask:
    difficulty = pick_difficulty(rng, cfg)
    scene = str(rng.choice(SCENES))
    n = synth.n_samples(cfg.duration)
    out = SCENE_MAKERS[scene](rng, n)
    speech = bool(rng.random() < cfg.foreground_speech)
    if speech:
        fg = speech_foreground(rng, n)
        out = out + (synth.reverb(fg, 2.0, rng, wet=0.5) if scene == "reverberant hall" else fg)
    transcript, conflict, cue = transcript_for(rng, SCENE_CUES, scene, cfg)
    return clip_task(
        rng,
        out,
        question="Where was this recorded?",
        options=list(SCENES),
        answer=scene,
        category="sound",
        skill="scene",
        difficulty=difficulty,
        transcript=transcript,
        transcript_label="Transcript" if speech else "Caption",
        facts={"scene": scene, "foreground_speech": speech},
        conflict=conflict,
        cue=cue,
    )


SCENE_EVIDENCE = {
    "street": "a constant low-frequency rumble of traffic, cars swelling past and the honk of a horn",
    "rain": "dense broadband hiss with many tiny high-frequency clicks, like drops",
    "reverberant hall": "footsteps followed by long reverberation tails that take seconds to die away",
    "quiet room": "a very low noise floor and a dry, short decay after the only sound",
    "park": "short high-pitched rising chirps like birdsong over a soft breeze",
}


def scene_grounded(task: AudioTask, facts: dict) -> str:
    s = facts["scene"]
    fg = " Over it a voice is talking, but the background tells the place." if facts.get("foreground_speech") else ""
    return f"In the background I hear {SCENE_EVIDENCE[s]}.{fg} That acoustic environment is a {s}."


# What a chain of thought can claim about these facts, and how grounding checks it.
CLAIMS = (
    ClaimSpec(
        "reverberant",
        patterns=(
            (
                "\\becho\\w* (?:on )?for (?:a long time|ages|seconds|a while|a long while)\\b|\\blong[- ]lasting echo\\w*",
                True,
            ),
            (
                r"\b(?:big|large|huge|vast|cavernous|enormous) (?:space|room|hall|church|cathedral|chamber)\b|\bring(?:s|ing)? on\b",
                True,
            ),
            (
                r"\b(?:long|strong|lots of|heavy|big) (?:reverb\w*|echo\w*)|\b(?:reverberation|echo|reverb) tails?\b|\breverberant\b|\bechoing\b|\brings? on\b|\bcavernous\b|混响很?[强长大]|很长的混响|长长的回声",
                True,
            ),
            (
                r"\bdry\b|\bno reverb\w*|\blittle reverb\w*|\bshort decay\b|\bdead (?:room|acoustics?)\b|没有混响|很干|声音很干",
                False,
            ),
        ),
        triggers=(
            "echo",
            "big",
            "large",
            "huge",
            "vast",
            "enormous",
            "reverb",
            "echo",
            "dry",
            "decay",
            "ring",
            "cavernous",
            "dead",
            "混响",
            "回声",
            "干",
        ),
        derive=lambda f: f["scene"] == "reverberant hall" if "scene" in f else None,
    ),
    ClaimSpec(
        "scene",
        patterns=(
            (
                "\\bvehicles?\\b|\\bdriving (?:past|by)\\b|\\btrucks?\\b|\\bbus(?:es)?\\b|\\bmotorbikes?\\b|\\bmotorcycles?\\b",
                "street",
            ),
            (
                "\\bnear[- ](?:total |complete )?silence\\b|\\bsilence indoors\\b|\\blow (?:background )?hum and (?:not much|nothing much|little|nothing) else\\b",
                "quiet room",
            ),
            (
                "\\bspatter\\w*|\\bdrops? (?:spattering|splashing|pattering|tapping|drumming|falling)\\b|\\bdownpour\\b|\\bshowers?\\b(?! of)",
                "rain",
            ),
            (
                "\\b(?:very|really|quite|totally|completely) (?:quiet|still|silent) (?:space|room|place|setting|interior)\\b",
                "quiet room",
            ),
            ("\\b(?:barely|hardly) any (?:noise|sound)\\b|\\bhushed\\b", "quiet room"),
            (
                "\\bwater (?:drumming|dripping|falling|pattering|splashing|running down)\\b|\\bdrumming on (?:a|the) (?:roof|window|pavement)\\b",
                "rain",
            ),
            (
                r"\btraffic\b|\brumble\b|\bhorns? (?:honk|blar)\w*|\b(?:car )?horns?\b|\bhonk\w*|\b(?:passing )?cars?\b|\bengine noise\b|\bsirens?\b|交通|汽车|喇叭|车流",
                "street",
            ),
            (
                r"\brain(?:drops?|fall)?\b|\b(?:rain|water) ?drops\b|\bdrops (?:of rain|falling|hitting|on)\b|\bdroplets?\b|\bdownpour\b|\bpouring\b|\bpatter\w*|\bdrizzl\w*|雨声|下雨|雨滴",
                "rain",
            ),
            (r"\bbird\w*|\bchirp\w*|\bbirdsong\b|\btweet\w*|鸟叫|鸟鸣|鸟", "park"),
            (
                r"\bvery low noise floor\b|\bnear(?:ly)? silen\w*|\balmost (?:nothing|silent|silence)\b|\bquiet room\b|底噪很低|几乎安静|安静的房间",
                "quiet room",
            ),
            (r"\bhiss\w*\b[^.;]{0,50}?\b(?:clicks?|ticks?|drops?|droplets?|patter\w*)\b", "rain"),
        ),
        triggers=(
            "vehicle",
            "driving",
            "truck",
            "bus",
            "motor",
            "near",
            "silence",
            "hum",
            "spatter",
            "shower",
            "quiet",
            "still",
            "silent",
            "barely",
            "hardly",
            "hushed",
            "water",
            "drumming",
            "traffic",
            "rumble",
            "horn",
            "honk",
            "car",
            "engine",
            "siren",
            "rain",
            "drop",
            "downpour",
            "pouring",
            "patter",
            "drizzl",
            "bird",
            "chirp",
            "tweet",
            "noise floor",
            "silen",
            "almost nothing",
            "quiet room",
            "交通",
            "汽车",
            "喇叭",
            "车",
            "雨",
            "鸟",
            "底噪",
            "安静",
        ),
        value_words={
            "traffic": "street",
            "rain": "rain",
            "birdsong": "park",
            "birds": "park",
            "quiet room": "quiet room",
        },
    ),
)


def classify_scene(m: Any) -> str:
    """The scene of a measurement (`audiogym.analysis.Measurement`): traffic rumble below 120 Hz,
    rain hiss above 5 kHz, birdsong chirps, a long reverberation, else a quiet room."""
    if m.low_ratio > 0.2:
        return "street"
    if m.high_ratio > 0.15:
        return "rain"
    if m.chirp_ratio > 0.02:
        return "park"
    if m.reverb_rt60 is not None and m.reverb_rt60 > 0.6:
        return "reverberant hall"
    return "quiet room"


# Words that cite this family's kind of evidence (evidence category -> terms, regexes matched
# against lowercased text; Chinese terms as plain text). The grounding reward reads every family's.
EVIDENCE: dict[str, tuple[str, ...]] = {
    "space_reverb": (
        r"reverb\w*",
        r"echo\w*",
        r"acoustics?",
        r"dry",
        r"spacious",
        r"open-air",
        "混响",
        "回声",
        "空间感",
    ),
    "background_events": (
        r"background",
        r"noise",
        r"traffic",
        r"rumble",
        r"horns?",
        r"rain\w*",
        r"birds?\w*",
        r"chirps?",
        r"knocks?",
        r"beeps?",
        r"hum",
        r"footsteps?",
        r"ambien\w*",
        r"onsets?",
        "背景",
        "噪声",
        "噪音",
        "雨声",
        "鸟",
        "敲击",
    ),
}


ACOUSTIC_SCENE = register(
    Family(
        name="AcousticScene",
        category="sound",
        config=SceneConfig,
        generate=acoustic_scene,
        description="Where a recording was made (street, rain, hall, quiet room, park); the speech may mislead.",
        answer_keys=("scene",),
        read_facts=lambda m: {
            "scene": classify_scene(m),
            "foreground_speech": m.voiced_fraction > 0.15,
            "reverberant": None if m.reverb_rt60 is None else m.reverb_rt60 > 0.6,
        },
        answer_from=lambda f: f.get("scene") or "",
        grounded=scene_grounded,
        cues=SCENE_CUES,
        topic="that place",
        claims=CLAIMS,
        evidence=EVIDENCE,
    )
)
