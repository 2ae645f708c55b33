"""Files cut by a kill, moved run folders, hostile reward inputs, and the numba cache."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from audiogym import rewards as R
from audiogym.errors import ConfigError
from audiogym.io import numba_cache_dir, read_jsonl
from audiogym.recipe.runner import finished


def test_a_torn_multibyte_tail_keeps_every_complete_line(tmp_path):
    from audiogym.recipe.rollouts import RolloutLog

    rows = [{"task_id": f"Tempo-{i}", "sample": 0, "completion": "和弦是小三和弦"} for i in range(3)]
    whole = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()
    cut = json.dumps({"task_id": "Tempo-9", "completion": "小三和弦"}, ensure_ascii=False).encode()[:-7]
    (tmp_path / "rollouts.jsonl.partial").write_bytes(whole + cut)  # cut inside a 3-byte character
    assert read_jsonl(tmp_path / "rollouts.jsonl.partial") == rows
    log = RolloutLog(tmp_path)  # rewrites the partial file without the torn line
    assert log.done_ids() == {"Tempo-0", "Tempo-1", "Tempo-2"}
    log.add([{"task_id": "Tempo-3", "sample": 0}])
    assert [r["task_id"] for r in log.finish([f"Tempo-{i}" for i in range(4)])] == [f"Tempo-{i}" for i in range(4)]


@pytest.mark.parametrize("metrics", ['{"stage": "x", "eval": {"accura', "{}", "", "[]"])
def test_a_torn_or_empty_metrics_file_makes_the_stage_unfinished(tmp_path, metrics):
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "config.json").write_text("{}")
    (tmp_path / "metrics.json").write_text(metrics)
    assert not finished(tmp_path) and not (tmp_path / "metrics.json").exists()


def test_a_deleted_model_makes_the_stage_unfinished(tmp_path):
    (tmp_path / "metrics.json").write_text(json.dumps({"stage": "x", "eval": {"accuracy": 0.5}}))
    assert not finished(tmp_path)
    (tmp_path / "metrics.json").write_text(json.dumps({"stage": "x", "eval": {"accuracy": 0.5}}))
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "config.json").write_text("{}")
    assert finished(tmp_path)


def test_a_moved_run_folder_resumes(tmp_path):
    from audiogym.recipe.config import load_config
    from audiogym.recipe.runner import Recipe

    tiny = ["recipe.families=[Tempo]", "recipe.eval.per_family=1", "recipe.eval.text=0"]
    cfg = load_config(None, tiny + [f"recipe.run_dir={tmp_path / 'a'}"])
    Recipe(cfg, report_to="none")
    (tmp_path / "a").rename(tmp_path / "b")
    moved = load_config(None, tiny + [f"recipe.run_dir={tmp_path / 'b'}"])
    Recipe(moved, resume=True, report_to="none")  # same settings, another place: accepted
    changed = load_config(None, tiny + [f"recipe.run_dir={tmp_path / 'b'}", "recipe.seed=5"])
    with pytest.raises(ConfigError, match="another config"):
        Recipe(changed, resume=True, report_to="none")


def test_a_run_saved_before_an_option_existed_resumes_and_an_unreadable_one_is_one_error(tmp_path):
    """A key added to the config since a run was written takes its default on --resume (what the
    run did); a saved key this version does not know is a clear error, and nothing is written."""
    from audiogym.recipe.config import load_config
    from audiogym.recipe.runner import Recipe

    tiny = ["recipe.families=[Tempo]", "recipe.eval.per_family=1", "recipe.eval.text=0", f"recipe.run_dir={tmp_path}"]
    cfg = load_config(None, tiny)
    Recipe(cfg, report_to="none")
    saved = cfg.recipe.folder / "config.json"
    old = json.loads(saved.read_text())
    del old["recipe"]["rounds"]["band"]["reask"]  # as written before the option existed
    saved.write_text(json.dumps(old))
    Recipe(cfg, resume=True, report_to="none")  # accepted: the option's default is what the run did
    with pytest.raises(ConfigError, match="another config"):  # but not the option turned on
        Recipe(load_config(None, tiny + ["recipe.rounds.band.reask=true"]), resume=True, report_to="none")
    old["recipe"]["rounds"]["band"]["retired_option"] = 1
    saved.write_text(json.dumps(old))
    with pytest.raises(ConfigError, match="not readable as this version's config .*retired_option"):
        Recipe(cfg, resume=True, report_to="none")
    assert json.loads(saved.read_text()) == old  # nothing written


def test_hostile_reward_inputs():
    none_text = [{"role": "assistant", "content": [{"type": "text", "text": None}]}]
    assert R.binary(prompts=["p"], completions=[none_text], answer=["sad"], choices=[["sad", "x"]]) == [0.0]
    assert R.binary(prompts=["p"], completions=[[{"role": "assistant", "content": None}]], answer=["sad"]) == [0.0]
    # a label where a number belongs: the claim cannot be checked, nothing raises
    (g,) = R.grounding(
        prompts=["p"],
        completions=["<think>about 120 BPM</think>A"],
        facts=['{"tempo_bpm": "fast"}'],
        category=["music"],
    )
    assert 0.0 <= g <= 1.0
    with pytest.raises(ConfigError, match="column 'answer' has 1 values for 2 completions"):
        R.binary(prompts=["p", "p"], completions=["A", "B"], answer=["sad"])


def test_a_10mb_think_block_is_scored():
    """The think block is read up to a cap (4-6 s per reward before it, ~0.05 s after: not asserted)."""
    big = "<think>" + "音" * 10_000_000 + "</think>A"
    (c,) = R.composite_format(prompts=["p"], completions=[big], answer=["sad"], choices=[["sad", "x"]], question=["q"])
    (g,) = R.grounding(prompts=["p"], completions=[big], facts=["{}"], category=["music"])
    assert (
        c == pytest.approx(0.8) and g == 0.0
    )  # right answer (A); one repeated character is neither reasoning nor grounding


def test_the_numba_cache_is_keyed_by_numba_version_and_interpreter(monkeypatch):
    import importlib.metadata as md

    real = md.version
    here = numba_cache_dir()
    fake = "0.1.2" if real("numba") != "0.1.2" else "0.1.3"  # any version but the installed one
    monkeypatch.setattr(md, "version", lambda name: fake if name == "numba" else real(name))
    other = numba_cache_dir()
    monkeypatch.setattr("sys.executable", "/some/other/python")
    third = numba_cache_dir()
    assert len({here, other, third}) == 3 and fake in other.name


# a process filling the numba cache: logs its pid around a 2 s "compile", then says whether the marker is there
_FILL = """
import os, sys, time
from pathlib import Path
from audiogym.io import fill_numba_cache
log = Path(sys.argv[1])
def compile_all():
    with open(log, "a") as f:
        f.write(f"start {os.getpid()}\\n")
    time.sleep(2.0)
    with open(log, "a") as f:
        f.write(f"end {os.getpid()}\\n")
fill_numba_cache("k", compile_all)
print(Path(os.environ["NUMBA_CACHE_DIR"], "filled-k").exists())
"""


def test_two_processes_fill_the_numba_cache_once(tmp_path):
    """Two seeds started together compiled librosa's gufuncs at once and left a cache that segfaulted
    every later process (numba #10128): the compile runs in one process, the other waits for it."""
    import shutil

    import audiogym.analysis  # noqa: F401  (fills this folder: the copy spares each process a compile)

    shutil.copytree(os.environ["NUMBA_CACHE_DIR"], tmp_path / "cache")
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _FILL, str(tmp_path / "log")], env=env, stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0] and outs == ["True\n", "True\n"]
    events = (tmp_path / "log").read_text().split("\n")[:-1]
    assert len(events) == 2 and events[0].startswith("start") and events[1] == "end" + events[0][5:]


def test_a_numba_cache_folder_that_cannot_be_made_still_compiles(tmp_path, monkeypatch):
    from audiogym.io import fill_numba_cache

    (tmp_path / "file").write_text("")
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "file" / "cache"))  # under a file: no folder
    ran = []
    fill_numba_cache("k", lambda: ran.append(1))
    assert ran == [1]


def test_importing_analysis_leaves_the_numba_cache_filled():
    import audiogym.analysis as analysis

    key = hashlib.sha1(Path(analysis.__file__).read_bytes()).hexdigest()[:12]
    folder = Path(os.environ["NUMBA_CACHE_DIR"])  # set by `import audiogym`
    assert (folder / f"filled-analysis-{key}").exists() and any(folder.glob("*/*.nbi"))


def test_a_full_disk_or_read_only_folder_is_one_line_and_exit_2(monkeypatch, capsys):
    import errno

    from audiogym import cli

    def full(_args):
        raise OSError(errno.ENOSPC, "No space left on device", "/runs/tiny/cold_start_sft/model.tmp")

    monkeypatch.setattr(cli.tasks, "cmd_list", full)  # the command's handler, where `list` is declared
    assert cli.main(["list"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "No space left on device" in err and "model.tmp" in err


def test_a_failed_save_leaves_no_partial_model(tmp_path, monkeypatch):
    from audiogym.trainers import model_io

    class Trainer:
        def save_model(self, path):
            from pathlib import Path

            Path(path).mkdir(parents=True)
            (Path(path) / "model.safetensors").write_bytes(b"half")
            raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        model_io.save(Trainer(), None, tmp_path / "model")
    assert not (tmp_path / "model.tmp").exists() and not (tmp_path / "model").exists()


def _fake_run(root, weights_bump=0.0, rollout_line="b"):
    import json

    import torch
    from safetensors.torch import save_file

    root.mkdir(parents=True)
    stages = ["base", "cold_start_sft", "round1_rl"]
    rows = [{"stage": "baseline: oracle"}] + [{"stage": s} for s in stages]
    (root / "table.json").write_text(json.dumps({"rows": rows}))
    for s in stages:
        (root / s / "model").mkdir(parents=True)
        w = torch.arange(6, dtype=torch.float32) + (weights_bump if s == "cold_start_sft" else 0.0)
        save_file({"w": w}, str(root / s / "model" / "model.safetensors"))
        if s == "round1_rl":
            (root / s / "rollouts.jsonl").write_text(f'{{"x": "a"}}\n{{"x": "{rollout_line}"}}\n')
        (root / s / "eval").mkdir()
        items = [{"task_id": f"T-{j}", "completion": "The answer is A."} for j in range(3)]
        (root / s / "eval" / "eval.json").write_text(json.dumps({"items": items}))


def test_diverge_names_the_first_stage_and_artifact_that_differ(tmp_path, capsys):
    from audiogym.cli import main

    _fake_run(tmp_path / "a")
    _fake_run(tmp_path / "same")
    _fake_run(tmp_path / "late", rollout_line="c")
    _fake_run(tmp_path / "early", weights_bump=1e-6, rollout_line="c")
    assert main(["diverge", str(tmp_path / "a"), str(tmp_path / "same")]) == 0
    assert "identical: 3 stages" in capsys.readouterr().out
    assert main(["diverge", str(tmp_path / "a"), str(tmp_path / "late")]) == 1
    assert "stage round1_rl, rollouts.jsonl: line 2 differs" in capsys.readouterr().out
    assert main(["diverge", str(tmp_path / "a"), str(tmp_path / "early")]) == 1
    out = capsys.readouterr().out
    assert (
        "stage cold_start_sft, model/model.safetensors: max |difference|" in out and "identical before it: base" in out
    )
    assert main(["diverge", str(tmp_path / "a"), str(tmp_path / "nowhere")]) == 2
