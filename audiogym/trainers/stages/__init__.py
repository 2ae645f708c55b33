"""The stages of the MGRD recipe, one module each. A stage reads the model folder the previous
stage wrote and writes its own stage folder:

    <stage>/model/           the new model (weights + processor)
    <stage>/rollouts.jsonl   every sampled completion with its scores and filter decisions
    <stage>/selected.jsonl   what the stage kept (distillation chains, band questions, DPO pairs)
    <stage>/metrics.json     written last by the runner: its presence means the stage finished

Training is a thin layer over TRL (audio SFT, AudioGRPOTrainer, audio DPO); sampling and
filtering use the same reward code as everything else. `recipe_stages` is the recipe itself.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from audiogym.trainers.config import Config, RecipeConfig


@dataclass
class StageContext:
    name: str
    folder: Path              # this stage's folder
    model_in: Path            # the model folder this stage starts from (None-like for base)
    cfg: Config
    seed: int                 # recipe.seed + the stage's offset (audiogym.trainers.seeds)
    callbacks: list[Any] = field(default_factory=list)  # transformers TrainerCallbacks (tracking)

    @property
    def recipe(self) -> RecipeConfig:
        return self.cfg.recipe

    @property
    def model_out(self) -> Path:
        return self.folder / "model"


class Stage(Protocol):
    """One step of the recipe: `run` trains (or builds) `ctx.model_out` and returns its metrics."""

    name: str

    def run(self, ctx: StageContext) -> dict[str, Any]: ...


def recipe_stages(cfg: Config) -> list[Stage]:
    """base -> cold_start_sft -> cold_start_rlvr -> [round t distill -> round t rl] x T -> self_cognition"""
    from audiogym.trainers.stages.band_rl import BandRL
    from audiogym.trainers.stages.base import BuildBase
    from audiogym.trainers.stages.cold_start_rlvr import ColdStartRLVR
    from audiogym.trainers.stages.cold_start_sft import ColdStartSFT
    from audiogym.trainers.stages.distill import Distill
    from audiogym.trainers.stages.self_cognition import SelfCognition
    stages: list[Stage] = [BuildBase(), ColdStartSFT(), ColdStartRLVR()]
    for t in range(1, cfg.recipe.rounds.T + 1):
        stages += [Distill(t), BandRL(t)]
    stages.append(SelfCognition())
    return stages


def write_selected(ctx: StageContext, rows: Any) -> None:
    """What a stage kept, beside its rollouts (main process only)."""
    from audiogym.io import write_jsonl
    from audiogym.trainers import dist
    if dist.is_main():
        write_jsonl(ctx.folder / "selected.jsonl", rows)
