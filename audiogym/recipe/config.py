"""The recipe's configuration: typed dataclasses, each with `validate()`, loaded from YAML and
`--set key.path=value` overrides.

The stages' sections live in `audiogym.recipe.sections` (their training parts in
`audiogym.trainers.sections`); a stage reads its own through `StageContext.section`. The dataclass defaults are the
embedded tiny recipe (`configs/tiny.yaml` writes them out with their reasons). Values are
converted by the field's type, so `--set recipe.rounds.rl.lr=1e-4` is a float
(YAML alone would read `1e-4` as a string), and every bound is checked before anything is written:
a bad value is one `ConfigError` line naming its key.
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audiogym.errors import ConfigError
from audiogym.policies.audio_lm import TinyModelConfig
from audiogym.recipe.config_io import apply_mapping, load_yaml, parse_set
from audiogym.recipe.sections import (
    ColdStartSection,
    EvalSection,
    GenerationSection,
    PretrainSection,
    RoundsSection,
    SelfCognitionSection,
)
from audiogym.trainers.sections import check

__all__ = ["Config", "RecipeConfig", "from_dict", "load_config", "parse_set"]

RUN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


DEFAULT_FAMILIES = ["Meter", "Timbre", "AcousticScene", "LoudnessTrend", "Intonation", "VoicePitch"]


@dataclass
class RecipeConfig:
    name: str = "tiny"
    seed: int = 0
    run_dir: str = "runs"
    freeze_encoder: bool = True  # the report freezes the audio encoder
    model_path: str | None = None  # a local Qwen2-Audio checkpoint folder to start from
    gradient_checkpointing: bool = False
    # every audio answer the recipe teaches (direct rows, grounded chains, the rounds' labelled
    # rows) opens its think block with the clip's caption, in the words the base was pretrained to say
    caption_first: bool = False
    families: list[str] | str = field(default_factory=lambda: list(DEFAULT_FAMILIES))  # or "all"
    generation: GenerationSection = field(default_factory=GenerationSection)
    eval: EvalSection = field(default_factory=EvalSection)
    pretrain: PretrainSection = field(default_factory=PretrainSection)
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
        for name in (f.name for f in dataclasses.fields(self)):  # every section, a stage's own included
            section = getattr(self, name)
            if dataclasses.is_dataclass(section) and hasattr(section, "validate"):
                section.validate(f"{key}.{name}")


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
        """backend vllm, asked for by name, with the built tiny model on vLLM's CPU backend: its head
        size must be one vLLM runs (`auto` falls back to hf instead, and says so)."""
        from audiogym.policies.vllm_engine import check_cpu_head_size

        if self.recipe.generation.backend != "vllm" or self.recipe.model_path is not None:
            return
        check_cpu_head_size(self.model.hidden_size // self.model.attention_heads, "model")

    def head_size(self) -> int | None:
        """The generating model's attention head size (the tiny config's, or the checkpoint's)."""
        from audiogym.policies.vllm_engine import model_head_size

        if self.recipe.model_path is not None:
            return model_head_size(self.recipe.model_path)
        return self.model.hidden_size // self.model.attention_heads

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
