"""Environmental-sound families: acoustic scene, event count, loudness trend."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from audiogym.tasks import synth
from audiogym.tasks.core import (SNR_DB, AudioTask, Family, FamilyConfig, check_range, pick_difficulty,
                                 shuffled_choices, transcript_for)

# ---- AcousticScene --------------------------------------------------------------------------

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

    def validate(self) -> "SceneConfig":
        super().validate()
        check_range("foreground_speech", self.foreground_speech, 0.0, 1.0)
        return self


def street(rng: np.random.Generator, n: int) -> np.ndarray:
    rumble = synth.lowpass(synth.noise(n, rng, "brown"), 110)
    out = synth.at_level(rumble, -22)
    t = np.arange(n) / synth.SR
    for _ in range(int(rng.integers(1, 3))):  # passing cars: band noise swelling and fading
        c = rng.uniform(0.5, n / synth.SR - 0.5)
        car = synth.bandpass(synth.noise(n, rng), 150, 1500) * np.exp(-((t - c) / 0.5) ** 2)
        out += synth.at_level(car, -24)
    if rng.random() < 0.7:  # a horn: two harmonic tones
        horn_n = synth.n_samples(0.4)
        horn = sum(synth.harmonic_tone(f, horn_n, np.array([1, .6, .4, .3]), rng) for f in (392.0, 494.0))
        synth.place(out, synth.at_level(horn * synth.envelope(horn_n, .02, .05), -24), int(rng.integers(0, n - horn_n)))
    return out


def rain(rng: np.random.Generator, n: int) -> np.ndarray:
    hiss = synth.highpass(synth.noise(n, rng), 3000)
    drops = np.zeros(n)
    for s in rng.integers(0, n - 200, size=int(n / synth.SR * 40)):
        drops[s:s + 80] += rng.standard_normal(80) * np.exp(-np.arange(80) / 15)
    return synth.at_level(hiss, -24) + synth.at_level(synth.highpass(drops, 2000), -30)


def hall(rng: np.random.Generator, n: int) -> np.ndarray:
    dry = np.zeros(n)
    for s in np.arange(0.1, n / synth.SR - 1.0, rng.uniform(0.8, 1.2)):  # footsteps
        synth.place(dry, synth.knock(rng, 150), synth.n_samples(s))
    wet = synth.reverb(dry, float(rng.uniform(1.8, 2.6)), rng, wet=0.8)
    return synth.at_level(wet, -24) + synth.at_level(synth.noise(n, rng, "pink"), -55)


def quiet_room(rng: np.random.Generator, n: int) -> np.ndarray:
    dry = np.zeros(n)
    synth.place(dry, synth.knock(rng, 300), int(rng.integers(0, n // 2)))
    wet = synth.reverb(dry, 0.2, rng, wet=0.3)
    return synth.at_level(wet, -42) + synth.at_level(synth.noise(n, rng, "pink"), -58)


def park(rng: np.random.Generator, n: int) -> np.ndarray:
    out = synth.at_level(synth.bandpass(synth.noise(n, rng, "pink"), 200, 1200), -40)  # breeze
    for _ in range(int(rng.integers(4, 9))):  # bird chirps: fast upward frequency sweeps
        cn = synth.n_samples(rng.uniform(0.06, 0.14))
        f = np.linspace(rng.uniform(2600, 3200), rng.uniform(3800, 4400), cn)
        chirp = synth.harmonic_tone(f, cn, np.array([1.0]), rng) * np.hanning(cn)
        synth.place(out, 0.05 * chirp, int(rng.integers(0, n - cn)))
    return out


SCENE_MAKERS = {"street": street, "rain": rain, "reverberant hall": hall, "quiet room": quiet_room, "park": park}


def speech_foreground(rng: np.random.Generator, n: int) -> np.ndarray:
    from audiogym.tasks.speech import utterance
    f0, syl = utterance(rng, n, rate=4.0, f0_base=float(rng.uniform(170, 230)), range_st=3.0)
    return synth.at_level(synth.voice(f0, syl, rng), -26)


def acoustic_scene(rng: np.random.Generator, cfg: SceneConfig) -> AudioTask:
    difficulty = pick_difficulty(rng, cfg)
    scene = str(rng.choice(SCENES))
    n = synth.n_samples(cfg.duration)
    out = SCENE_MAKERS[scene](rng, n)
    speech = bool(rng.random() < cfg.foreground_speech)
    if speech:
        fg = speech_foreground(rng, n)
        out = out + (synth.reverb(fg, 2.0, rng, wet=0.5) if scene == "reverberant hall" else fg)
    transcript, conflict = transcript_for(rng, SCENE_CUES, scene, cfg)
    return AudioTask(
        id="", audio=synth.finish(out), question="Where was this recorded?",
        choices=shuffled_choices(rng, list(SCENES), scene), answer=scene, category="sound",
        skill="scene", difficulty=difficulty, transcript=transcript,
        transcript_label="Transcript" if speech else "Caption",
        facts={"scene": scene, "foreground_speech": speech}, conflict=conflict)


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


ACOUSTIC_SCENE = Family(
    name="AcousticScene", category="sound", config=SceneConfig, generate=acoustic_scene,
    description="Where a recording was made (street, rain, hall, quiet room, park); the speech may mislead.",
    answer_keys=("scene",),
    read_facts=lambda m: {"scene": m.scene, "foreground_speech": m.voiced_fraction > 0.15},
    answer_from=lambda f: f.get("scene") or "",
    grounded=scene_grounded, cues=SCENE_CUES, topic="that place")


# ---- EventCount -----------------------------------------------------------------------------

NUMBER_WORDS = ("one", "two", "three", "four", "five", "six", "seven", "eight")
EVENT_CUES = {str(i + 1): [f"knock {w} times", f"the alarm beeps {w} times"] for i, w in enumerate(NUMBER_WORDS)}
# "knock one times" is wrong English; say it properly for one.
EVENT_CUES["1"] = ["knock once", "the alarm beeps once"]


@dataclass
class EventCountConfig(FamilyConfig):
    max_events: int = 8

    def validate(self) -> "EventCountConfig":
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
    for s in slots:
        ev = synth.knock(rng, float(rng.uniform(150, 250))) if kind == "knocks" else synth.beep(freq, 0.09)
        synth.place(out, ev, synth.n_samples(0.1 + s * slot + rng.uniform(0, slot - 0.2)))
    out = synth.at_level(out, -22)
    hum = synth.harmonic_tone(float(rng.choice([50.0, 60.0])), n, np.array([1, 0.5, 0.3]), rng)
    out = synth.add_noise(out + synth.at_level(hum, -40), SNR_DB[difficulty], rng)
    answer = str(count)
    options = [str(i) for i in range(1, cfg.max_events + 1)]
    transcript, conflict = transcript_for(rng, EVENT_CUES, answer, cfg)
    return AudioTask(
        id="", audio=synth.finish(out), question=f"How many {kind} do you hear?",
        choices=sorted(shuffled_choices(rng, options, answer, k=4), key=int), answer=answer,
        category="sound", skill="counting", difficulty=difficulty, transcript=transcript,
        transcript_label="Transcript", facts={"event_count": count, "event_kind": kind}, conflict=conflict)


def count_grounded(task: AudioTask, facts: dict) -> str:
    c = facts["event_count"]
    return (f"Over a steady low hum I count separate sharp onsets, each a short burst followed by "
            f"silence: {', '.join(str(i + 1) for i in range(c))}. That is {c} events.")


EVENT_COUNT = Family(
    name="EventCount", category="sound", config=EventCountConfig, generate=event_count,
    description="Count 1-8 knocks or beeps over a hum and noise.",
    answer_keys=("event_count",),
    read_facts=lambda m: {"event_count": m.event_count},
    answer_from=lambda f: str(f.get("event_count")),
    grounded=count_grounded, cues=EVENT_CUES, topic="how many there are")


# ---- LoudnessTrend --------------------------------------------------------------------------

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
    engine = synth.harmonic_tone(f0, n, 1.0 / np.arange(1, 25), rng) + 0.3 * synth.bandpass(synth.noise(n, rng), 200, 3000)
    span = float(rng.uniform(18, 26))  # dB change over the clip
    ramp = {"approaching": np.linspace(-span / 2, span / 2, n),
            "receding": np.linspace(span / 2, -span / 2, n),
            "steady": 1.0 * np.sin(2 * np.pi * np.arange(n) / n * rng.uniform(1, 3))}[trend]
    out = synth.at_level(engine, -26) * 10 ** (ramp / 20)
    out = synth.add_noise(out, SNR_DB[difficulty], rng)
    transcript, conflict = transcript_for(rng, TREND_CUES, trend, cfg)
    slope = {"approaching": span, "receding": -span, "steady": 0.0}[trend] / cfg.duration
    return AudioTask(
        id="", audio=synth.finish(out), question="Is the sound source approaching, receding, or staying put?",
        choices=shuffled_choices(rng, list(TRENDS), trend), answer=trend, category="sound",
        skill="loudness", difficulty=difficulty, transcript=transcript, transcript_label="Transcript",
        facts={"loudness_trend": trend, "level_slope_db_per_s": round(slope, 2)}, conflict=conflict)


def loudness_class(slope: float | None) -> str | None:
    if slope is None:
        return None
    return "approaching" if slope > 2.0 else "receding" if slope < -2.0 else "steady"


def trend_grounded(task: AudioTask, facts: dict) -> str:
    t = facts["loudness_trend"]
    s = facts.get("level_slope_db_per_s") or 0.0
    how = {"approaching": f"getting louder, about {abs(s):.0f} dB per second",
           "receding": f"getting quieter, about {abs(s):.0f} dB per second",
           "steady": "staying at a steady loudness"}[t]
    return f"The engine hum is {how}, so the source is {t}."


LOUDNESS_TREND = Family(
    name="LoudnessTrend", category="sound", config=FamilyConfig, generate=loudness_trend,
    description="Whether a sound source approaches, recedes or stays (loudness over time).",
    answer_keys=("loudness_trend",),
    read_facts=lambda m: {"loudness_trend": loudness_class(m.level_slope_db_per_s),
                          "level_slope_db_per_s": m.level_slope_db_per_s},
    answer_from=lambda f: f.get("loudness_trend") or "",
    grounded=trend_grounded, cues=TREND_CUES, topic="movement")

FAMILIES = [ACOUSTIC_SCENE, EVENT_COUNT, LOUDNESS_TREND]
