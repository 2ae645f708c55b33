"""The fast DSP primitives against their slow definitions.

harmonic_tone reads wavetables instead of summing sines, noise reads a per-process bank, and the
formant filter is one rational filter instead of three parallel resonators; each must still be
the signal its docstring defines.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from audiogym.tasks import synth
from audiogym.tasks.voice import VOWELS, formant_filter

SR = synth.SR


def additive(f0, n, amps, phase0):
    """The definition: sum_k amps[k-1] sin(k * phase), harmonic k only where k * f0 < 0.45 SR."""
    f0 = np.broadcast_to(np.asarray(f0, float), (n,))
    phase = 2 * np.pi * np.cumsum(f0) / SR + phase0
    out = np.zeros(n)
    for k, a in enumerate(amps, start=1):
        out += a * np.sin(k * phase) * (k * f0 < 0.45 * SR)
    return out


@pytest.mark.parametrize(
    "f0",
    [
        220.0,  # constant, every harmonic below the limit
        1500.0,  # constant, most harmonics cut
        150 * 2 ** (np.sin(np.arange(16000) / 3000) / 3),  # a speech-like contour
        300 * 2 ** (np.sin(np.arange(16000) / 2000) * 1.5),  # a contour crossing many harmonic counts
        np.linspace(2600, 4400, 16000),  # a bird chirp
    ],
)
@pytest.mark.parametrize("tilt", [0.0, 1.2])
def test_harmonic_tone_is_the_additive_sum(f0, tilt):
    n, amps = 16000, np.arange(1, 41, dtype=float) ** -tilt
    got = synth.harmonic_tone(f0, n, amps, np.random.default_rng(3))
    want = additive(f0, n, amps, np.random.default_rng(3).uniform(0, 2 * np.pi))
    assert np.max(np.abs(got - want)) < 2e-3 * np.max(np.abs(want))


def test_harmonic_tone_with_vibrato_and_zero_amplitudes():
    n, amps = 8000, np.array([1.0, 0.0, 0.5, 0.0, 0.25])
    got = synth.harmonic_tone(440.0, n, amps, None, vibrato_hz=5.5, vibrato_semitones=0.3)
    f0 = 440.0 * 2.0 ** (0.3 / 12 * np.sin(2 * np.pi * 5.5 * np.arange(n) / SR))
    assert np.max(np.abs(got - additive(f0, n, amps, 0.0))) < 2e-3
    assert synth.harmonic_tone(440.0, 0, amps).shape == (0,)


@pytest.mark.parametrize("color, slope", [("white", 0.0), ("pink", -1.0), ("brown", -2.0)])
def test_noise_is_unit_rms_with_its_colour_and_seeded(color, slope):
    x = synth.noise(64000, np.random.default_rng(0), color)
    assert x.shape == (64000,) and np.isfinite(x).all()
    assert 0.7 < np.sqrt(np.mean(x**2)) < 1.4
    assert np.array_equal(x, synth.noise(64000, np.random.default_rng(0), color))  # same seed, same bytes
    assert not np.array_equal(x, synth.noise(64000, np.random.default_rng(1), color))
    f, p = signal.welch(x, SR, nperseg=4096)
    band = (f > 50) & (f < 5000)
    fitted = np.polyfit(np.log10(f[band]), np.log10(p[band]), 1)[0]  # power ~ f ** slope
    assert abs(fitted - slope) < 0.25


def test_noise_windows_wrap_and_long_requests_work():
    rng = np.random.default_rng(5)
    for n in (0, 1, 17, synth.BANK_SIZE + 3):
        assert synth.noise(n, rng, "pink").shape == (n,)
    with pytest.raises(ValueError):
        synth.noise(10, rng, "purple")


def test_formant_filter_is_the_parallel_resonators():
    x = np.random.default_rng(1).standard_normal(4000)
    for formants in VOWELS.values():
        want = np.zeros_like(x)
        for i, f in enumerate(formants):
            r = np.exp(-np.pi * 90.0 / SR)
            want += signal.lfilter([1 - r], [1.0, -2 * r * np.cos(2 * np.pi * f / SR), r * r], x) * 0.5**i
        assert np.allclose(formant_filter(x, formants), want, atol=1e-9 * np.max(np.abs(want)))


def test_chord_is_its_tones_added_one_by_one():
    f0s, amps = [261.6, 329.6, 392.0, 3000.0], np.array([1.0, 0.3, 0.1])
    want = np.zeros(5000)
    rng = np.random.default_rng(9)
    for f in f0s:
        want += synth.harmonic_tone(f, 5000, amps, rng)
    got = synth.chord(f0s, 5000, amps, np.random.default_rng(9))
    assert np.allclose(got, want, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    "f0s",
    [
        [[261.6, 329.6, 392.0], [196.0, 246.9, 293.7]],  # every tone reads one table
        [[261.6, 329.6, 3000.0], [2500.0, 123.5, 155.6]],  # high tones lose harmonics: a table per tone
    ],
)
def test_chords_are_chord_row_by_row_bit_for_bit(f0s):
    amps = np.array([1.0, 0.3, 0.1])
    rng = np.random.default_rng(4)
    phases = [synth.tone_phases(rng, 3) for _ in f0s]
    got = synth.chords(f0s, 3000, amps, np.array(phases))
    rng = np.random.default_rng(4)
    want = [synth.chord(f, 3000, amps, rng) for f in f0s]  # draws its phases as tone_phases does
    assert got.shape == (2, 3000) and all(np.array_equal(g, w) for g, w in zip(got, want))
    assert np.array_equal(synth.chords(f0s, 3000, amps)[1], synth.chord(f0s[1], 3000, amps))


def test_knocks_are_knock_row_by_row_bit_for_bit():
    rng = np.random.default_rng(8)
    want = [synth.knock(rng, p) for p in (150.0, 212.5, 249.0)]
    rng = np.random.default_rng(8)
    noise = np.array([rng.standard_normal(synth.KNOCK_SAMPLES) for _ in range(3)])
    got = synth.knocks(np.array([150.0, 212.5, 249.0]), noise)
    assert all(np.array_equal(g, w) for g, w in zip(got, want))
    assert np.abs(want[0]).max() > 0.5 and not np.array_equal(want[0], want[1])


def test_shared_envelopes_and_vibrato_cannot_be_written_into():
    # Made once per shape and shared by every task: writing into one would change later clips.
    env = synth.envelope(800, 0.01, 0.02, decay_tau=0.1)
    assert env is synth.envelope(800, 0.01, 0.02, decay_tau=0.1)
    assert env[0] == 0.0 and env[-1] == 0.0 and 0 < env[400] < 1
    with pytest.raises(ValueError):
        env[0] = 1.0
    with pytest.raises(ValueError):
        synth._vibrato(800, 5.5, 0.15)[:] = 1.0
