"""What a stage of the recipe is, and what it is handed when it runs.

A stage reads the model folder the previous stage wrote and writes its own stage folder:

    <stage>/model/           the new model (weights + processor)
    <stage>/rollouts.jsonl   every sampled completion with its scores and filter decisions
    <stage>/selected.jsonl   what the stage kept (distillation chains, band questions, DPO pairs)
    <stage>/metrics.json     written last by the runner: its presence means the stage finished

A stage class describes itself: its `kind` (its name outside a round), the config section it reads
(`config_key`, a dotted path under `recipe`), its data streams, and, per instance, the round it
belongs to. The recipe's list (`audiogym.recipe.stages`) places it; nothing else names it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from audiogym.recipe.seeds import stage_seed, stream_seed
from audiogym.trainers.job import TrainJob

if TYPE_CHECKING:
    from audiogym.recipe.config import Config, RecipeConfig

PHASES = ("cold_start", "round", "final")


class Stage:
    """One step of the recipe: `run(ctx)` trains (or builds) `ctx.model_out` and returns its metrics.

    Subclasses set `kind`, and `config_key` / `streams` where they have them. A stage placed in the
    rounds is made once per round (`round` 1..T); the others have round 0."""

    kind: ClassVar[str]
    config_key: ClassVar[str | None] = None  # the section it reads: `recipe.<config_key>`
    streams: ClassVar[dict[str, int]] = {}  # its data streams: name -> offset from the stage seed

    def __init__(self, round: int = 0, phase: str = "cold_start"):
        if phase not in PHASES:
            raise ValueError(f"phase={phase!r}: expected one of {PHASES}")
        self.round, self.phase = round, phase

    @property
    def name(self) -> str:
        return f"round{self.round}_{self.kind}" if self.round else self.kind

    def describe(self) -> dict[str, Any]:
        """What a stage table row and a sweep know of the stage besides its numbers."""
        return {"stage": self.name, "kind": self.kind, "round": self.round, "phase": self.phase}

    def run(self, ctx: StageContext) -> dict[str, Any]:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name})"


@dataclass
class StageContext:
    stage: Stage
    folder: Path  # this stage's folder
    model_in: Path  # the model folder this stage starts from
    cfg: Config
    position: int  # the stage's place in the run (0 = the first stage): its seeds follow from it
    callbacks: list[Any] = field(default_factory=list)  # transformers TrainerCallbacks (tracking)
    verbose: bool = False  # TRL's per-step logs on the terminal

    @property
    def name(self) -> str:
        return self.stage.name

    @property
    def seed(self) -> int:
        """The stage's seed: its trainer's data order and dropout, its sampling (audiogym.recipe.seeds)."""
        return stage_seed(self.recipe.seed, self.position)

    @property
    def recipe(self) -> RecipeConfig:
        return self.cfg.recipe

    @property
    def model_out(self) -> Path:
        return self.folder / "model"

    @property
    def section(self) -> Any:
        """The stage's config section (`recipe.<config_key>`)."""
        key = self.stage.config_key
        if key is None:
            raise AttributeError(f"stage {self.name} has no config section")
        return functools.reduce(getattr, key.split("."), self.recipe)

    def stream(self, name: str) -> int:
        """The seed of one of the stage's data streams (no two stages, rounds or runs share one)."""
        return stream_seed(self.recipe.seed, self.position, self.stage.streams[name])

    def job(self) -> TrainJob:
        """What the stage's TRL trainer needs to know of the run."""
        return TrainJob(
            name=self.name,
            model_in=self.model_in,
            model_out=self.model_out,
            work_dir=self.folder,
            seed=self.seed,
            freeze_encoder=self.recipe.freeze_encoder,
            backend=self.recipe.generation.backend,
            gradient_checkpointing=self.recipe.gradient_checkpointing,
            verbose=self.verbose,
            callbacks=list(self.callbacks),
        )


def write_selected(ctx: StageContext, rows: Any) -> None:
    """What a stage kept, beside its rollouts (main process only)."""
    from audiogym.io import write_jsonl
    from audiogym.trainers import dist

    if dist.is_main():
        write_jsonl(ctx.folder / "selected.jsonl", rows)
