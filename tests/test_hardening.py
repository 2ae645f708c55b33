"""Defects a hostile or new user found (the hardening issue), each pinned by a test."""

import subprocess
import sys

import gymnasium as gym
import pytest

import audiogym
from audiogym import ConfigError
from audiogym.rewards import build_reward, mgrd_reward


def cli(*args):
    return subprocess.run([sys.executable, "-m", "audiogym.cli", *args], capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize(
    "spec, match",
    [
        ("recipe.rounds.rl.reward.audio={grounding: lots}", "weight for 'grounding' must be a number >= 0, got 'lots'"),
        ("recipe.rounds.rl.reward.audio={composite_format: 1, grounding: -0.5}", "must be a number >= 0, got -0.5"),
        ("recipe.rounds.rl.reward={binary: .nan}", "must be a number >= 0"),
        ("model.vocab_size=5", "model.vocab_size=5: expected at least 264"),
    ],
)
def test_bad_reward_weights_and_vocab_sizes_are_one_line_errors(spec, match, tmp_path):
    r = cli("train", "--report-to", "none", "--set", f"recipe.run_dir={tmp_path}", "--set", spec)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr[-2000:]
    assert match in r.stderr and r.stderr.strip().count("\n") == 0, r.stderr
    assert not any(tmp_path.iterdir())


def test_version():
    r = cli("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"audiogym {audiogym.__version__}"


def test_routed_rewards_are_named_for_what_they_route():
    assert mgrd_reward().name == build_reward({"audio": "composite_format", "text": "binary"}).name == "mgrd"
    other = build_reward({"audio": {"composite_format": 1, "grounding": 0.5}, "text": "binary"})
    assert other.name == "routed(audio=composite_format+0.5*grounding,text=binary)"
    assert build_reward({"audio": "binary", "text": "binary"}).name != other.name != "mgrd"


def test_the_rl_curve_follows_the_reward_name():
    from audiogym.trainers.grpo import training_curve

    name = "routed(audio=binary,text=binary)"
    history = [{"step": 1, "reward": 0.5, f"{name}/audio/reward": 0.25}, {"step": 2, "reward": 0.7}]
    assert training_curve(history, name)["audio_reward"] == [0.25, None]


def test_to_dataset_takes_a_wrapped_environment():
    from audiogym.data import to_dataset

    env = gym.make("audiogym/Tempo-v0", difficulty="hard")
    ds = to_dataset(env, n=2)
    assert len(ds) == 2 and set(ds["family"]) == {"Tempo"} and set(ds["difficulty"]) == {"hard"}
    assert list(ds["task_id"]) == list(to_dataset("audiogym/Tempo-v0", n=2, difficulty="hard")["task_id"])
    with pytest.raises(ConfigError, match="neither an environment id nor an audiogym env"):
        to_dataset(object(), n=2)


def test_the_action_space_holds_answers_in_any_script():
    env = gym.make("audiogym/Tempo-v0")
    for text in ("答案是 B", "The answer is (B).", "<think>\n节奏很慢\n</think>\n答案：慢", ""):
        assert env.action_space.contains(text), text
    assert not env.action_space.contains(7) and not env.action_space.contains("x" * (env.action_space.max_length + 1))
    assert env.action_space.contains(env.action_space.sample())


def test_auto_means_vllm_where_it_runs_this_model_else_hf(monkeypatch):
    from audiogym.policies import vllm_engine

    monkeypatch.delenv("AUDIOGYM_AUTO_BACKEND", raising=False)
    monkeypatch.setattr(vllm_engine, "vllm_available", lambda: True)
    monkeypatch.setattr(vllm_engine, "cpu_head_sizes", lambda: [32, 64, 128])
    assert vllm_engine.backend_choice("auto", 16) == (
        "hf",
        "vLLM's CPU attention does not run this model's head size 16",
    )
    assert vllm_engine.backend_choice("auto", 32)[0] == "vllm"
    monkeypatch.setattr(vllm_engine, "vllm_available", lambda: False)
    assert vllm_engine.backend_choice("auto", 32) == ("hf", "vLLM is not installed")


def test_the_minute_sweep_config_loads_where_vllm_is_installed(monkeypatch):
    """configs/sweeps/minute.yaml's model has head size 16: `auto` must not refuse it."""
    from audiogym.sweep.config import load_sweep
    from audiogym.sweep.run import trial_config

    monkeypatch.delenv("AUDIOGYM_AUTO_BACKEND", raising=False)
    sweep = load_sweep("configs/sweeps/minute.yaml")
    cfg = trial_config(sweep, {"recipe.rounds.rl.lr": 1e-4}, 0, __import__("pathlib").Path("/tmp/x"), "t")
    assert cfg.recipe.generation.backend == "auto" and cfg.head_size() == 16


def test_a_question_cut_short_by_a_kill_is_sampled_again_whole(tmp_path, monkeypatch):
    """A kill in the middle of a sampling batch left 2 of a question's 4 samples; --resume must not
    count it done."""
    import json

    from audiogym.policies.base import Generation
    from audiogym.recipe import rollouts
    from audiogym.tasks.sources import make_tasks
    from audiogym.trainers import model_io

    tasks = make_tasks(["Tempo"], 3, seed=1)
    partial = tmp_path / "rollouts.jsonl.partial"
    rows = [{"task_id": tasks[0].id, "sample": j, "completion": "old", "ok": 1} for j in range(4)]
    rows += [{"task_id": tasks[1].id, "sample": j, "completion": "old", "ok": 1} for j in range(2)]
    partial.write_text("".join(json.dumps(r) + "\n" for r in rows))
    asked: list[str] = []

    class Fake:
        def generate(self, chunk, num_samples, **kw):
            asked.extend(t.id for t in chunk)
            return [[Generation("new", 1) for _ in range(num_samples)] for _ in chunk]

    monkeypatch.setattr(model_io, "policy", lambda model_dir, backend="hf": Fake())
    out = rollouts.sample("s", tmp_path, tmp_path, 0, tasks, 4, 1.0, 8, lambda t, text: {"ok": 1})
    assert asked == [tasks[1].id, tasks[2].id]  # the whole question again, not only its missing samples
    per = {t.id: sorted((r["sample"], r["completion"]) for r in out if r["task_id"] == t.id) for t in tasks}
    assert per[tasks[0].id] == [(j, "old") for j in range(4)]
    assert per[tasks[1].id] == [(j, "new") for j in range(4)] and len(out) == 12


def test_a_device_as_an_audio_path_is_named_for_what_it_is(tmp_path):
    import json

    from audiogym.tasks.manifest import AudioError, Manifest, load_audio

    with pytest.raises(AudioError, match="/dev/zero: not a regular file"):
        load_audio("/dev/zero")
    with pytest.raises(AudioError, match="audio file not found"):
        load_audio(tmp_path / "nowhere.wav")
    rows = [{"id": "z", "audio_id": "/dev/zero", "question": "q?", "choices": ["a", "b"], "answer": "a"}]
    (tmp_path / "m.json").write_text(json.dumps(rows))
    from audiogym.errors import ManifestError

    with pytest.raises(ManifestError, match="no usable rows"):
        Manifest(tmp_path / "m.json", skip_invalid=True)
    with pytest.raises(ManifestError, match="not a regular file .a device or a pipe.: /dev/zero"):
        Manifest(tmp_path / "m.json")


def test_reasoning_that_restates_the_prompt_earns_no_format_term():
    """Issue item 10: the prompt (question, options, transcript) copied into the think block is not
    reasoning; a real chain about the same item still is."""
    from audiogym.rewards import task_row
    from audiogym.tasks import FAMILIES

    task = FAMILIES["Intonation"].make(3)
    row = task_row(task)
    fmt, composite = build_reward("reasoning_format"), build_reward("composite_format")
    options = " ".join(task.choices)
    copies = [
        f"<think>\n{task.question} {options} {task.transcript}\n</think>\nThe answer is {task.answer}.",
        f"<think>\n{task.question} {options}\n</think>\nThe answer is {task.answer}.",
        f"<think>\n{task.transcript_label}: {task.transcript}. {task.question}\n</think>\nThe answer is {task.answer}.",
    ]
    for text in copies:
        assert fmt.score(text, row)[0] == 0.0, text
        assert composite.score(text, row)[0] == pytest.approx(0.8), text
    honest = (
        "<think>\nThe voice's pitch climbs over the last syllable, a rising final contour, which marks the"
        f" utterance as asking something.\n</think>\nThe answer is {task.answer}."
    )
    assert fmt.score(honest, row)[0] == 1.0


def test_export_writes_both_engines_formats_and_refuses_bad_input(tmp_path, capsys):
    import json

    import pandas as pd

    from audiogym.cli import main

    assert main(["export", "--format", "verl", "--n", "4", "--n-test", "2", "--out", str(tmp_path / "v")]) == 0
    train = pd.read_parquet(tmp_path / "v" / "train.parquet")
    assert len(train) == 4 and {"prompt", "audios", "reward_model", "extra_info", "data_source"} <= set(train.columns)
    assert main(["export", "--format", "nemo-rl", "--n", "4", "--out", str(tmp_path / "n")]) == 0
    rows = [json.loads(x) for x in (tmp_path / "n" / "data.jsonl").read_text().splitlines()]
    assert rows and all((tmp_path / "n" / r["audio_path"]).is_file() and r["answer"] in r["choices"] for r in rows)
    assert {r["audio-contribution"] for r in rows} <= {"weak", "strong"}
    capsys.readouterr()
    for argv in (
        ["export", "--format", "verl", "--n", "0", "--out", str(tmp_path / "x")],
        ["export", "--format", "verl", "--out", str(tmp_path / "v")],  # not empty: no --force
        ["export", "--format", "verl", "--env", "audiogym/Nope-v0", "--n", "2", "--out", str(tmp_path / "y")],
    ):
        assert main(argv) == 2, argv
        assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_resume_removes_stray_temp_files_and_warns_of_a_changed_log(tmp_path):
    """Issue item 6: a kill inside an atomic write leaves `.name.*.tmp`; a finished stage whose
    rollouts log was truncated afterwards is named on --resume (not silently trusted)."""
    from audiogym.recipe.runner import log_size, remove_stray_temp_files, warn_if_changed

    stage = tmp_path / "round1_rl"
    (stage / "band_after").mkdir(parents=True)
    for name in (".rollouts.jsonl.k2j3.tmp", "band_after/.rollouts.jsonl.x.tmp", "rollouts.jsonl", "notes.tmp"):
        (stage / name).write_text("{}\n")
    remove_stray_temp_files(stage)
    assert sorted(p.name for p in stage.rglob("*") if p.is_file()) == ["notes.tmp", "rollouts.jsonl"]

    log = stage / "rollouts.jsonl"
    log.write_text("".join(f'{{"task_id": "t{i}"}}\n' for i in range(10)))
    metrics = {"rollouts": log_size(log)}
    said: list[str] = []
    warn_if_changed("round1_rl", stage, metrics, said.append)
    assert said == []  # unchanged: nothing to say
    log.write_text(log.read_text()[:40])
    warn_if_changed("round1_rl", stage, metrics, said.append)
    assert len(said) == 1 and "round1_rl/rollouts.jsonl has 2 lines" in said[0] and "had 10 lines" in said[0]
    log.unlink()
    warn_if_changed("round1_rl", stage, metrics, said.append)
    assert "is gone" in said[-1]
    warn_if_changed("base", stage, {"rollouts": None}, said.append)  # a stage without a log: nothing
    assert len(said) == 2
