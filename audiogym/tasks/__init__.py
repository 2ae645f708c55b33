"""Tasks: the AudioTask model, the procedural families, mixtures and manifests."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from audiogym.errors import ConfigError
from audiogym.tasks import music, sound, speech
from audiogym.tasks.core import (SAMPLE_RATE, AudioTask, Family, FamilyConfig, conversational_prompt,
                                 hash_name, render_prompt)
from audiogym.tasks.text import TEXT_REASONING

AUDIO_FAMILIES: dict[str, Family] = {f.name: f for f in music.FAMILIES + sound.FAMILIES + speech.FAMILIES}
FAMILIES: dict[str, Family] = {**AUDIO_FAMILIES, TEXT_REASONING.name: TEXT_REASONING}


def get_family(name: str) -> Family:
    try:
        return FAMILIES[name]
    except KeyError:
        raise ConfigError(f"unknown task family {name!r}; known: {', '.join(FAMILIES)}") from None


@dataclass
class Mixture:
    """A weighted mixture of families. Seed s gives family F's task for seed s, with F drawn
    from the weights by s, so a mixture task is the same task the family itself makes."""

    weights: dict[str, float] = field(default_factory=lambda: {name: 1.0 for name in AUDIO_FAMILIES})
    name: str = "Mixed"
    description: str = "A weighted mixture of task families (all audio families by default)."
    category: str = "mixed"

    def __post_init__(self) -> None:
        for name, w in self.weights.items():
            get_family(name)
            if not (isinstance(w, (int, float)) and w >= 0):
                raise ConfigError(f"mixture weight for {name}={w!r}: expected a number >= 0")
        if sum(self.weights.values()) <= 0:
            raise ConfigError("mixture weights must not all be zero")

    def family_for(self, seed: int) -> Family:
        names = list(self.weights)
        p = np.array([self.weights[n] for n in names], dtype=np.float64)
        rng = np.random.default_rng([hash_name(self.name), int(seed)])
        return FAMILIES[names[int(rng.choice(len(names), p=p / p.sum()))]]

    def make(self, seed: int, cfg: FamilyConfig | None = None) -> AudioTask:
        return self.family_for(seed).make(seed, cfg)


__all__ = ["AudioTask", "Family", "FamilyConfig", "Mixture", "SAMPLE_RATE", "AUDIO_FAMILIES", "FAMILIES",
           "get_family", "render_prompt", "conversational_prompt"]
