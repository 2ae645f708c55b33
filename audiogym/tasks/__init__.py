"""Tasks: the AudioTask model, the procedural families (one module each), mixtures and manifests."""

from __future__ import annotations

from audiogym.tasks import families  # noqa: F401  (registers every built-in family)
from audiogym.tasks.core import (
    SAMPLE_RATE,
    AudioTask,
    conversational_prompt,
    render_prompt,
)
from audiogym.tasks.family import ClaimSpec, Family, FamilyConfig
from audiogym.tasks.registry import AUDIO_FAMILIES, FAMILIES, get_family, register
from audiogym.tasks.sources import (
    Mixture,
    TaskSource,
    make_source,
    make_tasks,
    task_seeds,
)

__all__ = [
    "AudioTask",
    "ClaimSpec",
    "Family",
    "FamilyConfig",
    "Mixture",
    "SAMPLE_RATE",
    "AUDIO_FAMILIES",
    "FAMILIES",
    "TaskSource",
    "get_family",
    "make_source",
    "make_tasks",
    "register",
    "render_prompt",
    "conversational_prompt",
    "task_seeds",
]
