"""The typed recipe config: values converted by field type, every bound checked before work starts."""

import subprocess
import sys
from pathlib import Path

import pytest

from audiogym.errors import ConfigError
from audiogym.recipe.config import Config, from_dict, load_config

ROOT = Path(__file__).resolve().parents[1]


def test_the_shipped_tiny_yaml_is_the_default_config():
    assert load_config(ROOT / "configs" / "tiny.yaml") == Config()


def test_learning_rates_in_exponent_notation_are_floats():
    cfg = load_config(None, ["recipe.rounds.rl.lr=1e-4", "recipe.cold_start.sft.lr=3e-5"])
    assert cfg.recipe.rounds.rl.lr == 1e-4 and cfg.recipe.cold_start.sft.lr == 3e-5
    assert isinstance(cfg.recipe.rounds.rl.lr, float)


def test_a_saved_config_round_trips():
    cfg = load_config(None, ["recipe.rounds.T=1", "recipe.families=[Tempo]"])
    assert from_dict(cfg.to_dict()) == cfg


@pytest.mark.parametrize(
    "override, key",
    [
        ("recipe.rounds.rl.lr=-1", "recipe.rounds.rl.lr"),
        ("recipe.rounds.rl.lr=0", "recipe.rounds.rl.lr"),
        ("recipe.cold_start.sft.lr=nan", "recipe.cold_start.sft.lr"),
        ("recipe.cold_start.sft.lr=.inf", "recipe.cold_start.sft.lr"),
        ("recipe.rounds.distill.sft.batch=0", "recipe.rounds.distill.sft.batch"),
        ("recipe.rounds.distill.temperature=0", "recipe.rounds.distill.temperature"),
        ("recipe.rounds.distill.temperature=-0.5", "recipe.rounds.distill.temperature"),
        ("recipe.self_cognition.dpo.beta=-0.1", "recipe.self_cognition.dpo.beta"),
        ("recipe.rounds.rl.beta=-1", "recipe.rounds.rl.beta"),
        ("recipe.cold_start.sft.max_steps=-1", "recipe.cold_start.sft.max_steps"),
        ("recipe.rounds.rl.max_steps=0", "recipe.rounds.rl.max_steps"),
        ("recipe.families=[]", "recipe.families"),
        ("recipe.families=Tempo", "recipe.families"),
        ("recipe.families=[Tempo, Loudness]", "recipe.families"),
        ("recipe.seed=-3", "recipe.seed"),
        ("recipe.rounds.T=1e9", "recipe.rounds.T"),
        ("recipe.rounds.T=1000000000", "recipe.rounds.T"),
        ("recipe.eval.per_family=1000000000", "recipe.eval.per_family"),
        ("recipe.rounds.distill.K=0", "recipe.rounds.distill.K"),
        ("recipe.name=../../x", "recipe.name"),
        ("recipe.name=a/b", "recipe.name"),
        ("recipe.name=..", "recipe.name"),
        ("recipe.rounds.rl.num_generations=1", "recipe.rounds.rl.num_generations"),
        ("recipe.rounds.rl.batch=30", "recipe.rounds.rl"),
        ("recipe.rounds.rl.temperature=0", "recipe.rounds.rl.temperature"),
        ("recipe.rounds.rl.loss_type=ppo", "recipe.rounds.rl.loss_type"),
        ("recipe.rounds.rl.scale_rewards=std", "recipe.rounds.rl.scale_rewards"),
        ("recipe.rounds.rl.top_k=-1", "recipe.rounds.rl.top_k"),
        ("recipe.rounds.distill.probe_share=1.5", "recipe.rounds.distill.probe_share"),
        ("recipe.rounds.distill.require_grounded=maybe", "recipe.rounds.distill.require_grounded"),
        ("recipe.cold_start.refusal_share=1.5", "recipe.cold_start.refusal_share"),
        ("recipe.freeze_encoder=maybe", "recipe.freeze_encoder"),
        ("model.hidden_size=0", "model.hidden_size"),
        ("recipe.rounds.tee=1", "recipe.rounds.tee"),
    ],
)
def test_each_bad_value_is_one_error_naming_its_key(override, key):
    with pytest.raises(ConfigError) as e:
        load_config(None, [override])
    assert key in str(e.value) and "\n" not in str(e.value)


def test_a_run_dir_that_cannot_be_made_is_refused(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    for bad in (tmp_path / "file", tmp_path / "file" / "below"):
        with pytest.raises(ConfigError, match="recipe.run_dir"):
            load_config(None, [f"recipe.run_dir={bad}"])
    load_config(None, [f"recipe.run_dir={tmp_path / 'new' / 'deeper'}"])  # creatable: fine, and not created
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize(
    "override",
    ["recipe.rounds.rl.lr=-1", "recipe.name=../../x", "recipe.families=[]", "recipe.eval.per_family=1000000000"],
)
def test_the_cli_says_one_line_exits_2_and_writes_nothing(tmp_path, override):
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "audiogym.cli",
            "train",
            "--report-to",
            "none",
            "--set",
            f"recipe.run_dir={tmp_path}",
            "--set",
            override,
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
    assert override.split("=")[0] in r.stderr
    assert not any(tmp_path.iterdir()) and not (tmp_path.parent / "x").exists()
