"""`audiogym sweep` on Ray Tune: sweep files are checked up front, Ray listens on loopback only,
and a killed sweep resumes without re-running finished trials."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from audiogym.errors import ConfigError
from audiogym.sweep.config import load_sweep, trial_name

ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path, **over):
    data = {
        "name": "t",
        "space": {"recipe.rounds.rl.lr": {"grid": [1e-4, 5e-5]}},
        "seeds": [0, 1],
        "metric": {"paired": "conflict"},
        **over,
    }
    p = tmp_path / "sweep.yaml"
    p.write_text(yaml.safe_dump(data))
    return p


def test_the_shipped_sweeps_load():
    for name in ("minute", "claims_round1", "labelled_control", "grounding_filter", "rounds"):
        s = load_sweep(ROOT / "configs" / "sweeps" / f"{name}.yaml")
        assert s.share_prefix == "cold_start_rlvr" and len(s.seeds) >= 2


@pytest.mark.parametrize(
    "over, match",
    [
        ({"space": {}}, "at least one recipe key"),
        ({"space": {"recipe.seed": {"grid": [1, 2]}}}, "seeds go in 'seeds'"),
        ({"space": {"recipe.rounds.rl.lr": {"range": [1, 2]}}}, "grid, choice, uniform, loguniform"),
        ({"space": {"recipe.rounds.rl.lr": {"loguniform": [0, 1]}}}, "0 < low < high"),
        ({"seeds": [0, 0]}, "distinct"),
        ({"metric": {"stage": "round1_rl", "column": "vibes"}}, "metric.column"),
        ({"mode": "best"}, "mode"),
        (
            {"share_prefix": "cold_start_rlvr", "space": {"recipe.cold_start.sft.lr": {"grid": [1e-3, 1e-4]}}},
            "cannot share",
        ),
        ({"base": "nope.yaml"}, "no such recipe file"),
        ({"colour": "red"}, "unknown sweep key 'colour'"),
    ],
)
def test_bad_sweep_files_are_one_clear_error(tmp_path, over, match):
    with pytest.raises(ConfigError, match=match):
        load_sweep(write(tmp_path, **over))


def test_trial_names_are_plain_stable_folder_names():
    name = trial_name({"recipe.rounds.rl.reward.audio": {"composite_format": 1, "grounding": 0.5}}, 2)
    assert name == trial_name({"recipe.rounds.rl.reward.audio": {"grounding": 0.5, "composite_format": 1}}, 2)
    from audiogym.recipe.config import RUN_NAME

    assert RUN_NAME.fullmatch(name) and name.endswith("seed-2")


LISTENERS = """
import subprocess, sys, tempfile
from pathlib import Path
if sys.argv[1] == "ray-first":
    import ray  # as another library might, before audiogym sets Ray's single-node mode
import psutil
from audiogym.sweep.run import _ray_init, shutdown_ray
_ray_init(None, Path(tempfile.mkdtemp()), 1)
try:
    me = psutil.Process()
    pids = {me.pid} | {p.pid for p in me.children(recursive=True)}
    out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if any(f"pid={p}," in line for p in pids):
            print("LISTEN", line.split()[3], line.split()[-1])
finally:
    shutdown_ray()
"""


@pytest.mark.slow
@pytest.mark.parametrize("order", ["audiogym-first", "ray-first"])
def test_ray_listens_on_loopback_only(tmp_path, order):
    # A fresh interpreter: whether this pytest worker already imported ray must not decide the result
    # (CI's worker had, and Ray's agent listened on the host's address).
    res = subprocess.run(
        [sys.executable, "-c", LISTENERS, order], capture_output=True, text=True, timeout=180, cwd=tmp_path
    )
    assert res.returncode == 0, res.stderr[-2000:]
    ours = [line.split(None, 2)[1:] for line in res.stdout.splitlines() if line.startswith("LISTEN ")]
    assert ours, "Ray opened no listener: nothing was checked"
    for local, who in ours:
        assert local.startswith(("127.", "[::ffff:127.", "[::1]")), (local, who)


MICRO = [
    "recipe.rounds.T=0",
    "recipe.pretrain.clips=0",
    "recipe.cold_start.sft.max_steps=4",
    "recipe.cold_start.text=4",
    "recipe.cold_start.audio_direct=4",
    "recipe.cold_start.reading=2",
    "recipe.cold_start.teacher_chains=4",
    "recipe.cold_start.rlvr.max_steps=1",
    "recipe.cold_start.rlvr.questions=4",
    "recipe.cold_start.rlvr.max_new_tokens=8",
    "recipe.self_cognition.probes=4",
    "recipe.self_cognition.max_new_tokens=8",
    "recipe.self_cognition.dpo.max_steps=1",
    "recipe.eval.per_family=1",
    "recipe.eval.text=1",
    "recipe.eval.max_new_tokens=8",
    "model.tokenizer_corpus_per_family=2",
    "model.vocab_size=500",
    "model.hidden_size=64",
    "model.intermediate_size=128",
    "model.encoder_d_model=64",
    "model.encoder_ffn_dim=128",
    "recipe.families=[Tempo]",
]


@pytest.mark.slow
def test_a_killed_sweep_resumes_without_rerunning_finished_trials(tmp_path):
    sweep = write(
        tmp_path,
        name="micro",
        set=MICRO,
        space={"recipe.self_cognition.dpo.lr": {"grid": [5e-5]}},
        seeds=[0, 1],
        metric={"stage": "self_cognition", "column": "accuracy"},
        max_concurrent=1,
        share_prefix="cold_start_rlvr",
        report_to="none",
    )
    cmd = [
        sys.executable,
        "-m",
        "audiogym.cli",
        "sweep",
        "--config",
        str(sweep),
        "--run-dir",
        str(tmp_path / "runs"),
        "--cpus",
        "1",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    root = tmp_path / "runs" / "micro"
    deadline = time.time() + 400
    while time.time() < deadline and not list(root.glob("*/table.json")):
        time.sleep(2)
    first = list(root.glob("*/table.json"))
    os.killpg(proc.pid, signal.SIGKILL)  # the driver and its Ray processes, as a crash would
    proc.wait()
    assert len(first) == 1, "the first trial did not finish in time"
    stamp = first[0].stat().st_mtime_ns
    r = subprocess.run(cmd + ["--resume"], env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    assert first[0].stat().st_mtime_ns == stamp  # the finished trial was not run again
    results = json.loads((root / "results.json").read_text())
    assert [t["finished"] for t in results["trials"]] == [True, True]
    assert (root / "results.md").exists() and (root / "results.png").read_bytes()[:4] == b"\x89PNG"


def test_results_table_plot_and_pooled_test_from_trial_folders(tmp_path):
    from audiogym.sweep.report import write_results

    sweep = load_sweep(write(tmp_path, name="fake"))
    root = tmp_path / "runs" / "fake"
    for lr, seed, gained, lost in [(1e-4, 0, 6, 1), (1e-4, 1, 5, 2), (5e-5, 0, 1, 4), (5e-5, 1, 2, 2)]:
        folder = root / trial_name({"recipe.rounds.rl.lr": lr}, seed)
        folder.mkdir(parents=True)
        (folder / "sweep_trial.json").write_text(
            json.dumps({"name": folder.name, "seed": seed, "values": {"recipe.rounds.rl.lr": lr}})
        )
        change = {
            "n": 20,
            "before": 0.4,
            "after": 0.4 + (gained - lost) / 20,
            "gained": gained,
            "lost": lost,
            "p_value": 1.0,
            "line": "x",
        }
        rows = [
            {"stage": "baseline: random", "kind": "baseline", "baseline": "random", "accuracy": 0.3},
            {"stage": "round1_distill", "kind": "distill", "round": 1, "phase": "round"},
            {
                "stage": "round1_rl",
                "kind": "rl",
                "round": 1,
                "phase": "round",
                "accuracy": 0.6,
                "accuracy_conflict": change["after"],
            },
        ]
        rl = {"round1_rl": {**change, "gained": gained - 1, "lost": 0}}
        (folder / "table.json").write_text(
            json.dumps({"rows": rows, "seconds": 60, "conflict_change": change, "rl_changes": rl})
        )
        (folder / "round1_rl").mkdir()
        curve = {"step": [1.0, 2.0], "audio_reward": [0.4, 0.6 if seed else None], "audio_think_words": [2.0, 3.0]}
        (folder / "round1_rl" / "metrics.json").write_text(
            json.dumps(
                {
                    "train": {
                        "curve": curve,
                        "band_selected": 5,
                        "band_correct_before": 0.5,
                        "band_correct_after": 0.5 + lr * 1000,
                    }
                }
            )
        )
        # held-out items of the round's model: the 5e-5 arm gets items 0-3 right, the 1e-4 arm items 0-5
        (folder / "round1_rl" / "eval").mkdir()
        (folder / "round1_rl" / "eval" / "eval.json").write_text(
            json.dumps(
                {
                    "items": [
                        {
                            "task_id": f"t{i}",
                            "category": "music",
                            "conflict": True,
                            "correct": i < (6 if lr == 1e-4 else 4),
                        }
                        for i in range(10)
                    ]
                }
            )
        )
    out = write_results(sweep, root, 120.0)
    # each variant against the first, trial by trial on the same seed's items (first: lr 1e-4)
    duel = {d["model"]: d for d in out["head_to_head"]}
    assert (duel["last round"]["gained"], duel["last round"]["lost"], duel["last round"]["n"]) == (0, 4, 20)
    assert duel["final"]["before"] == pytest.approx(0.6) and duel["final"]["after"] == pytest.approx(0.4)
    pooled = out["pooled"]["recipe.rounds.rl.lr=0.0001"]
    assert (pooled["gained"], pooled["lost"], pooled["runs"]) == (11, 3, 2)
    assert [t["objective"] for t in out["trials"]] == pytest.approx([0.25, 0.15, -0.15, 0.0])
    md = (root / "results.md").read_text()
    assert "| 0.0001 |" in md and "2 seeds pooled" in md
    # the RL stages pooled per variant, the per-stage table with the band resampling, the RL curves
    assert "recipe.rounds.rl.lr=0.0001, every RL stage of 2 seeds: 0.400 -> 0.600 (9 gained, 0 lost of 40" in md
    assert "| round1_rl | 0.60 / - / - / -; band 0.50 -> 0.60 | 0.33 / - / - / -; band 0.50 -> 0.55 |" in md
    assert (root / "rl_curves.png").read_bytes()[:4] == b"\x89PNG"
    assert (root / "results.png").read_bytes()[:4] == b"\x89PNG"
