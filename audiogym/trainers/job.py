"""What a TRL training call needs to know about its run, and nothing more: where the model comes
from and goes, the seed, the callbacks, whether the audio encoder is frozen, who generates."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class TrainJob:
    name: str  # the run name TRL logs under (a recipe stage's name)
    model_in: Path  # the model folder training starts from
    model_out: Path  # where the trained model is saved (atomically)
    work_dir: Path  # the trainer's output_dir and its per-step log
    seed: int  # data order and dropout
    freeze_encoder: bool = True
    backend: str = "hf"  # who generates GRPO rollouts: hf | vllm | auto
    gradient_checkpointing: bool = False
    verbose: bool = False  # TRL's per-step log dicts on the terminal (else only in work_dir/trainer_log.jsonl)
    callbacks: list[Any] = field(default_factory=list)  # transformers TrainerCallbacks (tracking)
