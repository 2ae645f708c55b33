"""Typed loading of dataclass configs: nested mappings from YAML files and `--set key.path=value`
overrides, each value converted by its field's type (`1e-4` for a float field is 0.0001, though YAML
reads it as a string), unknown keys refused by name."""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, Union

import yaml

from audiogym.errors import ConfigError


def _coerce(value: Any, tp: Any, key: str) -> Any:
    """`value` (from YAML or --set) as the field type `tp`; one clear error otherwise."""
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in (a for a in args if a is not type(None)):
            try:
                return _coerce(value, arg, key)
            except ConfigError as e:
                errors.append(str(e))
        raise ConfigError(errors[0] if len(errors) == 1 else f"config key '{key}'={value!r}: not a valid value")
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(f"config key '{key}' must be a mapping")
        return value
    if tp is bool:
        if isinstance(value, bool):
            return value
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
            return int(value)
    elif tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)  # YAML 1.1 reads 1e-4 as a string
            except ValueError:
                pass
    elif tp is str:
        if isinstance(value, str):
            return value
    elif origin is list:
        (item,) = typing.get_args(tp)
        if isinstance(value, list):
            return [_coerce(v, item, f"{key}[{i}]") for i, v in enumerate(value)]
    elif origin is dict:
        if isinstance(value, dict):
            return dict(value)
    else:
        raise TypeError(f"config field {key}: unsupported type {tp!r}")
    name = getattr(tp, "__name__", str(tp))
    raise ConfigError(f"config key '{key}'={value!r}: expected {name}")


def apply_mapping(obj: Any, data: dict[str, Any], where: str) -> None:
    """Set the fields of dataclass `obj` from a nested mapping, converting each value."""
    hints = typing.get_type_hints(type(obj))
    names = [f.name for f in dataclasses.fields(obj) if f.init]
    for k, v in data.items():
        key = f"{where}{k}"
        if k not in names:
            raise ConfigError(f"unknown config key '{key}'; known here: {', '.join(sorted(names))}")
        tp = hints[k]
        if dataclasses.is_dataclass(tp):
            if not isinstance(v, dict):
                raise ConfigError(f"config key '{key}' must be a mapping")
            apply_mapping(getattr(obj, k), v, key + ".")
        elif typing.get_origin(tp) is dict and isinstance(v, dict):  # a mapping value: keys overlay the default's
            setattr(obj, k, {**getattr(obj, k), **_coerce(v, tp, key)})
        else:
            setattr(obj, k, _coerce(v, tp, key))


def load_yaml(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot read the config ({e})") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML ({str(e).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return data


def parse_set(items: list[str]) -> dict[str, Any]:
    """["recipe.rounds.T=1", ...] -> nested dict (values parsed as YAML: 1, 0.5, true, [a, b]; the
    field types convert them further)."""
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
            if not isinstance(node, dict):
                raise ConfigError(f"--set {item!r}: {p} is not a section")
        node[parts[-1]] = value
    return out
