"""Task sources: everything that makes `AudioTask`s by seed (families, mixtures) or index (manifests).

Environments, datasets, evaluation and the recipe's stages all get their tasks here, without going
through the Gymnasium registry.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from audiogym.errors import ConfigError
from audiogym.tasks.core import AudioTask, hash_name
from audiogym.tasks.family import Family, FamilyConfig
from audiogym.tasks.registry import AUDIO_FAMILIES, FAMILIES, get_family

TEXT_ONLY_SECONDS = 0.1  # text tasks carry this much silence so an observation keeps its shape


@runtime_checkable
class TaskSource(Protocol):
    """Anything that makes a task from an integer: a seed (families, mixtures) or an index (manifests).
    The same integer and config give the same task, bit for bit."""

    @property
    def name(self) -> str: ...

    @property
    def description(self) -> str: ...

    @property
    def category(self) -> str: ...

    def make(self, seed: int, cfg: Any = None) -> AudioTask: ...


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

    def make(self, seed: int, cfg: FamilyConfig | dict[str, Any] | None = None) -> AudioTask:
        """The drawn family's task; a mapping `cfg` gives each family the keys its config has."""
        family = self.family_for(seed)
        if isinstance(cfg, dict):
            return family.make(seed, family.make_config(cfg, strict=False))
        return family.make(seed, cfg)

    def check_config(self, cfg: dict[str, Any]) -> None:
        """Every key of a mapping config belongs to at least one family of the mixture."""
        from dataclasses import fields

        names = {f.name for n in self.weights for f in fields(FAMILIES[n].config)}
        for k in cfg:
            if k not in names:
                raise ConfigError(f"{self.name}: unknown config key {k!r}; known: {', '.join(sorted(names))}")
        for n in self.weights:
            FAMILIES[n].make_config(cfg, strict=False)


def make_source(
    source: Any,
    path: str | None = None,
    skip_invalid: bool = False,
    weights: dict[str, float] | None = None,
    max_seconds: float | None = None,
) -> TaskSource:
    """A task source from a name ('ChordMood', 'Mixed', 'Manifest') or an object with make(seed)."""
    if not isinstance(source, str):
        return source
    if source == "Manifest":
        from audiogym.tasks.manifest import Manifest

        if not path:
            raise ConfigError("audiogym/Manifest-v0 needs path=<manifest .json or .jsonl>")
        return Manifest(path, skip_invalid=skip_invalid, max_seconds=max_seconds or 30.0)
    if source == "Mixed":
        return Mixture(weights) if weights else Mixture()
    return get_family(source)


def resolve_config(source: Any, config: Any = None, fields: dict[str, Any] | None = None) -> Any:
    """The config a source makes tasks with, from `config` (an instance or a mapping) and/or config
    fields given as keywords (`difficulty="hard"`): a validated family config, or for a mixture a
    checked mapping (each family takes the keys its config has)."""
    if not (isinstance(config, dict) or fields):
        return config
    if config is not None and not isinstance(config, dict):
        raise ConfigError("give config=<instance> or config fields as keywords, not both")
    overrides = {**(config or {}), **(fields or {})}
    if isinstance(source, Mixture):
        source.check_config(overrides)
        return overrides
    if not hasattr(source, "make_config"):
        raise ConfigError(f"{type(source).__name__} takes no config ({', '.join(overrides)})")
    return source.make_config(overrides)


def source_seconds(source: Any, config: Any = None) -> float:
    """The longest clip a source makes (what an observation's audio box must hold)."""
    from audiogym.tasks.manifest import Manifest

    if isinstance(source, Manifest):
        return source.max_seconds or 30.0
    if isinstance(source, Mixture):
        return max(source_seconds(FAMILIES[n]) for n, w in source.weights.items() if w > 0)
    if getattr(source, "category", "") == "text":
        return TEXT_ONLY_SECONDS
    cfg = config or getattr(source, "config", lambda: None)()
    return float(getattr(cfg, "duration", 4.0))


def task_seeds(n: int, seed: int) -> list[int]:
    """n distinct task seeds drawn from `seed` (the same n and seed give the same list)."""
    rng = np.random.default_rng(seed)
    seen: dict[int, None] = {}
    while len(seen) < n:
        for s in rng.integers(0, 2**31 - 1, size=n - len(seen)):
            seen.setdefault(int(s))
    return list(seen)


def source_tasks(source: TaskSource, n: int, seed: int = 0, cfg: Any = None) -> list[AudioTask]:
    """n tasks of one source from distinct seeds drawn from `seed`."""
    return [source.make(s, cfg) if cfg is not None else source.make(s) for s in task_seeds(n, seed)]


def iter_tasks(families: list[str], n: int, seed: int, cfg: dict[str, Any] | None = None) -> Iterator[AudioTask]:
    """Up to n tasks spread evenly over the families, from distinct seeds drawn from `seed`, made
    one at a time (synthesis costs ~40 ms a task: callers that filter stop early). `cfg`: config
    keys given to every family that has them (e.g. {"transcript_mode": "independent"})."""
    for i, s in enumerate(task_seeds(n, seed)):
        family = get_family(families[i % len(families)])
        yield family.make(s) if cfg is None else family.make(s, family.make_config(cfg, strict=False))


def make_tasks(families: list[str], n: int, seed: int, cfg: dict[str, Any] | None = None) -> list[AudioTask]:
    """n tasks spread evenly over the families, from distinct seeds drawn from `seed`."""
    return list(iter_tasks(families, n, seed, cfg))


def make_cue_mix(families: list[str], n_per_family: int, seed: int, shares: dict[str, float]) -> list[AudioTask]:
    """n_per_family audio tasks of each family, split between transcript modes by `shares` (mode ->
    share, e.g. {"mixed": 0.5, "independent": 0.25, "none": 0.25}), every task from its own seed
    (no two share a clip)."""
    counts = {mode: round(n_per_family * share) for mode, share in shares.items()}
    first = next(iter(counts))
    counts[first] += n_per_family - sum(counts.values())
    seeds = task_seeds(n_per_family * len(families), seed)
    out: list[AudioTask] = []
    for j, name in enumerate(families):
        family, own = get_family(name), seeds[j :: len(families)]
        for mode, k in counts.items():
            cfg = family.make_config({"transcript_mode": mode})
            out += [family.make(s, cfg) for s in own[:k]]
            own = own[k:]
    return out


def split_task_id(task_id: str) -> tuple[str, str, str]:
    """(family, seed, transcript mode) of an id like 'Tempo-12345@none' ('' where a part is absent)."""
    base, _, mode = task_id.partition("@")
    family, _, seed = base.rpartition("-")
    return family, seed, mode


def task_from_id(task_id: str) -> AudioTask | None:
    """The procedural task an id like 'Tempo-12345' names (None for other ids)."""
    family, seed, mode = split_task_id(task_id)
    if family in FAMILIES and seed.isdigit():
        return FAMILIES[family].make(int(seed), {"transcript_mode": mode} if mode else None)
    return None
