"""Recipe configuration: YAML, `--set key.path=value` overrides, validated before any work starts.

The packaged `audiogym/configs/tiny.yaml` is both the default recipe and the schema: every key a
user config sets must exist there with a value of the same kind. A bad value is one clear error.
"""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from audiogym.errors import ConfigError

DEFAULTS = Path(__file__).resolve().parents[1] / "configs" / "tiny.yaml"


def _load_yaml(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML ({str(e).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return data


def _merge(base: dict, over: dict, schema: dict | None, where: str) -> dict:
    out = copy.deepcopy(base)
    for k, v in over.items():
        key = f"{where}{k}"
        if schema is not None and k not in schema:
            raise ConfigError(f"unknown config key '{key}'; known here: {', '.join(sorted(schema))}")
        ref = schema.get(k) if schema is not None else None
        if isinstance(ref, dict):
            if not isinstance(v, dict):
                raise ConfigError(f"config key '{key}' must be a mapping")
            out[k] = _merge(out.get(k, {}), v, ref, key + ".")
            continue
        if (ref is not None or key in LOOSE_KEYS) and not _same_kind(ref, v, key):
            raise ConfigError(f"config key '{key}'={v!r}: expected a value like the default {ref!r}")
        out[k] = v
    return out


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


# Keys whose value may be of another kind than the default's, by their full path.
LOOSE_KEYS = {
    "recipe.families": lambda v: v == "all" or (isinstance(v, list) and all(isinstance(x, str) for x in v)),
    "recipe.model_path": lambda v: v is None or isinstance(v, str),
    "recipe.rounds.distill.max_per_question": lambda v: v is None or _is_int(v),
    # a reward spec: a name or {name: weight}; build_reward checks it in `validate`
    "recipe.rounds.rl.reward.audio": lambda v: isinstance(v, (str, dict)),
    "recipe.rounds.rl.reward.text": lambda v: isinstance(v, (str, dict)),
}


def _same_kind(ref: Any, v: Any, key: str) -> bool:
    if key in LOOSE_KEYS:
        return LOOSE_KEYS[key](v)
    if isinstance(ref, bool):
        return isinstance(v, bool)
    if isinstance(ref, float):
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    if isinstance(ref, int):
        return _is_int(v)
    return isinstance(v, type(ref))


def parse_set(items: list[str]) -> dict[str, Any]:
    """["recipe.rounds.T=1", ...] -> nested dict (values parsed as YAML: 1, 0.5, true, [a, b])."""
    out: dict[str, Any] = {}
    for item in items or []:
        if "=" not in item:
            raise ConfigError(f"--set {item!r}: expected key.path=value")
        key, raw = item.split("=", 1)
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError:
            value = raw
        node = out
        parts = key.strip().split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = value
    return out


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> dict[str, Any]:
    schema = _load_yaml(DEFAULTS)
    cfg = copy.deepcopy(schema)
    if path is not None and Path(path).resolve() != DEFAULTS:
        cfg = _merge(cfg, _load_yaml(path), schema, "")
    cfg = _merge(cfg, parse_set(overrides or []), schema, "")
    validate(cfg)
    return cfg


def validate(cfg: dict[str, Any]) -> None:
    from audiogym.policies.audio_lm import TinyModelConfig
    from audiogym.tasks import AUDIO_FAMILIES
    TinyModelConfig.from_dict(cfg["model"])
    r = cfg["recipe"]
    if r["model_path"] is not None and not (Path(r["model_path"]) / "config.json").is_file():
        raise ConfigError(f"recipe.model_path={r['model_path']!r}: not a model folder (no config.json)")
    if r["report_to"] not in ("wandb", "none"):
        raise ConfigError(f"recipe.report_to={r['report_to']!r}: expected 'wandb' or 'none'")
    if r["families"] != "all":
        for f in r["families"]:
            if f not in AUDIO_FAMILIES:
                raise ConfigError(f"recipe.families: unknown audio family {f!r}; known: {', '.join(AUDIO_FAMILIES)}")
    cs, rounds = r["cold_start"], r["rounds"]
    for where, v in (("cold_start.surrogate_share", cs["surrogate_share"]), ("cold_start.refusal_share", cs["refusal_share"]),
                     ("rounds.distill.conflict_share", rounds["distill"]["conflict_share"])):
        if not 0.0 <= v <= 1.0:
            raise ConfigError(f"recipe.{where}={v}: expected a share in [0, 1]")
    band = rounds["band"]
    if not 0 <= band["low"] <= band["high"] <= band["samples"]:
        raise ConfigError(f"recipe.rounds.band: need 0 <= low <= high <= samples, got {band['low']}, "
                          f"{band['high']}, {band['samples']}")
    from audiogym.rewards import build_reward
    try:
        build_reward(rounds["rl"]["reward"])
    except ConfigError as e:
        raise ConfigError(f"recipe.rounds.rl.reward: {e}") from None
    cap = rounds["distill"]["max_per_question"]
    if cap is not None and cap < 1:
        raise ConfigError(f"recipe.rounds.distill.max_per_question={cap}: expected >= 1 or null")
    if rounds["T"] < 0:
        raise ConfigError(f"recipe.rounds.T={rounds['T']}: expected >= 0")
    for where, sec in (("cold_start.rlvr", cs["rlvr"]), ("rounds.rl", rounds["rl"])):
        if sec["num_generations"] < 2 or sec["batch"] % sec["num_generations"]:
            raise ConfigError(f"recipe.{where}: batch ({sec['batch']}) must be a multiple of num_generations "
                              f"({sec['num_generations']}) and num_generations >= 2")
    positive = [("cold_start.sft.max_steps", cs["sft"]["max_steps"]), ("rounds.distill.K", rounds["distill"]["K"]),
                ("rounds.distill.chain_repeats", rounds["distill"]["chain_repeats"]),
                ("eval.per_family", r["eval"]["per_family"]), ("rounds.band.samples", band["samples"])]
    for where, v in positive:
        if v < 1:
            raise ConfigError(f"recipe.{where}={v}: expected >= 1")
