"""Reward modules: pure functions of (task columns, completion text), with TRL's signature.

    reward(prompts, completions, **columns) -> list[float | None]

The same objects score `env.step`, TRL training (`GRPOTrainer(reward_funcs=[...])`), the
distillation filter and evaluation.

| name | range | what |
|---|---|---|
| binary (also `exact_answer`) | [0, 1] | final answer correct (eqs. 2, 6) |
| composite_format | [0, 1] | 0.8 correct + 0.2 real reasoning present (eq. 7) |
| reasoning_format | [0, 1] | real reasoning present |
| grounding | [0, 1], None on text | cites and correctly describes audible evidence, not the transcript |
| self_cognition | [-1, 0] | -1 when the reply says it cannot hear audio |
| Weighted / ByModality / build_reward | | sums and the eq. 8 routing, from config |
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from audiogym.rewards.base import Reward, completion_text, task_row
from audiogym.rewards.compose import ByModality, Weighted, build_reward, make_reward, mgrd_reward
from audiogym.rewards.grounding import GroundingFilter, GroundingReward, grounding_of, is_grounded
from audiogym.rewards.outcome import Binary, CompositeFormat, ReasoningFormat, is_correct, reasoning_present
from audiogym.rewards.parse import Parsed, parse_completion, split_think
from audiogym.rewards.selfcog import SelfCognitionPenalty, self_cognition_error

binary = Binary()
exact_answer = Binary(name="exact_answer")
composite_format = CompositeFormat()
reasoning_format = ReasoningFormat()
grounding = GroundingReward()
self_cognition = SelfCognitionPenalty()


def score(
    reward_fns: Sequence[Callable], prompt: str, completion: str, task: Any
) -> tuple[float, dict[str, float | None], dict[str, dict[str, Any]]]:
    """Score one completion on one task with each reward: (sum, {name: value}, {name: details})."""
    row = task_row(task)
    values: dict[str, float | None] = {}
    details: dict[str, dict[str, Any]] = {}
    for fn in reward_fns:
        name = getattr(fn, "__name__", type(fn).__name__)
        if isinstance(fn, Reward):
            values[name], details[name] = fn.score(completion_text(completion), {**row, "prompt": prompt})
        else:
            values[name] = fn(prompts=[prompt], completions=[completion], **{k: [v] for k, v in row.items()})[0]
    return float(sum(v for v in values.values() if v is not None)), values, details


__all__ = [
    "Binary",
    "ByModality",
    "CompositeFormat",
    "GroundingFilter",
    "GroundingReward",
    "Parsed",
    "ReasoningFormat",
    "Reward",
    "SelfCognitionPenalty",
    "Weighted",
    "binary",
    "build_reward",
    "completion_text",
    "composite_format",
    "exact_answer",
    "grounding",
    "grounding_of",
    "is_correct",
    "is_grounded",
    "make_reward",
    "mgrd_reward",
    "parse_completion",
    "reasoning_format",
    "reasoning_present",
    "score",
    "self_cognition",
    "self_cognition_error",
    "split_think",
]
