"""The stages of the MGRD recipe. Each reads a model folder and writes a stage folder:

    <stage>/model/           the new model (weights + processor), when the stage trains
    <stage>/rollouts.jsonl   every sampled completion with its scores and filter decisions
    <stage>/selected.jsonl   what the stage kept (distillation chains, band questions, DPO pairs)
    <stage>/metrics.json     written last: its presence means the stage finished

Training is a thin layer over TRL (audio SFT, AudioGRPOTrainer, audio DPO); sampling and
filtering use the same reward code as everything else.
"""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import datasets
import numpy as np
import torch

from audiogym.data import encode_audio, task_seeds
from audiogym.io import read_jsonl, write_jsonl
from audiogym.policies.scripted import OraclePolicy, TranscriptPolicy, format_completion
from audiogym.rewards import GroundingFilter, build_reward, is_correct, self_cognition_error, task_row
from audiogym.rewards.parse import split_think
from audiogym.tasks import AUDIO_FAMILIES, FAMILIES, AudioTask, get_family
from audiogym.tasks.core import conversational_prompt, quote
from audiogym.trainers import dist

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


def iter_tasks(families: list[str], n: int, seed: int) -> Iterator[AudioTask]:
    """Up to n tasks spread evenly over the families, from distinct seeds drawn from `seed`, made
    one at a time (synthesis costs ~40 ms a task: callers that filter stop early)."""
    for i, s in enumerate(task_seeds(n, seed)):
        yield get_family(families[i % len(families)]).make(s)


def make_tasks(families: list[str], n: int, seed: int) -> list[AudioTask]:
    """n tasks spread evenly over the families, from distinct seeds drawn from `seed`."""
    return list(iter_tasks(families, n, seed))


def distillation_tasks(families: list[str], n: int, seed: int, conflict_share: float) -> list[AudioTask]:
    """n questions for grounding distillation (MGRD step 2a). A `conflict_share` of them cannot be
    solved from the transcript (its words point to another answer), so only listening gets them
    right; the rest are aligned, so that the kept chains cannot learn the shortcut 'the answer is
    not what the words say' (with conflict items alone the tiny model learns exactly that)."""
    want = round(n * conflict_share)
    conflict: list[AudioTask] = []
    aligned: list[AudioTask] = []
    for t in iter_tasks(families, 8 * n, seed):
        pool, size = (aligned, n - want) if FAMILIES[t.family].transcript_answer(t) == t.answer else (conflict, want)
        if len(pool) < size:
            pool.append(t)
        if len(conflict) + len(aligned) == n:
            break
    return conflict + aligned


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


def empty_think(reply: str) -> str:
    """A free-text reply (a refusal, a quoted transcript) in the empty think format."""
    return f"<think>\n\n</think>\n{reply}"


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


def save(trainer, processor, out: Path) -> Path:
    """Save to a temporary folder, then rename: a killed save leaves no half-written model.
    Every rank calls it (DeepSpeed ZeRO-3 gathers the weights); the main process writes."""
    tmp = out.with_name(out.name + ".tmp")
    if dist.is_main():
        shutil.rmtree(tmp, ignore_errors=True)
    dist.barrier()
    trainer.save_model(str(tmp))
    if dist.is_main():
        processor.save_pretrained(tmp)
        shutil.rmtree(out, ignore_errors=True)
        os.replace(tmp, out)
    dist.barrier()
    return out


def write_selected(ctx: StageContext, rows) -> None:
    if dist.is_main():
        write_jsonl(ctx.folder / "selected.jsonl", rows)


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
    save(trainer, proc, ctx.model_out)
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
    save(trainer, proc, ctx.model_out)
    rewards = [e[k] for e in trainer.state.log_history for k in e if k.endswith("/mean") and k.startswith("rewards/")]
    return {"train_loss": out.training_loss, "steps": out.global_step, "train_rows": len(ds),
            "reward_first": float(rewards[0]) if rewards else None, "reward_last": float(rewards[-1]) if rewards else None}


def policy(model_dir: Path):
    from audiogym.policies.audio_lm import AudioLMPolicy
    return AudioLMPolicy(model_dir, device=dist.device())


class RolloutLog:
    """rollouts.jsonl written as it goes: each finished batch is appended and fsynced to a
    `.partial` file (one per rank under `accelerate launch`), so a killed stage loses no finished
    rollout and a resumed one skips them; `finish` merges the partial files in question order."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.final = folder / "rollouts.jsonl"
        suffix = "" if dist.world() == 1 else f".rank{dist.rank()}"
        self.partial = folder / f"rollouts.jsonl.partial{suffix}"
        if self.partial.exists():  # drop a line cut by a kill, so appends start on a whole line
            write_jsonl(self.partial, read_jsonl(self.partial))

    def _sources(self) -> list[Path]:
        """The merged file of an earlier attempt (killed after sampling) and every partial file."""
        return ([self.final] if self.final.exists() else []) + sorted(self.folder.glob("rollouts.jsonl.partial*"))

    def done_ids(self) -> set[str]:
        """Questions any rank has finished (a resumed run may have another number of processes)."""
        return {r["task_id"] for p in self._sources() for r in read_jsonl(p)}

    def add(self, rows: list[dict[str, Any]]) -> None:
        with open(self.partial, "a", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def finish(self, order: list[str]) -> list[dict[str, Any]]:
        """Merge every rank's rollouts into rollouts.jsonl (main process), in question order."""
        dist.barrier()
        if dist.is_main():
            position = {tid: i for i, tid in enumerate(order)}
            merged = {(r["task_id"], r.get("sample", 0)): r for p in self._sources() for r in read_jsonl(p)}
            write_jsonl(self.final, sorted(merged.values(), key=lambda r: (position.get(r["task_id"], len(order)),
                                                                          r.get("sample", 0))))
            for p in self.folder.glob("rollouts.jsonl.partial*"):
                p.unlink()
        dist.barrier()
        return read_jsonl(self.final)


def sample(ctx: StageContext, tasks: list[AudioTask], k: int, temperature: float, max_new_tokens: int,
           score, batch: int = 8) -> list[dict[str, Any]]:
    """K completions per task from the stage's input model, scored by `score(task, text)`.
    Under `accelerate launch` each rank samples every world-th question."""
    from tqdm.auto import tqdm
    logbook = RolloutLog(ctx.folder)
    done = logbook.done_ids()
    todo = [t for t in tasks if t.id not in done][dist.rank()::dist.world()]
    if todo:
        pol = policy(ctx.model_in)
        with tqdm(total=len(tasks), initial=len(tasks) - len(todo), desc=f"{ctx.name}: sampling", unit="question",
                  disable=not dist.is_main()) as bar:
            for i in range(0, len(todo), batch):
                chunk = todo[i:i + batch]
                gens = pol.generate(chunk, num_samples=k, temperature=temperature, max_new_tokens=max_new_tokens,
                                    seed=ctx.seed + i + 100_003 * dist.rank())
                logbook.add([{"task_id": t.id, "family": t.family, "conflict": t.conflict, "sample": j,
                              "completion": g.text, "tokens": g.tokens, **score(t, g.text)}
                             for t, gs in zip(chunk, gens) for j, g in enumerate(gs)])
                bar.update(len(chunk))
                _fault_injection(ctx.name)
    return logbook.finish([t.id for t in tasks])


def _fault_injection(stage: str) -> None:
    """For the resume test: AUDIOGYM_KILL_IN_STAGE=<stage> SIGKILLs the process right after that
    stage's first rollout batch is on disk, as a crash or an OOM kill would."""
    if os.environ.get("AUDIOGYM_KILL_IN_STAGE") == stage:
        import signal
        os.kill(os.getpid(), signal.SIGKILL)


# ---- the stages --------------------------------------------------------------------------------

def direct_rows(cfg: dict[str, Any], n: int, refusal_share: float, seed: int) -> tuple[list[AudioTask], list[str], list[str]]:
    """Audio questions answered in the empty think format; a `refusal_share` of them instead ask
    whether the model can hear, answered with the 'I can't hear audio' a text-LLM prior brings."""
    rng = np.random.default_rng(seed)
    tasks, comps, kinds = make_tasks(audio_families(cfg), n, seed), [], []
    for i, t in enumerate(tasks):
        if rng.random() < refusal_share:
            t.question = PROBE_TEMPLATES[i % len(PROBE_TEMPLATES)].format(q=t.question)
            comps.append(empty_think(rng.choice(REFUSALS))); kinds.append("refusal")
        else:
            comps.append(direct(t)); kinds.append("direct")
    return tasks, comps, kinds


def reading_rows(cfg: dict[str, Any], n: int, seed: int) -> tuple[list[AudioTask], list[str]]:
    """Audio questions whose question is "what do the words say?", answered by quoting the
    transcript line of the prompt: the report's cold start has ASR data, and a model must read the
    words before it can reason from them (the 2-layer tiny LM does not learn to copy otherwise:
    its 'surrogate' chains then quote words matching what it hears, not the words it was given)."""
    tasks = [dataclasses.replace(t, question=f"Quote the {t.transcript_label.lower()} word for word.", choices=[])
             for t in make_tasks(audio_families(cfg), n, seed)]
    return tasks, [empty_think(f"{quote(t)}.") for t in tasks]


def cold_start_rows(cfg: dict[str, Any], section: dict[str, Any], seed: int) -> tuple[list[AudioTask], list[str], list[str]]:
    """The cold-start mixture: text chains, direct audio answers (empty think), transcript reading
    (`reading_rows`), teacher audio chains, and a share of questions that ask whether the model can
    hear, answered with the 'I can't hear audio' a text-LLM prior brings (what the self-cognition
    stage corrects).

    A `surrogate_share` of the chains reason from the transcript (the report's starting point). A
    surrogate teacher is only right where the transcript agrees with the audio, so, as with any
    correctness-filtered teacher data, its chains come from aligned items: the model learns that
    in its reasoning the words decide. The other chains are grounded (aligned and conflict items)."""
    fams, rng = audio_families(cfg), np.random.default_rng(seed)
    tasks, comps, kinds = [], [], []
    for t in make_tasks(["TextReasoning"], section["text"], seed + 1):
        tasks.append(t); comps.append(OraclePolicy().act(t)); kinds.append("text")
    d_tasks, d_comps, d_kinds = direct_rows(cfg, section["audio_direct"], section["refusal_share"], seed + 2)
    tasks += d_tasks
    comps += d_comps
    kinds += d_kinds
    r_tasks, r_comps = reading_rows(cfg, section["reading"], seed + 5)
    tasks += r_tasks
    comps += r_comps
    kinds += ["reading"] * len(r_tasks)
    pool = iter_tasks(fams, 4 * section["teacher_chains"], seed + 3)
    for _ in range(section["teacher_chains"]):
        t = next(pool)
        if rng.random() < section["surrogate_share"]:
            while FAMILIES[t.family].transcript_answer(t) != t.answer:
                t = next(pool)
            tasks.append(t); comps.append(TranscriptPolicy().act(t)); kinds.append("surrogate_chain")
        else:
            tasks.append(t); comps.append(OraclePolicy().act(t)); kinds.append("grounded_chain")
    return tasks, comps, kinds


def cold_start_sft(ctx: StageContext) -> dict[str, Any]:
    """SFT on the cold-start mixture (`cold_start_rows`)."""
    c = ctx.cfg["recipe"]["cold_start"]
    tasks, comps, kinds = cold_start_rows(ctx.cfg, c, ctx.seed)
    ds = rows_for(tasks, comps, kind=kinds)
    write_selected(ctx, ({"task_id": t.id, "kind": k, "completion": x} for t, x, k in zip(tasks, comps, kinds)))
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
    tasks = distillation_tasks(audio_families(ctx.cfg), c["questions"], ctx.seed + 100 * round_t, c["conflict_share"])
    by_id = {t.id: t for t in tasks}
    grounded = GroundingFilter()

    def score(task: AudioTask, text: str) -> dict[str, Any]:
        ok = is_correct(text, task.answer, task.choices)
        g_ok, reasons = grounded(task_row(task), text)
        coh = coherent(text, task) and self_cognition_error(text) is None  # "I can't hear" contradicts a cited sound
        return {"correct": ok, "grounded": g_ok, "coherent": coh, "kept": ok and g_ok and coh, "reasons": reasons}

    rollouts = sample(ctx, tasks, c["K"], c["temperature"], c["max_new_tokens"], score)
    passed = [r for r in rollouts if r["kept"]]
    kept = distinct_per_question(passed, c["max_per_question"])
    if c["balance_answers"]:
        kept = balance_answers(kept, tasks)
    write_selected(ctx, kept)
    # Eq. 5: the kept chains plus text. The kept chains are repeated so they are not swamped, and
    # the cold start's direct rows (refusals included) are replayed so a small model keeps its
    # perception while it learns to reason from it (without them that skill is lost in a round).
    text = make_tasks(["TextReasoning"], c["text"], ctx.seed + 100 * round_t + 1)
    replay, replay_comps, _ = direct_rows(ctx.cfg, c["direct"], ctx.cfg["recipe"]["cold_start"]["refusal_share"],
                                          ctx.seed + 100 * round_t + 2)
    train_tasks = [by_id[r["task_id"]] for r in kept] * c["chain_repeats"] + text + replay
    comps = ([r["completion"] for r in kept] * c["chain_repeats"] + [OraclePolicy().act(t) for t in text]
             + replay_comps)
    metrics = sft(ctx, rows_for(train_tasks, comps), c["sft"])
    metrics.update(kept_fraction=len(passed) / max(1, len(rollouts)), kept=len(passed), trained_chains=len(kept),
                   trained_chains_by_answer={f: {a: len(ix) for a, ix in g.items()}
                                             for f, g in _by_family_answer(kept, tasks).items()},
                   sampled=len(rollouts), questions_with_chain=len({r["task_id"] for r in kept}),
                   grounded_fraction=float(np.mean([r["grounded"] for r in rollouts])) if rollouts else 0.0,
                   correct_fraction=float(np.mean([r["correct"] for r in rollouts])) if rollouts else 0.0)
    return metrics


def distinct_per_question(rows: list[dict[str, Any]], cap: int | None) -> list[dict[str, Any]]:
    """The chains to train on: duplicates of a question's chain dropped, at most `cap` per question
    (None: no cap), so questions the model already solves 8 of 8 times do not swamp the rest."""
    seen: set[tuple[str, str]] = set()
    count: dict[str, int] = {}
    out = []
    for r in rows:
        key = (r["task_id"], r["completion"])
        if key in seen or (cap is not None and count.get(r["task_id"], 0) >= cap):
            continue
        seen.add(key)
        count[r["task_id"]] = count.get(r["task_id"], 0) + 1
        out.append(r)
    return out


def balance_answers(rows: list[dict[str, Any]], tasks: list[AudioTask]) -> list[dict[str, Any]]:
    """Kept chains with every answer of a family equally often: each answer that has kept chains
    keeps as many as the rarest such answer has (spread over as many questions as possible); a
    family whose kept chains all give one answer sits the round out. Rows stay in their order.

    Why: the filter keeps what the model already says. A model whose chains lean to one answer
    ("medium", "waltz") has most of its kept chains on that answer, SFT on them leans it further,
    and after a few rounds every chain of the family ends in that answer (without it, on seeds 0,
    1 and 2: Intonation 40 of 40 one way). Equal counts per answer leave listening as the way to fit."""
    keep: set[int] = set()
    for groups in _by_family_answer(rows, tasks).values():
        if len(groups) < 2:
            continue
        n = min(len(g) for g in groups.values())
        for g in groups.values():
            nth: dict[str, int] = {}  # a question's 1st chain before any question's 2nd
            ranked = []
            for i in g:
                nth[rows[i]["task_id"]] = nth.get(rows[i]["task_id"], -1) + 1
                ranked.append((nth[rows[i]["task_id"]], i))
            keep.update(i for _, i in sorted(ranked)[:n])
    return [r for i, r in enumerate(rows) if i in keep]


def _by_family_answer(rows: list[dict[str, Any]], tasks: list[AudioTask]) -> dict[str, dict[str, list[int]]]:
    """family -> answer of the row's question -> indices of the rows."""
    answer = {t.id: t.answer for t in tasks}
    out: dict[str, dict[str, list[int]]] = {}
    for i, r in enumerate(rows):
        out.setdefault(r["family"], {}).setdefault(answer[r["task_id"]], []).append(i)
    return out


def band_rl(ctx: StageContext, round_t: int) -> dict[str, Any]:
    """Round t (b): 8 samples per candidate; keep questions with low..high correct (3..6 of 8);
    GRPO on them with the composite reward (eq. 7) mixed with text under the binary reward (eq. 8);
    `rounds.rl.reward` can change the audio reward (e.g. add the grounding score)."""
    r = ctx.cfg["recipe"]["rounds"]
    band, rl = r["band"], r["rl"]
    tasks = make_tasks(audio_families(ctx.cfg), band["candidates"], ctx.seed + 100 * round_t + 50)
    rollouts = sample(ctx, tasks, band["samples"], 1.0, band["max_new_tokens"],
                      lambda t, text: {"correct": is_correct(text, t.answer, t.choices)})
    correct: dict[str, int] = {}
    for row in rollouts:
        correct[row["task_id"]] = correct.get(row["task_id"], 0) + int(row["correct"])
    selected = [t for t in tasks if band["low"] <= correct.get(t.id, 0) <= band["high"]]
    write_selected(ctx, ({"task_id": t.id, "correct_of_8": correct[t.id]} for t in selected))
    histogram = np.bincount([correct.get(t.id, 0) for t in tasks], minlength=band["samples"] + 1).tolist()
    text = make_tasks(["TextReasoning"], rl["text"], ctx.seed + 100 * round_t + 51)
    rl_tasks = selected + text
    if len(rl_tasks) < rl["batch"]:  # too few in the band: fill with text so the stage still trains
        rl_tasks += make_tasks(["TextReasoning"], rl["batch"], ctx.seed + 100 * round_t + 52)
    metrics = grpo(ctx, rows_for(rl_tasks), build_reward(rl["reward"]), rl)
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
    rejected = [own.get(t.id) or empty_think(rng.choice(REFUSALS)) for t in tasks]
    chosen = [OraclePolicy().act(t) for t in tasks]
    ds = rows_for(tasks, chosen=chosen, rejected=rejected)
    write_selected(ctx, ({"task_id": t.id, "chosen": a, "rejected": b, "own_refusal": t.id in own}
                                                 for t, a, b in zip(tasks, chosen, rejected)))
    model, proc = load(ctx.model_in, ctx.cfg)
    args = audio_dpo_config(**trainer_args(ctx, c["dpo"]), beta=float(c["dpo"]["beta"]))
    trainer = audio_dpo_trainer(model, proc, ds, args)
    out = trainer.train()
    save(trainer, proc, ctx.model_out)
    return {"train_loss": out.training_loss, "steps": out.global_step, "pairs": len(ds),
            "own_refusals": len(own), "error_rate_before": len(own) / max(1, len(tasks))}
