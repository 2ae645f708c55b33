"""A base that hears (captioning pretraining on measured facts, and the deaf-proof hearing check)
and a band where only listening pays (transcript-independent and audio-only candidates)."""

import json
from pathlib import Path

import pytest

from audiogym.errors import ConfigError
from audiogym.recipe.config import load_config
from audiogym.recipe.rows import caption, caption_task, empty_think
from audiogym.recipe.sections import BandSection
from audiogym.recipe.stages.band_rl import (
    askings,
    candidates,
    deaf_on_band,
    fresh_clips,
    sampled_hearing,
    select_band,
)
from audiogym.recipe.stages.build_base import categorical, hearing, parse_caption
from audiogym.rewards import build_reward
from audiogym.tasks import AUDIO_FAMILIES
from audiogym.tasks.sources import make_tasks


def test_a_caption_says_the_facts_and_reads_back():
    facts = {"beats_per_bar": 3, "tempo_bpm": 146.4, "foreground_speech": True, "notes": ["G3", "A3"], "slope": 4.53}
    line = caption(facts)
    assert line == "beats per bar: 3; tempo bpm: 150; foreground speech: yes; notes: G3 A3; slope: 4.5"
    said = parse_caption(empty_think(line))
    assert said["beats_per_bar"] == "3" and said["foreground_speech"] == "yes"
    assert categorical(facts) == {"beats_per_bar": "3", "foreground_speech": "yes"}  # floats, lists not scored
    assert parse_caption("<think>\n") == {} and parse_caption("no colon ; here") == {}


def test_every_audio_family_has_a_fact_a_caption_can_get_right():
    for name in AUDIO_FAMILIES:
        t = make_tasks([name], 1, seed=1)[0]
        assert categorical(t.facts), name
        c = caption_task(t)
        assert c.cue == "none" and not c.transcript and not c.choices and c.family == name


def test_hearing_is_zero_for_captions_that_ignore_the_audio_and_positive_for_true_ones():
    tasks = make_tasks(["Meter", "Intonation"], 60, seed=4)
    truth = {t.id: empty_think(caption(t.facts)) for t in tasks}
    heard = hearing(tasks, truth)
    assert all(h["own"] == 1.0 and h["hearing"] > 0.2 for h in heard.values())
    # one fixed caption per family (what a deaf model says): own and deaf agree in expectation
    fixed = {t.id: empty_think(caption(next(x for x in tasks if x.family == t.family).facts)) for t in tasks}
    deaf = hearing(tasks, fixed)
    assert all(abs(h["hearing"]) <= 0.15 for h in deaf.values()), deaf
    junk = hearing(tasks, {t.id: "<think>\nblah" for t in tasks})
    assert all(h == {"own": 0.0, "deaf": 0.0, "hearing": 0.0} for h in junk.values())


def test_band_cues_are_validated_and_replace_the_conflict_mix():
    band = BandSection(candidates=60, cues={"independent": 0.5, "none": 0.5})
    band.validate("b")
    tasks = candidates(["Meter", "VoicePitch"], band, seed=2)
    assert len(tasks) == 60 and {t.cue for t in tasks} == {"independent", "none"}
    for bad, msg in [({"independent": 0.7}, "sum to 1"), ({"aligned": 1.0}, "unknown mode"), ({}, "sum to 1")]:
        with pytest.raises(ConfigError, match=msg):
            BandSection(cues=bad).validate("recipe.rounds.band")
    cfg = load_config(None, ["recipe.rounds.band.cues={independent: 0.5, none: 0.5}"])
    assert cfg.recipe.rounds.band.cues == {"independent": 0.5, "none": 0.5}


@pytest.mark.slow
def test_the_contrarian_scores_chance_on_an_independent_band_and_not_on_a_conflict_band():
    fams = ["Meter", "Timbre", "AcousticScene", "LoudnessTrend", "Intonation", "VoicePitch"]
    reward = build_reward({"composite_format": 1.0})
    independent = candidates(fams, BandSection(candidates=600, cues={"independent": 0.5, "none": 0.5}), seed=9)
    d = deaf_on_band(independent, reward)
    assert abs(d["band_contrarian_correct"] - d["band_chance"]) <= 0.045, d  # 600 coin flips: SE ~1.9
    conflict = candidates(fams, BandSection(candidates=600, conflict_share=0.75, cues=None), seed=9)
    c = deaf_on_band(conflict, reward)
    assert c["band_contrarian_correct"] > c["band_chance"] + 0.1, c  # the shortcut the old band paid
    assert deaf_on_band([], reward) == {}


def test_sampled_hearing_is_zero_for_every_policy_that_ignores_the_clip():
    """The band's hearing per family and mode: a constant answer, the words and coin flips read ~0
    (independent items name an option drawn uniformly), the oracle 1; a partial listener between."""
    import numpy as np

    from audiogym.policies import OraclePolicy, TranscriptPolicy
    from audiogym.rewards import is_correct

    tasks = candidates(["Meter", "Timbre"], BandSection(candidates=400, cues={"independent": 0.5, "none": 0.5}), 4)
    rng = np.random.default_rng(0)

    def rows(answer):
        return [
            {"task_id": t.id, "correct": is_correct(answer(t), t.answer, t.choices)} for t in tasks for _ in range(8)
        ]

    def heard(answer):
        return sampled_hearing(tasks, rows(answer))

    constant = heard(lambda t: f"<answer>{sorted(t.choices)[0]}</answer>")
    coin = heard(lambda t: f"<answer>{t.choices[rng.integers(len(t.choices))]}</answer>")
    assert all(v == pytest.approx(0.0) for d in constant.values() for v in d.values()), constant
    assert all(abs(v) < 0.1 for d in coin.values() for v in d.values()), coin
    words = heard(TranscriptPolicy().act)
    assert abs(words["Meter"]["independent"]) < 0.15 and abs(words["Timbre"]["independent"]) < 0.15, words
    assert heard(OraclePolicy().act) == {
        "Meter": {"independent": 1.0, "none": 1.0},
        "Timbre": {"independent": 1.0, "none": 1.0},
    }
    half = heard(lambda t: OraclePolicy().act(t) if rng.random() < 0.5 else f"<answer>{sorted(t.choices)[0]}</answer>")
    assert 0.35 < half["Timbre"]["none"] < 0.65, half


def test_min_hearing_leaves_the_cells_the_model_does_not_hear_out_of_the_band():
    tasks = candidates(["Meter", "Timbre"], BandSection(candidates=40, cues={"independent": 0.5, "none": 0.5}), 4)
    correct = {t.id: 4 for t in tasks}  # every candidate 4 of 8: all in the band
    heard = {"Meter": {"independent": 0.05, "none": 0.3}, "Timbre": {"independent": 0.9, "none": 0.9}}
    assert select_band(tasks, correct, heard, BandSection(min_hearing=None, balance_answers=False)) == (tasks, 40)
    selected, pool = select_band(tasks, correct, heard, BandSection(min_hearing=0.2, balance_answers=False))
    assert pool == 30 and selected == [t for t in tasks if (t.family, t.cue) != ("Meter", "independent")]
    # the default (balanced, 0.2): the unheard cell is left out before the answers are balanced
    selected, pool = select_band(tasks, correct, heard, BandSection())
    assert pool == 30 and selected and all((t.family, t.cue) != ("Meter", "independent") for t in selected)
    with pytest.raises(ConfigError, match="recipe.rounds.band.min_hearing"):
        load_config(None, ["recipe.rounds.band.min_hearing=2"])


def test_askings_give_every_draw_of_a_band_question_a_prompt_of_its_own():
    band = candidates(["Meter", "Timbre"], BandSection(candidates=8), 4)
    text = make_tasks(["TextReasoning"], 2, seed=0)
    rows = askings(band + text, 64 * 32 // 4)  # the default stage draws 512 prompts
    assert len(rows) >= 512 and rows[: len(band) + 2] == band + text  # the first asking is the band itself
    audio = [r for r in rows if len(r.audio)]
    assert len({r.id for r in audio}) == len(audio)  # no audio question asked twice the same way
    assert [r for r in rows if not len(r.audio)] == text * (len(rows) // len(band + text))  # text repeats
    per_clip = {}
    for r in audio:
        per_clip.setdefault(r.audio.tobytes(), set()).add(tuple(r.choices))
    assert len(per_clip) == len(band) and all(len(v) > 1 for v in per_clip.values())
    assert load_config(None, ["recipe.rounds.band.reask=true"]).recipe.rounds.band.reask is True
    with pytest.raises(ConfigError, match="recipe.rounds.band.reask"):
        load_config(None, ["recipe.rounds.band.reask=3"])


def test_fresh_clips_draw_each_band_question_again_on_a_clip_of_its_cell_and_answer():
    band = candidates(["Meter", "Timbre"], BandSection(candidates=8), 4)
    text = make_tasks(["TextReasoning"], 2, seed=0)
    rows = fresh_clips(band + text, 64 * 32 // 4, seed=9)
    n = len(band + text)
    assert len(rows) >= 512 and rows[:n] == band + text
    audio = [r for r in rows if len(r.audio)]
    assert len({r.audio.tobytes() for r in audio}) == len(audio)  # no clip trained on twice
    for k in range(1, len(rows) // n):  # each later draw: a fresh clip of the same family, mode and answer
        for task, row in zip(band, rows[k * n : k * n + len(band)]):
            assert (row.family, row.cue, row.answer) == (task.family, task.cue, task.answer) and row.id != task.id
    assert [r for r in rows if not len(r.audio)] == text * (len(rows) // n)
    assert [r.id for r in fresh_clips(band + text, 512, seed=9)] == [r.id for r in rows]  # seeded
    assert {"reask", "fresh_clips"} <= set(
        vars(load_config(None, ["recipe.rounds.band.fresh_clips=true"]).recipe.rounds.band)
    )
    with pytest.raises(ConfigError, match="set reask or fresh_clips, not both"):
        load_config(None, ["recipe.rounds.band.fresh_clips=true", "recipe.rounds.band.reask=true"])


def test_the_base_stage_pretrains_the_encoder_and_reports_what_it_hears(tmp_path):
    """With recipe.pretrain.clips the base is the built model after captioning SFT with the encoder
    trained (its weights move; the frozen-encoder stages after it would not move them), and the stage
    reports per-family hearing on dev clips."""
    import dataclasses

    import torch
    from safetensors.torch import load_file

    from audiogym.policies.audio_lm import build_tiny_model
    from audiogym.recipe.runner import Recipe

    root = Path(__file__).resolve().parents[1]
    sets = [
        f"recipe.run_dir={tmp_path}",
        "recipe.pretrain.clips=12",
        "recipe.pretrain.sft.max_steps=2",
        "recipe.pretrain.eval_per_family=2",
        "recipe.pretrain.max_new_tokens=8",
    ]
    cfg = load_config(root / "configs" / "minute.yaml", sets)
    rows = Recipe(cfg, report_to="none").run(progress=lambda _: None, stop_after="base")
    heard = rows[-1]["hearing"]
    assert set(heard) == set(cfg.recipe.audio_families)
    assert all(set(v) == {"own", "deaf", "hearing"} for v in heard.values())
    run = tmp_path / "minute"
    kept = [json.loads(x) for x in (run / "base" / "selected.jsonl").read_text().splitlines()]
    assert len(kept) == 12 and all("</think>" in k["completion"] and ": " in k["completion"] for k in kept)
    fresh = build_tiny_model(tmp_path / "fresh", dataclasses.replace(cfg.model, seed=cfg.recipe.seed))
    before, after = load_file(fresh / "model.safetensors"), load_file(run / "base" / "model" / "model.safetensors")
    moved = [k for k in before if "audio_tower" in k and not torch.equal(before[k], after[k])]
    assert moved, "the audio encoder did not train"
    assert not (run / "base" / "init").exists()
