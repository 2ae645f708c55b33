"""Gymnasium environments, registered on import (Gymnasium 1.2 loads no plugin entry points).

`gym.make("audiogym:audiogym/ChordMood-v0")` imports audiogym and so registers everything.
"""

from __future__ import annotations

import gymnasium as gym

from audiogym.envs.audio_qa import AudioQAEnv
from audiogym.envs.wrappers import AudioFeatureObservation, ChoiceIndexAction
from audiogym.tasks import AUDIO_FAMILIES, Mixture
from audiogym.tasks.registry import on_register

ENTRY = "audiogym.envs.audio_qa:AudioQAEnv"
DESCRIPTIONS: dict[str, str] = {}


def _register(name: str, description: str) -> None:
    env_id = f"audiogym/{name}-v0"
    if env_id not in gym.registry:
        gym.register(id=env_id, entry_point=ENTRY, kwargs={"source": name})
    DESCRIPTIONS[env_id] = description


on_register(lambda family: _register(family.name, family.description))  # every family, now and later
_register("Mixed", Mixture().description)
_register("Manifest", "Questions from your MMAU-style JSON or JSONL manifest (path=...).")


def list_envs() -> list[str]:
    """Every registered audiogym environment id."""
    return list(DESCRIPTIONS)


__all__ = ["AudioQAEnv", "AudioFeatureObservation", "ChoiceIndexAction", "list_envs", "DESCRIPTIONS", "AUDIO_FAMILIES"]
