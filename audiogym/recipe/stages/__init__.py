"""The recipe itself: which stages run, in what order.

    base -> cold_start_sft -> cold_start_rlvr -> [round t distill -> round t rl] x T -> self_cognition

Adding a stage is its module (a `Stage` subclass), its config section, and one entry in one of
these lists; its seed follows from its position in the run (`audiogym.recipe.seeds`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from audiogym.recipe.stage import Stage
from audiogym.recipe.stages.band_rl import BandRL
from audiogym.recipe.stages.build_base import BuildBase
from audiogym.recipe.stages.cold_start_rlvr import ColdStartRLVR
from audiogym.recipe.stages.cold_start_sft import ColdStartSFT
from audiogym.recipe.stages.distill import Distill
from audiogym.recipe.stages.self_cognition import SelfCognition

if TYPE_CHECKING:
    from audiogym.recipe.config import Config

COLD_START: list[type[Stage]] = [BuildBase, ColdStartSFT, ColdStartRLVR]  # once, before the rounds
ROUND: list[type[Stage]] = [Distill, BandRL]  # once per round, T times
FINAL: list[type[Stage]] = [SelfCognition]  # once, after the rounds


def recipe_stages(cfg: Config) -> list[Stage]:
    """The run's stages in order."""
    stages = [cls(0, "cold_start") for cls in COLD_START]
    for t in range(1, cfg.recipe.rounds.T + 1):
        stages += [cls(t, "round") for cls in ROUND]
    return stages + [cls(0, "final") for cls in FINAL]


def cold_start_names() -> list[str]:
    """The stages before the rounds, in order (what the trials of a sweep may share)."""
    return [cls(0, "cold_start").name for cls in COLD_START]
