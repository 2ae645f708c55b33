"""AudioQAEnv: one audio question per episode, answered with text, scored by a reward module."""

from __future__ import annotations

import string
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from audiogym.errors import AudiogymError, ConfigError
from audiogym.rewards import build_reward, exact_answer, is_correct, score
from audiogym.rewards.parse import parse_completion
from audiogym.tasks.core import SAMPLE_RATE, AudioTask, render_prompt
from audiogym.tasks.manifest import Manifest
from audiogym.tasks.sources import make_source, resolve_config, source_seconds

MAX_TEXT = 4096
MAX_ACTION = 100_000
MAX_CHOICES = 8


class AnyText(spaces.Text):
    """A completion: any string up to `max_length` characters, in any script (the parsers read
    Chinese answers too); `sample()` draws from the ASCII `charset` as `spaces.Text` does."""

    def contains(self, x: Any) -> bool:
        return isinstance(x, str) and self.min_length <= len(x) <= self.max_length


class AudioQAEnv(gym.Env):
    """One question per episode: observe audio + question + choices (+ transcript), answer in text.

    Observation: `Dict(audio=Box(float32, (max_samples,)), question=Text, choices=Sequence(Text),
    transcript=Text)`; audio is 16 kHz mono, zero-padded (or cut) to `max_seconds`.
    Action: the completion text (reasoning and answer). The episode ends after one step.
    Reward: `reward(prompts, completions, **columns)` (TRL's signature) for this task; `info`
    carries the reference answer, the parsed answer and the reward breakdown.
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 1}

    def __init__(
        self,
        source: Any = "Mixed",
        config: Any = None,
        reward: Callable | list | None = None,
        show_transcript: bool = True,
        max_seconds: float | None = None,
        path: str | None = None,
        skip_invalid: bool = False,
        weights: dict[str, float] | None = None,
        instruction: str | None = None,
        render_mode: str | None = None,
        task_pool: int | None = None,
        **config_fields: Any,
    ):
        self.source = make_source(
            source, path=path, skip_invalid=skip_invalid, weights=weights, max_seconds=max_seconds
        )
        self.config = resolve_config(self.source, config, config_fields)  # gym.make(id, difficulty="hard")
        # task_pool=N: episodes draw from N fixed task seeds and reuse the made tasks (classic RL
        # runs revisit tasks instead of synthesizing one per reset)
        if task_pool is not None and not (isinstance(task_pool, int) and task_pool >= 1):
            raise ConfigError(f"task_pool={task_pool!r}: expected an integer >= 1")
        self.task_pool = task_pool
        self._pool: dict[int, AudioTask] = {}
        if isinstance(reward, (str, dict)):
            reward = build_reward(reward)
        self.reward_fns = list(reward) if isinstance(reward, (list, tuple)) else [reward or exact_answer]
        self.show_transcript = show_transcript
        self.instruction = instruction
        self.render_mode = render_mode
        self.max_samples = int(round((max_seconds or source_seconds(self.source, config)) * SAMPLE_RATE))
        chars = set(string.printable)
        if isinstance(self.source, Manifest):
            chars |= {c for t in self.source.texts() for c in t}
        charset = "".join(sorted(chars))
        text = spaces.Text(max_length=MAX_TEXT, min_length=0, charset=charset)
        self.observation_space = spaces.Dict(
            {
                "audio": spaces.Box(-1.0, 1.0, shape=(self.max_samples,), dtype=np.float32),
                "question": text,
                "choices": spaces.Sequence(spaces.Text(max_length=MAX_TEXT, min_length=0, charset=charset)),
                "transcript": text,
            }
        )
        self.action_space = AnyText(max_length=MAX_ACTION, min_length=0, charset=string.printable)
        self.task: AudioTask | None = None
        self._last: dict[str, Any] | None = None
        self._done = False

    # -- episode ----------------------------------------------------------------------------

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        options = options or {}
        if "task_seed" in options:
            task_seed = int(options["task_seed"])
        elif "index" in options and isinstance(self.source, Manifest):
            task_seed = int(options["index"])
        elif self.task_pool:
            task_seed = int(self.np_random.integers(0, self.task_pool))
        else:
            task_seed = int(self.np_random.integers(0, 2**31 - 1))
        if self.task_pool and task_seed in self._pool:
            self.task = self._pool[task_seed]
        else:
            self.task = (
                self.source.make(task_seed, self.config) if self.config is not None else self.source.make(task_seed)
            )
            if self.task_pool:
                self._pool[task_seed] = self.task
        self._last = None
        self._done = False
        return self._observation(), self._reset_info()

    def step(self, action: str):
        if self.task is None:
            raise AudiogymError("call reset() before step()")
        if self._done:
            raise AudiogymError("the episode is over (one step per episode); call reset() before step()")
        if not isinstance(action, str):
            raise AudiogymError(f"the action is the completion text (a str), got {type(action).__name__}")
        task = self.task
        prompt = self.prompt()
        total, breakdown, details = score(self.reward_fns, prompt, action, task)
        parsed = parse_completion(action, task.choices or None)
        # Every value has one type whatever the completion, so vector envs can stack infos:
        # no answer is parsed_choice -1 and parsed_answer "" (answered: False).
        info = {
            "task_id": task.id,
            "answer": task.answer,
            "answer_letter": task.answer_letter or "",
            "answered": parsed.answer is not None,
            "parsed_answer": parsed.answer or "",
            "parsed_choice": -1 if parsed.choice is None else int(parsed.choice),
            "correct": is_correct(action, task.answer, task.choices),
            "reward_breakdown": breakdown,
            "reward_details": details,
            "conflict": task.conflict,
            "family": task.family,
            "category": task.category,
        }
        self._last = {"action": action, **info}
        self._done = True
        return self._observation(), float(total), True, False, info

    # -- views ------------------------------------------------------------------------------

    def prompt(self) -> str:
        """The text prompt of the current task (what a language model is shown beside the audio)."""
        assert self.task is not None
        return render_prompt(self.task, show_transcript=self.show_transcript, instruction=self.instruction)

    def _observation(self) -> dict[str, Any]:
        t = self.task
        assert t is not None
        audio = np.zeros(self.max_samples, np.float32)
        clip = t.audio[: self.max_samples]
        audio[: len(clip)] = clip
        return {
            "audio": audio,
            "question": t.question[:MAX_TEXT],
            "choices": tuple(c[:MAX_TEXT] for c in t.choices),
            "transcript": (t.transcript if self.show_transcript else "")[:MAX_TEXT],
        }

    def _reset_info(self) -> dict[str, Any]:
        t = self.task
        assert t is not None
        mask = np.zeros(MAX_CHOICES, np.int8)
        mask[: min(len(t.choices), MAX_CHOICES)] = 1
        return {
            "task_id": t.id,
            "family": t.family,
            "category": t.category,
            "skill": t.skill,
            "difficulty": t.difficulty,
            "prompt": self.prompt(),
            "sample_rate": SAMPLE_RATE,
            "audio_seconds": round(min(len(t.audio), self.max_samples) / SAMPLE_RATE, 4),
            "action_mask": mask,
        }

    def render(self):
        if self.render_mode != "ansi" or self.task is None:
            return None
        out = f"[{self.task.id}] {self.prompt()}"
        if self._last:
            out += (
                f"\n> {self._last['action'][:500]}\nanswer: {self.task.answer}  parsed: {self._last['parsed_answer']}"
            )
        return out
