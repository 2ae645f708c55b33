"""Adding a stage to the recipe is its class, its config section and one entry in the recipe's list:
this module does exactly that (nothing in audiogym is edited) and runs the minute recipe with it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from test_recipe import MINUTE

from audiogym import ConfigError
from audiogym.recipe import stages
from audiogym.recipe.config import Config, RecipeConfig
from audiogym.recipe.config_io import apply_mapping, parse_set
from audiogym.recipe.rows import direct_rows, rows_for
from audiogym.recipe.stage import Stage, StageContext
from audiogym.trainers.sections import SFTSection, check
from audiogym.trainers.sft import train_sft


@dataclass
class RefreshSection:
    """A short SFT on fresh direct answers at the end of each round."""

    rows: int = 8
    sft: SFTSection = field(default_factory=lambda: SFTSection(max_steps=2, batch=4, lr=1e-4))

    def validate(self, key: str) -> None:
        check(f"{key}.rows", self.rows, 1, 1000)
        self.sft.validate(f"{key}.sft")


class Refresh(Stage):
    kind = "refresh"
    config_key = "refresh"
    streams = {"direct": 77}

    def run(self, ctx: StageContext) -> dict[str, Any]:
        c = ctx.section
        tasks, comps, _ = direct_rows(ctx.recipe.audio_families, c.rows, 0.0, ctx.stream("direct"), refuse=False)
        return train_sft(ctx.job(), rows_for(tasks, comps), c.sft)


@dataclass
class RecipeWithRefresh(RecipeConfig):  # the config section
    refresh: RefreshSection = field(default_factory=RefreshSection)


def config(tmp_path, *extra: str) -> Config:
    cfg = Config(recipe=RecipeWithRefresh())
    apply_mapping(cfg, parse_set([*MINUTE, f"recipe.run_dir={tmp_path}", *extra]), "")
    return cfg.validate()


def test_the_new_section_is_read_and_checked_like_the_others(tmp_path):
    assert config(tmp_path, "recipe.refresh.rows=3").recipe.refresh.rows == 3
    with pytest.raises(ConfigError, match=r"recipe\.refresh\.rows=0"):
        config(tmp_path, "recipe.refresh.rows=0")
    with pytest.raises(ConfigError, match="refresh"):
        config(tmp_path, "recipe.refresh.sft.lr=0")


@pytest.mark.slow
def test_a_stage_defined_here_runs_in_each_round_of_the_minute_recipe(tmp_path, monkeypatch):
    from audiogym.recipe.runner import Recipe

    monkeypatch.setattr(stages, "ROUND", [*stages.ROUND, Refresh])  # the one list entry
    cfg = config(tmp_path, "recipe.rounds.T=2")
    lines: list[str] = []
    rows = Recipe(cfg, report_to="none").run(progress=lines.append)
    run = tmp_path / "tiny"
    names = [r["stage"] for r in rows if r.get("kind") != "baseline"]
    assert names == [
        "base",
        "cold_start_sft",
        "cold_start_rlvr",
        "round1_distill",
        "round1_rl",
        "round1_refresh",
        "round2_distill",
        "round2_rl",
        "round2_refresh",
        "self_cognition",
    ]
    for t in (1, 2):
        metrics = json.loads((run / f"round{t}_refresh" / "metrics.json").read_text())
        assert metrics["train"]["steps"] == 2 and metrics["train"]["train_rows"] == 8
        assert (run / f"round{t}_refresh" / "model" / "config.json").is_file()
        assert (run / f"round{t}_refresh" / "trainer_log.jsonl").read_text().count("\n") >= 2
    refresh = [r for r in rows if r.get("kind") == "refresh"]
    assert [(r["round"], r["phase"]) for r in refresh] == [(1, "round"), (2, "round")]
    # the readers follow the stages' descriptions: the round ends with the new stage, the RL stage
    # is still compared with the stage before it, the seeds follow the position in the run
    table = json.loads((run / "table.json").read_text())
    assert table["conflict_change"]["line"].startswith("Conflict items, cold_start_rlvr -> round2_refresh")
    assert set(table["rl_changes"]) == {"round1_rl", "round2_rl"}
    assert "round1_distill -> round1_rl" in table["rl_changes"]["round1_rl"]["line"]
    assert any(line.startswith("| round2_refresh") for line in lines)
