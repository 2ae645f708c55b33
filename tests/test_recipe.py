"""The MGRD recipe end to end with minute settings, and a kill in the middle of a round."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from audiogym import ConfigError
from audiogym.recipe.config import load_config

MINUTE = [
    "recipe.rounds.T=1",
    "recipe.pretrain.clips=12",
    "recipe.pretrain.sft.max_steps=2",
    "recipe.pretrain.eval_per_family=2",
    "recipe.pretrain.max_new_tokens=8",
    "recipe.cold_start.sft.max_steps=12",
    "recipe.cold_start.text=12",
    "recipe.cold_start.audio_direct=12",
    "recipe.cold_start.reading=4",
    "recipe.cold_start.teacher_chains=12",
    "recipe.cold_start.rlvr.max_steps=1",
    "recipe.cold_start.rlvr.questions=8",
    "recipe.rounds.distill.questions=16",
    "recipe.rounds.distill.K=2",
    "recipe.rounds.distill.text=8",
    "recipe.rounds.distill.labelled=8",
    "recipe.rounds.distill.sft.max_steps=3",
    "recipe.rounds.band.candidates=8",
    "recipe.rounds.band.samples=4",
    "recipe.rounds.band.low=1",
    "recipe.rounds.band.high=3",
    "recipe.rounds.rl.max_steps=1",
    "recipe.rounds.rl.batch=8",
    "recipe.rounds.rl.text=8",
    "recipe.self_cognition.probes=8",
    "recipe.self_cognition.dpo.max_steps=1",
    "recipe.eval.per_family=1",
    "recipe.eval.text=2",
    "recipe.eval.max_new_tokens=16",
    "recipe.rounds.distill.max_new_tokens=24",
    "recipe.rounds.band.max_new_tokens=16",
    "recipe.rounds.rl.max_new_tokens=16",
    "recipe.cold_start.rlvr.max_new_tokens=16",
    "recipe.self_cognition.max_new_tokens=16",
    "model.tokenizer_corpus_per_family=2",
    "model.vocab_size=600",
    "model.hidden_size=64",
    "model.intermediate_size=128",
    "model.encoder_d_model=64",
    "model.encoder_ffn_dim=128",
    "recipe.families=[Tempo, MelodyContour, VoicePitch]",
]
STAGES = ["base", "cold_start_sft", "cold_start_rlvr", "round1_distill", "round1_rl", "self_cognition"]


def train(run_dir, *extra, env=None, launcher=()):
    cmd = [*launcher, "-m", "audiogym.cli", "train", "--report-to", "none", "--set", f"recipe.run_dir={run_dir}"]
    cmd = cmd if launcher else [sys.executable, *cmd]
    for s in MINUTE:
        cmd += ["--set", s]
    return subprocess.run(
        cmd + list(extra), capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=900
    )


def jsonl(path):
    return [json.loads(x) for x in Path(path).read_text().splitlines() if x.strip()]


def script_error(monkeypatch, capsys, script: str, *args: str) -> tuple[int, str]:
    """(exit status, last stderr line) of scripts/<script>.py's entry point (`run_script`) run in this
    process: a subprocess per bad input cost 11 s of imports each. The CLI path itself is run as a
    subprocess by test_listening's test-split refusal and the whole-recipe test."""
    import importlib

    from audiogym.errors import run_script

    monkeypatch.syspath_prepend(str(Path(__file__).parent.parent / "scripts"))
    module = importlib.import_module(script)
    monkeypatch.setattr(sys, "argv", [f"{script}.py", *args])
    with pytest.raises(SystemExit) as exited:
        run_script(module.main)
    return exited.value.code, capsys.readouterr().err.strip().splitlines()[-1]


def test_hearing_probe_refuses_bad_input_in_one_line(tmp_path, monkeypatch, capsys):
    from audiogym.recipe.config import Config

    run = tmp_path / "run"
    assert script_error(monkeypatch, capsys, "hearing_probe", str(run)) == (
        2,
        f"error: {run}: not a run folder (no config.json)",
    )
    run.mkdir()
    (run / "config.json").write_text(json.dumps(Config().to_dict()))
    code, last = script_error(monkeypatch, capsys, "hearing_probe", str(run))
    assert code == 2 and "base: no model" in last
    assert not (run / "hearing_probe").exists()  # nothing written


@pytest.mark.slow
def test_whole_recipe_with_minute_settings(tmp_path):
    r = train(tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    run = tmp_path / "tiny"
    for stage in STAGES:
        assert (run / stage / "metrics.json").exists(), stage
    for stage in STAGES[1:]:
        assert (run / stage / "model" / "config.json").exists(), stage
    distill = jsonl(run / "round1_distill" / "rollouts.jsonl")
    assert len(distill) == 16 * 2 and {"correct", "grounded", "coherent", "kept", "reasons"} <= set(distill[0])
    assert len(jsonl(run / "self_cognition" / "selected.jsonl")) == 8
    table = json.loads((run / "table.json").read_text())["rows"]
    assert [r["stage"] for r in table][:4] == [
        "baseline: transcript",
        "baseline: contrarian",
        "baseline: random",
        "baseline: oracle",
    ]
    assert [r["stage"] for r in table][4:] == STAGES
    assert "generation backend: hf" in r.stdout  # auto is pinned to hf in the suite (conftest)
    assert "| round1_rl" in r.stdout and (run / "curves.png").read_bytes()[:4] == b"\x89PNG"
    assert (run / "table.md").read_text().count("|") > 50
    peak = json.loads((run / "table.json").read_text())["peak_rss_gb"]
    assert (
        0.2 < peak < 64
        and f"peak memory (resident, this process and its children): {peak:.1f} GB" in (run / "table.md").read_text()
    )
    change = json.loads((run / "table.json").read_text())["conflict_change"]
    assert change["n"] > 0 and 0.0 <= change["p_value"] <= 1.0
    assert "Conflict items, cold_start_rlvr -> round1_rl" in r.stdout
    # the RL stage reports what it did: its held-out change, its curve, its band before and after
    rl = json.loads((run / "table.json").read_text())["rl_changes"]["round1_rl"]
    assert rl["n"] == change["n"] and "round1_distill -> round1_rl" in rl["line"] and rl["line"] in r.stdout
    assert rl["train_line"].startswith("round1_rl on its ") and rl["train_line"] in r.stdout
    assert (run / "rl_curves.png").read_bytes()[:4] == b"\x89PNG"
    metrics = json.loads((run / "round1_rl" / "metrics.json").read_text())["train"]
    assert metrics["curve"]["step"] == [1.0] and len(metrics["curve"]["entropy"]) == 1
    if metrics["band_selected"]:
        assert 0.0 <= metrics["band_correct_after"] <= 1.0
        assert len(jsonl(run / "round1_rl" / "band_after" / "rollouts.jsonl")) == 4 * metrics["band_selected"]
    sc = json.loads((run / "table.json").read_text())["self_cognition"]
    assert set(sc) == {"cold_start", "rounds", "dpo"} and all(0.0 <= v <= 1.0 for v in sc.values())
    assert "Self-cognition error on the probes: after cold start" in (run / "table.md").read_text()
    # scripts/rl_probe.py re-runs the RL stage alone from the run's distilled model: on the run's own
    # held-out size it reproduces the run's stage (same seed, same candidates), and --reference
    # (the run's own RL model) reads the same change
    probe = Path(__file__).parent.parent / "scripts" / "rl_probe.py"
    for extra in (["--reference"], []):
        p = subprocess.run(
            [
                sys.executable,
                str(probe),
                str(run),
                str(tmp_path / "probe"),
                "--tag",
                "x" + "".join(extra),
                "--per-family",
                "1",
                *extra,
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert p.returncode == 0, p.stderr[-3000:]
        got = json.loads((tmp_path / "probe" / ("x" + "".join(extra)) / "changes.json").read_text())["rounds"][0]
        assert (got["n"], got["gained"], got["lost"]) == (rl["n"], rl["gained"], rl["lost"]), p.stdout
    # --supervised, the labelled control: SFT on the run's own band (and the stage's text questions)
    # with their gold answers, for the RL stage's steps
    args = [str(run), str(tmp_path / "probe"), "--tag", "sup", "--per-family", "1", "--supervised"]
    p = subprocess.run([sys.executable, str(probe), *args], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    got = json.loads((tmp_path / "probe" / "sup" / "changes.json").read_text())["rounds"][0]
    log = jsonl(tmp_path / "probe" / "sup" / "round1_rl" / "trainer_log.jsonl")
    from audiogym.recipe.config import load_config

    rl_cfg = load_config(run / "config.json").recipe.rounds.rl
    assert got["band_selected"] == metrics["band_selected"] and log[-1]["step"] == rl_cfg.max_steps
    assert "mean_token_accuracy" in log[0]  # an SFT trainer's log, not GRPO's
    # scripts/sampled_listen.py reads the sampling policy's listening of each RL stage and the stage
    # before it; on the same seed it reads the same numbers (common random numbers), and the
    # reference probe with --samples reads what it reads on the run's own held-out size
    sampled = Path(__file__).parent.parent / "scripts" / "sampled_listen.py"
    outs = []
    for name in ("s1.json", "s2.json"):
        args = [str(run), "--samples", "2", "--per-family", "4", "--json", str(tmp_path / name)]
        p = subprocess.run([sys.executable, str(sampled), *args], capture_output=True, text=True, timeout=600)
        assert p.returncode == 0, p.stderr[-3000:]
        outs.append(json.loads((tmp_path / name).read_text()))
    summary = outs[0]["stages"]["round1_rl"]
    assert outs[0] == outs[1] and summary["n_seeds"] == 1 and "round1_rl, sampled listen (dev)" in p.stdout
    values = outs[0]["runs"][str(run)]
    assert set(values) == {"round1_distill", "round1_rl"} and values["round1_rl"]["samples"] == 2
    assert all(0.0 <= v["listen"] <= 1.0 for v in values.values())
    assert abs(summary["diffs"][0] - (values["round1_rl"]["listen"] - values["round1_distill"]["listen"])) < 1e-12
    from audiogym.recipe.heldout import HeldOut

    held = HeldOut(load_config(run / "config.json", ["recipe.eval.per_family=4"]).recipe)
    again = held.sampled_listen(run / "round1_rl" / "model", 2, 1.0)
    listen = [t for t in held.tasks if t.cue in ("independent", "none") and t.category != "text"]
    assert again["listen"] == values["round1_rl"]["listen"] and len(again["items"]) == len(listen) > 0
    with pytest.raises(ValueError, match="samples=0"):
        held.sampled_listen(run / "round1_rl" / "model", 0, 1.0)
    with pytest.raises(ConfigError, match="no listen items"):  # the run's own split: 1 item a family
        HeldOut(load_config(run / "config.json").recipe).sampled_listen(run / "round1_rl" / "model", 2, 1.0)
    args = [str(run), str(tmp_path / "probe4"), "--tag", "xs", "--per-family", "4", "--reference", "--samples", "2"]
    p = subprocess.run(
        [sys.executable, str(probe), *args, "--band-fit", "2"], capture_output=True, text=True, timeout=600
    )
    assert p.returncode == 0, p.stderr[-3000:]
    got = json.loads((tmp_path / "probe4" / "xs" / "changes.json").read_text())["rounds"][0]
    sampled = got["listen_sampled"]
    assert (
        0.0 <= sampled["before"] <= 1.0 and 0.0 <= sampled["after"] <= 1.0 and "sampled listen (2 a item)" in p.stdout
    )
    # --band-fit: the band asked as trained (4 samples a question) and afresh twice, before and after;
    # the minute run's band is often empty, so the reading is also made on a band written here
    if metrics["band_selected"]:
        assert {"band_asked", "band_afresh"} <= set(got) and "band right, asked as trained" in p.stdout
    else:
        assert "band_asked" not in got
    sys.path.insert(0, str(Path(__file__).parent.parent / "scripts"))
    from rl_probe import band_fit

    from audiogym.tasks.sources import make_cue_mix

    band = make_cue_mix(["Tempo", "VoicePitch"], 2, 5, {"independent": 0.5, "none": 0.5})
    stage = tmp_path / "fit_stage"
    stage.mkdir()
    (stage / "selected.jsonl").write_text("".join(json.dumps({"task_id": t.id}) + "\n" for t in band))
    cfg = load_config(run / "config.json")
    models = (run / "round1_distill" / "model", run / "round1_rl" / "model")
    fits = [band_fit(cfg, stage, *models, tmp_path / f"fit{i}", 2) for i in (1, 2)]
    assert fits[0] == fits[1]  # seeded: the same reading twice
    assert all(0.0 <= fits[0][k][w] <= 1.0 for k in ("band_asked", "band_afresh") for w in ("before", "after"))
    assert len(jsonl(tmp_path / "fit1" / "band_fit" / "band_asked_after" / "rollouts.jsonl")) == 4 * len(band)
    afresh = jsonl(tmp_path / "fit1" / "band_fit" / "band_afresh_before" / "rollouts.jsonl")
    assert len(afresh) == 2 * 4 * len(band) and len({r["task_id"] for r in afresh}) == 2 * len(band)
    (stage / "selected.jsonl").write_text(json.dumps({"task_id": "Nope-1"}) + "\n")
    with pytest.raises(ConfigError, match="ids that name no task"):
        band_fit(cfg, stage, *models, tmp_path / "fit3", 2)
    # scripts/distill_probe.py redoes a distillation from the run's samples: unchanged, it is the run's stage
    probe = Path(__file__).parent.parent / "scripts" / "distill_probe.py"
    p = subprocess.run(
        [sys.executable, str(probe), str(run), str(tmp_path / "dprobe"), "--tag", "same"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert p.returncode == 0, p.stderr[-3000:]
    got = json.loads((tmp_path / "dprobe" / "same" / "changes.json").read_text())["rounds"][0]
    assert got["against_run"]["gained"] == got["against_run"]["lost"] == 0 and got["n"] == change["n"], p.stdout
    assert "Aligned items, cold_start_rlvr -> round1_distill" in p.stdout
    # scripts/hearing_probe.py asks any stage's model the base's question: on the base it reads
    # what the base stage measured itself (same clips, greedy)
    base = json.loads((run / "base" / "metrics.json").read_text())["train"]
    probe = Path(__file__).parent.parent / "scripts" / "hearing_probe.py"
    out = tmp_path / "hearing.json"
    args = [str(run), "--stages", "base", "cold_start_sft", "--out", str(tmp_path / "hp"), "--json", str(out)]
    p = subprocess.run([sys.executable, str(probe), *args], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    got = json.loads(out.read_text())[str(run)]
    assert set(got) == {"base", "cold_start_sft"} and set(got["cold_start_sft"]) == set(base["hearing"])
    assert got["base"] == base["hearing"] and "cold_start_sft: " in p.stdout
    assert sorted(x.name for x in (tmp_path / "hp").iterdir()) == ["0-tiny"]  # runs of one name apart
    r = subprocess.run([sys.executable, str(probe), str(run), "--stages", "round9_rl"], capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.strip().splitlines()[-1].startswith("error: ") and "round9_rl" in r.stderr


def test_paired_change_counts_flips_and_tests_them():
    from audiogym.stats import paired_change

    def items(correct, conflict=True):
        return [
            {"task_id": f"t{i}", "category": "music", "conflict": conflict, "correct": c} for i, c in enumerate(correct)
        ]

    before = items([0, 0, 0, 0, 0, 1, 1, 0]) + [{"task_id": "x", "category": "text", "conflict": False, "correct": 1}]
    after = items([1, 1, 1, 1, 1, 1, 0, 0])
    c = paired_change(before, after)
    assert (c["n"], c["gained"], c["lost"]) == (8, 5, 1) and (c["before"], c["after"]) == (0.25, 0.75)
    assert abs(c["p_value"] - 14 / 64) < 1e-12  # exact two-sided sign test, 1 of 6 discordant
    assert paired_change(after, before)["p_value"] == c["p_value"]
    assert paired_change(before, before)["p_value"] == 1.0
    assert paired_change(items([0] * 6), items([1] * 6))["p_value"] == 2 / 64
    with pytest.raises(ConfigError):
        paired_change(before, items([1, 1], conflict=False))


def test_pooled_change_adds_the_runs_items():
    from audiogym.stats import pooled_change, sign_test_p

    runs = [
        {"n": 10, "before": 0.2, "after": 0.5, "gained": 4, "lost": 1, "p_value": 0.375},
        {"n": 30, "before": 0.6, "after": 0.6, "gained": 3, "lost": 3, "p_value": 1.0},
    ]
    c = pooled_change(runs)
    assert (c["n"], c["gained"], c["lost"], c["runs"]) == (40, 7, 4, 2)
    assert abs(c["before"] - 0.5) < 1e-12 and abs(c["after"] - 0.575) < 1e-12
    assert c["p_value"] == sign_test_p(7, 4) and abs(sign_test_p(4, 1) - 0.375) < 1e-12
    assert sign_test_p(0, 0) == 1.0 and sign_test_p(3, 3) == 1.0
    with pytest.raises(ConfigError):
        pooled_change([])


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_processes_data_parallel(tmp_path):
    """The multi-GPU path on 2 CPU processes (torchrun, gloo; `accelerate launch --cpu` starts only
    one): every stage trains data-parallel, sampling is sharded between the ranks, and every file
    is written once, whole."""
    launcher = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        "2",
        "--master_addr",
        "127.0.0.1",
        "--master_port",
        str(free_port()),
    ]
    r = train(tmp_path, launcher=launcher, env={"OMP_NUM_THREADS": "1"})
    assert r.returncode == 0, r.stderr[-3000:]
    run = tmp_path / "tiny"
    assert [x["stage"] for x in json.loads((run / "table.json").read_text())["rows"]][4:] == STAGES
    distill = jsonl(run / "round1_distill" / "rollouts.jsonl")
    assert sorted((x["task_id"], x["sample"]) for x in distill) == sorted(
        {(x["task_id"], x["sample"]) for x in distill}
    )
    assert len(distill) == 16 * 2 and not list(run.glob("*/rollouts.jsonl.partial*"))
    assert r.stdout.count("| cold_start_sft ") == 1  # one process prints the table
    assert json.loads((run / "round1_rl" / "metrics.json").read_text())["processes"] == 2


@pytest.mark.slow
def test_kill_in_the_middle_of_a_round_then_resume(tmp_path):
    killed = train(tmp_path, env={"AUDIOGYM_KILL_IN_STAGE": "round1_distill"})
    assert killed.returncode != 0
    run = tmp_path / "tiny"
    partial = run / "round1_distill" / "rollouts.jsonl.partial"
    assert partial.exists() and not (run / "round1_distill" / "metrics.json").exists()
    before = jsonl(partial)
    assert 0 < len(before) < 32  # one batch of 8 questions x 2 samples survived the kill
    finished = {s: (run / s / "metrics.json").stat().st_mtime_ns for s in STAGES[:3]}

    again = train(tmp_path)  # no --resume: refuses, changes nothing
    assert again.returncode == 2 and "--resume" in again.stderr and "Traceback" not in again.stderr

    resumed = train(tmp_path, "--resume")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert {s: (run / s / "metrics.json").stat().st_mtime_ns for s in STAGES[:3]} == finished  # not redone
    after = jsonl(run / "round1_distill" / "rollouts.jsonl")
    assert after[: len(before)] == before  # the finished rollouts are intact, in order
    keys = [(r["task_id"], r["sample"]) for r in after]
    assert len(keys) == len(set(keys)) == 32
    assert (run / "self_cognition" / "metrics.json").exists()


def test_bad_config_is_one_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="recipe.rounds.band"):
        load_config(None, ["recipe.rounds.band.low=9"])
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "audiogym.cli",
            "train",
            "--set",
            "recipe.rounds.T=two",
            "--set",
            f"recipe.run_dir={tmp_path}",
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "recipe.rounds.T" in r.stderr
    assert not any(tmp_path.iterdir())  # no work started
    (tmp_path / "bad.yaml").write_text("recipe: [unclosed")
    r = subprocess.run(
        [sys.executable, "-m", "audiogym.cli", "train", "--config", str(tmp_path / "bad.yaml")],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2 and "not valid YAML" in r.stderr


def test_rollout_log_merges_every_rank_file_in_question_order(tmp_path):
    from audiogym.recipe.rollouts import RolloutLog

    order = [f"Tempo-{i}" for i in range(5)]
    rank0 = [{"task_id": order[i], "sample": j} for i in (0, 2, 4) for j in (0, 1)]
    rank1 = [{"task_id": order[i], "sample": j} for i in (1, 3) for j in (0, 1)]
    (tmp_path / "rollouts.jsonl.partial.rank0").write_text("".join(json.dumps(r) + "\n" for r in rank0))
    (tmp_path / "rollouts.jsonl.partial.rank1").write_text(
        "".join(json.dumps(r) + "\n" for r in rank1) + '{"task_id": "Tempo-9", "sam'
    )  # cut by a kill
    log = RolloutLog(tmp_path)
    assert log.done_ids() == set(order)
    rows = log.finish(order)
    assert [(r["task_id"], r["sample"]) for r in rows] == [(t, j) for t in order for j in (0, 1)]
    assert not list(tmp_path.glob("rollouts.jsonl.partial*"))
    assert jsonl(tmp_path / "rollouts.jsonl") == rows


def test_rollout_log_keeps_a_finished_sampling_when_the_stage_is_redone(tmp_path):
    """Killed after sampling (during training): the resumed stage samples nothing again."""
    from audiogym.recipe.rollouts import RolloutLog

    first = [{"task_id": "Tempo-1", "sample": 0}, {"task_id": "Tempo-2", "sample": 0}]
    (tmp_path / "rollouts.jsonl").write_text("".join(json.dumps(r) + "\n" for r in first))
    log = RolloutLog(tmp_path)
    assert log.done_ids() == {"Tempo-1", "Tempo-2"}
    log.add([{"task_id": "Tempo-3", "sample": 0}])
    assert [r["task_id"] for r in log.finish(["Tempo-1", "Tempo-2", "Tempo-3"])] == ["Tempo-1", "Tempo-2", "Tempo-3"]


def test_distillation_questions_mix_conflict_and_aligned_items():
    from audiogym.recipe.rows import mixed_tasks as distillation_tasks
    from audiogym.tasks import FAMILIES

    tasks = distillation_tasks(["Tempo", "VoicePitch", "AcousticScene"], 30, seed=3, conflict_share=0.6)
    assert len(tasks) == 30 and len({t.id for t in tasks}) == 30
    solved_by_words = [FAMILIES[t.family].transcript_answer(t) == t.answer for t in tasks]
    assert solved_by_words.count(False) == 18 and solved_by_words.count(True) == 12
    assert {t.family for t in tasks} == {"Tempo", "VoicePitch", "AcousticScene"}


def test_trained_chains_are_distinct_and_capped_per_question():
    from audiogym.recipe.stages.distill import distinct_per_question

    rows = [{"task_id": "A-1", "completion": c} for c in ("x", "x", "y", "z")] + [{"task_id": "B-2", "completion": "x"}]
    assert [(r["task_id"], r["completion"]) for r in distinct_per_question(rows, None)] == [
        ("A-1", "x"),
        ("A-1", "y"),
        ("A-1", "z"),
        ("B-2", "x"),
    ]
    assert [(r["task_id"], r["completion"]) for r in distinct_per_question(rows, 2)] == [
        ("A-1", "x"),
        ("A-1", "y"),
        ("B-2", "x"),
    ]


def test_kept_chains_are_balanced_over_each_familys_answers():
    from types import SimpleNamespace as Task

    from audiogym.recipe.stages.distill import balance_answers

    tasks = [
        Task(id="P-1", family="P", answer="low"),
        Task(id="P-2", family="P", answer="low"),
        Task(id="P-3", family="P", answer="high"),
        Task(id="P-4", family="P", answer="high"),
        Task(id="M-1", family="M", answer="waltz"),
        Task(id="M-2", family="M", answer="march"),
    ]
    rows = [
        {"task_id": tid, "family": tid[0], "completion": c}
        for tid, c in [
            ("P-1", "a"),
            ("P-1", "b"),
            ("P-1", "c"),
            ("P-2", "d"),
            ("P-3", "e"),
            ("P-4", "f"),
            ("M-1", "g"),
            ("M-1", "h"),
        ]
    ]
    kept = balance_answers(rows, tasks)
    # P: two chains per answer; of the three 'low' chains of P-1, two go so that P-2 keeps its own.
    # M: no kept chain says 'march', so the family sits this round out (its 'waltz' chains would lean it).
    assert [r["completion"] for r in kept] == ["a", "d", "e", "f"]
    assert balance_answers([], tasks) == []
    # Answers no chain reached do not empty a family whose kept chains give two or more answers.
    tasks.append(Task(id="P-5", family="P", answer="medium"))
    assert [r["completion"] for r in balance_answers(rows, tasks)] == ["a", "d", "e", "f"]


def test_round_rl_reward_is_configurable_and_checked():
    cfg = load_config(None, ["recipe.rounds.rl.reward.audio={composite_format: 1.0, grounding: 0.5}"])
    assert cfg.recipe.rounds.rl.reward == {"audio": {"composite_format": 1.0, "grounding": 0.5}, "text": "binary"}
    with pytest.raises(ConfigError, match="recipe.rounds.rl.reward: unknown reward 'loudness'"):
        load_config(None, ["recipe.rounds.rl.reward.audio=loudness"])
    with pytest.raises(ConfigError, match="max_per_question"):
        load_config(None, ["recipe.rounds.distill.max_per_question=0"])


def test_cold_start_mixture_reads_the_words_and_reasons_from_them_on_aligned_items():
    from audiogym.recipe.stages.cold_start_sft import cold_start_rows
    from audiogym.tasks import FAMILIES
    from audiogym.tasks.core import render_prompt

    cfg = load_config(
        None,
        [
            "recipe.families=[VoicePitch, AcousticScene]",
            "recipe.cold_start.text=2",
            "recipe.cold_start.audio_direct=4",
            "recipe.cold_start.reading=4",
            "recipe.cold_start.teacher_chains=10",
            "recipe.cold_start.surrogate_share=0.5",
        ],
    )
    tasks, comps, kinds = cold_start_rows(
        cfg.recipe.cold_start, cfg.recipe.audio_families, 7, lambda name: 7 + len(name)
    )
    assert {k: kinds.count(k) for k in set(kinds)}.keys() >= {"text", "reading", "surrogate_chain", "grounded_chain"}
    for t, c, k in zip(tasks, comps, kinds):
        if k == "reading":  # the quoted words are the words the prompt shows
            assert f'"{t.transcript}"' in c and f": {t.transcript}" in render_prompt(t) and not t.choices
        if k == "surrogate_chain":  # a surrogate teacher is right only where the words agree with the audio
            assert FAMILIES[t.family].transcript_answer(t) == t.answer and t.transcript in c


def test_caption_first_opens_taught_answers_with_what_the_base_learned_to_say():
    from audiogym.recipe.rows import direct_rows
    from audiogym.recipe.stages.build_base import parse_caption
    from audiogym.recipe.stages.cold_start_sft import cold_start_rows
    from audiogym.rewards import build_reward
    from audiogym.rewards.base import task_row

    assert not load_config(None, []).recipe.caption_first
    assert load_config(None, ["recipe.caption_first=true"]).recipe.caption_first
    with pytest.raises(ConfigError, match="caption_first"):
        load_config(None, ["recipe.caption_first=sometimes"])
    sets = ["recipe.cold_start.text=0", "recipe.cold_start.audio_direct=6", "recipe.cold_start.refusal_share=0"]
    sets += [
        "recipe.cold_start.reading=0",
        "recipe.cold_start.teacher_chains=12",
        "recipe.cold_start.surrogate_share=0",
    ]
    c, fams = load_config(None, sets).recipe.cold_start, ["Meter", "VoicePitch"]
    stream = lambda name: 3 + len(name)  # noqa: E731
    tasks, before, _ = cold_start_rows(c, fams, 3, stream)
    same_tasks, after, kinds = cold_start_rows(c, fams, 3, stream, captioned=True)
    assert [t.id for t in tasks] == [t.id for t in same_tasks] and set(kinds) == {"direct", "grounded_chain"}
    composite = build_reward("composite_format")
    for t, b, a, k in zip(tasks, before, after, kinds):
        first, rest = a.removeprefix("<think>\n").split("\n", 1)
        said = parse_caption(first)
        # the caption's keys are the base's; its categorical facts are the clip's
        assert set(said) == set(t.facts)
        assert all(said[key] == str(v) for key, v in t.facts.items() if isinstance(v, (int, str)))
        assert b.startswith("<think>\n") and b.endswith(rest)  # the rest of the answer is unchanged
        if k == "grounded_chain":  # the teacher's chain follows, and scores as before
            assert "<think>\n" + rest == b
            assert composite.score(a, task_row(t))[0] == composite.score(b, task_row(t))[0] == 1.0
        else:  # a direct answer's empty think block now holds the caption
            assert b == f"<think>\n\n</think>\nThe answer is {t.answer}." and rest.startswith("</think>")
    # the rounds' labelled rows: "can you hear this?" answered from the audio, captioned too
    _, comps, _ = direct_rows(fams, 8, 0.5, seed=4, refuse=False, captioned=True)
    assert all(parse_caption(x.removeprefix("<think>\n").split("\n", 1)[0]) for x in comps)


def test_caption_replay_rows_are_the_base_task_on_fresh_clips():
    from audiogym.recipe.rows import CAPTION_PROMPT, caption_rows
    from audiogym.recipe.stages.build_base import parse_caption
    from audiogym.recipe.stages.cold_start_sft import cold_start_rows

    cfg = load_config(None, ["recipe.cold_start.captions=12", "recipe.rounds.distill.captions=5"])
    assert (cfg.recipe.cold_start.captions, cfg.recipe.rounds.distill.captions) == (12, 5)
    assert load_config(None, []).recipe.cold_start.captions == 0  # off by default: the stage table is unchanged
    for bad in ("recipe.cold_start.captions=-1", "recipe.rounds.distill.captions=lots"):
        with pytest.raises(ConfigError, match="captions"):
            load_config(None, [bad])
    fams = ["Meter", "Intonation"]
    tasks, comps, kinds = cold_start_rows(cfg.recipe.cold_start, fams, 1, lambda name: 11 + len(name))
    mine = [(t, c) for t, c, k in zip(tasks, comps, kinds) if k == "caption"]
    assert len(mine) == 12 and {t.family for t, _ in mine} == set(fams)
    for t, c in mine:  # the clip alone, answered with its caption in the empty think format
        assert t.question == CAPTION_PROMPT and not t.choices and not t.transcript and len(t.audio)
        said = parse_caption(c)
        assert c.startswith("<think>\n\n</think>\n") and said["beats_per_bar" if t.family == "Meter" else "intonation"]
    # fresh clips: not the base's pretraining clips (another stream), and the same for the same seed
    again, _ = caption_rows(fams, 12, 11 + len("captions"))
    assert [t.id for t in again] == [t.id for t, _ in mine]
    assert not {t.id for t in caption_rows(fams, 12, 99)[0]} & {t.id for t in again}


def test_reward_spec_keys_do_not_loosen_other_keys_of_the_same_name():
    with pytest.raises(ConfigError, match="recipe.rounds.distill.text"):
        load_config(None, ["recipe.rounds.distill.text=many"])
    assert load_config(None, ["recipe.rounds.distill.text=8"]).recipe.rounds.distill.text == 8


def test_round_replay_answers_probes_from_the_audio_and_never_refuses():
    """The cold start teaches the text prior's refusal; the rounds' replay must not (the report
    filters wrong self-cognition out of the distillation data)."""
    from audiogym.recipe.rows import direct_rows
    from audiogym.rewards import is_correct, self_cognition_error

    fams = ["VoicePitch", "Meter"]
    cold = direct_rows(fams, 60, 0.3, seed=5)
    rounds = direct_rows(fams, 60, 0.3, seed=5, refuse=False)
    assert [t.question for t in cold[0]] == [t.question for t in rounds[0]]  # the same probes, answered otherwise
    probes = [i for i, k in enumerate(cold[2]) if k == "refusal"]
    assert 8 <= len(probes) <= 30 and [k for k in rounds[2] if k != "direct"] == ["probe_answered"] * len(probes)
    assert all(self_cognition_error(cold[1][i]) is not None for i in probes)
    assert not any(self_cognition_error(c) for c in rounds[1])
    assert all(is_correct(c, t.answer, t.choices) for t, c in zip(*rounds[:2]))


def test_direct_rows_by_transcript_mode_and_their_config_keys():
    """`cold_start.direct_cues` and `rounds.distill.labelled_cues`: the labelled rows drawn by
    transcript mode (audio-only rows answered from the audio too); null keeps the families' own mix;
    a bad share is one error naming the key."""
    from collections import Counter

    from audiogym.recipe.rows import direct_rows
    from audiogym.rewards import is_correct

    fams = ["Meter", "Intonation"]
    tasks, comps, _ = direct_rows(fams, 40, 0.0, seed=3, cues={"mixed": 0.5, "independent": 0.25, "none": 0.25})
    cues = Counter(t.cue for t in tasks)
    assert cues["independent"] == cues["none"] == 10 and cues["aligned"] + cues["conflict"] == 20
    assert all(is_correct(c, t.answer, t.choices) for t, c in zip(tasks, comps))
    assert {t.cue for t in direct_rows(fams, 40, 0.0, seed=3)[0]} <= {"aligned", "conflict"}
    cfg = load_config(
        None, ["recipe.cold_start.direct_cues={none: 1}", "recipe.rounds.distill.labelled_cues={none: 1}"]
    )
    assert cfg.recipe.cold_start.direct_cues == cfg.recipe.rounds.distill.labelled_cues == {"none": 1}
    assert load_config(None, []).recipe.cold_start.direct_cues is None
    for key, bad, message in [
        ("cold_start.direct_cues", "{none: 0.5}", "must sum to 1"),
        ("rounds.distill.labelled_cues", "{loud: 1}", "unknown mode 'loud'"),
    ]:
        with pytest.raises(ConfigError, match=f"recipe.{key}: .*{message}"):
            load_config(None, [f"recipe.{key}={bad}"])


def test_training_curve_reads_trl_logs_and_its_ends_average_quarters():
    from audiogym.trainers.grpo import ends, training_curve

    history = [
        {
            "step": s,
            "reward": s / 10,
            "entropy": 1.0 - s / 100,
            "mgrd/audio/reward": s / 8 if s % 2 else None,
            "loss": 0.1,
        }
        for s in range(1, 9)
    ]
    for e in history:
        if e["mgrd/audio/reward"] is None:
            del e["mgrd/audio/reward"]
    history.append({"train_runtime": 3.0, "step": 8})  # TRL's closing summary is no step of the curve
    curve = training_curve(history)
    assert curve["step"] == [float(s) for s in range(1, 9)] and "kl" not in curve
    assert curve["audio_reward"][:3] == [1 / 8, None, 3 / 8]
    assert ends(curve["reward"]) == (pytest.approx(0.15), pytest.approx(0.75))
    assert ends(curve["audio_reward"]) == (1 / 8, 7 / 8) and ends([None, None]) == (None, None)


def test_distillation_without_the_grounding_filter_keeps_correct_coherent_chains():
    cfg = load_config(None, ["recipe.rounds.distill.require_grounded=false"])
    assert cfg.recipe.rounds.distill.require_grounded is False
    assert load_config(None, []).recipe.rounds.distill.require_grounded is True


def test_band_candidates_conflict_share_is_a_checked_optional_number():
    assert load_config(None, []).recipe.rounds.band.conflict_share is None  # cues decide by default
    old = load_config(None, ["recipe.rounds.band.cues=null", "recipe.rounds.band.conflict_share=0.75"])
    assert old.recipe.rounds.band.conflict_share == 0.75 and old.recipe.rounds.band.cues is None
    with pytest.raises(ConfigError, match="recipe.rounds.band.conflict_share"):
        load_config(None, ["recipe.rounds.band.cues=null", "recipe.rounds.band.conflict_share=2"])
    with pytest.raises(ConfigError, match="set cues or conflict_share, not both"):
        load_config(None, ["recipe.rounds.band.conflict_share=0.5"])


def test_balanced_band_gives_every_answer_of_a_family_as_many_questions():
    import numpy as np

    from audiogym.recipe.sections import BandSection
    from audiogym.recipe.stages.band_rl import balanced_band
    from audiogym.tasks import AudioTask

    def task(i, family, answer, choices=("waltz", "march"), cue=""):
        return AudioTask(
            id=f"{family}-{i}",
            audio=np.zeros(4),
            question="q",
            choices=list(choices),
            answer=answer,
            category="music",
            skill="s",
            family=family,
            cue=cue,
        )

    band = BandSection(low=3, high=6, samples=8)
    # Meter: 5 waltz questions in the band, 1 march; two more march questions vary outside it (7 and
    # 2 of 8), one never varies (8 of 8). Pitch: one answer only among the candidates.
    meter = [task(i, "Meter", "waltz") for i in range(5)] + [task(i, "Meter", "march") for i in range(5, 9)]
    pitch = [task(i, "Pitch", "low", ("low", "high")) for i in range(3)]
    correct = {t.id: c for t, c in zip(meter + pitch, [4, 5, 3, 6, 4, 5, 7, 2, 8, 4, 4, 4])}
    got = balanced_band(meter + pitch, correct, band)
    # march offers 3 varying questions (band first, then the nearest: 7 of 8 before 2 of 8 is a tie
    # kept in order), so every answer gets 3; the band's waltz questions are taken in order
    assert [t.id for t in got] == ["Meter-0", "Meter-1", "Meter-2", "Meter-5", "Meter-6", "Meter-7"]
    # a question nobody answered differently gives GRPO nothing: never picked, even to balance
    correct["Meter-6"] = 8
    correct["Meter-7"] = 0
    assert [t.id for t in balanced_band(meter, correct, band)] == ["Meter-0", "Meter-5"]
    # an answer with no varying question: the family sits the round out
    correct["Meter-5"] = 0
    assert balanced_band(meter, correct, band) == []
    assert balanced_band([], {}, band) == []
    # per_cue: each transcript mode balanced apart. Without words this model says "march" to every
    # clip, so its audio-only band is all waltz; balanced over the family alone, the words' march
    # questions make up the count and RL moves the audio-only answer to "waltz"
    words = [task(i, "Meter", a, cue="independent") for i, a in enumerate(["waltz", "march", "march"])]
    none = [task(i, "Meter", a, cue="none") for i, a in enumerate(["waltz", "waltz", "march", "march"], 3)]
    correct = dict(zip([t.id for t in words + none], [5, 4, 7, 3, 2, 8, 7]))
    assert [t.id for t in balanced_band(words + none, correct, band)] == ["Meter-0", "Meter-1", "Meter-2", "Meter-3"]
    got = balanced_band(words + none, correct, band, per_cue=True)
    assert [t.id for t in got] == ["Meter-0", "Meter-1", "Meter-3", "Meter-6"]


def test_band_twins_is_a_checked_switch():
    assert load_config(None, ["recipe.rounds.band.twins=true"]).recipe.rounds.band.twins is True
    with pytest.raises(ConfigError, match="recipe.rounds.band.twins"):
        load_config(None, ["recipe.rounds.band.twins=3"])


@pytest.mark.parametrize(
    "script, make, args, message",
    [
        ("rl_probe", False, [], "not a run folder"),
        ("rl_probe", True, ["--rounds", "9"], "--rounds 9: the run has rounds 1..3"),
        ("rl_probe", True, ["--set", "recipe.rounds.rl.lr=-1"], "recipe.rounds.rl.lr"),
        ("rl_probe", True, [], "round1_distill: no model"),
        ("rl_probe", "distilled", ["--reference"], "round1_rl: no finished stage to read"),
        ("rl_probe", "distilled", ["--supervised"], "round1_rl: no finished stage to read"),
        ("rl_probe", True, ["--reference", "--supervised"], "--reference and --supervised: choose one"),
        ("distill_probe", False, [], "not a run folder"),
        ("distill_probe", True, ["--rounds", "0"], "--rounds 0: the run has rounds 1..3"),
        ("distill_probe", True, ["--set", "recipe.rounds.distill.labelled=-1"], "recipe.rounds.distill.labelled"),
        ("distill_probe", True, [], "cold_start_rlvr/model/config.json: missing"),
    ],
)
def test_probes_refuse_bad_input_in_one_line(tmp_path, monkeypatch, capsys, script, make, args, message):
    from audiogym.recipe.config import Config

    run = tmp_path / "run"
    if make:
        run.mkdir()
        (run / "config.json").write_text(json.dumps(Config().to_dict()))
    if make == "distilled":  # every round distilled, no RL stage finished
        for t in (1, 2, 3):
            (run / f"round{t}_distill" / "model").mkdir(parents=True)
            (run / f"round{t}_distill" / "model" / "config.json").write_text("{}")
    extra = ["--per-family", "1"] if script == "rl_probe" else []
    code, last = script_error(monkeypatch, capsys, script, str(run), str(tmp_path / "out"), "--tag", "t", *extra, *args)
    assert code == 2 and last.startswith("error: ") and message in last, last
    assert not (tmp_path / "out").exists()  # nothing written


@pytest.mark.parametrize("args, message", [([], "not a finished run folder"), (["--samples", "0"], "--samples 0")])
def test_sampled_listen_refuses_bad_input_in_one_line(tmp_path, monkeypatch, capsys, args, message):
    out = tmp_path / "out.json"
    code, last = script_error(monkeypatch, capsys, "sampled_listen", str(tmp_path), "--json", str(out), *args)
    assert code == 2 and last.startswith("error: ") and message in last, last
    assert not out.exists()


@pytest.mark.slow
def test_the_labelled_rows_control_trains_the_same_rows_without_the_chains(tmp_path, monkeypatch):
    """`recipe.rounds.distill.chains=false`: the distillation trains on its fresh labelled rows and
    text only (the control for what the distilled chains add). The minute model's own samples are
    rarely kept, so here the sampler returns the oracle's chains, all kept."""
    from audiogym.policies import OraclePolicy
    from audiogym.recipe import rollouts
    from audiogym.recipe.runner import Recipe

    def oracle_samples(name, folder, model_dir, seed, tasks, k, *args, **kwargs):
        return [
            {
                "task_id": t.id,
                "family": t.family,
                "conflict": t.conflict,
                "sample": 0,
                "completion": OraclePolicy().act(t),
                "correct": True,
                "grounded": True,
                "kept": True,
            }
            for t in tasks
        ]

    monkeypatch.setattr(rollouts, "sample", oracle_samples)
    metrics = {}
    for chains in ("true", "false"):
        cfg = load_config(
            None,
            [
                *MINUTE,
                f"recipe.run_dir={tmp_path}",
                f"recipe.name=chains_{chains}",
                f"recipe.rounds.distill.chains={chains}",
                "recipe.rounds.distill.balance_answers=false",
            ],
        )
        Recipe(cfg, report_to="none").run(progress=lambda _: None, stop_after="round1_distill")
        metrics[chains] = json.loads((tmp_path / f"chains_{chains}" / "round1_distill" / "metrics.json").read_text())
    with_chains, control = metrics["true"]["train"], metrics["false"]["train"]
    assert with_chains["trained_chains"] == 16 and control["trained_chains"] == 0
    assert control["labelled_rows"] == with_chains["labelled_rows"] == 8
    assert control["train_rows"] == with_chains["train_rows"] - 2 * 16  # chain_repeats 2
