"""Composition: weighted sums, and routing by modality (MGRD eq. 8: audio questions get the
composite reward, text questions the binary one), declared in config.

    build_reward({"audio": {"composite_format": 1.0}, "text": {"binary": 1.0}})
    build_reward({"composite_format": 1.0, "grounding": 0.5, "self_cognition": 1.0})
"""

from __future__ import annotations

import math
from typing import Any

from audiogym.errors import ConfigError
from audiogym.rewards import grounding, outcome, selfcog  # noqa: F401  (each registers its rewards)
from audiogym.rewards.base import REWARDS, Reward
from audiogym.rewards.outcome import think_words


def make_reward(name: str, **options: Any) -> Reward:
    try:
        cls = REWARDS[name]
    except KeyError:
        raise ConfigError(f"unknown reward {name!r}; known: {', '.join(REWARDS)}") from None
    try:
        return cls(**options)
    except TypeError as e:
        raise ConfigError(f"reward {name!r}: {e}") from None


class Weighted(Reward):
    """sum(weight * reward); a component that returns None is left out (None if all are)."""

    def __init__(self, parts: dict[str, float] | list[tuple[Reward, float]], name: str = "weighted"):
        self.name = name
        items = parts.items() if isinstance(parts, dict) else parts
        self.parts = [(make_reward(r) if isinstance(r, str) else r, float(w)) for r, w in items]
        for r, _w in self.parts:
            if not isinstance(r, Reward):
                raise ConfigError(f"{name}: {r!r} is not an audiogym reward")
        lo = sum(min(w * r.bounds[0], w * r.bounds[1]) for r, w in self.parts)
        hi = sum(max(w * r.bounds[0], w * r.bounds[1]) for r, w in self.parts)
        self.bounds = (lo, hi)

    def score(self, text: str, row: dict[str, Any]) -> tuple[float | None, dict[str, Any]]:
        total, details, any_applied = 0.0, {}, False
        for r, w in self.parts:
            v, d = r.score(text, row)
            details[r.name] = v
            if v is not None:
                total += w * v
                any_applied = True
        return (total if any_applied else None), details


class ByModality(Reward):
    """Routes on the `category` column: text tasks to `text`, every other task to `audio`."""

    def __init__(self, audio: Reward, text: Reward, name: str = "mgrd"):
        self.name, self.audio, self.text = name, audio, text
        self.bounds = (min(audio.bounds[0], text.bounds[0]), max(audio.bounds[1], text.bounds[1]))

    def score(self, text: str, row: dict[str, Any]) -> tuple[float | None, dict[str, Any]]:
        route = "text" if row.get("category") == "text" else "audio"
        branch = self.text if route == "text" else self.audio
        v, d = branch.score(text, row)
        # `<route>/reward` and `<route>/think_words` keep the two kinds apart in the logged means
        # (TRL logs `<name>/<detail>`), whatever rewards the branches are: an RL stage's curve on
        # its audio items is `mgrd/audio/reward`.
        return v, {
            "route": route,
            branch.name: v,
            f"{route}/reward": v,
            f"{route}/think_words": think_words(text),
            **{k: x for k, x in d.items() if isinstance(x, (int, float, bool))},
        }


def _weighted(spec: dict[str, Any], name: str) -> Reward:
    for k, v in spec.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
            raise ConfigError(f"reward spec: weight for {k!r} must be a number >= 0, got {v!r}")
    if len(spec) == 1:
        ((only, w),) = spec.items()
        if float(w) == 1.0:
            return make_reward(only)
    return Weighted({k: float(v) for k, v in spec.items()}, name=name)


MGRD_SPEC = {"audio": "composite_format", "text": "binary"}  # the report's RL reward (eq. 8)


def routed_name(spec: dict[str, Any]) -> str:
    """The name TRL logs a routed reward under: `mgrd` for eq. 8 itself, else one that says what
    it routes (so that two different rewards never share a log key)."""
    if spec == MGRD_SPEC:
        return "mgrd"

    def part(s: Any) -> str:
        if isinstance(s, str):
            return s
        return "+".join(k if float(w) == 1.0 else f"{float(w):g}*{k}" for k, w in s.items())

    return f"routed(audio={part(spec['audio'])},text={part(spec['text'])})"


def build_reward(spec: str | dict[str, Any], name: str | None = None) -> Reward:
    """A reward from config: a name, {name: weight, ...}, or {"audio": {...}, "text": {...}}."""
    if isinstance(spec, str):
        return make_reward(spec)
    if not isinstance(spec, dict) or not spec:
        raise ConfigError(f"reward spec {spec!r}: expected a name or a mapping")
    if set(spec) <= {"audio", "text"} and all(isinstance(v, (dict, str)) for v in spec.values()):
        if set(spec) != {"audio", "text"}:
            raise ConfigError("a modality-routed reward needs both 'audio' and 'text'")
        part = lambda s, n: make_reward(s) if isinstance(s, str) else _weighted(s, n)  # noqa: E731
        return ByModality(
            part(spec["audio"], "audio_reward"), part(spec["text"], "text_reward"), name=name or routed_name(spec)
        )
    return _weighted(spec, name or "weighted")


# The report's RL reward (eq. 8): composite on audio questions, binary on text ones.
def mgrd_reward() -> Reward:
    return build_reward(dict(MGRD_SPEC), name="mgrd")
