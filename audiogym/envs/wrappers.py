"""Wrappers that let classic RL libraries use the same tasks.

- `ChoiceIndexAction`: the action is the index of a choice (Discrete), not free text.
- `AudioFeatureObservation`: the observation is a fixed-size vector of measured acoustic features
  (audiogym.analysis), not raw audio and text. RLlib's new API stack rejects Text spaces; with
  both wrappers the environment is a plain Box -> Discrete problem.
Both inherit `RecordConstructorArgs`, so `gym.make(env.spec)` rebuilds the whole stack.
"""
from __future__ import annotations

import numpy as np
from gymnasium import ActionWrapper, ObservationWrapper, spaces
from gymnasium.utils import RecordConstructorArgs

from audiogym.analysis import FEATURE_NAMES, feature_vector, measure
from audiogym.envs.audio_qa import MAX_CHOICES
from audiogym.tasks.core import LETTERS


class ChoiceIndexAction(ActionWrapper, RecordConstructorArgs):
    """Discrete(max_choices) actions; index i answers with the i-th choice's letter. An index past
    the task's choices answers nothing (reward as for a wrong answer); `info["action_mask"]` at
    reset marks the valid ones."""

    def __init__(self, env, max_choices: int = MAX_CHOICES):
        RecordConstructorArgs.__init__(self, max_choices=max_choices)
        ActionWrapper.__init__(self, env)
        self.action_space = spaces.Discrete(max_choices)

    def action(self, action) -> str:
        i = int(action)
        n = len(self.env.unwrapped.task.choices)  # type: ignore[attr-defined]
        return f"The answer is ({LETTERS[i]})." if 0 <= i < n else ""


class AudioFeatureObservation(ObservationWrapper, RecordConstructorArgs):
    """Observation = `feature_vector(measure(audio))` (names in FEATURE_NAMES)."""

    def __init__(self, env):
        RecordConstructorArgs.__init__(self)
        ObservationWrapper.__init__(self, env)
        self.observation_space = spaces.Box(-np.inf, np.inf, shape=(len(FEATURE_NAMES),), dtype=np.float32)

    def observation(self, observation) -> np.ndarray:
        task = self.env.unwrapped.task  # type: ignore[attr-defined]
        return feature_vector(measure(task.audio if len(task.audio) else observation["audio"]))
