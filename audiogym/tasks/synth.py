"""DSP primitives the procedural families are built from.

All functions take sample counts or seconds at `SAMPLE_RATE`, return float32 mono arrays, and take
randomness only from the `np.random.Generator` they are given (so a seed fixes every sample).
"""
from __future__ import annotations

import functools

import numpy as np
from scipy import signal

from audiogym.tasks.core import SAMPLE_RATE as SR

NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
# Semitones above the root of each triad quality.
TRIADS = {"major": (0, 4, 7), "minor": (0, 3, 7), "diminished": (0, 3, 6), "augmented": (0, 4, 8)}


def n_samples(seconds: float) -> int:
    return int(round(seconds * SR))


def db_to_amp(db: float) -> float:
    return float(10.0 ** (db / 20.0))


def midi_to_hz(m: float | np.ndarray) -> np.ndarray:
    return 440.0 * 2.0 ** ((np.asarray(m, dtype=np.float64) - 69.0) / 12.0)


def harmonic_tone(f0: float | np.ndarray, n: int, amps: np.ndarray, rng: np.random.Generator | None = None,
                  vibrato_hz: float = 0.0, vibrato_semitones: float = 0.0) -> np.ndarray:
    """Additive tone: harmonic k has amplitude amps[k-1]; f0 may be a per-sample contour.

    Harmonics above 0.45 * SR are left out, per sample, so nothing aliases.
    """
    f0 = np.broadcast_to(np.asarray(f0, dtype=np.float64), (n,)).copy()
    if vibrato_semitones:
        t = np.arange(n) / SR
        f0 *= 2.0 ** (vibrato_semitones / 12.0 * np.sin(2 * np.pi * vibrato_hz * t))
    phase = 2 * np.pi * np.cumsum(f0) / SR
    if rng is not None:
        phase += rng.uniform(0, 2 * np.pi)
    out = np.zeros(n)
    for k, a in enumerate(np.asarray(amps, dtype=np.float64), start=1):
        if a == 0:
            continue
        audible = np.asarray(k * f0 < 0.45 * SR)
        if not audible.any():
            break
        out += a * np.sin(k * phase) * audible
    return out


def envelope(n: int, attack: float = 0.01, release: float = 0.05, decay_tau: float | None = None) -> np.ndarray:
    """Linear attack, optional exponential decay (time constant in s), linear release."""
    env = np.ones(n)
    a, r = min(n_samples(attack), n), min(n_samples(release), n)
    if a:
        env[:a] = np.linspace(0.0, 1.0, a)
    if decay_tau:
        env *= np.exp(-np.arange(n) / (decay_tau * SR))
    if r:
        env[n - r:] *= np.linspace(1.0, 0.0, r)
    return env


def noise(n: int, rng: np.random.Generator, color: str = "white") -> np.ndarray:
    """Unit-RMS noise: white, pink (1/f) or brown (1/f^2)."""
    x = rng.standard_normal(n)
    if color != "white":
        spec = np.fft.rfft(x)
        f = np.fft.rfftfreq(n, 1 / SR)
        f[0] = f[1]
        spec /= f ** (0.5 if color == "pink" else 1.0)
        x = np.fft.irfft(spec, n)
    return x / (np.sqrt(np.mean(x ** 2)) + 1e-12)


@functools.lru_cache(maxsize=256)
def _butter(order: int, cutoff: float | tuple[float, float], btype: str) -> np.ndarray:
    """A Butterworth design, made once per (order, cutoff, type): the speech families filter every
    syllable with the same few designs, and designing one costs more than filtering with it.
    (Callers get a copy: sosfilt wants a writable array, and the cached one must stay as designed.)"""
    return signal.butter(order, list(cutoff) if isinstance(cutoff, tuple) else cutoff, btype=btype, fs=SR, output="sos")


def bandpass(x: np.ndarray, lo: float, hi: float, order: int = 4) -> np.ndarray:
    return signal.sosfilt(_butter(order, (float(lo), float(hi)), "bandpass").copy(), x)


def lowpass(x: np.ndarray, cutoff: float, order: int = 4) -> np.ndarray:
    return signal.sosfilt(_butter(order, float(cutoff), "lowpass").copy(), x)


def highpass(x: np.ndarray, cutoff: float, order: int = 4) -> np.ndarray:
    return signal.sosfilt(_butter(order, float(cutoff), "highpass").copy(), x)


def reverb(x: np.ndarray, rt60: float, rng: np.random.Generator, wet: float = 0.6) -> np.ndarray:
    """Convolution with exponentially decaying noise (a room whose energy falls 60 dB in rt60 s)."""
    m = n_samples(min(rt60 * 1.2, 3.0))
    ir = rng.standard_normal(m) * np.exp(-6.9 * np.arange(m) / (rt60 * SR))
    ir /= np.sqrt(np.sum(ir ** 2)) + 1e-12
    tail = signal.fftconvolve(x, ir)[: len(x)]
    return (1 - wet) * x + wet * tail


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x))) + 1e-12)


def at_level(x: np.ndarray, db: float) -> np.ndarray:
    """Scale to an RMS level in dBFS."""
    return x * (db_to_amp(db) / rms(x))


def add_noise(x: np.ndarray, snr_db: float | None, rng: np.random.Generator, color: str = "pink") -> np.ndarray:
    """Distractor noise at `snr_db` below the signal's RMS (None: clean)."""
    if snr_db is None:
        return x
    return x + noise(len(x), rng, color) * rms(x) * db_to_amp(-snr_db)


def place(out: np.ndarray, x: np.ndarray, start: int) -> None:
    """Add x into out at sample `start`, cutting what runs past the end."""
    if start >= len(out):
        return
    end = min(len(out), start + len(x))
    out[start:end] += x[: end - start]


def knock(rng: np.random.Generator, pitch_hz: float = 180.0) -> np.ndarray:
    """A short wooden knock: a damped low partial plus a band-passed noise click (~80 ms)."""
    n = n_samples(0.08)
    t = np.arange(n) / SR
    body = np.sin(2 * np.pi * pitch_hz * t) * np.exp(-t / 0.015)
    click = bandpass(rng.standard_normal(n), 800, 3000) * np.exp(-t / 0.006)
    return body + 0.6 * click


def beep(freq: float, seconds: float) -> np.ndarray:
    n = n_samples(seconds)
    return np.sin(2 * np.pi * freq * np.arange(n) / SR) * envelope(n, 0.005, 0.01)


def finish(x: np.ndarray, peak: float = 0.99) -> np.ndarray:
    """Float32 in [-1, 1]; scaled down only if it would clip (levels are part of the task)."""
    m = float(np.max(np.abs(x))) if len(x) else 0.0
    if m > peak:
        x = x * (peak / m)
    return np.asarray(x, dtype=np.float32)


# ---- a synthetic voice ----------------------------------------------------------------------

# First three formants (Hz) of five vowels, adult voice.
VOWELS = {"a": (730, 1090, 2440), "e": (530, 1840, 2480), "i": (270, 2290, 3010),
          "o": (570, 840, 2410), "u": (300, 870, 2240)}


def formant_filter(x: np.ndarray, formants: tuple[float, ...], bandwidth: float = 90.0) -> np.ndarray:
    """Parallel second-order resonators, one per formant, higher formants quieter."""
    out = np.zeros_like(x)
    for i, f in enumerate(formants):
        r = np.exp(-np.pi * bandwidth / SR)
        theta = 2 * np.pi * f / SR
        a = [1.0, -2 * r * np.cos(theta), r * r]
        out += signal.lfilter([1 - r], a, x) * (0.5 ** i)
    return out


def voice(f0_contour: np.ndarray, syllables: list[tuple[int, int, str]], rng: np.random.Generator,
          tilt: float = 1.2, breath: float = 0.02) -> np.ndarray:
    """A speech-like voice: a glottal source following `f0_contour` (Hz per sample), shaped into
    syllables (start, length, vowel) by formant filters, with a short consonant burst at each
    syllable's start. `tilt` is the source's spectral slope (harmonic k has amplitude k**-tilt):
    smaller is brighter and harsher. Outside syllables the voice is silent (pauses)."""
    n = len(f0_contour)
    amps = np.arange(1, 41, dtype=np.float64) ** -tilt
    source = harmonic_tone(f0_contour, n, amps, rng)
    out = np.zeros(n)
    for start, length, vowel in syllables:
        seg = source[start:start + length]
        if len(seg) < 16:
            continue
        shaped = formant_filter(seg, VOWELS[vowel])
        env = np.hanning(len(seg)) ** 0.7
        burst_n = min(len(seg), n_samples(0.025))
        shaped[:burst_n] += highpass(rng.standard_normal(burst_n), 2500) * 0.3 * rms(shaped)
        out[start:start + len(seg)] += shaped * env
    out += breath * rms(out) * noise(n, rng) * (np.abs(out) > 0)
    return out


def drum_hit(rng: np.random.Generator, low: bool, gain: float = 1.0) -> np.ndarray:
    n = n_samples(0.12)
    t = np.arange(n) / SR
    if low:  # kick: a falling sine
        x = np.sin(2 * np.pi * (55 + 90 * np.exp(-t / 0.02)) * t) * np.exp(-t / 0.05)
    else:  # snare/click: bright noise
        x = highpass(rng.standard_normal(n), 1500) * np.exp(-t / 0.025) * 0.7
    return gain * x


def beat_track(rng: np.random.Generator, n: int, bpm: float, accents_every: int | None = None) -> np.ndarray:
    out = np.zeros(n)
    period = 60.0 / bpm
    start = float(rng.uniform(0.05, 0.25))
    i = 0
    while start + i * period < n / SR - 0.1:
        strong = accents_every is None or i % accents_every == 0
        hit = drum_hit(rng, low=True, gain=1.0) if strong else drum_hit(rng, low=False, gain=0.3)
        place(out, hit, n_samples(start + i * period))
        i += 1
    return out
