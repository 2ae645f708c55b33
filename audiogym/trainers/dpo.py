"""Audio DPO on `trl.DPOTrainer`: a preference collator that adds the audio.

Rows: `prompt` (conversational), `chosen`, `rejected` (completion texts), `audio`, `task_id`.
`DataCollatorForPreference` stacks [chosen..., rejected...]; the audio features are stacked the
same way, and DPOTrainer forwards every batch key it does not own to the model (policy and
reference passes alike). The subclass only skips TRL's text-only dataset preparation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from trl import DPOConfig, DPOTrainer
from trl.trainer.dpo_trainer import DataCollatorForPreference

from audiogym.data import decode_audio
from audiogym.policies.encoding import AudioPromptEncoder, audio_model_kwargs
from audiogym.trainers.sft import strip_prefill

if TYPE_CHECKING:
    from audiogym.trainers.job import TrainJob
    from audiogym.trainers.sections import DPOSection


@dataclass
class AudioPreferenceCollator(DataCollatorForPreference):
    encoder: AudioPromptEncoder | None = None

    def torch_call(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        assert self.encoder is not None, "AudioPreferenceCollator needs an encoder"
        audios = [decode_audio(r["audio"]) if r.get("audio") is not None else None for r in rows]
        keys = [r.get("task_id") for r in rows]
        prompts = self.encoder.encode([r["prompt"] for r in rows], audios, keys)
        tok, eos = self.encoder.tokenizer, self.encoder.tokenizer.eos_token_id
        examples = [
            {
                "prompt_ids": p,
                "chosen_ids": tok(strip_prefill(r["chosen"]), add_special_tokens=False)["input_ids"] + [eos],
                "rejected_ids": tok(strip_prefill(r["rejected"]), add_special_tokens=False)["input_ids"] + [eos],
            }
            for p, r in zip(prompts["input_ids"], rows)
        ]
        batch = super().torch_call(examples)
        twice = {
            k: torch.cat([prompts[k], prompts[k]]) for k in ("input_features", "feature_attention_mask", "audio_rows")
        }
        batch.update(audio_model_kwargs(twice["input_features"], twice["feature_attention_mask"], twice["audio_rows"]))
        return batch


class AudioDPOTrainer(DPOTrainer):
    def _prepare_dataset(self, dataset, *args: Any, **kwargs: Any):
        return dataset  # the collator tokenizes, with the audio


def audio_dpo_config(**kwargs: Any) -> DPOConfig:
    kwargs.setdefault("remove_unused_columns", False)
    return DPOConfig(**kwargs)


def audio_dpo_trainer(
    model, processor, train_dataset, args: DPOConfig, prefill_think: bool = True, ref_model=None
) -> AudioDPOTrainer:
    encoder = AudioPromptEncoder(processor.tokenizer, processor.feature_extractor, prefill_think=prefill_think)
    collator = AudioPreferenceCollator(pad_token_id=processor.tokenizer.pad_token_id, encoder=encoder)
    return AudioDPOTrainer(
        model=model,
        ref_model=ref_model,
        args=args,
        train_dataset=train_dataset,
        processing_class=processor.tokenizer,
        data_collator=collator,
    )


def train_dpo(job: TrainJob, ds: Any, section: DPOSection) -> dict[str, Any]:
    """A stage's DPO: the input model on preference rows, saved to job.model_out."""
    from audiogym.trainers.model_io import attach, load, save, trainer_args

    model, proc = load(job.model_in, job.freeze_encoder)
    args = audio_dpo_config(**trainer_args(job, section.max_steps, section.batch, section.lr), beta=float(section.beta))
    trainer = audio_dpo_trainer(model, proc, ds, args)
    attach(trainer, job)
    out = trainer.train()
    save(trainer, proc, job.model_out)
    return {"train_loss": out.training_loss, "steps": out.global_step}
