"""A measurement as a fixed-size vector: the observation of the RL wrappers
(`envs.wrappers.AudioFeatureObservation`), with names and a bounded scaling for learners."""

from __future__ import annotations

import numpy as np

from audiogym.analysis import Measurement
from audiogym.tasks.families.melody_contour import CONTOURS
from audiogym.tasks.synth import TRIADS

SCALAR_FEATURES = (
    "level_db",
    "noise_floor_db",
    "level_slope_db_per_s",
    "event_count",
    "tempo_bpm",
    "accent_period",
    "voiced_fraction",
    "f0_median_hz",
    "f0_range_st",
    "tremor_st",
    "centroid_hz",
    "sustain_db",
    "reverb_rt60",
    "low_ratio",
    "high_ratio",
    "chirp_ratio",
    "flatness",
    "syllable_rate",
    "pause_fraction",
)
FINALS = ("rising", "falling", "flat")
N_HARMONICS = 10
FEATURE_NAMES = (
    list(SCALAR_FEATURES)
    + [f"harmonic_{k}" for k in range(1, N_HARMONICS + 1)]
    + [f"final_{f}" for f in FINALS]
    + [f"contour_{c}" for c in CONTOURS]
    + [f"chord_{q}" for q in TRIADS]
)


def feature_vector(m: Measurement) -> np.ndarray:
    """`FEATURE_NAMES` of a measurement in that order: scalars (missing = 0), harmonics 1..10, and
    one-hot final pitch, contour and chord quality."""
    vec = [float(v) if v is not None else 0.0 for v in (getattr(m, name) for name in SCALAR_FEATURES)]
    vec += list((m.harmonic_profile + [0.0] * N_HARMONICS)[:N_HARMONICS])
    vec += [float(m.final_pitch == f) for f in FINALS] + [float(m.contour == c) for c in CONTOURS]
    vec += [float(m.chord_quality == q) for q in TRIADS]
    return np.nan_to_num(np.asarray(vec, np.float32), nan=0.0, posinf=0.0, neginf=0.0)


# (center, scale) per scalar feature: (x - center) / scale puts typical values in about [-1, 1].
FEATURE_SCALES = {
    "level_db": (-40, 40),
    "noise_floor_db": (-40, 40),
    "level_slope_db_per_s": (0, 10),
    "event_count": (4, 4),
    "tempo_bpm": (120, 60),
    "accent_period": (3.5, 1),
    "voiced_fraction": (0.5, 0.5),
    "f0_median_hz": (200, 150),
    "f0_range_st": (5, 5),
    "tremor_st": (0.5, 0.5),
    "centroid_hz": (2000, 2000),
    "sustain_db": (-10, 10),
    "reverb_rt60": (1, 1),
    "syllable_rate": (4, 2),
}
_CENTER = np.array([FEATURE_SCALES.get(n, (0.5, 0.5))[0] for n in FEATURE_NAMES], np.float32)
_SCALE = np.array([FEATURE_SCALES.get(n, (0.5, 0.5))[1] for n in FEATURE_NAMES], np.float32)


def normalize_features(vec: np.ndarray) -> np.ndarray:
    """`feature_vector` scaled to about [-1, 1] (ratios, harmonics and one-hots map 0..1 to -1..1)
    and clipped to [-5, 5], for learners that want bounded inputs."""
    return np.clip((vec - _CENTER) / _SCALE, -5.0, 5.0).astype(np.float32)
