"""Stage `base`: the starting model, built from the tiny config or copied from `recipe.model_path`,
then (with `recipe.pretrain.clips`) pretrained to hear: SFT on captions of the generators' measured
facts, audio encoder trained, for clips of every audio family. The report starts from a pretrained
audio LM; the tiny model is initialised at random, and with a frozen random encoder it only hears
what the cold start's labelled answers happen to teach.

What the base hears is measured on dev clips of the run's families: per family, the share of the
categorical facts its greedy caption gets right for its own clip, minus the share it gets right for
another clip of the family (the level any caption that ignores the audio reaches).
"""

from __future__ import annotations

import dataclasses
import shutil
from typing import Any

import numpy as np

from audiogym.recipe.heldout import HeldOut
from audiogym.recipe.rows import caption, caption_rows, caption_task, rows_for
from audiogym.recipe.stage import Stage, StageContext, write_selected
from audiogym.tasks import AUDIO_FAMILIES, AudioTask
from audiogym.trainers import dist
from audiogym.trainers.sft import train_sft


def parse_caption(text: str) -> dict[str, str]:
    """A caption line (after any think block) back into {key: value}."""
    text = text.rsplit("</think>", 1)[-1].strip()
    out: dict[str, str] = {}
    for part in text.split(";"):
        key, sep, value = part.partition(":")
        if sep:
            out.setdefault(key.strip().replace(" ", "_"), value.strip())
    return out


def categorical(facts: dict[str, Any]) -> dict[str, str]:
    """The facts a caption can get exactly right or wrong (not measured floats or note lists)."""
    return {k: caption({k: v}).split(": ", 1)[1] for k, v in facts.items() if not isinstance(v, (float, list, tuple))}


def fact_match(said: dict[str, str], facts: dict[str, Any]) -> float:
    truth = categorical(facts)
    return float(np.mean([said.get(k) == v for k, v in truth.items()])) if truth else 0.0


def hearing(tasks: list[AudioTask], captions: dict[str, str]) -> dict[str, dict[str, float]]:
    """Per family: `own` (categorical facts right for the captioned clip), `deaf` (right for the next
    clip of the family: what a caption that ignores the audio scores) and `hearing` = own - deaf."""
    out: dict[str, dict[str, float]] = {}
    for family in dict.fromkeys(t.family for t in tasks):
        group = [t for t in tasks if t.family == family]
        said = [parse_caption(captions[t.id]) for t in group]
        own = float(np.mean([fact_match(s, t.facts) for s, t in zip(said, group)]))
        deaf = float(np.mean([fact_match(s, group[(i + 1) % len(group)].facts) for i, s in enumerate(said)]))
        out[family] = {"own": own, "deaf": deaf, "hearing": own - deaf}
    return out


def caption_hearing(
    name: str, folder: Any, model_dir: Any, recipe: Any, seed: int, per_family: int, max_new_tokens: int
) -> dict[str, dict[str, float]]:
    """`hearing` of the model in `model_dir` on the first `per_family` dev clips of each of the
    recipe's families, asked for their caption (greedy; samples logged under `folder`). Any
    stage's model can be checked: whether it still says what the base learned to hear."""
    from audiogym.recipe.rollouts import sample

    # the dev split's clips (HeldOut's first per family): no training stream can name them
    held_out = HeldOut(recipe, "dev").tasks
    dev = [caption_task(t) for f in recipe.audio_families for t in [x for x in held_out if x.family == f][:per_family]]
    rows = sample(
        name,
        folder,
        model_dir,
        seed,
        dev,
        1,
        0.0,
        max_new_tokens,
        lambda task, text: {"caption": parse_caption(text)},
        backend=recipe.generation.backend,
    )
    return hearing(dev, {r["task_id"]: r["completion"] for r in rows})


class BuildBase(Stage):
    kind = "base"
    config_key = "pretrain"
    streams = {"captions": 1}

    def run(self, ctx: StageContext) -> dict[str, Any]:
        pretrain = ctx.section.clips > 0 and not ctx.recipe.model_path
        init = ctx.folder / "init" if pretrain else ctx.model_out
        if dist.is_main():
            if ctx.recipe.model_path:  # a real checkpoint: the run starts from a copy of it
                shutil.copytree(ctx.recipe.model_path, ctx.model_out, dirs_exist_ok=True)
            else:
                from audiogym.policies.audio_lm import build_tiny_model

                model = ctx.cfg.model
                if model.seed is None:  # the initialisation follows the run's seed
                    model = dataclasses.replace(model, seed=ctx.recipe.seed)
                build_tiny_model(init, model)
        dist.barrier()
        metrics: dict[str, Any] = {"source": ctx.recipe.model_path or "tiny"}
        if pretrain:
            metrics.update(self.pretrain(ctx, init))
        return metrics

    def pretrain(self, ctx: StageContext, init: Any) -> dict[str, Any]:
        section = ctx.section
        fams = {"run": ctx.recipe.audio_families, "all": list(AUDIO_FAMILIES)}.get(section.families, section.families)
        tasks, comps = caption_rows(list(fams), section.clips, ctx.stream("captions"))
        write_selected(ctx, ({"task_id": t.id, "completion": c} for t, c in zip(tasks, comps)))
        job = dataclasses.replace(ctx.job(), model_in=init, freeze_encoder=False)  # the encoder learns to hear
        metrics = train_sft(job, rows_for(tasks, comps), section.sft)
        per_family = caption_hearing(
            f"{self.name} (hearing)",
            ctx.folder,
            ctx.model_out,
            ctx.recipe,
            ctx.seed,
            section.eval_per_family,
            section.max_new_tokens,
        )
        metrics["hearing"] = per_family
        if dist.is_main():
            shutil.rmtree(init, ignore_errors=True)
        return metrics
