"""Measured acoustic facts from any waveform.

`measure(audio)` computes one magnitude STFT (n_fft 2048, hop 256) and reuses it for chroma, band
energies, spectral centroid, flatness and the harmonic profile; `yin` at 8 kHz gives the f0 contour and a
short-frame RMS envelope gives onsets, syllables, loudness trend and reverberation. The result is
a `Measurement` of plain numbers and labels. It serves three purposes: the scripted oracle reads
audio through it (never through a task's hidden facts), the grounding reward checks claims
against it on real audio, and the tests check it agrees with the generators' true facts.

The labels it gives (chord quality, contour, final pitch) are simple, documented rules over the
numbers; the thresholds sit in the gaps the procedural families leave between classes. A family
that needs its own reading of the numbers (Timbre, AcousticScene) keeps that classifier in its own
module: analysis measures, families interpret.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import librosa  # numba's cache folder is set on `import audiogym` (audiogym.io.use_numba_cache)
import numpy as np
from scipy import fft as sfft
from scipy.signal import butter, find_peaks, medfilt, resample_poly, sosfiltfilt

from audiogym.io import fill_numba_cache
from audiogym.tasks.core import SAMPLE_RATE
from audiogym.tasks.synth import NOTE_NAMES, TRIADS

N_FFT, HOP = 2048, 256
FPS = SAMPLE_RATE / HOP


@dataclass
class Measurement:
    duration: float
    level_db: float  # overall RMS, dBFS
    noise_floor_db: float  # 10th percentile of the frame level
    level_slope_db_per_s: float | None  # linear trend of the frame level
    onset_times: list[float] = field(default_factory=list)
    event_count: int = 0
    tempo_bpm: float | None = None  # from the median inter-onset interval
    accent_period: int | None = None  # 3 or 4: how strong onsets group
    voiced_fraction: float = 0.0
    f0_median_hz: float | None = None
    f0_range_st: float = 0.0  # 10th-90th percentile spread of voiced f0, semitones
    tremor_st: float = 0.0  # fast f0 wobble amplitude within voiced runs, semitones
    final_pitch: str | None = None  # rising / falling / flat over the last voiced frames
    contour: str | None = None  # ascending / descending / arch / valley
    note_names: list[str] = field(default_factory=list)
    chord_quality: str | None = None
    chord_roots: list[str] = field(default_factory=list)
    centroid_hz: float = 0.0
    harmonic_profile: list[float] = field(default_factory=list)  # harmonics 1..10, max = 1
    sustain_db: float = 0.0  # median minus peak level after the first onset
    reverb_rt60: float | None = None
    low_ratio: float = 0.0  # energy share below 120 Hz
    high_ratio: float = 0.0  # energy share above 5 kHz
    chirp_ratio: float = 0.0  # share of frames dominated by a 2.5-4.6 kHz band
    flatness: float = 0.0
    syllable_rate: float = 0.0  # envelope peaks per second of speaking span
    pause_fraction: float = 0.0  # share of the speaking span in silences >= 0.2 s


def _db(x: np.ndarray | float) -> np.ndarray:
    return 20.0 * np.log10(np.maximum(x, 1e-6))


@functools.lru_cache(maxsize=1)
def _window() -> np.ndarray:
    return librosa.filters.get_window("hann", N_FFT, fftbins=True).astype(np.float32)


def _magnitude_stft(y: np.ndarray) -> np.ndarray:
    """|librosa.stft(y, n_fft=N_FFT, hop_length=HOP)| (centred, zero-padded, Hann), as one float32
    FFT over a strided view of the frames: half librosa's time, same values to ~1e-7."""
    padded = np.pad(y, (N_FFT // 2, N_FFT // 2))
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP]
    return np.abs(sfft.rfft(frames * _window(), axis=1)).T


def measure(audio: np.ndarray, sr: int = SAMPLE_RATE) -> Measurement:
    """All measured facts of one clip (mono float, 16 kHz unless `sr` says otherwise)."""
    y = np.asarray(audio, dtype=np.float32)
    if sr != SAMPLE_RATE:
        y = librosa.resample(y, orig_sr=sr, target_sr=SAMPLE_RATE)
    if len(y) < N_FFT:
        y = np.pad(y, (0, N_FFT - len(y)))
    S = _magnitude_stft(y)
    P = S**2
    freqs = librosa.fft_frequencies(sr=SAMPLE_RATE, n_fft=N_FFT)
    env = _db(librosa.feature.rms(y=y, frame_length=512, hop_length=HOP)[0])  # short-frame level
    T = min(S.shape[1], len(env))
    S, P, env = S[:, :T], P[:, :T], env[:T]
    frame_power = P.sum(0)
    long_level = _db(np.sqrt(frame_power * 2) / N_FFT)  # level of each STFT frame (relative)

    m = Measurement(
        duration=len(audio) / sr,
        level_db=float(_db(np.sqrt(np.mean(y**2)))),
        noise_floor_db=float(np.percentile(env, 10)),
        level_slope_db_per_s=None,
    )
    m.level_slope_db_per_s = float(np.polyfit(np.arange(T) / FPS, env, 1)[0])

    total = P.sum() + 1e-12
    below, above = np.searchsorted(freqs, 120), np.searchsorted(freqs, 5000, side="right")  # freqs ascend
    m.low_ratio = float(P[:below].sum() / total)
    m.high_ratio = float(P[above:].sum() / total)
    band = slice(np.searchsorted(freqs, 2500, side="right"), np.searchsorted(freqs, 4600))
    loud = long_level > long_level.max() - 40
    m.chirp_ratio = float(np.mean((P[band].sum(0) / (frame_power + 1e-12) > 0.3)[loud]))
    # librosa's spectral_flatness and spectral_centroid, written on the power spectrum already here
    # and only for the loud frames that are read (librosa recomputes and renormalises the spectrum:
    # ~10x the time, same numbers to 1e-7)
    floored = np.maximum(P[:, loud], 1e-10)
    flat = np.exp(np.mean(np.log(floored), axis=0)) / np.mean(floored, axis=0)
    m.flatness = float(np.median(flat))
    loud_S = S[:, loud]
    centroid = (freqs @ loud_S) / np.maximum(loud_S.sum(0), np.finfo(np.float32).tiny)
    m.centroid_hz = float(np.median(centroid))

    _onsets(m, env)
    _pitch(m, y, S, freqs, env, long_level)
    _harmony(m, P, long_level)
    _speech_rhythm(m, env, y)
    _reverb(m, env)
    return m


def _onsets(m: Measurement, env: np.ndarray) -> None:
    """Onsets: the level rises >= 9 dB within three frames (48 ms), at least 0.12 s apart."""
    # the lowest level of the three frames before each frame (the first frame: itself)
    padded = np.concatenate([np.full(3, np.inf), env])
    prev_min = np.minimum(np.minimum(padded[:-3], padded[1:-2]), padded[2:-1])
    prev_min[0] = env[0]
    rise = env - prev_min
    gate = env > env.max() - 35
    peaks, _ = find_peaks(np.where(gate, rise, 0.0), height=9.0, distance=int(0.12 * FPS))
    m.onset_times = [round(float(p / FPS), 4) for p in peaks]
    m.event_count = len(peaks)
    if len(peaks):
        after = env[peaks[0] :][env[peaks[0] :] > env.max() - 40]
        m.sustain_db = float(np.median(after) - env.max())
    if len(peaks) >= 2:
        m.tempo_bpm = float(60.0 / (np.median(np.diff(peaks)) / FPS))
    levels = np.array([env[p : p + 6].max() for p in peaks])
    if len(levels) >= 6:

        def contrast(period: int) -> float:
            return max(levels[ph::period].mean() - np.delete(levels, np.s_[ph::period]).mean() for ph in range(period))

        c3, c4 = contrast(3), contrast(4)
        if max(c3, c4) > 3.0:
            m.accent_period = 3 if c3 > c4 else 4


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) of each run of True."""
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)))


def _pitch(
    m: Measurement, y: np.ndarray, S: np.ndarray, freqs: np.ndarray, env: np.ndarray, long_level: np.ndarray
) -> None:
    # yin on the signal at half the rate: f0 stays under 1 kHz, so 8 kHz holds it, at a quarter of the
    # cost (yin dominated `measure`); same frame times (hop 128 at 8 kHz = 256 at 16 kHz), f0 within
    # ~0.01 semitone of the full-rate track on the families' voiced frames.
    half = resample_poly(y, 1, 2).astype(np.float32)
    f0 = librosa.yin(half, fmin=60, fmax=1000, sr=SAMPLE_RATE // 2, frame_length=512, hop_length=HOP // 2)[: len(env)]
    voiced = (long_level > long_level.max() - 30) & (f0 > 62) & (f0 < 980) & (_harmonicity(S, f0, freqs[1]) > 0.6)
    m.voiced_fraction = float(voiced.mean())
    if voiced.sum() < 5:
        return
    st = 12 * np.log2(f0 / 440.0)
    vs = st[voiced]
    m.f0_median_hz = float(440 * 2 ** (np.median(vs) / 12))
    m.f0_range_st = float(np.percentile(vs, 90) - np.percentile(vs, 10))
    wobble = []
    for a, b in _runs(voiced):
        if b - a >= 8:
            seg = st[a:b]
            smooth = np.convolve(np.pad(seg, 4, mode="edge"), np.ones(9) / 9, mode="valid")
            wobble.append(seg[2:-2] - smooth[2:-2])
    if wobble:  # robust spread (MAD), so a stray octave error does not read as tremor
        w = np.concatenate(wobble)
        m.tremor_st = float(np.sqrt(2) * 1.4826 * np.median(np.abs(w - np.median(w))))
    m.final_pitch = final_pitch(vs)
    chunks = [np.median(c) for c in np.array_split(vs, 6) if len(c)]
    if len(chunks) == 6:
        inner = chunks[1:-1]
        if max(inner) > max(chunks[0], chunks[-1]) + 1:
            m.contour = "arch"
        elif min(inner) < min(chunks[0], chunks[-1]) - 1:
            m.contour = "valley"
        else:
            m.contour = "ascending" if chunks[-1] > chunks[0] else "descending"
        m.note_names = [NOTE_NAMES[int(round(c + 69)) % 12] + str(int(round(c + 69)) // 12 - 1) for c in chunks]
    # Harmonic profile: magnitude at k*f0 (best of +-1 bin), per loud voiced frame, max = 1.
    bin_hz = freqs[1]
    frames = np.flatnonzero(voiced & (long_level > long_level.max() - 20))
    ks = np.rint(np.arange(1, 11)[None, :] * f0[frames, None] / bin_hz).astype(int)  # frame x harmonic bin
    keep = (ks < S.shape[0] - 1).all(axis=1)  # all ten harmonics below the top bin
    ks, cols = ks[keep], frames[keep, None]
    if len(ks):
        amps = np.maximum(np.maximum(S[ks - 1, cols], S[ks, cols]), S[ks + 1, cols])
        profiles = amps / (amps.max(axis=1, keepdims=True) + 1e-12)
        m.harmonic_profile = [round(float(a), 4) for a in np.median(profiles, axis=0)]


def final_pitch(vs: np.ndarray) -> str | None:
    """rising / falling / flat: where the voice goes at the end, from the voiced frames' pitch in
    semitones. The terminal movement is read against the last ~0.5 s (30 voiced frames): a rise
    is the end above the lowest point there, a fall the end below the highest. Against the whole
    utterance's median (before) a real question reads flat: its last word dips and then rises by
    3-5 semitones while still ending near the sentence's median (espeak-ng, tests/test_real_speech.py)."""
    if len(vs) < 24:  # under ~0.4 s of voicing
        return None
    smooth = medfilt(vs, 5)  # a running median: one octave-error frame does not make a fall
    tail, end = smooth[-30:], float(np.median(vs[-5:]))
    rise, fall = end - float(tail.min()), float(tail.max()) - end
    if max(rise, fall) <= 2:
        return "flat"
    return "rising" if rise > fall else "falling"


def _harmonicity(S: np.ndarray, f0: np.ndarray, bin_hz: float) -> np.ndarray:
    """Per frame: share of the 0..4.5*f0 band's energy within +-2 bins of the first 4 harmonics
    of f0. Near 1 for a voice or an instrument (gliding pitch included), ~0.25 for noise."""
    n_bins = S.shape[0]
    # cum[b] = sum of bins < b, built only as high as the band of the highest f0 reaches
    top_f0 = float(np.max(f0)) if len(f0) and np.isfinite(f0).all() else np.inf
    rows = int(min(n_bins, np.ceil(4.5 * top_f0 / bin_hz) + 4))
    cum = np.zeros((rows + 1, S.shape[1]))
    cum[1:] = np.cumsum(S[:rows] ** 2, axis=0)
    cols = np.arange(S.shape[1])
    harm = np.zeros(S.shape[1])
    for k in range(1, 5):
        b = np.clip(np.rint(k * f0 / bin_hz).astype(int), 2, n_bins - 3)
        harm += cum[b + 3, cols] - cum[b - 2, cols]
    top = np.clip(np.rint(4.5 * f0 / bin_hz).astype(int), 1, n_bins)
    return harm / (cum[top, cols] + 1e-12)


@functools.lru_cache(maxsize=1)
def _chroma_filters() -> np.ndarray:
    return librosa.filters.chroma(sr=SAMPLE_RATE, n_fft=N_FFT, tuning=0.0)


def _harmony(m: Measurement, P: np.ndarray, long_level: np.ndarray) -> None:
    """Chord quality: best (root, quality) triad template per loud frame, majority vote."""
    chroma = librosa.util.normalize(_chroma_filters() @ P, norm=np.inf, axis=0)  # = chroma_stft(S=P, tuning=0)
    loud = long_level > long_level.max() - 20
    if loud.sum() < 5:
        return
    names = list(TRIADS)
    templates = np.zeros((len(names) * 12, 12))
    for qi, q in enumerate(names):
        for r in range(12):
            templates[qi * 12 + r, [(r + i) % 12 for i in TRIADS[q]]] = 1.0
    c = chroma[:, loud]
    c = c / (np.linalg.norm(c, axis=0, keepdims=True) + 1e-12)
    best = np.argmax(templates @ c, axis=0)
    votes = np.bincount(best // 12, minlength=len(names))
    m.chord_quality = names[int(np.argmax(votes))]
    roots: list[str] = []
    run_start = 0
    for i in range(1, len(best) + 1):
        if i == len(best) or best[i] != best[run_start]:
            if i - run_start >= 10:
                name = NOTE_NAMES[best[run_start] % 12]
                if not roots or roots[-1] != name:
                    roots.append(name)
            run_start = i
    m.chord_roots = roots


# Syllable nuclei are vowels: their level is read in the band that holds the first two formants.
_VOWEL_BAND = butter(4, [300, 3000], btype="band", fs=SAMPLE_RATE, output="sos")


def _speech_rhythm(m: Measurement, env: np.ndarray, y: np.ndarray) -> None:
    # Syllables: peaks of the vowel band's level smoothed over ~80 ms (so a consonant burst and its
    # vowel are one), 7 dB prominent, at least 0.1 s apart. The broadband level with peaks 0.12 s
    # apart (before) merged real fast speech's syllables: espeak-ng at 330 wpm read 4.0-5.2
    # syllables/s, "normal" (tests/test_real_speech.py); the generators' rate classes read 200 of
    # 200 right with either.
    vowel = _db(
        librosa.feature.rms(y=sosfiltfilt(_VOWEL_BAND, y).astype(np.float32), frame_length=512, hop_length=HOP)[0]
    )
    vowel = vowel[: len(env)]
    smooth = np.convolve(vowel, np.hanning(7) / np.hanning(7).sum(), mode="same")
    active = smooth > vowel.max() - 30
    peaks, _ = find_peaks(np.where(active, smooth, vowel.min()), prominence=7.0, distance=int(0.1 * FPS))
    if len(peaks) >= 2:
        span = (peaks[-1] - peaks[0]) / FPS
        m.syllable_rate = float((len(peaks) - 1) / span)
        quiet = env[peaks[0] : peaks[-1]] < env.max() - 30
        long_gaps = sum(b - a for a, b in _runs(quiet) if b - a >= 0.2 * FPS)
        m.pause_fraction = float(long_gaps / max(1, peaks[-1] - peaks[0]))


def _reverb(m: Measurement, env: np.ndarray) -> None:
    """RT60 from the decay after each onset: 60 dB over the observed decay rate."""
    floor = m.noise_floor_db + 3
    rates = []
    onsets = [int(o * FPS) for o in m.onset_times] + [len(env)]
    for a, b in zip(onsets[:-1], onsets[1:]):
        pk = a + int(np.argmax(env[a : min(b, a + 6)]))
        tail = env[pk:b]
        stop = np.flatnonzero((tail < env[pk] - 20) | (tail < floor))
        n = int(stop[0]) if len(stop) else len(tail)
        drop = env[pk] - tail[max(0, n - 1)] if n else 0.0
        if n >= 3 and drop > 3:
            rates.append(drop / (n / FPS))  # dB per second
    if rates:
        m.reverb_rt60 = float(60.0 / np.median(rates))


def _compile_kernels() -> None:
    """Measure a pulsed tone: imports every librosa module whose numba kernels `measure` uses."""
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    measure((0.3 * np.sin(2 * np.pi * 220 * t) * (np.sin(2 * np.pi * 3 * t) > 0)).astype(np.float32))


# librosa compiles its kernels on first use; do it now, one process at a time (audiogym.io.fill_numba_cache)
fill_numba_cache("analysis-" + hashlib.sha1(Path(__file__).read_bytes()).hexdigest()[:12], _compile_kernels)
