"""What a policy is: something that turns tasks into completions.

Models (`AudioLMPolicy`) and scripted teachers (`OraclePolicy`, ...) share this interface, so
evaluation, sampling stages and the CLI take either.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from audiogym.tasks.core import AudioTask


@dataclass
class Generation:
    """One sampled completion: its text and how many tokens (words, for scripted policies) it took."""

    text: str
    tokens: int


@runtime_checkable
class Policy(Protocol):
    name: str

    def generate(self, tasks: list[AudioTask], num_samples: int = 1, **kwargs: Any) -> list[list[Generation]]:
        """`num_samples` completions for each task, in task order. Models also take temperature,
        top_p, max_new_tokens and seed; scripted policies ignore them."""
        ...
