"""The five background scenes' sounds (AcousticScene's generator draws one per clip): traffic, rain,
a reverberant hall, a quiet room and a park, each from `synth`'s noise, tones, knocks and reverb."""

from __future__ import annotations

import numpy as np

from audiogym.tasks import synth


def street(rng: np.random.Generator, n: int) -> np.ndarray:
    rumble = synth.lowpass(synth.noise(n, rng, "brown"), 110)
    out = synth.at_level(rumble, -22)
    t = np.arange(n) / synth.SR
    for _ in range(int(rng.integers(1, 3))):  # passing cars: band noise swelling and fading
        c = rng.uniform(0.5, n / synth.SR - 0.5)
        car = synth.bandpass(synth.noise(n, rng), 150, 1500) * np.exp(-(((t - c) / 0.5) ** 2))
        out += synth.at_level(car, -24)
    if rng.random() < 0.7:  # a horn: two harmonic tones
        horn_n = synth.n_samples(0.4)
        horn = sum(synth.harmonic_tone(f, horn_n, np.array([1, 0.6, 0.4, 0.3]), rng) for f in (392.0, 494.0))
        synth.place(
            out, synth.at_level(horn * synth.envelope(horn_n, 0.02, 0.05), -24), int(rng.integers(0, n - horn_n))
        )
    return out


def rain(rng: np.random.Generator, n: int) -> np.ndarray:
    hiss = synth.highpass(synth.noise(n, rng), 3000)
    drops = np.zeros(n)
    starts = rng.integers(0, n - 200, size=int(n / synth.SR * 40))
    for s, drop in zip(starts, rng.standard_normal((len(starts), 80)) * np.exp(-np.arange(80) / 15)):
        drops[s : s + 80] += drop
    return synth.at_level(hiss, -24) + synth.at_level(synth.highpass(drops, 2000), -30)


def hall(rng: np.random.Generator, n: int) -> np.ndarray:
    dry = np.zeros(n)
    for s in np.arange(0.1, n / synth.SR - 1.0, rng.uniform(0.8, 1.2)):  # footsteps
        synth.place(dry, synth.knock(rng, 150), synth.n_samples(float(s)))
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
