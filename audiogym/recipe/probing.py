"""What a stage changed on the held-out items, read item by item from its saved evaluation: the
accuracies' paired changes (`stats.stage_change`) and, beside them, how the answers changed where
the model must listen (answers left unfinished, words of reasoning). The probe scripts and the
stage table read a stage's evaluation through `eval_items`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any


def eval_items(folder: Path, stage: str) -> list[dict[str, Any]]:
    """A stage's held-out evaluation, item by item (its `eval/eval.json`)."""
    return json.loads((folder / stage / "eval" / "eval.json").read_text())["items"]


def mean_change(
    before: list[dict[str, Any]], after: list[dict[str, Any]], cues: tuple[str, ...], value: Callable[[dict], float]
) -> dict | None:
    """`value` of the `cues` items (text items left out), averaged before and after; None without such items."""

    def mean(items: list[dict[str, Any]]) -> tuple[int, float | None]:
        mine = [value(r) for r in items if r.get("category") != "text" and r.get("cue") in cues]
        return len(mine), (sum(mine) / len(mine) if mine else None)

    (n, b), (_, a) = mean(before), mean(after)
    return None if b is None or a is None else {"n": n, "before": b, "after": a}


def unclosed_change(before: list[dict[str, Any]], after: list[dict[str, Any]], cues: tuple[str, ...]) -> dict | None:
    """The share of `cues` items whose completion never closed its think block (it stopped or ran
    out of tokens inside its reasoning, so it has no answer), before and after."""
    from audiogym.rewards.parse import split_think

    return mean_change(before, after, cues, lambda r: not split_think(r.get("completion") or "")[1])


def think_change(before: list[dict[str, Any]], after: list[dict[str, Any]], cues: tuple[str, ...]) -> dict | None:
    """The mean think words of the `cues` items' answers before and after (how much the model
    reasons where it must listen)."""
    return mean_change(before, after, cues, lambda r: r.get("think_words") or 0)


def probe_change(stage: str, before: list[dict[str, Any]], after: list[dict[str, Any]]) -> dict[str, Any]:
    """`stats.stage_change` plus `unclosed` (the share of listen items left with no answer: think
    block never closed) and `think_words` (the listen items' mean think words), before and after:
    what a probe reads beside the accuracies."""
    from audiogym.stats import stage_change
    from audiogym.tasks.core import LISTEN_CUES

    return {
        **stage_change(stage, before, after),
        "unclosed": unclosed_change(before, after, LISTEN_CUES),
        "think_words": think_change(before, after, LISTEN_CUES),
    }
