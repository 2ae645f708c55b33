"""Stage `round<t>_rl`: RL on the difficulty band, MGRD step 2b (eqs. 7-8).

8 samples per candidate question; keep questions with low..high correct (3..6 of 8); GRPO on
them with the composite reward (eq. 7) mixed with text under the binary reward (eq. 8);
`recipe.rounds.rl.reward` can change the audio reward (e.g. add the grounding score).
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np

from audiogym.policies.scripted import ContrarianPolicy
from audiogym.recipe.rollouts import sample
from audiogym.recipe.rows import mixed_tasks, rows_for
from audiogym.recipe.sections import BandSection
from audiogym.recipe.seeds import derive
from audiogym.recipe.stage import Stage, StageContext, write_selected
from audiogym.rewards import build_reward, is_correct, task_row
from audiogym.rewards.base import Reward
from audiogym.rewards.outcome import think_words
from audiogym.tasks import FAMILIES, AudioTask
from audiogym.tasks.sources import make_cue_mix, make_tasks, split_task_id, task_seeds
from audiogym.trainers import dist
from audiogym.trainers.grpo import train_grpo


class BandRL(Stage):
    kind = "rl"
    config_key = "rounds"  # its band and rl sections
    streams = {"candidates": 50, "text": 51, "fill": 52, "fresh": 53}

    def run(self, ctx: StageContext) -> dict[str, Any]:
        band, rl = ctx.section.band, ctx.section.rl
        reward = build_reward(rl.reward)
        seed = ctx.stream("candidates")
        tasks = candidates(ctx.recipe.audio_families, band, seed)
        rollouts = ctx.sample(tasks, band.samples, 1.0, band.max_new_tokens, scorer(reward))
        correct: dict[str, int] = {}
        for row in rollouts:
            correct[row["task_id"]] = correct.get(row["task_id"], 0) + int(row["correct"])
        heard = sampled_hearing(tasks, rollouts)
        selected, heard_candidates = select_band(tasks, correct, heard, band)
        write_selected(ctx, ({"task_id": task.id, "correct_of_8": correct[task.id]} for task in selected))
        histogram = np.bincount([correct.get(task.id, 0) for task in tasks], minlength=band.samples + 1).tolist()
        text = make_tasks(["TextReasoning"], rl.text, ctx.stream("text"))
        twins = [FAMILIES[task.family].twin(task) for task in selected] if band.twins else []
        rl_tasks = selected + twins + text
        if len(rl_tasks) < rl.batch:  # too few in the band: fill with text so the stage still trains
            rl_tasks += make_tasks(["TextReasoning"], rl.batch, ctx.stream("fill"))
        metrics = train_grpo(ctx.job(), rows_for(as_drawn(rl_tasks, ctx)), reward, rl)
        in_band = sum(off_band(correct.get(task.id, 0), band) == 0 for task in selected)
        metrics.update(
            **deaf_on_band(selected, reward),
            band_hearing=heard,
            band_selected=len(selected),
            band_in_band=in_band,
            band_twins=len(twins),
            candidates=len(tasks),
            candidates_heard=heard_candidates,
            correct_histogram=histogram,
        )
        if selected:  # what RL did on what it trained on: the band questions resampled from the new model
            folder = ctx.folder / "band_after"  # a fresh model: an earlier attempt's samples do not count
            if dist.is_main():
                shutil.rmtree(folder, ignore_errors=True)
                folder.mkdir()
            dist.barrier()
            after = sample(
                f"{self.name} (band, after)",
                folder,
                ctx.model_out,
                ctx.seed + 1,
                selected,
                band.samples,
                1.0,
                band.max_new_tokens,
                scorer(reward),
                backend=ctx.recipe.generation.backend,
            )
            chosen = {task.id for task in selected}
            before = [r for r in rollouts if r["task_id"] in chosen]
            for key in ("correct", "reward"):
                metrics[f"band_{key}_before"] = float(np.mean([r[key] for r in before]))
                metrics[f"band_{key}_after"] = float(np.mean([r[key] for r in after]))
        return metrics


def as_drawn(tasks: list[AudioTask], ctx: StageContext) -> list[AudioTask]:
    """The stage's questions as it will draw them over its `rl.max_steps * rl.batch //
    rl.num_generations` prompts: as they are, or with `band.reask` / `band.fresh_clips` every later
    draw of a band question asked afresh / on a fresh clip."""
    band, rl = ctx.section.band, ctx.section.rl
    prompts = rl.max_steps * rl.batch // rl.num_generations
    if band.reask:
        return askings(tasks, prompts)
    if band.fresh_clips:
        return fresh_clips(tasks, prompts, ctx.stream("fresh"))
    return tasks


def redrawn(tasks: list[AudioTask], prompts: int, again: Callable[[AudioTask, int], AudioTask]) -> list[AudioTask]:
    """The stage's `prompts` draws as rows of their own: `tasks` as they are, then each audio
    question as `again(task, r)` at its r-th later draw; text questions repeat as they are."""
    rounds = -(-prompts // len(tasks))
    return [t if r == 0 or not len(t.audio) else again(t, r) for r in range(rounds) for t in tasks]


def askings(tasks: list[AudioTask], prompts: int) -> list[AudioTask]:
    """Each later draw of an audio question asked afresh (Family.reask)."""
    return redrawn(tasks, prompts, lambda t, r: FAMILIES[t.family].reask(t, r))


def fresh_clips(tasks: list[AudioTask], prompts: int, seed: int) -> list[AudioTask]:
    """Each later draw of an audio question on a fresh clip of its family, transcript mode and
    answer (from seeds of `seed`); where the generator gives too few, the band's own clip."""
    later = -(-prompts // len(tasks)) - 1  # later draws of each question
    wanted: dict[tuple[str, str], Counter[str]] = {}
    for task in tasks:
        if len(task.audio):
            wanted.setdefault((task.family, split_task_id(task.id)[2]), Counter())[task.answer] += later
    clips: dict[tuple[str, str, str], list[AudioTask]] = {}
    for j, ((family, mode), need) in enumerate(sorted(wanted.items())):
        cfg = FAMILIES[family].make_config({"transcript_mode": mode} if mode else {})
        seeds = iter(task_seeds(200 * sum(need.values()), derive(seed, j)))
        while any(len(clips.get((family, mode, a), [])) < n for a, n in need.items()):
            s = next(seeds, None)
            if s is None:  # an answer the generator almost never gives
                break
            clip = FAMILIES[family].make(s, cfg)
            if len(clips.setdefault((family, mode, clip.answer), [])) < need.get(clip.answer, 0):
                clips[(family, mode, clip.answer)].append(clip)

    def fresh(task: AudioTask, _: int) -> AudioTask:
        pool = clips.get((task.family, split_task_id(task.id)[2], task.answer))
        return pool.pop() if pool else task

    return redrawn(tasks, prompts, fresh)


def select_band(
    tasks: list[AudioTask], correct: dict[str, int], heard: dict[str, dict[str, float]], band: BandSection
) -> tuple[list[AudioTask], int]:
    """The band's questions among the candidates (low..high of `samples` right, or balanced over
    answers), from the family/mode cells heard at least `band.min_hearing`; and how many candidates
    those cells held."""
    pool = [t for t in tasks if band.min_hearing is None or heard[t.family][t.cue] >= band.min_hearing]
    if band.balance_answers:
        return balanced_band(pool, correct, band, per_cue=band.balance_per_cue), len(pool)
    return [t for t in pool if off_band(correct.get(t.id, 0), band) == 0], len(pool)


def candidates(families: list[str], band: BandSection, seed: int) -> list[AudioTask]:
    """The band's candidate questions: by transcript mode (`band.cues`), else the conflict/aligned
    mix (`band.conflict_share`), else the families' own mix."""
    if band.cues is not None:
        return make_cue_mix(families, max(1, band.candidates // len(families)), seed, band.cues)
    if band.conflict_share is not None:
        return mixed_tasks(families, band.candidates, seed, band.conflict_share)
    return make_tasks(families, band.candidates, seed)


def deaf_on_band(selected: list[AudioTask], reward: Reward) -> dict[str, float]:
    """What a deaf policy earns on the band: the contrarian's accuracy and reward, beside chance
    (mean 1/n). On a band of independent and audio-only items the contrarian is at chance, so a rise
    in the band's reward is listening, not answering against the words."""
    if not selected:
        return {}
    score = scorer(reward)
    deaf = [score(t, ContrarianPolicy().act(t)) for t in selected]
    return {
        "band_contrarian_correct": float(np.mean([d["correct"] for d in deaf])),
        "band_contrarian_reward": float(np.mean([d["reward"] for d in deaf])),
        "band_chance": float(np.mean([1 / len(t.choices) for t in selected])),
    }


def sampled_hearing(tasks: list[AudioTask], rollouts: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """What the model hears as it samples the band's candidates, per family and transcript mode: the
    mean over answers of the share of samples right on that answer's clips, rescaled so that 0 is any
    policy that ignores the clip (a constant answer, chance, the words) and 1 is always right
    (k options: (k * mean recall - 1) / (k - 1)). Where it is near 0 the band has nothing to sharpen:
    every clip is a coin flip and RL on it moves the family's answer prior."""
    by_id = {task.id: task for task in tasks}
    right: dict[tuple[str, str], dict[str, list[int]]] = {}
    for row in rollouts:
        task = by_id[row["task_id"]]
        right.setdefault((task.family, task.cue), {}).setdefault(task.answer, []).append(int(row["correct"]))
    choices = {task.family: len(task.choices) for task in tasks}
    out: dict[str, dict[str, float]] = {}
    for (family, cue), answers in sorted(right.items()):
        k = choices[family]
        recall = float(np.mean([np.mean(v) for v in answers.values()]))  # mean over the answers present
        out.setdefault(family, {})[cue] = (k * recall - 1) / (k - 1)
    return out


def off_band(n_correct: int, band: BandSection) -> int:
    """How many correct samples a question is from the band (0: low..high, inside it)."""
    return max(band.low - n_correct, n_correct - band.high, 0)


def balanced_band(
    tasks: list[AudioTask], correct: dict[str, int], band: BandSection, per_cue: bool = False
) -> list[AudioTask]:
    """The band with every answer of a family (`per_cue`: of a family in one transcript mode) on as
    many questions. Per family, each answer gets n
    questions: its band questions (low..high of `samples` correct) first, then those nearest the band
    that still vary (1..samples-1 correct, so GRPO has a signal), where n is the most band questions
    any answer has, capped by what the scarcest answer can offer. A family with one answer among the
    candidates, or an answer with no varying question, sits the round out. Order is kept.

    Why: the band is where the model is unsure, which leans to the answers it gets wrong. RL on that set moves the family's answer prior
    ("say waltz") as much as it teaches listening, and the held-out accuracy of the other answer pays."""

    def distance(task: AudioTask) -> int:
        return off_band(correct.get(task.id, 0), band)

    groups: dict[tuple[str, str], dict[str, list[AudioTask]]] = {}
    for task in tasks:
        group = (task.family, task.cue if per_cue else "")
        groups.setdefault(group, {}).setdefault(task.answer, []).append(task)
    keep: set[str] = set()
    for answers in groups.values():
        varying = {
            a: sorted((t for t in g if 0 < correct.get(t.id, 0) < band.samples), key=distance)
            for a, g in answers.items()
        }
        if len(varying) < 2:
            continue
        n = min(max(sum(distance(t) == 0 for t in g) for g in varying.values()), min(len(g) for g in varying.values()))
        for g in varying.values():
            keep.update(t.id for t in g[:n])
    return [task for task in tasks if task.id in keep]


def scorer(reward: Reward) -> Callable[[AudioTask, str], dict[str, Any]]:
    """Each band sample's correctness and the stage's reward of it."""

    def score(task: AudioTask, text: str) -> dict[str, Any]:
        return {
            "correct": is_correct(text, task.answer, task.choices),
            "reward": reward.score(text, task_row(task))[0],
            "think_words": think_words(text),
        }

    return score
