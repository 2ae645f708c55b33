"""The one reward API: a named callable with TRL's signature.

    reward(prompts, completions, **columns) -> list[float | None]

Columns are the dataset's reference columns (answer, choices, facts, transcript, category, ...),
one list entry per completion; extra keyword arguments TRL adds (trainer_state, log_metric,
log_extra, completion_ids) are accepted. A subclass implements `score(text, row) -> (value,
details)` for one completion; `details` is the breakdown `env.step` puts in `info` and the source
of the extra metrics logged through TRL's `log_metric` when it is given. Instances are picklable
(module-level classes with plain attributes), so they travel to Ray workers and dataloaders.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from audiogym.errors import ConfigError


def completion_text(completion: Any) -> str:
    """Plain text of a completion: a string, or TRL's conversational form (a list of messages)."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list) and completion and isinstance(completion[-1], dict):
        content = completion[-1].get("content", "")
        if isinstance(content, list):  # multimodal content parts; a part's text may be None
            return "".join(str(p.get("text") or "") for p in content if isinstance(p, dict))
        return "" if content is None else str(content)
    return "" if completion is None else str(completion)


def row_facts(row: dict[str, Any]) -> dict[str, Any]:
    """The task's facts as a dict (datasets carry them as JSON text)."""
    facts = row.get("facts")
    if isinstance(facts, str):
        try:
            facts = json.loads(facts) if facts else {}
        except json.JSONDecodeError:
            facts = {}
    return facts if isinstance(facts, dict) else {}


def task_row(task: Any) -> dict[str, Any]:
    """The reference columns of an AudioTask as one reward row; tasks without synthetic facts
    (manifests) also carry their audio, so grounding can measure it."""
    row = task.columns()
    if not row_facts(row) and len(getattr(task, "audio", ())):
        row["audio"] = {"array": task.audio}
    return row


# Reward classes by the name a config gives them (`build_reward`); a class registers itself with
# `@register_reward("name")`, as a family does with `register(Family(...))`.
REWARDS: dict[str, type[Reward]] = {}


def register_reward(name: str):
    """Class decorator: make a `Reward` subclass buildable by `name` from a config."""

    def add(cls: type[Reward]) -> type[Reward]:
        if name in REWARDS and REWARDS[name] is not cls:
            raise ValueError(f"a reward named {name!r} is already registered ({REWARDS[name].__name__})")
        REWARDS[name] = cls
        return cls

    return add


class Reward:
    """Base class. `name` is what TRL logs (`rewards/<name>/mean`); `bounds` the documented range."""

    name = "reward"
    bounds = (0.0, 1.0)
    # The columns `score` reads (None: all of them, and the prompt). A reward that names them
    # gets rows of just those: building an 11-column dict per completion costs more than the
    # binary reward's own work.
    reads: tuple[str, ...] | None = None

    @property
    def __name__(self) -> str:  # TRL and env.step read the name here
        return self.name

    def score(self, text: str, row: dict[str, Any]) -> tuple[float | None, dict[str, Any]]:
        raise NotImplementedError

    def __call__(
        self,
        prompts: list | None = None,
        completions: list | None = None,
        *,
        log_metric: Callable[[str, float], None] | None = None,
        **columns: Any,
    ) -> list[float | None]:
        completions = list(completions or [])
        n = len(completions)
        lists = {k: v for k, v in columns.items() if isinstance(v, (list, tuple))}
        for k, v in lists.items():
            if len(v) != n:  # a silently dropped column would score every sample as 'not applicable'
                raise ConfigError(f"reward {self.name}: column {k!r} has {len(v)} values for {n} completions")
        values, details = [], []
        if self.reads is not None:
            lists = {k: v for k, v in lists.items() if k in self.reads}
        keys = list(lists)
        with_prompt = (
            prompts is not None
            and len(prompts) == n
            and "prompt" not in lists
            and (self.reads is None or "prompt" in self.reads)
        )
        rows = [dict(zip(keys, cells)) for cells in zip(*lists.values())] if lists else [{} for _ in range(n)]
        if with_prompt:
            for row, prompt in zip(rows, prompts):  # type: ignore[arg-type]
                row["prompt"] = prompt
        score, low = self.score, self.bounds[0]
        for c, row in zip(completions, rows):
            value, detail = score(c if type(c) is str else completion_text(c), row)
            if value is not None and not math.isfinite(value):
                value = low
            values.append(value)
            details.append(detail)
        if log_metric is not None:
            self.log_details(details, log_metric)
        return values

    def log_details(self, details: list[dict[str, Any]], log_metric: Callable[[str, float], None]) -> None:
        """Log the mean of every numeric detail as `<name>/<detail>`."""
        keys = {k for d in details for k, v in d.items() if isinstance(v, (int, float, bool))}
        for k in sorted(keys):
            vals = [float(d[k]) for d in details if isinstance(d.get(k), (int, float, bool))]
            if vals:
                log_metric(f"{self.name}/{k}", sum(vals) / len(vals))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"
