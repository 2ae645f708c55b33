"""A sweep file: a base recipe, a search space over recipe keys, seeds, the metric, resources.

name: format_reward
base: ../tiny.yaml                # a recipe YAML, relative to this file (none: the defaults)
set: [recipe.rounds.T=1]          # fixed overrides for every trial
space:                            # any recipe key: grid, choice, uniform, loguniform
  recipe.rounds.rl.reward.audio: {grid: [composite_format, binary]}
seeds: [0, 1, 2]                  # a dimension of its own: every setting runs on every seed
metric: {stage: round1_rl, column: accuracy_conflict}   # or {paired: conflict} (last round vs cold start)
mode: max
resources: {cpu: 1, gpu: 0}       # per trial
max_concurrent: 2
share_prefix: cold_start_rlvr     # trials of one seed share these first stages (run once)
scheduler: null                   # or {asha: {grace_period: 2}} on per-stage reports
report_to: wandb                  # one offline wandb run per trial, grouped by sweep (or none)
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from audiogym.errors import ConfigError
from audiogym.recipe.report import COLUMNS

SPACE_KINDS = ("grid", "choice", "uniform", "loguniform")
TRIAL_FILE = "sweep_trial.json"  # in each trial folder: its name, seed and swept values
# Keys a shared cold start does not read: a sweep over anything else must not share it.
PREFIX_FREE = ("recipe.rounds.", "recipe.self_cognition.")


@dataclass
class SweepConfig:
    name: str
    path: Path
    base: str | None = None
    set: list[str] = field(default_factory=list)
    space: dict[str, dict[str, list]] = field(default_factory=dict)
    seeds: list[int] = field(default_factory=lambda: [0])
    samples: int = 1
    metric: dict[str, str] = field(default_factory=lambda: {"paired": "conflict"})
    mode: str = "max"
    resources: dict[str, float] = field(default_factory=lambda: {"cpu": 1, "gpu": 0})
    max_concurrent: int = 2
    share_prefix: str | None = None
    scheduler: dict[str, Any] | None = None
    report_to: str = "wandb"

    @property
    def base_path(self) -> Path | None:
        return None if self.base is None else (self.path.parent / self.base).resolve()

    def validate(self) -> SweepConfig:
        where = str(self.path)
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}", self.name):
            raise ConfigError(f"{where}: name={self.name!r}: expected a plain folder name")
        if self.base_path is not None and not self.base_path.is_file():
            raise ConfigError(f"{where}: base={self.base!r}: no such recipe file ({self.base_path})")
        if not self.space:
            raise ConfigError(f"{where}: space: expected at least one recipe key to sweep")
        for key, dim in self.space.items():
            if not key.startswith(("recipe.", "model.")) or key in ("recipe.seed", "recipe.name", "recipe.run_dir"):
                raise ConfigError(f"{where}: space key {key!r}: expected a recipe or model key (seeds go in 'seeds')")
            if not isinstance(dim, dict) or len(dim) != 1 or next(iter(dim)) not in SPACE_KINDS:
                raise ConfigError(
                    f"{where}: space.{key}: expected one of {', '.join(SPACE_KINDS)}, e.g. {{grid: [a, b]}}"
                )
            kind, values = next(iter(dim.items()))
            if not isinstance(values, list) or not values:
                raise ConfigError(f"{where}: space.{key}.{kind}: expected a non-empty list")
            if kind in ("uniform", "loguniform"):
                ok = len(values) == 2 and all(isinstance(v, (int, float)) and math.isfinite(v) for v in values)
                if not ok or values[0] >= values[1] or (kind == "loguniform" and values[0] <= 0):
                    raise ConfigError(f"{where}: space.{key}.{kind}: expected [low, high] with 0 < low < high")
        if (
            not self.seeds
            or not all(isinstance(s, int) and s >= 0 for s in self.seeds)
            or len(set(self.seeds)) != len(self.seeds)
        ):
            raise ConfigError(f"{where}: seeds: expected distinct integers >= 0")
        if self.mode not in ("max", "min"):
            raise ConfigError(f"{where}: mode={self.mode!r}: expected max or min")
        columns = {k for k, _ in COLUMNS}
        if set(self.metric) == {"paired"}:
            if self.metric["paired"] != "conflict":
                raise ConfigError(f"{where}: metric.paired: only 'conflict' (cold start -> last round) is measured")
        elif set(self.metric) == {"stage", "column"}:
            if self.metric["column"] not in columns:
                raise ConfigError(
                    f"{where}: metric.column={self.metric['column']!r}: expected one of {', '.join(sorted(columns))}"
                )
        else:
            raise ConfigError(f"{where}: metric: expected {{stage: NAME, column: COLUMN}} or {{paired: conflict}}")
        if not (isinstance(self.max_concurrent, int) and 1 <= self.max_concurrent <= 1024):
            raise ConfigError(f"{where}: max_concurrent={self.max_concurrent!r}: expected 1..1024")
        if not (isinstance(self.samples, int) and 1 <= self.samples <= 10_000):
            raise ConfigError(f"{where}: samples={self.samples!r}: expected 1..10000")
        for k in ("cpu", "gpu"):
            v = self.resources.get(k, 0)
            if not isinstance(v, (int, float)) or v < 0 or (k == "cpu" and v <= 0):
                raise ConfigError(f"{where}: resources.{k}={v!r}: expected a number (cpu > 0, gpu >= 0)")
        if self.share_prefix is not None:
            from audiogym.recipe.stages import cold_start_names

            if self.share_prefix not in cold_start_names():
                raise ConfigError(
                    f"{where}: share_prefix={self.share_prefix!r}: expected one of {', '.join(cold_start_names())}"
                )
            for key in self.space:
                if not (key.startswith(PREFIX_FREE) or key + "." in PREFIX_FREE):
                    raise ConfigError(
                        f"{where}: share_prefix: {key!r} changes the cold start, so trials cannot share it"
                    )
        if self.scheduler is not None and set(self.scheduler) != {"asha"}:
            raise ConfigError(f"{where}: scheduler: expected null or {{asha: {{grace_period: N}}}}")
        if self.report_to not in ("wandb", "none"):
            raise ConfigError(f"{where}: report_to={self.report_to!r}: expected wandb or none")
        return self


def load_sweep(path: str | Path) -> SweepConfig:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: sweep file not found") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML ({str(e).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    known = set(SweepConfig.__dataclass_fields__) - {"path"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{path}: unknown sweep key {unknown[0]!r}; known: {', '.join(sorted(known))}")
    if "name" not in data:
        data["name"] = path.stem
    try:
        return SweepConfig(path=path, **data).validate()
    except TypeError as e:
        raise ConfigError(f"{path}: {e}") from None


def trial_name(values: dict[str, Any], seed: int) -> str:
    """A stable, readable folder name for a trial: its swept values and seed."""
    parts = [f"{k.split('.')[-1]}-{_short(v)}" for k, v in sorted(values.items())] + [f"seed-{seed}"]
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", "_".join(parts))
    return name[:120]


def _short(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.3g}"
    if isinstance(v, dict):
        return "+".join(f"{k}{_short(x)}" for k, x in sorted(v.items()))
    return str(v)


def objective(sweep: SweepConfig, table: dict[str, Any]) -> float | None:
    """The sweep's metric in one trial's table.json (None where it was not measured)."""
    if "paired" in sweep.metric:
        c = table.get("conflict_change")
        return None if not c or c.get("before") is None else float(c["after"] - c["before"])
    row = next((r for r in table["rows"] if r["stage"] == sweep.metric["stage"]), None)
    v = None if row is None else row.get(sweep.metric["column"])
    return None if v is None else float(v)
