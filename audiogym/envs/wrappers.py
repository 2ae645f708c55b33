"""Wrappers that let classic RL libraries use the same tasks.

- `ChoiceIndexAction`: the action is the index of a choice (Discrete), not free text. With
  `options` (a family's answers in a fixed order) action i means "the option named options[i]",
  wherever the task shuffled it: the canonical action space a classic policy can learn.
- `AudioFeatureObservation`: the observation is a fixed-size vector of measured acoustic features
  (audiogym.analysis), not raw audio and text; `normalize=True` scales each to about [-1, 1] and
  bounds the box; `action_mask=True` makes it `Dict(features, action_mask)` (which actions name one
  of this task's choices). Measurements are cached per task id (`AudioQAEnv(task_pool=N)` reuses
  N tasks, so a classic RL run does not synthesize and measure on every reset).
RLlib's new API stack rejects Text spaces; with both wrappers the environment is a plain
Box (or Dict of Boxes) -> Discrete problem. Both inherit `RecordConstructorArgs`, so
`gym.make(env.spec)` rebuilds the whole stack.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np
from gymnasium import ActionWrapper, ObservationWrapper, spaces
from gymnasium.utils import RecordConstructorArgs

from audiogym.analysis import measure
from audiogym.envs.audio_qa import MAX_CHOICES
from audiogym.features import FEATURE_NAMES, feature_vector, normalize_features
from audiogym.tasks.core import LETTERS


def _choice_slots(task, options: list[str] | None, n: int) -> np.ndarray:
    """For each action, the index of the task's choice it names (-1: none)."""
    if options is None:
        return np.array([i if i < len(task.choices) else -1 for i in range(n)])
    return np.array([task.choices.index(o) if o in task.choices else -1 for o in options])


class ChoiceIndexAction(ActionWrapper, RecordConstructorArgs):
    """Discrete actions; index i answers with the i-th choice's letter (or, with `options`, with
    the letter of the choice named options[i]). An action that names no choice of the task answers
    nothing (reward as for a wrong answer); `info["action_mask"]` at reset marks the valid ones."""

    def __init__(self, env, max_choices: int = MAX_CHOICES, options: list[str] | None = None):
        RecordConstructorArgs.__init__(self, max_choices=max_choices, options=options)
        ActionWrapper.__init__(self, env)
        self.options = list(options) if options else None
        self.max_choices = max_choices
        self.action_space = spaces.Discrete(len(self.options) if self.options else max_choices)

    def reset(self, **kwargs):
        obs, info = self.env.reset(**kwargs)
        if self.options is not None:
            info["action_mask"] = (_choice_slots(current_task(self.env), self.options, 0) >= 0).astype(np.int8)
        return obs, info

    def action(self, action) -> str:
        i = int(action)
        task = current_task(self.env)
        slots = _choice_slots(task, self.options, len(self.options) if self.options else self.max_choices)
        j = int(slots[i]) if 0 <= i < len(slots) else -1
        return f"The answer is ({LETTERS[j]})." if j >= 0 else ""


def current_task(env: Any) -> Any:
    """The AudioTask of the episode under any wrapper stack."""
    return env.unwrapped.task


class AudioFeatureObservation(ObservationWrapper, RecordConstructorArgs):
    """Observation = `feature_vector(measure(audio))` (names in FEATURE_NAMES), optionally
    normalised and bounded, optionally with the action mask."""

    CACHE = 4096  # measurements kept per wrapper (task ids repeat with a task pool)

    def __init__(self, env, normalize: bool = False, action_mask: bool = False):
        RecordConstructorArgs.__init__(self, normalize=normalize, action_mask=action_mask)
        ObservationWrapper.__init__(self, env)
        self.normalize, self.with_mask = normalize, action_mask
        bound = 5.0 if normalize else np.inf
        features = spaces.Box(-bound, bound, shape=(len(FEATURE_NAMES),), dtype=np.float32)
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        if action_mask:
            n = int(env.action_space.n) if isinstance(env.action_space, spaces.Discrete) else MAX_CHOICES
            self.observation_space = spaces.Dict(
                {"features": features, "action_mask": spaces.Box(0.0, 1.0, shape=(n,), dtype=np.float32)}
            )
        else:
            self.observation_space = features

    def _features(self, task, audio) -> np.ndarray:
        key = task.id
        if key not in self._cache:
            vec = feature_vector(measure(task.audio if len(task.audio) else audio))
            self._cache[key] = normalize_features(vec) if self.normalize else vec
            if len(self._cache) > self.CACHE:
                self._cache.popitem(last=False)
        return self._cache[key]

    def observation(self, observation):
        task = current_task(self.env)
        vec = self._features(task, observation["audio"])
        if not self.with_mask:
            return vec
        space = self.observation_space["action_mask"]  # type: ignore[index]
        options = getattr(self.env, "options", None)
        mask = (_choice_slots(task, options, space.shape[0]) >= 0).astype(np.float32)
        return {"features": vec, "action_mask": mask}
