"""scripts/results.py: docs/results.md from committed JSON, with seed-level statistics."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def fake_run(folder: Path, seed: int, listen: list[float], test: bool = True) -> Path:
    names = [
        ("cold_start_rlvr", "cold_start_rlvr", 0, "cold_start"),
        ("round1_distill", "distill", 1, "round"),
        ("round1_rl", "rl", 1, "round"),
        ("self_cognition", "self_cognition", 0, "final"),
    ]
    rows = [{"stage": "baseline: transcript", "kind": "baseline", "accuracy_listen": 0.33, "test": None}]
    for (stage, kind, rnd, phase), acc in zip(names, listen):
        summary = {
            "accuracy_listen": acc,
            "chance_listen": 0.4,
            "accuracy_aligned": 0.8,
            "accuracy_conflict": 0.5,
            "accuracy_text": 0.5,
            "listening_index": {"Meter": acc - 0.4},
            "self_cognition_error_rate": 0.0,
            "grounding_rate": 0.1,
            "mean_think_words": 5.0,
        }
        rows.append(
            {"stage": stage, "kind": kind, "round": rnd, "phase": phase, **summary, "test": summary if test else None}
        )
    folder.mkdir(parents=True)
    (folder / "table.json").write_text(json.dumps({"rows": rows, "seconds": 600}))
    (folder / "config.json").write_text(json.dumps({"recipe": {"seed": seed}}))
    return folder


def test_collect_then_render_writes_the_page_from_the_json(tmp_path, monkeypatch):
    sys.path.insert(0, str(ROOT / "scripts"))
    import results

    monkeypatch.setattr(results, "DATA", tmp_path / "data")
    runs = [
        fake_run(tmp_path / f"seed{s}", s, listen)
        for s, listen in [(100, [0.4, 0.5, 0.55, 0.55]), (101, [0.4, 0.45, 0.5, 0.5]), (102, [0.4, 0.5, 0.48, 0.5])]
    ]
    out = results.collect(runs, "default")
    data = json.loads(out.read_text())
    assert [s["seed"] for s in data["seeds"]] == [100, 101, 102] and data["split"] == "test"
    lines = results.render_set(data) + results.claims(data)
    text = "\n".join(lines)
    assert "| cold start -> last round, listen | +15.0 +10.0 +8.0 | +11.0 |" in text
    assert "| round1_rl (vs the stage before), listen | +5.0 +5.0 -2.0 | +2.7 |" in text
    assert "2 up, 1 down" in text
    assert "Grounding rounds help" in text and "holds: +11.0 points" in text


def test_runs_without_a_test_split_are_refused_in_one_line(tmp_path):
    run = fake_run(tmp_path / "old", 0, [0.4, 0.5, 0.5, 0.5], test=False)
    r = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "results.py"), "collect", "--name", "x", str(run)],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2 and "before the test split existed" in r.stderr and "Traceback" not in r.stderr


def test_a_sweep_collects_into_arms_compared_with_the_default_arm_seed_by_seed(tmp_path, monkeypatch):
    sys.path.insert(0, str(ROOT / "scripts"))
    import results

    monkeypatch.setattr(results, "DATA", tmp_path / "data")
    sweep = tmp_path / "claims_round1"
    arms = [({}, 0.6), ({"rl": {"reward": {"audio": "binary"}}}, 0.5)]
    for values, rl_listen in arms:
        for seed in (200, 201):
            trial = fake_run(sweep / f"{len(values)}-{seed}", seed, [0.4, 0.5, rl_listen + (seed - 200) / 100, 0.5])
            (trial / "sweep_trial.json").write_text(json.dumps({"values": {"recipe.rounds": values}, "seed": seed}))
    data = json.loads(results.collect_sweep(sweep, "claims").read_text())
    assert set(data["arms"]) == {"default", "rounds.rl.reward.audio=binary"} and data["kind"] == "ablation"
    text = "\n".join(results.render_ablation(data))
    assert (
        "The format term (eq. 7)" in text and "| round1_rl | +10.0 +10.0 | +10.0 |" in text and "2 up, 0 down" in text
    )
    (sweep / "0-200" / "sweep_trial.json").unlink()
    (sweep / "0-201" / "sweep_trial.json").unlink()
    r = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "results.py"), "collect-sweep", str(sweep), "--name", "x"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert r.returncode == 2 and "no finished default arm" in r.stderr
