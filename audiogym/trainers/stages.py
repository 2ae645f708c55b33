"""The stages of the MGRD recipe. Each reads a model folder and writes a stage folder:

    <stage>/model/           the new model (weights + processor), when the stage trains
    <stage>/rollouts.jsonl   every sampled completion with its scores and filter decisions
    <stage>/selected.jsonl   what the stage kept (distillation chains, band questions, DPO pairs)
    <stage>/metrics.json     written last: its presence means the stage finished

Training is a thin layer over TRL (audio SFT, AudioGRPOTrainer, audio DPO); sampling and
filtering use the same reward code as everything else.
"""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import datasets
import numpy as np
import torch

from audiogym.data import encode_audio, task_seeds
from audiogym.io import write_jsonl
from audiogym.policies.scripted import OraclePolicy, TranscriptPolicy, format_completion
from audiogym.rewards import GroundingFilter, build_reward, is_correct, self_cognition_error
from audiogym.rewards.parse import split_think
from audiogym.tasks import AUDIO_FAMILIES, FAMILIES, AudioTask, get_family
from audiogym.tasks.core import conversational_prompt

REFUSALS = [
    "I'm sorry, but I am a text-based model and cannot hear audio.",
    "As a text model, I can't listen to recordings. Please upload a transcript.",
    "I don't have the ability to hear the audio clip. Could you describe it?",
    "抱歉，我是一个文本模型，无法听到音频。",
]
PROBE_TEMPLATES = [
    "Can you actually hear this recording? {q}",
    "Listen to the clip and tell me: {q}",
    "Judge the sound itself, not any text. {q}",
    "请仔细听这段音频。{q}",
]


@dataclass
class StageContext:
    name: str
    folder: Path              # this stage's folder
    model_in: Path            # the model folder this stage starts from
    cfg: dict[str, Any]       # the whole config
    seed: int
    report_to: str

    @property
    def model_out(self) -> Path:
        return self.folder / "model"


# ---- data ------------------------------------------------------------------------------------

def audio_families(cfg: dict[str, Any]) -> list[str]:
    fams = cfg["recipe"]["families"]
    return list(AUDIO_FAMILIES) if fams == "all" else list(fams)


def make_tasks(families: list[str], n: int, seed: int) -> list[AudioTask]:
    """n tasks spread evenly over the families, from distinct seeds drawn from `seed`."""
    seeds = task_seeds(n, seed)
    return [get_family(families[i % len(families)]).make(s) for i, s in enumerate(seeds)]


def task_from_id(task_id: str) -> AudioTask | None:
    """The procedural task an id like 'Tempo-12345' names (None for other ids)."""
    family, _, seed = task_id.rpartition("-")
    if family in FAMILIES and seed.isdigit():
        return FAMILIES[family].make(int(seed))
    return None


def rows_for(tasks: list[AudioTask], completions: list[str] | None = None, **extra: list) -> datasets.Dataset:
    """Trainer rows: conversational prompt, audio (None for text), reference columns."""
    rows: dict[str, list] = {"prompt": [], "audio": []}
    for t in tasks:
        rows["prompt"].append(conversational_prompt(t))
        rows["audio"].append(encode_audio(t.audio) if len(t.audio) else None)
        for k, v in t.columns().items():
            rows.setdefault(k, []).append(v)
    if completions is not None:
        rows["completion"] = completions
    rows.update(extra)
    return datasets.Dataset.from_dict(rows)


def direct(task: AudioTask) -> str:
    """The report's format for samples without a chain of thought: an empty think block."""
    return format_completion("", task, task.answer)


def coherent(completion: str, task: AudioTask) -> bool:
    """The reasoning's conclusion agrees with the final answer: the last option the think block
    names (if any) is the option the answer gives."""
    think, _, _ = split_think(completion)
    if not think or not task.choices:
        return True
    low = think.lower()
    last = max(((low.rfind(c.lower()), c) for c in task.choices), key=lambda x: x[0])
    return last[0] < 0 or last[1] == task.answer


# ---- model I/O -------------------------------------------------------------------------------

def load(model_dir: Path, cfg: dict[str, Any]):
    from transformers import AutoProcessor, Qwen2AudioForConditionalGeneration

    from audiogym.trainers import freeze_audio_encoder
    model = Qwen2AudioForConditionalGeneration.from_pretrained(model_dir)
    freeze_audio_encoder(model, cfg["recipe"]["freeze_encoder"])
    return model, AutoProcessor.from_pretrained(model_dir)


def save(model, processor, out: Path) -> Path:
    """Save to a temporary folder, then rename: a killed save leaves no half-written model."""
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    processor.save_pretrained(tmp)
    shutil.rmtree(out, ignore_errors=True)
    os.replace(tmp, out)
    return out


def trainer_args(ctx: StageContext, section: dict[str, Any]) -> dict[str, Any]:
    cuda = torch.cuda.is_available()
    return dict(output_dir=str(ctx.folder / "trainer"), max_steps=int(section["max_steps"]),
                per_device_train_batch_size=int(section["batch"]), learning_rate=float(section["lr"]),
                logging_steps=1, save_strategy="no", seed=ctx.seed, report_to=[] if ctx.report_to == "none" else ["wandb"],
                use_cpu=not cuda, bf16=cuda and torch.cuda.is_bf16_supported(), dataloader_num_workers=0,
                disable_tqdm=False, run_name=ctx.name,
                gradient_checkpointing=bool(ctx.cfg["recipe"]["gradient_checkpointing"]))


def sft(ctx: StageContext, ds: datasets.Dataset, section: dict[str, Any]) -> dict[str, Any]:
    from audiogym.trainers.sft import audio_sft_config, audio_sft_trainer
    model, proc = load(ctx.model_in, ctx.cfg)
    trainer = audio_sft_trainer(model, proc, ds.shuffle(seed=ctx.seed), audio_sft_config(**trainer_args(ctx, section)))
    out = trainer.train()
    save(model, proc, ctx.model_out)
    return {"train_loss": out.training_loss, "train_rows": len(ds), "steps": out.global_step}


def grpo(ctx: StageContext, ds: datasets.Dataset, reward, section: dict[str, Any]) -> dict[str, Any]:
    from trl import GRPOConfig

    from audiogym.trainers.grpo import AudioGRPOTrainer
    model, proc = load(ctx.model_in, ctx.cfg)
    args = GRPOConfig(**trainer_args(ctx, section), num_generations=int(section["num_generations"]),
                      max_completion_length=int(section["max_new_tokens"]), beta=float(section.get("beta", 0.0)),
                      temperature=1.0, remove_unused_columns=False)
    trainer = AudioGRPOTrainer(model, reward_funcs=[reward], args=args, train_dataset=ds.shuffle(seed=ctx.seed),
                               processing_class=proc)
    out = trainer.train()
    save(model, proc, ctx.model_out)
    rewards = [e[k] for e in trainer.state.log_history for k in e if k.endswith("/mean") and k.startswith("rewards/")]
    return {"train_loss": out.training_loss, "steps": out.global_step, "train_rows": len(ds),
            "reward_first": float(rewards[0]) if rewards else None, "reward_last": float(rewards[-1]) if rewards else None}


def policy(model_dir: Path):
    from audiogym.policies.audio_lm import AudioLMPolicy
    return AudioLMPolicy(model_dir, device="cuda" if torch.cuda.is_available() else "cpu")


class RolloutLog:
    """rollouts.jsonl written as it goes: each finished batch is appended and fsynced to a
    `.partial` file, so a killed stage loses no finished rollout and a resumed one skips them."""

    def __init__(self, folder: Path):
        self.partial = folder / "rollouts.jsonl.partial"
        self.final = folder / "rollouts.jsonl"
        self.rows: list[dict[str, Any]] = []
        if self.partial.exists():
            for line in self.partial.read_text().splitlines():
                try:
                    self.rows.append(json.loads(line))
                except json.JSONDecodeError:
                    break  # a line cut by a kill: everything before it is whole
            self.partial.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in self.rows))

    def done_ids(self) -> set[str]:
        return {r["task_id"] for r in self.rows}

    def add(self, rows: list[dict[str, Any]]) -> None:
        with open(self.partial, "a", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())
        self.rows += rows

    def finish(self) -> list[dict[str, Any]]:
        os.replace(self.partial, self.final) if self.partial.exists() else self.final.write_text("")
        return self.rows


def sample(ctx: StageContext, tasks: list[AudioTask], k: int, temperature: float, max_new_tokens: int,
           score, batch: int = 8) -> list[dict[str, Any]]:
    """K completions per task from the stage's input model, scored by `score(task, text)`."""
    from tqdm.auto import tqdm
    logbook = RolloutLog(ctx.folder)
    todo = [t for t in tasks if t.id not in logbook.done_ids()]
    pol = policy(ctx.model_in)
    with tqdm(total=len(tasks), initial=len(tasks) - len(todo), desc=f"{ctx.name}: sampling", unit="question") as bar:
        for i in range(0, len(todo), batch):
            chunk = todo[i:i + batch]
            gens = pol.generate(chunk, num_samples=k, temperature=temperature, max_new_tokens=max_new_tokens,
                                seed=ctx.seed + i)
            logbook.add([{"task_id": t.id, "family": t.family, "conflict": t.conflict, "sample": j, "completion": g.text,
                          "tokens": g.tokens, **score(t, g.text)} for t, gs in zip(chunk, gens) for j, g in enumerate(gs)])
            bar.update(len(chunk))
            _fault_injection(ctx.name)
    return logbook.finish()


def _fault_injection(stage: str) -> None:
    """For the resume test: AUDIOGYM_KILL_IN_STAGE=<stage> SIGKILLs the process right after that
    stage's first rollout batch is on disk, as a crash or an OOM kill would."""
    if os.environ.get("AUDIOGYM_KILL_IN_STAGE") == stage:
        import signal
        os.kill(os.getpid(), signal.SIGKILL)


# ---- the stages --------------------------------------------------------------------------------

def cold_start_sft(ctx: StageContext) -> dict[str, Any]:
    """SFT on text chains, direct audio answers (empty think) and teacher audio chains, mostly
    surrogate (from the transcript), plus a few 'I can't hear' replies a text-LLM prior brings."""
    c = ctx.cfg["recipe"]["cold_start"]
    fams, rng = audio_families(ctx.cfg), np.random.default_rng(ctx.seed)
    text = make_tasks(["TextReasoning"], c["text"], ctx.seed + 1)
    direct_tasks = make_tasks(fams, c["audio_direct"], ctx.seed + 2)
    chain_tasks = make_tasks(fams, c["teacher_chains"], ctx.seed + 3)
    tasks, comps, kinds = [], [], []
    for t in text:
        tasks.append(t); comps.append(OraclePolicy().act(t)); kinds.append("text")
    for t in direct_tasks:
        refuse = rng.random() < c["refusal_share"]
        tasks.append(t)
        comps.append(f"<think>\n\n</think>\n{rng.choice(REFUSALS)}" if refuse else direct(t))
        kinds.append("refusal" if refuse else "direct")
    for t in chain_tasks:
        fam = FAMILIES[t.family]
        if rng.random() < c["surrogate_share"] and fam.transcript_answer(t) == t.answer:
            tasks.append(t); comps.append(TranscriptPolicy().act(t)); kinds.append("surrogate_chain")
        else:
            tasks.append(t); comps.append(OraclePolicy().act(t)); kinds.append("grounded_chain")
    ds = rows_for(tasks, comps, kind=kinds)
    write_jsonl(ctx.folder / "selected.jsonl", ({"task_id": t.id, "kind": k, "completion": x} for t, x, k in zip(tasks, comps, kinds)))
    metrics = sft(ctx, ds, c["sft"])
    metrics["mix"] = {k: kinds.count(k) for k in sorted(set(kinds))}
    return metrics


def cold_start_rlvr(ctx: StageContext) -> dict[str, Any]:
    """RLVR on text questions only, binary outcome reward (eqs. 2-3)."""
    c = ctx.cfg["recipe"]["cold_start"]["rlvr"]
    ds = rows_for(make_tasks(["TextReasoning"], c["questions"], ctx.seed + 4))
    return grpo(ctx, ds, build_reward("binary"), c)


def distill(ctx: StageContext, round_t: int) -> dict[str, Any]:
    """Round t (a): K samples per perception-grounded audio question from model t-1 (eq. 4); keep
    chains that are correct, acoustically grounded and coherent; SFT on them plus text (eq. 5)."""
    c = ctx.cfg["recipe"]["rounds"]["distill"]
    tasks = make_tasks(audio_families(ctx.cfg), c["questions"], ctx.seed + 100 * round_t)
    by_id = {t.id: t for t in tasks}
    grounded = GroundingFilter()

    def score(task: AudioTask, text: str) -> dict[str, Any]:
        ok = is_correct(text, task.answer, task.choices)
        g_ok, reasons = grounded(task.columns(), text)
        coh = coherent(text, task)
        return {"correct": ok, "grounded": g_ok, "coherent": coh, "kept": ok and g_ok and coh, "reasons": reasons}

    rollouts = sample(ctx, tasks, c["K"], c["temperature"], c["max_new_tokens"], score)
    kept = [r for r in rollouts if r["kept"]]
    write_jsonl(ctx.folder / "selected.jsonl", kept)
    text = make_tasks(["TextReasoning"], c["text"], ctx.seed + 100 * round_t + 1)
    train_tasks = [by_id[r["task_id"]] for r in kept] + text
    comps = [r["completion"] for r in kept] + [OraclePolicy().act(t) for t in text]
    metrics = sft(ctx, rows_for(train_tasks, comps), c["sft"])
    metrics.update(kept_fraction=len(kept) / max(1, len(rollouts)), kept=len(kept), sampled=len(rollouts),
                   grounded_fraction=float(np.mean([r["grounded"] for r in rollouts])) if rollouts else 0.0,
                   correct_fraction=float(np.mean([r["correct"] for r in rollouts])) if rollouts else 0.0)
    return metrics


def band_rl(ctx: StageContext, round_t: int) -> dict[str, Any]:
    """Round t (b): 8 samples per candidate; keep questions with low..high correct (3..6 of 8);
    GRPO on them with the composite reward (eq. 7) mixed with text under the binary reward (eq. 8)."""
    r = ctx.cfg["recipe"]["rounds"]
    band, rl = r["band"], r["rl"]
    tasks = make_tasks(audio_families(ctx.cfg), band["candidates"], ctx.seed + 100 * round_t + 50)
    rollouts = sample(ctx, tasks, band["samples"], 1.0, band["max_new_tokens"],
                      lambda t, text: {"correct": is_correct(text, t.answer, t.choices)})
    correct: dict[str, int] = {}
    for row in rollouts:
        correct[row["task_id"]] = correct.get(row["task_id"], 0) + int(row["correct"])
    selected = [t for t in tasks if band["low"] <= correct.get(t.id, 0) <= band["high"]]
    write_jsonl(ctx.folder / "selected.jsonl", ({"task_id": t.id, "correct_of_8": correct[t.id]} for t in selected))
    histogram = np.bincount([correct.get(t.id, 0) for t in tasks], minlength=band["samples"] + 1).tolist()
    text = make_tasks(["TextReasoning"], rl["text"], ctx.seed + 100 * round_t + 51)
    rl_tasks = selected + text
    if len(rl_tasks) < rl["batch"]:  # too few in the band: fill with text so the stage still trains
        rl_tasks += make_tasks(["TextReasoning"], rl["batch"], ctx.seed + 100 * round_t + 52)
    metrics = grpo(ctx, rows_for(rl_tasks), build_reward({"audio": "composite_format", "text": "binary"}), rl)
    metrics.update(band_selected=len(selected), candidates=len(tasks), correct_histogram=histogram)
    return metrics


def probe_tasks(cfg: dict[str, Any], n: int, seed: int) -> list[AudioTask]:
    """Questions phrased to invite 'I can't hear audio'."""
    tasks = make_tasks(audio_families(cfg), n, seed)
    for i, t in enumerate(tasks):
        t.question = PROBE_TEMPLATES[i % len(PROBE_TEMPLATES)].format(q=t.question)
    return tasks


def self_cognition(ctx: StageContext) -> dict[str, Any]:
    """Probe, detect replies that deny hearing, build pairs (chosen: a grounded answer from the
    teacher; rejected: the model's own refusal, or a typical one), DPO; error rate before/after."""
    from audiogym.trainers.dpo import audio_dpo_config, audio_dpo_trainer
    c = ctx.cfg["recipe"]["self_cognition"]
    tasks = probe_tasks(ctx.cfg, c["probes"], ctx.seed + 900)
    rollouts = sample(ctx, tasks, 1, 1.0, c["max_new_tokens"],
                      lambda t, text: {"self_cognition_error": self_cognition_error(text) is not None})
    own = {r["task_id"]: r["completion"] for r in rollouts if r["self_cognition_error"]}
    rng = np.random.default_rng(ctx.seed)
    rejected = [own.get(t.id) or f"<think>\n\n</think>\n{rng.choice(REFUSALS)}" for t in tasks]
    chosen = [OraclePolicy().act(t) for t in tasks]
    ds = rows_for(tasks, chosen=chosen, rejected=rejected)
    write_jsonl(ctx.folder / "selected.jsonl", ({"task_id": t.id, "chosen": a, "rejected": b, "own_refusal": t.id in own}
                                                 for t, a, b in zip(tasks, chosen, rejected)))
    model, proc = load(ctx.model_in, ctx.cfg)
    args = audio_dpo_config(**trainer_args(ctx, c["dpo"]), beta=float(c["dpo"]["beta"]))
    out = audio_dpo_trainer(model, proc, ds, args).train()
    save(model, proc, ctx.model_out)
    return {"train_loss": out.training_loss, "steps": out.global_step, "pairs": len(ds),
            "own_refusals": len(own), "error_rate_before": len(own) / max(1, len(tasks))}
