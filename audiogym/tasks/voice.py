"""The synthetic voice the speech families (and AcousticScene's foreground talker) speak with.

The voice is a glottal source with an f0 contour through vowel formant filters, shaped into
syllables (`voice`). It carries prosody but no words: the words exist only in the transcript,
which is exactly the textual surrogate a cascade system would reason from.
"""

from __future__ import annotations

import functools

import numpy as np
from scipy import signal

from audiogym.tasks import synth
from audiogym.tasks.core import AudioTask
from audiogym.tasks.family import SNR_DB, FamilyConfig, clip_task, transcript_for

# First three formants (Hz) of five vowels, adult voice.
VOWELS = {
    "a": (730, 1090, 2440),
    "e": (530, 1840, 2480),
    "i": (270, 2290, 3010),
    "o": (570, 840, 2410),
    "u": (300, 870, 2240),
}


@functools.lru_cache(maxsize=64)
def _formant_design(formants: tuple[float, ...], bandwidth: float) -> tuple[np.ndarray, np.ndarray]:
    """The parallel resonators of `formant_filter` as one rational filter (b, a): sum over
    formants of g_i / A_i(z) = (sum_i g_i prod_{j != i} A_j(z)) / prod_j A_j(z)."""
    r = np.exp(-np.pi * bandwidth / synth.SR)
    dens = [np.array([1.0, -2 * r * np.cos(2 * np.pi * f / synth.SR), r * r]) for f in formants]
    a = functools.reduce(np.polymul, dens)
    b = np.zeros(len(a) - 2)
    for i in range(len(dens)):
        others = functools.reduce(np.polymul, [d for j, d in enumerate(dens) if j != i], np.array([1.0]))
        b = b + (1 - r) * 0.5**i * others
    return b, a


def formant_filter(x: np.ndarray, formants: tuple[float, ...], bandwidth: float = 90.0) -> np.ndarray:
    """Parallel second-order resonators, one per formant, higher formants quieter (one filter pass)."""
    b, a = _formant_design(tuple(float(f) for f in formants), float(bandwidth))
    return signal.lfilter(b, a, x)


@functools.lru_cache(maxsize=256)
def _syllable_window(n: int) -> np.ndarray:
    return np.hanning(n) ** 0.7


def voice(
    f0_contour: np.ndarray,
    syllables: list[tuple[int, int, str]],
    rng: np.random.Generator,
    tilt: float = 1.2,
    breath: float = 0.02,
) -> np.ndarray:
    """A speech-like voice: a glottal source following `f0_contour` (Hz per sample), shaped into
    syllables (start, length, vowel) by formant filters, with a short consonant burst at each
    syllable's start. `tilt` is the source's spectral slope (harmonic k has amplitude k**-tilt):
    smaller is brighter and harsher. Outside syllables the voice is silent (pauses)."""
    n = len(f0_contour)
    amps = np.arange(1, 41, dtype=np.float64) ** -tilt
    source = synth.harmonic_tone(f0_contour, n, amps, rng)
    out = np.zeros(n)
    kept = [(start, len(source[start : start + length]), vowel) for start, length, vowel in syllables]
    kept = [(start, length, vowel) for start, length, vowel in kept if length >= 16]
    burst_most = synth.n_samples(0.025)
    # the consonant bursts of all syllables in one draw and one filter pass (row by row)
    bursts = synth.highpass(rng.standard_normal((len(kept), burst_most)), 2500) if kept else np.zeros((0, burst_most))
    for (start, length, vowel), burst in zip(kept, bursts):
        shaped = formant_filter(source[start : start + length], VOWELS[vowel])
        burst_n = min(length, burst_most)
        shaped[:burst_n] += burst[:burst_n] * (0.3 * synth.rms(shaped))
        out[start : start + length] += shaped * _syllable_window(length)
    out += breath * synth.rms(out) * synth.noise(n, rng) * (np.abs(out) > 0)
    return out


def utterance(
    rng: np.random.Generator,
    n: int,
    rate: float,
    f0_base: float,
    range_st: float,
    final: str = "none",
    tremor_st: float = 0.0,
    pause_s: float = 0.0,
    lead_s: float = 0.15,
) -> tuple[np.ndarray, list[tuple[int, int, str]]]:
    """An f0 contour (Hz per sample) and syllables (start, length, vowel) filling `n` samples.

    `rate` is syllables per second while speaking; `range_st` the spread of syllable pitch accents
    in semitones; `final` a 'rise' or 'fall' over the last two syllables; `tremor_st` the depth of
    a 7 Hz tremor; `pause_s` the length of pauses inserted between phrases of 3-4 syllables.
    """
    period = synth.n_samples(1.0 / rate)
    syllables, t, in_phrase = [], synth.n_samples(lead_s), 0
    phrase_len = int(rng.integers(3, 5))
    while t + period < n - synth.n_samples(0.1):
        syllables.append((t, int(period * 0.78), str(rng.choice(list(VOWELS)))))
        t += period
        in_phrase += 1
        if pause_s and in_phrase == phrase_len:
            t += synth.n_samples(pause_s * rng.uniform(0.8, 1.2))
            in_phrase, phrase_len = 0, int(rng.integers(3, 5))
    st = np.zeros(n)  # semitones relative to f0_base
    for start, _length, _ in syllables:
        accent = rng.uniform(-range_st / 2, range_st / 2)
        st[start : start + period] = accent + np.linspace(0, -0.5, len(st[start : start + period]))
    if final != "none" and len(syllables) >= 2:
        s0 = syllables[-2][0]
        e = syllables[-1][0] + syllables[-1][1]
        glide = float(rng.uniform(5.0, 8.0)) * (1 if final == "rise" else -1)
        base = np.median(st[syllables[0][0] : s0])
        st[s0:e] = base + np.linspace(0, glide, e - s0)
    if tremor_st:
        st += tremor_st * np.sin(2 * np.pi * 7.0 * np.arange(n) / synth.SR + rng.uniform(0, 6.3))
    return f0_base * 2.0 ** (st / 12.0), syllables


def speech_task(
    rng: np.random.Generator,
    cfg: FamilyConfig,
    audio: np.ndarray,
    *,
    difficulty: str,
    cues: dict,
    answer: str,
    options: list[str],
    question: str,
    skill: str,
    facts: dict,
) -> AudioTask:
    """The ending the speech families share: a transcript (aligned or conflict), noise at the
    difficulty's SNR, then `clip_task`."""
    transcript, conflict, cue = transcript_for(rng, cues, answer, cfg)
    audio = synth.add_noise(audio, SNR_DB[difficulty], rng)
    return clip_task(
        rng,
        audio,
        question=question,
        options=options,
        answer=answer,
        category="speech",
        skill=skill,
        difficulty=difficulty,
        transcript=transcript,
        transcript_label="Transcript",
        facts=facts,
        conflict=conflict,
        cue=cue,
    )
