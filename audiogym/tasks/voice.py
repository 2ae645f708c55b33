"""The synthetic voice the speech families (and AcousticScene's foreground talker) speak with.

The voice is a glottal source with an f0 contour through vowel formant filters, shaped into
syllables (synth.voice). It carries prosody but no words: the words exist only in the transcript,
which is exactly the textual surrogate a cascade system would reason from.
"""
from __future__ import annotations

import numpy as np

from audiogym.tasks import synth
from audiogym.tasks.core import AudioTask
from audiogym.tasks.family import SNR_DB, FamilyConfig, shuffled_choices, transcript_for


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
