"""Reward modules: pure functions of (task columns, completion text), with TRL's signature.

Every reward is called as `reward(prompts=[...], completions=[...], **columns)` where each column
(answer, choices, facts, transcript, category, ...) is a list with one entry per completion, and
returns a list of floats (or None where it does not apply). The same callables score `env.step`,
TRL training, the distillation filter and evaluation.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

from audiogym.rewards.parse import Parsed, answers_match, parse_completion, split_think


def completion_text(completion: Any) -> str:
    """Plain text of a completion: a string, or TRL's conversational form (a list of messages)."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list) and completion and isinstance(completion[-1], dict):
        content = completion[-1].get("content", "")
        if isinstance(content, list):  # multimodal content parts
            return "".join(p.get("text", "") for p in content if isinstance(p, dict))
        return str(content)
    return "" if completion is None else str(completion)


def is_correct(completion: str, answer: str, choices: Sequence[str] | None = None) -> bool:
    """The completion's final answer is the reference answer (eqs. 2 and 6)."""
    parsed = parse_completion(completion, list(choices) if choices else None)
    if choices:
        return parsed.answer is not None and parsed.answer == answer
    return answers_match(parsed.answer, answer)


def exact_answer(prompts: list, completions: list, answer: list[str], choices: list | None = None,
                 **columns: Any) -> list[float]:
    """1.0 when the final answer is the reference answer, else 0.0."""
    choices = choices if choices is not None else [None] * len(completions)
    return [float(is_correct(completion_text(c), a, ch)) for c, a, ch in zip(completions, answer, choices)]


def score(reward_fns: Sequence[Callable], prompt: str, completion: str, task: Any) -> tuple[float, dict[str, float | None]]:
    """Score one completion on one task with each reward; (sum, {reward name: value})."""
    columns = {k: [v] for k, v in task.columns().items()}
    breakdown: dict[str, float | None] = {}
    for fn in reward_fns:
        value = fn(prompts=[prompt], completions=[completion], **columns)[0]
        breakdown[getattr(fn, "__name__", type(fn).__name__)] = value
    return float(sum(v for v in breakdown.values() if v is not None)), breakdown


__all__ = ["Parsed", "completion_text", "exact_answer", "is_correct", "parse_completion", "score", "split_think"]
