"""The registry of task families: every family module ends with `register(Family(...))`.

Everything that needs "all families" reads it: the environments (one id per family, registered as
families arrive), mixtures, the grounding reward (the union of the families' claim specs) and the
facts measured from audio (the union of the families' `read_facts`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from audiogym.errors import ConfigError
from audiogym.tasks.family import ClaimSpec, Family

FAMILIES: dict[str, Family] = {}
AUDIO_FAMILIES: dict[str, Family] = {}  # every family but the text ones, in registration order
_LISTENERS: list[Callable[[Family], None]] = []
_CLAIMS: dict[str, tuple[str, ClaimSpec]] = {}  # key -> (owning family, spec)


def register(family: Family) -> Family:
    """Add a family (its claim specs with it) and tell every listener (e.g. the environments)."""
    if family.name in FAMILIES and FAMILIES[family.name] is not family:
        raise ConfigError(f"a task family named {family.name!r} is already registered")
    for spec in family.claims:
        owner = _CLAIMS.get(spec.key, (family.name, spec))[0]
        if owner != family.name:
            raise ConfigError(f"family {family.name}: claim key {spec.key!r} is already defined by {owner}")
    FAMILIES[family.name] = family
    if family.category != "text":
        AUDIO_FAMILIES[family.name] = family
    for spec in family.claims:
        _CLAIMS[spec.key] = (family.name, spec)
    claim_specs.cache_clear()
    for fn in _LISTENERS:
        fn(family)
    return family


def unregister(name: str) -> None:
    """Remove a family and its claim specs (for tests that define one; environments stay)."""
    FAMILIES.pop(name, None)
    AUDIO_FAMILIES.pop(name, None)
    for key in [k for k, (owner, _) in _CLAIMS.items() if owner == name]:
        del _CLAIMS[key]
    claim_specs.cache_clear()


def on_register(fn: Callable[[Family], None]) -> None:
    """Call `fn(family)` for every family registered so far and every later one."""
    _LISTENERS.append(fn)
    for family in list(FAMILIES.values()):
        fn(family)


def get_family(name: str) -> Family:
    try:
        return FAMILIES[name]
    except KeyError:
        raise ConfigError(f"unknown task family {name!r}; known: {', '.join(FAMILIES)}") from None


@functools.lru_cache(maxsize=1)  # every reward call reads it; (un)registering a family clears it
def claim_specs() -> tuple[ClaimSpec, ...]:
    """Every registered claim spec, in registration order."""
    return tuple(spec for _, spec in _CLAIMS.values())


def claim_spec(key: str) -> ClaimSpec:
    """The registered claim spec of one attribute."""
    return _CLAIMS[key][1]


def read_measured(measurement: Any) -> dict[str, Any]:
    """The union of every family's `read_facts` on one measurement (first non-None value wins)."""
    out: dict[str, Any] = {}
    for family in AUDIO_FAMILIES.values():
        for k, v in family.read_facts(measurement).items():
            if v is not None:
                out.setdefault(k, v)
    return out
