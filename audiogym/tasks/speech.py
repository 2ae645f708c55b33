"""Speech-like families on a synthetic voice: intonation, emotion, speaking rate, voice pitch.

The voice is a glottal source with an f0 contour through vowel formant filters, shaped into
syllables (synth.voice). It carries prosody but no words: the words exist only in the transcript,
which is exactly the textual surrogate a cascade system would reason from.
"""
from __future__ import annotations


import numpy as np

from audiogym.tasks import synth
from audiogym.tasks.core import (SNR_DB, AudioTask, Family, FamilyConfig, pick_difficulty, shuffled_choices,
                                 transcript_for)


def utterance(rng: np.random.Generator, n: int, rate: float, f0_base: float, range_st: float,
              final: str = "none", tremor_st: float = 0.0, pause_s: float = 0.0,
              lead_s: float = 0.15) -> tuple[np.ndarray, list[tuple[int, int, str]]]:
    """An f0 contour (Hz per sample) and syllables (start, length, vowel) filling `n` samples.

    `rate` is syllables per second while speaking; `range_st` the spread of syllable pitch accents
    in semitones; `final` a 'rise' or 'fall' over the last two syllables; `tremor_st` the depth of
    a 7 Hz tremor; `pause_s` the length of pauses inserted between phrases of 3-4 syllables.
    """
    period = synth.n_samples(1.0 / rate)
    syllables, t, in_phrase = [], synth.n_samples(lead_s), 0
    phrase_len = int(rng.integers(3, 5))
    while t + period < n - synth.n_samples(0.1):
        syllables.append((t, int(period * 0.78), str(rng.choice(list(synth.VOWELS)))))
        t += period
        in_phrase += 1
        if pause_s and in_phrase == phrase_len:
            t += synth.n_samples(pause_s * rng.uniform(0.8, 1.2))
            in_phrase, phrase_len = 0, int(rng.integers(3, 5))
    st = np.zeros(n)  # semitones relative to f0_base
    for start, length, _ in syllables:
        accent = rng.uniform(-range_st / 2, range_st / 2)
        st[start:start + period] = accent + np.linspace(0, -0.5, len(st[start:start + period]))
    if final != "none" and len(syllables) >= 2:
        s0 = syllables[-2][0]
        e = syllables[-1][0] + syllables[-1][1]
        glide = float(rng.uniform(5.0, 8.0)) * (1 if final == "rise" else -1)
        base = np.median(st[syllables[0][0]:s0])
        st[s0:e] = base + np.linspace(0, glide, e - s0)
    if tremor_st:
        st += tremor_st * np.sin(2 * np.pi * 7.0 * np.arange(n) / synth.SR + rng.uniform(0, 6.3))
    return f0_base * 2.0 ** (st / 12.0), syllables


def speech_task(rng: np.random.Generator, cfg: FamilyConfig, audio: np.ndarray, difficulty: str, cues: dict,
                answer: str, options: list[str], question: str, skill: str, facts: dict) -> AudioTask:
    transcript, conflict = transcript_for(rng, cues, answer, cfg)
    audio = synth.add_noise(audio, SNR_DB[difficulty], rng)
    return AudioTask(id="", audio=synth.finish(audio), question=question,
                     choices=shuffled_choices(rng, options, answer), answer=answer, category="speech",
                     skill=skill, difficulty=difficulty, transcript=transcript, transcript_label="Transcript",
                     facts=facts, conflict=conflict)


# ---- Intonation -----------------------------------------------------------------------------

INTONATIONS = ("question", "statement")
INTONATION_CUES = {
    "question": ["are you coming tomorrow", "did you finish the report", "is it raining outside"],
    "statement": ["you are coming tomorrow", "I finished the report", "it is raining outside"],
}


def intonation(rng: np.random.Generator, cfg: FamilyConfig) -> AudioTask:
    difficulty = pick_difficulty(rng, cfg)
    kind = str(rng.choice(INTONATIONS))
    n = synth.n_samples(cfg.duration)
    f0, syl = utterance(rng, n, rate=float(rng.uniform(3.5, 4.5)), f0_base=float(rng.uniform(110, 220)),
                        range_st=2.0, final="rise" if kind == "question" else "fall")
    audio = synth.at_level(synth.voice(f0, syl, rng), -20)
    return speech_task(rng, cfg, audio, difficulty, INTONATION_CUES, kind, list(INTONATIONS),
                       "Does the speaker's intonation make this a question or a statement?", "intonation",
                       {"intonation": kind, "final_pitch": "rising" if kind == "question" else "falling"})


def intonation_grounded(task: AudioTask, facts: dict) -> str:
    k = facts["intonation"]
    move = "rises sharply at the end of the utterance" if k == "question" else "falls at the end of the utterance"
    return f"The voice's pitch {move}; {'rising' if k == 'question' else 'falling'} final intonation marks a {k}."


INTONATION = Family(
    name="Intonation", category="speech", config=FamilyConfig, generate=intonation,
    description="Question (final pitch rise) or statement (final fall), whatever the words' syntax.",
    answer_keys=("intonation",),
    read_facts=lambda m: {"intonation": None if m.final_pitch is None else
                          ("question" if m.final_pitch == "rising" else "statement"),
                          "final_pitch": m.final_pitch},
    answer_from=lambda f: f.get("intonation") or "",
    grounded=intonation_grounded, cues=INTONATION_CUES, topic="whether something is asked")


# ---- SpeakerEmotion -------------------------------------------------------------------------

# Prosody of each emotion: f0 base (Hz), accent range (st), rate (syl/s), level (dBFS),
# spectral tilt (smaller = harsher), tremor depth (st), pause length (s).
EMOTIONS = {
    "calm":       dict(f0=(120, 170), range_st=2.0, rate=3.8, level=-22, tilt=1.3, tremor=0.0, pause=0.0),
    "cheerful":   dict(f0=(190, 250), range_st=9.0, rate=4.6, level=-18, tilt=1.1, tremor=0.0, pause=0.0),
    "angry":      dict(f0=(150, 200), range_st=2.5, rate=5.0, level=-12, tilt=0.7, tremor=0.0, pause=0.0),
    "sad":        dict(f0=(95, 130), range_st=1.0, rate=2.5, level=-30, tilt=1.6, tremor=0.0, pause=0.35),
    "distressed": dict(f0=(95, 140), range_st=1.5, rate=2.5, level=-28, tilt=1.4, tremor=1.2, pause=0.5),
}
EMOTION_CUES = {
    "calm": ["the meeting is at three, see you there", "let's go over the plan one more time"],
    "cheerful": ["I'm fine, everything is great", "this is wonderful news, I love it"],
    "angry": ["I told you a hundred times, stop it", "this is completely unacceptable"],
    "sad": ["I miss her so much, nothing feels the same", "it's over, there's no point anymore"],
    "distressed": ["please, I don't know what to do, help me", "something terrible happened, I can't breathe"],
}


def speaker_emotion(rng: np.random.Generator, cfg: FamilyConfig) -> AudioTask:
    difficulty = pick_difficulty(rng, cfg)
    emo = str(rng.choice(list(EMOTIONS)))
    p = EMOTIONS[emo]
    n = synth.n_samples(cfg.duration)
    f0, syl = utterance(rng, n, rate=p["rate"] * rng.uniform(0.92, 1.08), f0_base=float(rng.uniform(*p["f0"])),
                        range_st=p["range_st"], tremor_st=p["tremor"], pause_s=p["pause"])
    audio = synth.at_level(synth.voice(f0, syl, rng, tilt=p["tilt"]), p["level"] + rng.uniform(-1.5, 1.5))
    facts = {"emotion": emo, "pitch_level": "high" if p["f0"][0] >= 150 else "low",
             "pitch_range": "wide" if p["range_st"] > 5 else "narrow", "tremor": p["tremor"] > 0,
             "rate": "fast" if p["rate"] > 4.2 else "slow" if p["rate"] < 3 else "moderate",
             "loudness": "loud" if p["level"] > -16 else "soft" if p["level"] < -25 else "moderate",
             "pauses": p["pause"] > 0}
    return speech_task(rng, cfg, audio, difficulty, EMOTION_CUES, emo, list(EMOTIONS),
                       "What emotional state does the speaker's voice convey?", "emotion", facts)


def emotion_from(m) -> str | None:
    """Prosodic reading of emotion from measured features (order matters: tremor first)."""
    if m.f0_median_hz is None:
        return None
    if m.tremor_st > 0.35:
        return "distressed"
    if m.f0_range_st > 4.5:
        return "cheerful"
    if m.level_db > -18.0:
        return "angry"
    if m.level_db < -25.5:
        return "sad"
    return "calm"


def emotion_grounded(task: AudioTask, facts: dict) -> str:
    e = facts["emotion"]
    bits = [f"the pitch is {facts.get('pitch_level', 'mid')} with a {facts.get('pitch_range', 'narrow')} range",
            f"the speaking rate is {facts.get('rate', 'moderate')}", f"the voice is {facts.get('loudness', 'moderate')}"]
    if facts.get("tremor"):
        bits.append("the pitch trembles, a fast wavering tremor")
    if facts.get("pauses"):
        bits.append("there are long pauses between phrases")
    return f"Listening to the prosody: {'; '.join(bits)}. That voice sounds {e}."


def emotion_facts(m) -> dict:
    return {"emotion": emotion_from(m),
            "pitch_level": None if m.f0_median_hz is None else ("high" if m.f0_median_hz >= 150 else "low"),
            "pitch_range": "wide" if m.f0_range_st > 4.5 else "narrow", "tremor": m.tremor_st > 0.35,
            "rate": "fast" if m.syllable_rate > 4.2 else "slow" if m.syllable_rate < 3 else "moderate",
            "loudness": "loud" if m.level_db > -16 else "soft" if m.level_db < -25 else "moderate",
            "pauses": m.pause_fraction > 0.3}


SPEAKER_EMOTION = Family(
    name="SpeakerEmotion", category="speech", config=FamilyConfig, generate=speaker_emotion,
    description="Emotion from prosody: f0 level and range, tremor, rate, energy, pauses.",
    answer_keys=("emotion",), read_facts=emotion_facts,
    answer_from=lambda f: f.get("emotion") or "",
    grounded=emotion_grounded, cues=EMOTION_CUES, topic="how the speaker feels")


# ---- SpeakingRate ---------------------------------------------------------------------------

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
    audio = synth.at_level(synth.voice(f0, syl, rng), -20)
    return speech_task(rng, cfg, audio, difficulty, RATE_CUES, cls, list(RATES),
                       "How fast is the speaker talking?", "rate",
                       {"rate_class": cls, "syllables_per_s": rate})


def rate_grounded(task: AudioTask, facts: dict) -> str:
    r = facts.get("syllables_per_s")
    cls = facts["rate_class"]
    per = f"about {r:.1f} syllables per second" if r else "a few syllables"
    return f"Counting the syllable pulses in the voice's loudness I hear {per}; that is a {cls} speaking rate."


SPEAKING_RATE = Family(
    name="SpeakingRate", category="speech", config=FamilyConfig, generate=speaking_rate,
    description="Speaking rate in syllables per second: slow, normal or fast.",
    answer_keys=("rate_class",),
    read_facts=lambda m: {"rate_class": rate_class(m.syllable_rate), "syllables_per_s": m.syllable_rate},
    answer_from=lambda f: f.get("rate_class") or "",
    grounded=rate_grounded, cues=RATE_CUES, topic="hurry")


# ---- VoicePitch -----------------------------------------------------------------------------

PITCHES = {"low": (85.0, 115.0), "medium": (150.0, 185.0), "high": (240.0, 300.0)}
PITCH_CUES = {
    "low": ["this is grandpa speaking, listen to me", "I'm the big old bear of the forest"],
    "medium": ["hello, this is your neighbour", "hi, I'm calling about the appointment"],
    "high": ["hi, I'm the little girl next door", "I'm a tiny mouse, squeak squeak"],
}


def pitch_class(f0: float | None) -> str | None:
    if f0 is None:
        return None
    return "low" if f0 < 132 else "high" if f0 > 212 else "medium"


def voice_pitch(rng: np.random.Generator, cfg: FamilyConfig) -> AudioTask:
    difficulty = pick_difficulty(rng, cfg)
    cls = str(rng.choice(list(PITCHES)))
    f0_base = round(float(rng.uniform(*PITCHES[cls])), 1)
    n = synth.n_samples(cfg.duration)
    f0, syl = utterance(rng, n, rate=float(rng.uniform(3.5, 4.5)), f0_base=f0_base, range_st=2.0)
    audio = synth.at_level(synth.voice(f0, syl, rng), -20)
    return speech_task(rng, cfg, audio, difficulty, PITCH_CUES, cls, list(PITCHES),
                       "Is the speaker's voice low, medium or high pitched?", "pitch",
                       {"pitch_class": cls, "f0_hz": f0_base})


def pitch_grounded(task: AudioTask, facts: dict) -> str:
    f0 = facts.get("f0_hz")
    cls = facts["pitch_class"]
    est = f"around {f0:.0f} Hz" if f0 else "hard to pin down"
    return f"The voice's fundamental frequency is {est}; that is a {cls} pitched voice."


VOICE_PITCH = Family(
    name="VoicePitch", category="speech", config=FamilyConfig, generate=voice_pitch,
    description="Voice pitch (fundamental frequency): low, medium or high.",
    answer_keys=("pitch_class",),
    read_facts=lambda m: {"pitch_class": pitch_class(m.f0_median_hz), "f0_hz": m.f0_median_hz},
    answer_from=lambda f: f.get("pitch_class") or "",
    grounded=pitch_grounded, cues=PITCH_CUES, topic="who is speaking")

FAMILIES = [INTONATION, SPEAKER_EMOTION, SPEAKING_RATE, VOICE_PITCH]
