"""The training sections every TRL stage takes (SFT, GRPO, DPO) and the bound checks all config
sections share: each section is a typed dataclass whose `validate(key)` raises one `ConfigError`
line naming the key."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from audiogym.errors import ConfigError

MAX_ITEMS = 100_000  # any count of questions, rows or probes
MAX_TOKENS = 32_768
MAX_STEPS = 10_000_000
GRPO_LOSSES = ("grpo", "dr_grpo", "dapo", "bnpo", "cispo")  # the TRL losses a stage may choose
REWARD_SCALINGS = ("group", "batch", "none")  # how GRPO scales advantages (TRL's scale_rewards)


def check(key: str, value: Any, lo: float, hi: float, *, lo_open: bool = False) -> None:
    """value in [lo, hi] (or (lo, hi] with lo_open), finite; else one line naming the key."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (value > lo if lo_open else value >= lo) and value <= hi
    if not ok:
        low = f"> {lo}" if lo_open else f">= {lo}"
        raise ConfigError(f"{key}={value!r}: expected a number {low} and <= {hi:g}")


def check_train(key: str, max_steps: int, batch: int, lr: float) -> None:
    check(f"{key}.max_steps", max_steps, 1, MAX_STEPS)  # 0 or -1 make TRL fall back to epochs
    check(f"{key}.batch", batch, 1, 4096)
    check(f"{key}.lr", lr, 0.0, 1.0, lo_open=True)


@dataclass
class SFTSection:
    max_steps: int = 400
    batch: int = 16
    lr: float = 1e-3

    def validate(self, key: str) -> None:
        check_train(key, self.max_steps, self.batch, self.lr)


@dataclass
class GRPOSection:
    max_steps: int = 8
    num_generations: int = 4
    batch: int = 8
    lr: float = 2e-4
    max_new_tokens: int = 48
    beta: float = 0.0  # KL to the reference; 0 skips the reference model
    temperature: float = 1.0  # sampling temperature of the rollouts
    top_k: int = 0  # rollouts sample the top_k likeliest tokens (0: the whole vocabulary)
    loss_type: str = "dapo"  # TRL's GRPO loss (grpo, dr_grpo, dapo, bnpo, ...)
    # advantages divided by the reward's std within each group (TRL's default), over the whole batch,
    # or not at all (Dr. GRPO). Within a group whose samples are all right or all wrong, "group"
    # turns the composite reward's 0.2 format term into a full unit of advantage.
    scale_rewards: str = "group"

    def validate(self, key: str) -> None:
        check_train(key, self.max_steps, self.batch, self.lr)
        check(f"{key}.num_generations", self.num_generations, 2, 256)
        check(f"{key}.temperature", self.temperature, 0.0, 10.0, lo_open=True)
        check(f"{key}.top_k", self.top_k, 0, 1_000_000)
        if self.loss_type not in GRPO_LOSSES:
            raise ConfigError(f"{key}.loss_type={self.loss_type!r}: expected one of {', '.join(GRPO_LOSSES)}")
        if self.scale_rewards not in REWARD_SCALINGS:
            raise ConfigError(
                f"{key}.scale_rewards={self.scale_rewards!r}: expected one of {', '.join(REWARD_SCALINGS)}"
            )
        if self.batch % self.num_generations:
            raise ConfigError(
                f"{key}: batch ({self.batch}) must be a multiple of num_generations ({self.num_generations})"
            )
        check(f"{key}.max_new_tokens", self.max_new_tokens, 1, MAX_TOKENS)
        check(f"{key}.beta", self.beta, 0.0, 100.0)


@dataclass
class DPOSection(SFTSection):
    max_steps: int = 20
    batch: int = 8
    lr: float = 5e-5  # 5e-4 wrecked the tiny model
    beta: float = 0.1

    def validate(self, key: str) -> None:
        super().validate(key)
        check(f"{key}.beta", self.beta, 0.0, 100.0, lo_open=True)
