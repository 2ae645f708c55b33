"""Files cut by a kill, moved run folders, hostile reward inputs, and the numba cache key."""
import json

import pytest

from audiogym import rewards as R
from audiogym.errors import ConfigError
from audiogym.io import numba_cache_dir, read_jsonl
from audiogym.trainers.recipe import finished


def test_a_torn_multibyte_tail_keeps_every_complete_line(tmp_path):
    from audiogym.trainers.rollouts import RolloutLog
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
    from audiogym.trainers.config import load_config
    from audiogym.trainers.recipe import Recipe
    tiny = ["recipe.families=[Tempo]", "recipe.eval.per_family=1", "recipe.eval.text=0"]
    cfg = load_config(None, tiny + [f"recipe.run_dir={tmp_path / 'a'}"])
    Recipe(cfg, report_to="none")
    (tmp_path / "a").rename(tmp_path / "b")
    moved = load_config(None, tiny + [f"recipe.run_dir={tmp_path / 'b'}"])
    Recipe(moved, resume=True, report_to="none")  # same settings, another place: accepted
    changed = load_config(None, tiny + [f"recipe.run_dir={tmp_path / 'b'}", "recipe.seed=5"])
    with pytest.raises(ConfigError, match="another config"):
        Recipe(changed, resume=True, report_to="none")


def test_hostile_reward_inputs():
    none_text = [{"role": "assistant", "content": [{"type": "text", "text": None}]}]
    assert R.binary(prompts=["p"], completions=[none_text], answer=["sad"], choices=[["sad", "x"]]) == [0.0]
    assert R.binary(prompts=["p"], completions=[[{"role": "assistant", "content": None}]], answer=["sad"]) == [0.0]
    # a label where a number belongs: the claim cannot be checked, nothing raises
    (g,) = R.grounding(prompts=["p"], completions=["<think>about 120 BPM</think>A"], facts=['{"tempo_bpm": "fast"}'],
                       category=["music"])
    assert 0.0 <= g <= 1.0
    with pytest.raises(ConfigError, match="column 'answer' has 1 values for 2 completions"):
        R.binary(prompts=["p", "p"], completions=["A", "B"], answer=["sad"])


def test_a_10mb_think_block_is_scored():
    """The think block is read up to a cap (4-6 s per reward before it, ~0.05 s after: not asserted)."""
    big = "<think>" + "音" * 10_000_000 + "</think>A"
    (c,) = R.composite_format(prompts=["p"], completions=[big], answer=["sad"], choices=[["sad", "x"]], question=["q"])
    (g,) = R.grounding(prompts=["p"], completions=[big], facts=["{}"], category=["music"])
    assert c == pytest.approx(0.8) and g == 0.0  # right answer (A); one repeated character is neither reasoning nor grounding


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


def test_a_full_disk_or_read_only_folder_is_one_line_and_exit_2(monkeypatch, capsys):
    import errno

    from audiogym import cli

    def full(_args):
        raise OSError(errno.ENOSPC, "No space left on device", "/runs/tiny/cold_start_sft/model.tmp")
    monkeypatch.setattr(cli, "cmd_list", full)
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
