"""DSP primitives the procedural families are built from.

All functions take sample counts or seconds at `SAMPLE_RATE`, return float32 mono arrays, and take
randomness only from the `np.random.Generator` they are given (so a seed fixes every sample).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
from scipy import fft as sfft
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


TABLE_SIZE = 4096  # samples per period of a wavetable: harmonic 40 still gets ~100 points a cycle


@functools.lru_cache(maxsize=512)
def _wavetable(amps: tuple[float, ...], count: int) -> tuple[np.ndarray, np.ndarray]:
    """One period of sum_k amps[k-1] * sin(k * theta), k <= count, at TABLE_SIZE points (one
    inverse FFT of the line spectrum), and the slope from each point to the next."""
    spectrum = np.zeros(TABLE_SIZE // 2 + 1, np.complex128)
    spectrum[1 : count + 1] = -0.5j * TABLE_SIZE * np.asarray(amps[:count])
    table = np.fft.irfft(spectrum, TABLE_SIZE)
    return table, np.diff(np.append(table, table[0]))


def _harmonics_below_nyquist(f0: np.ndarray | float, most: int) -> np.ndarray:
    """Per sample, how many harmonics k have k * f0 < 0.45 * SR (at most `most`)."""
    with np.errstate(divide="ignore"):
        return np.minimum(most, np.ceil(0.45 * SR / np.abs(f0)) - 1).astype(np.intp)


def _amps_key(amps: np.ndarray) -> tuple[float, ...]:
    """The amplitudes as the wavetable caches' key."""
    return tuple(float(a) for a in np.asarray(amps, dtype=np.float64))


def _read_tables(
    pos: np.ndarray, tables: np.ndarray, slopes: np.ndarray, row_start: np.ndarray | int = 0
) -> np.ndarray:
    """Linear interpolation in stacked wavetables: `pos` is the phase in table points (>= 0,
    overwritten with its fraction), `row_start` where each sample's table starts in the stack."""
    index = pos.astype(np.intp)  # floor: the phase only grows from >= 0
    pos -= index  # the fraction between table points
    index &= TABLE_SIZE - 1  # the point within the cycle (TABLE_SIZE is a power of two)
    if not (np.isscalar(row_start) and row_start == 0):
        index += row_start
    out = tables.take(index)
    step = slopes.take(index)
    step *= pos  # in place: each clip-long temporary is another pass over memory
    out += step
    return out


def harmonic_tone(
    f0: float | np.ndarray,
    n: int,
    amps: np.ndarray,
    rng: np.random.Generator | None = None,
    vibrato_hz: float = 0.0,
    vibrato_semitones: float = 0.0,
) -> np.ndarray:
    """Additive tone: harmonic k has amplitude amps[k-1]; f0 may be a per-sample contour.

    Harmonics at or above 0.45 * SR are left out, per sample, so nothing aliases. The sum of
    harmonics is read from a wavetable per harmonic count (linear interpolation, error ~1e-4 of a
    harmonic's amplitude) instead of one sine per harmonic per sample: 40 harmonics cost one
    table lookup, not 40 sines.
    """
    constant = np.ndim(f0) == 0 and not vibrato_semitones
    freq: np.ndarray = np.broadcast_to(np.asarray(f0, dtype=np.float64), (n,))
    if vibrato_semitones:
        freq = freq * _vibrato(n, float(vibrato_hz), float(vibrato_semitones))
    if constant:  # phase in table points (TABLE_SIZE a cycle): the running sum of f0
        pos = np.arange(1, n + 1, dtype=np.float64) * (float(f0) * TABLE_SIZE / SR)
    else:
        pos = np.cumsum(freq)
        pos *= TABLE_SIZE / SR
    if rng is not None:
        pos += rng.uniform(0, 2 * np.pi) / (2 * np.pi) * TABLE_SIZE
    key = _amps_key(amps)
    # lo_count harmonics fit under the highest f0, hi_count under the lowest
    lo_count, hi_count = _harmonics_below_nyquist(np.array([freq.max(), freq.min()]), len(key)) if n else (0, 0)
    if lo_count == hi_count:
        return _read_tables(pos, *_wavetable(key, int(lo_count)))
    tables, slopes = _wavetables(key, int(lo_count), int(hi_count))
    return _read_tables(pos, tables, slopes, (_harmonics_below_nyquist(freq, len(key)) - lo_count) * TABLE_SIZE)


@functools.lru_cache(maxsize=64)
def _vibrato(n: int, hz: float, semitones: float) -> np.ndarray:
    """The frequency factor of a sine vibrato, made once per length and depth (read-only)."""
    t = np.arange(n) / SR
    out = np.exp2(semitones / 12.0 * np.sin(2 * np.pi * hz * t))
    out.flags.writeable = False
    return out


def tone_phases(rng: np.random.Generator, count: int) -> np.ndarray:
    """Random start phases (in table points) for `count` tones, drawn as `chord` draws them."""
    return np.array([rng.uniform(0, 2 * np.pi) / (2 * np.pi) * TABLE_SIZE for _ in range(count)])


def chord(f0s: Sequence[float], n: int, amps: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
    """The sum of constant-pitch `harmonic_tone`s, one per f0 (each with its own random phase,
    drawn in order): equal to adding the tones one by one, in one pass over all of them."""
    return chords([f0s], n, amps, None if rng is None else tone_phases(rng, len(f0s)))[0]


def chords(
    f0s: Sequence[Sequence[float]] | np.ndarray, n: int, amps: np.ndarray, phases: np.ndarray | None = None
) -> np.ndarray:
    """Several `chord`s of n samples at once, one per row of `f0s` (k chords of m tones; `phases`
    (k, m) from `tone_phases`): row i is `chord(f0s[i], ...)` with those phases, bit for bit."""
    f0 = np.asarray(f0s, dtype=np.float64)
    k, m = f0.shape
    flat = f0.ravel()
    key = _amps_key(amps)
    pos = np.outer(flat * (TABLE_SIZE / SR), np.arange(1, n + 1, dtype=np.float64))
    if phases is not None:
        pos += np.asarray(phases, dtype=np.float64).reshape(-1, 1)
    counts = _harmonics_below_nyquist(flat, len(key))
    if (counts == counts[0]).all():  # one table serves every tone
        out = _read_tables(pos, *_wavetable(key, int(counts[0])))
    else:
        pairs = [_wavetable(key, int(c)) for c in counts]
        out = _read_tables(
            pos,
            np.concatenate([t for t, _ in pairs]),
            np.concatenate([d for _, d in pairs]),
            (np.arange(len(flat)) * TABLE_SIZE)[:, None],
        )  # each tone's row of the stacked tables
    return out.reshape(k, m, n).sum(axis=1)


@functools.lru_cache(maxsize=256)
def _wavetables(amps: tuple[float, ...], fewest: int, most: int) -> tuple[np.ndarray, np.ndarray]:
    """The wavetables (and slopes) for harmonic counts fewest..most, stacked end to end."""
    pairs = [_wavetable(amps, c) for c in range(fewest, most + 1)]
    return np.concatenate([t for t, _ in pairs]), np.concatenate([d for _, d in pairs])


@functools.lru_cache(maxsize=128)
def envelope(n: int, attack: float = 0.01, release: float = 0.05, decay_tau: float | None = None) -> np.ndarray:
    """Linear attack, optional exponential decay (time constant in s), linear release. Made once
    per shape: the array is shared and read-only (multiply by it, do not write into it)."""
    env = np.ones(n)
    a, r = min(n_samples(attack), n), min(n_samples(release), n)
    if a:
        env[:a] = np.linspace(0.0, 1.0, a)
    if decay_tau:
        env *= np.exp(-np.arange(n) / (decay_tau * SR))
    if r:
        env[n - r :] *= np.linspace(1.0, 0.0, r)
    env.flags.writeable = False
    return env


BANK_SIZE = 1 << 20  # samples of each noise colour made once per process (65 s at 16 kHz)
_BANK_SEED = 16_000


@functools.lru_cache(maxsize=3)
def _noise_bank(color: str) -> np.ndarray:
    """A periodic unit-RMS noise signal of BANK_SIZE samples: white noise from a fixed seed,
    coloured by one FFT over the whole bank (so it is circular: a window that wraps around is
    as stationary as any other). Made once per process; every clip reads a window of it."""
    x = np.random.default_rng(_BANK_SEED).standard_normal(BANK_SIZE)
    if color != "white":
        f = np.fft.rfftfreq(BANK_SIZE, 1 / SR)
        f[0] = f[1]
        x = sfft.irfft(sfft.rfft(x) / f ** (0.5 if color == "pink" else 1.0), BANK_SIZE)
    x /= np.sqrt(np.mean(np.square(x)))
    return x.astype(np.float32)


def noise(n: int, rng: np.random.Generator, color: str = "white") -> np.ndarray:
    """Unit-RMS noise: white, pink (1/f) or brown (1/f^2): a window of the colour's noise bank at a
    seeded offset, with a seeded sign. One draw from `rng` instead of n Gaussian draws and two
    FFTs per clip; windows of 4 s out of 65 s rarely overlap, and a distractor needs no more."""
    if color not in ("white", "pink", "brown"):
        raise ValueError(f"noise color {color!r}: expected white, pink or brown")
    bank = _noise_bank(color)
    start, sign = int(rng.integers(0, BANK_SIZE)), 1.0 if rng.random() < 0.5 else -1.0
    idx = np.arange(start, start + n) % BANK_SIZE if start + n > BANK_SIZE else slice(start, start + n)
    window = bank[idx] if n <= BANK_SIZE else np.resize(np.roll(bank, -start), n)
    out = window.astype(np.float64)
    out *= sign  # in place: a clip-long temporary costs page faults on every task
    return out


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
    """Convolution with exponentially decaying noise (a room whose energy falls 60 dB in rt60 s);
    the convolution is one float32 FFT product (a room's tail needs no float64)."""
    m = n_samples(min(rt60 * 1.2, 3.0))
    ir = noise(m, rng) * np.exp(-6.9 * np.arange(m) / (rt60 * SR))
    ir /= np.sqrt(np.sum(ir**2)) + 1e-12
    size = sfft.next_fast_len(len(x) + m - 1, real=True)
    spectrum = sfft.rfft(np.asarray(x, np.float32), size) * sfft.rfft(ir.astype(np.float32), size)
    tail = sfft.irfft(spectrum, size)[: len(x)]
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
    out = noise(len(x), rng, color)
    out *= rms(x)
    out *= db_to_amp(-snr_db)
    out += x  # the same sums as x + noise * rms * gain, without three clip-long temporaries
    return out


def place(out: np.ndarray, x: np.ndarray, start: int) -> None:
    """Add x into out at sample `start`, cutting what runs past the end."""
    if start >= len(out):
        return
    end = min(len(out), start + len(x))
    out[start:end] += x[: end - start]


KNOCK_SAMPLES = n_samples(0.08)


@functools.lru_cache(maxsize=1)
def _knock_shape() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A knock's time axis and the decays of its body and click (shared, read-only)."""
    t = np.arange(KNOCK_SAMPLES) / SR
    parts = (t, np.exp(-t / 0.015), np.exp(-t / 0.006))
    for a in parts:
        a.flags.writeable = False
    return parts


def knock(rng: np.random.Generator, pitch_hz: float = 180.0) -> np.ndarray:
    """A short wooden knock: a damped low partial plus a band-passed noise click (~80 ms)."""
    return knocks(np.array([pitch_hz]), rng.standard_normal((1, KNOCK_SAMPLES)))[0]


def knocks(pitches_hz: np.ndarray, click_noise: np.ndarray) -> np.ndarray:
    """Several `knock`s at once, one per row: `click_noise` holds each knock's KNOCK_SAMPLES
    standard normal draws (one filter pass over all rows; each row as `knock` makes it)."""
    t, body_decay, click_decay = _knock_shape()
    body = np.sin(2 * np.pi * np.asarray(pitches_hz, dtype=np.float64)[:, None] * t) * body_decay
    click = bandpass(click_noise, 800, 3000) * click_decay
    return body + 0.6 * click


def beep(freq: float, seconds: float) -> np.ndarray:
    n = n_samples(seconds)
    return np.sin(2 * np.pi * freq * np.arange(n) / SR) * envelope(n, 0.005, 0.01)


def finish(x: np.ndarray, peak: float = 0.99) -> np.ndarray:
    """Float32 in [-1, 1]; scaled down only if it would clip (levels are part of the task)."""
    m = max(float(x.max()), -float(x.min())) if len(x) else 0.0  # max |x| without an |x| copy
    if m > peak:
        x = x * (peak / m)
    return np.asarray(x, dtype=np.float32)


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
