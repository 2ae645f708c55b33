"""AudioGRPOTrainer: TRL's GRPOTrainer with the audio in every pass.

TRL 1.16 has no audio support: a stock GRPOTrainer given Qwen2-Audio runs the audio tower only
where it is handed features, and nothing hands them to the log-prob passes (old, reference,
policy), which then see bare audio placeholder embeddings: training runs and is silently wrong.
This subclass overrides `__init__` (the audio encoder, the think-tag check) and five methods:
- `_tokenize_prompts`: renders each prompt with its audio part, expands the audio placeholder and
  returns Whisper features as multimodal fields, so generation hears the audio;
- `_generate_and_score_completions`: puts per-row features (zeros for text rows) and an
  `audio_rows` mask into the batch, so TRL's splitting and shuffling keep them with their rows;
- `_compute_loss`: hands the batch's features to the policy pass of the loss;
- `_get_per_token_logps_and_entropies`: forwards those features in every log-prob pass;
- `_generate_single_turn`: with a `rollout_engine` (audiogym's vLLM engine), rollouts come from
  vLLM, given the policy's weights after every optimizer step (TRL's own vLLM path forwards
  images only, and its weight loader fails on vLLM's CPU backend);
- `_calculate_rewards`: the rewards read each completion with the prompt's `<think>\n` pre-fill in
  front, as evaluation and the policies do. Without it a completion that stops inside its think
  block has no tags at all and reads as a bare answer ("The voice's pitch is low." -> "low",
  reward 0.8) that evaluation scores as no answer.
Dataset rows carry `prompt` (conversational) and `audio` (audiogym's Audio column); `task_id`
keys the feature cache.

TRL decodes completions with `skip_special_tokens=True` before the reward functions see them, so
a tokenizer whose `</think>` is a special token hands the rewards completions without their think
block; the trainer warns at start (audiogym's tokenizer keeps the tags as plain added tokens).
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import torch
from trl import GRPOTrainer

from audiogym.data import decode_audio
from audiogym.policies.encoding import (
    THINK_PREFILL,
    AudioPromptEncoder,
    FrozenEncoderCache,
    audio_model_kwargs,
    audio_tower,
)
from audiogym.policies.tokenizer import THINK_CLOSE
from audiogym.rewards.base import completion_text

if TYPE_CHECKING:
    from audiogym.trainers.job import TrainJob
    from audiogym.trainers.sections import GRPOSection


def think_tag_survives_decoding(tokenizer) -> bool:
    """Whether `</think>` is still there after decoding with skip_special_tokens=True, as TRL does."""
    ids = tokenizer(THINK_CLOSE, add_special_tokens=False)["input_ids"]
    return THINK_CLOSE in tokenizer.decode(ids, skip_special_tokens=True)


def with_prefill(completion: Any) -> Any:
    """A completion as the model wrote it after the `<think>\\n` pre-fill: a string or TRL's
    conversational form (a list whose last message holds the text)."""
    if isinstance(completion, str):
        return THINK_PREFILL + completion
    if isinstance(completion, list) and completion and isinstance(completion[-1], dict):
        last = dict(completion[-1])
        last["content"] = THINK_PREFILL + completion_text([last])
        return [*completion[:-1], last]
    raise TypeError(f"a completion is a string or a list of messages, not {type(completion).__name__}")


def prepare_audio_model(model) -> None:
    """TRL suppresses `config.image_token_id` during generation for processor-based models; an audio
    model has none, so point it at the audio token (which must not be generated either)."""
    cfg = model.config
    audio_id = getattr(cfg, "audio_token_id", None) or getattr(cfg, "audio_token_index", None)
    if audio_id is not None and getattr(cfg, "image_token_id", None) is None:
        cfg.image_token_id = audio_id


class AudioGRPOTrainer(GRPOTrainer):
    def __init__(self, model, *args: Any, prefill_think: bool = True, rollout_engine: Any = None, **kwargs: Any):
        if isinstance(model, str):
            from trl.trainer.utils import create_model_from_path

            model = create_model_from_path(model)
        prepare_audio_model(model)  # before TRL's init, which reads image_token_id
        super().__init__(model, *args, **kwargs)
        proc: Any = self.processing_class  # a processor: its tokenizer and feature extractor
        if not think_tag_survives_decoding(getattr(proc, "tokenizer", proc)):
            warnings.warn(
                f"the tokenizer drops {THINK_CLOSE!r} when it skips special tokens: GRPO's reward "
                "functions will see completions without their think block (re-add the tag with "
                "special=False)",
                stacklevel=2,
            )
        self.audio_encoder = AudioPromptEncoder(proc.tokenizer, proc.feature_extractor, prefill_think=prefill_think)
        self._batch_audio: list[Any] | None = None
        self._batch_keys: list[Any] | None = None
        self._pending_audio: dict[str, torch.Tensor] | None = None
        self._pending_texts: list[str] | None = None
        self.rollout_engine = rollout_engine  # a VLLMEngine, or None for HF generate
        # a frozen encoder's outputs once per distinct clip, not once per sample and pass
        tower = audio_tower(self.accelerator.unwrap_model(self.model))
        self.encoder_cache = (
            FrozenEncoderCache(tower).install() if tower is not None and FrozenEncoderCache.applies(tower) else None
        )
        self._engine_step: int | None = None  # the optimizer step whose weights the engine holds
        self._rollout_batches = 0

    def train(self, *args: Any, **kwargs: Any):
        try:
            return super().train(*args, **kwargs)
        finally:  # the model outlives the trainer (it is saved, evaluated): give its encoder back
            if self.encoder_cache is not None:
                self.encoder_cache.remove()

    # -- generation ----------------------------------------------------------------------------

    def _tokenize_prompts(self, prompts: list):
        audios = self._batch_audio or [None] * len(prompts)
        enc = self.audio_encoder.encode(prompts, audios, self._batch_keys)
        self._pending_audio = {k: enc[k] for k in ("input_features", "feature_attention_mask", "audio_rows")}
        self._pending_texts = enc["prompt_texts"]
        fields = audio_model_kwargs(
            *(enc[k].to(self.accelerator.device) for k in ("input_features", "feature_attention_mask", "audio_rows"))
        )
        return enc["input_ids"], None, fields

    def _generate_single_turn(self, prompt_ids, images, multimodal_fields, num_generations, has_tool_images=False):
        if self.rollout_engine is None:
            return super()._generate_single_turn(
                prompt_ids, images, multimodal_fields, num_generations, has_tool_images
            )
        if self._engine_step != self.state.global_step:  # weights changed: sync before sampling
            self.rollout_engine.load_weights(self.accelerator.unwrap_model(self.model), tag=self)
            self._engine_step = self.state.global_step
        # TRL repeats each prompt num_generations times: one sample per row, seeded per row and batch.
        seed = (self.args.seed + 1) * 1_000_003 + self._rollout_batches * 10_007
        self._rollout_batches += 1
        ids = self.rollout_engine.generate(
            self._pending_texts,
            self._batch_audio or [None] * len(prompt_ids),
            n=1,
            temperature=self.temperature,
            top_p=self.top_p,
            top_k=self.top_k,
            max_tokens=self.max_completion_length,
            seed=seed,
            stop_token_ids=self.eos_token_ids,
        )
        return [c[0] for c in ids], None  # None: TRL computes the old log-probs itself

    def _generate_and_score_completions(self, inputs: list[dict[str, Any]]) -> dict[str, Any]:
        self._batch_audio = [decode_audio(x["audio"]) if x.get("audio") is not None else None for x in inputs]
        self._batch_keys = [x.get("task_id") for x in inputs]
        try:
            output = super()._generate_and_score_completions(inputs)
        finally:
            self._batch_audio = self._batch_keys = self._pending_texts = None
        device = self.accelerator.device
        output.update({k: v.to(device) for k, v in (self._pending_audio or {}).items()})
        self._pending_audio = None
        return output

    def _calculate_rewards(self, inputs, prompts, completions, completion_ids_list):
        if self.audio_encoder.prefill_think:
            completions = [with_prefill(c) for c in completions]
        return super()._calculate_rewards(inputs, prompts, completions, completion_ids_list)

    # -- log-prob passes ------------------------------------------------------------------------

    def _compute_loss(self, model, inputs):
        self._pending_audio = {
            k: inputs[k] for k in ("input_features", "feature_attention_mask", "audio_rows") if k in inputs
        }
        try:
            return super()._compute_loss(model, inputs)
        finally:
            self._pending_audio = None

    def _get_per_token_logps_and_entropies(
        self,
        model,
        input_ids,
        attention_mask,
        logits_to_keep,
        batch_size=None,
        compute_entropy=False,
        compute_aux_loss=False,
        **multimodal,
    ):
        audio = self._pending_audio or {}
        if not audio or not bool(audio["audio_rows"].any()):
            return super()._get_per_token_logps_and_entropies(
                model,
                input_ids,
                attention_mask,
                logits_to_keep,
                batch_size,
                compute_entropy,
                compute_aux_loss,
                **multimodal,
            )
        device = input_ids.device
        feats, fmask, rows = (audio[k].to(device) for k in ("input_features", "feature_attention_mask", "audio_rows"))
        batch_size = batch_size or input_ids.size(0)
        all_logps, all_entropies, all_aux = [], [], []
        for start in range(0, input_ids.size(0), batch_size):
            end = min(start + batch_size, input_ids.size(0))
            ids, mask = input_ids[start:end], attention_mask[start:end]
            model_inputs = {
                "input_ids": ids,
                "attention_mask": mask,
                **audio_model_kwargs(feats[start:end], fmask[start:end], rows[start:end]),
            }
            if compute_aux_loss:
                model_inputs["output_router_logits"] = True
            labels = ids.masked_fill(mask == 0, -100)
            labels[:, :-logits_to_keep] = -100
            with self.accelerator.autocast():
                outputs = model(**model_inputs, labels=labels, fused_lm_head=True)
            all_logps.append(outputs.log_probs[:, -logits_to_keep:])
            if compute_entropy:
                all_entropies.append(outputs.entropy[:, -logits_to_keep:])
            if compute_aux_loss:
                all_aux.append(outputs.aux_loss)
        return (
            torch.cat(all_logps),
            torch.cat(all_entropies) if compute_entropy else None,
            torch.stack(all_aux).mean() if compute_aux_loss else None,
        )


# Per-step series an RL stage reports (TRL's log keys -> ours); `<reward>/audio/*` are the means
# over the audio (band-selected) rows of each step, logged by the modality-routed reward under its
# name (`mgrd` for eq. 8).
CURVE_KEYS = {
    "reward": "reward",
    "{reward}/audio/reward": "audio_reward",
    "{reward}/text/reward": "text_reward",
    "{reward}/audio/think_words": "audio_think_words",
    "completions/mean_length": "completion_tokens",
    "entropy": "entropy",
    "kl": "kl",
}


def training_curve(log_history: list[dict[str, Any]], reward_name: str = "mgrd") -> dict[str, list[float | None]]:
    """The per-step series of CURVE_KEYS from a trainer's log history (None where a step lacks one:
    a step with no audio row has no audio reward; kl exists only with beta > 0)."""
    keys = {k.format(reward=reward_name): v for k, v in CURVE_KEYS.items()}
    steps = [e for e in log_history if "step" in e and any(k in e for k in keys)]
    curve: dict[str, list[float | None]] = {"step": [float(e["step"]) for e in steps]}
    for key, name in keys.items():
        if any(key in e for e in steps):
            curve[name] = [float(e[key]) if key in e else None for e in steps]
    return curve


def ends(values: list[float | None], share: float = 0.25) -> tuple[float | None, float | None]:
    """Mean of the first and of the last `share` of a series' logged values (one step holds a few
    questions only, so single steps are noise)."""
    xs = [v for v in values if v is not None]
    if not xs:
        return None, None
    k = max(1, round(len(xs) * share))
    return sum(xs[:k]) / k, sum(xs[-k:]) / k


def rollout_engine(job: TrainJob) -> Any:
    """The process's vLLM engine where the recipe's generation backend resolves to vLLM, else None."""
    from audiogym.policies.vllm_engine import VLLMEngine, model_head_size, resolve_backend

    if resolve_backend(job.backend, model_head_size(job.model_in)) != "vllm":
        return None
    import torch

    cuda = torch.cuda.is_available()
    return VLLMEngine.get(job.model_in, dtype="bfloat16" if cuda and torch.cuda.is_bf16_supported() else "float32")


def grpo_config(job: TrainJob, section: GRPOSection) -> Any:
    """TRL's GRPOConfig for a stage's section."""
    from trl import GRPOConfig

    from audiogym.trainers.model_io import trainer_args

    return GRPOConfig(
        **trainer_args(job, section.max_steps, section.batch, section.lr),
        num_generations=int(section.num_generations),
        max_completion_length=int(section.max_new_tokens),
        beta=float(section.beta),
        temperature=float(section.temperature),
        top_k=int(section.top_k),
        loss_type=section.loss_type,
        scale_rewards=section.scale_rewards,
        remove_unused_columns=False,
    )


def train_grpo(job: TrainJob, ds: Any, reward: Any, section: GRPOSection) -> dict[str, Any]:
    """A stage's GRPO: the input model on `ds` (shuffled by the stage seed) under `reward`, saved to
    job.model_out; its per-step curve (CURVE_KEYS) and the mean of its first and last quarter."""
    from audiogym.trainers.model_io import attach, load, save

    model, proc = load(job.model_in, job.freeze_encoder)
    args = grpo_config(job, section)
    trainer = AudioGRPOTrainer(
        model,
        reward_funcs=[reward],
        args=args,
        train_dataset=ds.shuffle(seed=job.seed),
        processing_class=proc,
        rollout_engine=rollout_engine(job),
    )
    attach(trainer, job)
    out = trainer.train()
    save(trainer, proc, job.model_out)
    curve = training_curve(trainer.state.log_history, getattr(reward, "name", "mgrd"))
    metrics: dict[str, Any] = {
        "train_loss": out.training_loss,
        "steps": out.global_step,
        "train_rows": len(ds),
        "curve": curve,
    }
    for name in ("reward", "audio_reward", "audio_think_words", "entropy", "kl"):
        first, last = ends(curve.get(name, []))
        metrics[f"{name}_first"], metrics[f"{name}_last"] = first, last
    return metrics
