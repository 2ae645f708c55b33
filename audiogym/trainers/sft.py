"""Audio SFT on `trl.SFTTrainer`: a collator that puts the audio in the batch.

Rows: `prompt` (conversational), `completion` (text after the pre-filled `<think>\\n`), `audio`
(audiogym's Audio column, or None for text rows), `task_id`. The collator renders prompt +
completion, masks the prompt with -100 in `labels`, and adds Whisper features for the rows that
have audio. TRL's own dataset preparation is skipped (`skip_prepare_dataset`), as for VLMs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from trl import SFTConfig, SFTTrainer

from audiogym.data import decode_audio
from audiogym.policies.encoding import THINK_PREFILL, AudioPromptEncoder, audio_model_kwargs

if TYPE_CHECKING:
    from audiogym.trainers.job import TrainJob
    from audiogym.trainers.sections import SFTSection


def strip_prefill(text: str) -> str:
    """The completion as generated after a `<think>\\n` pre-fill."""
    return text[len(THINK_PREFILL) :] if text.startswith(THINK_PREFILL) else text


def pad_right(seqs: list[list[int]], value: int) -> torch.Tensor:
    n = max(len(s) for s in seqs)
    return torch.tensor([s + [value] * (n - len(s)) for s in seqs], dtype=torch.long)


@dataclass
class AudioSFTCollator:
    encoder: AudioPromptEncoder
    max_length: int = 1024

    def __call__(self, rows: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        audios = [decode_audio(r["audio"]) if r.get("audio") is not None else None for r in rows]
        enc = self.encoder.encode(
            [r["prompt"] for r in rows],
            audios,
            [r.get("task_id") for r in rows],
            completions=[strip_prefill(r["completion"]) for r in rows],
        )
        ids = [s[: self.max_length] for s in enc["input_ids"]]
        labels = [[-100] * min(p, len(s)) + s[p:] for s, p in zip(ids, enc["prompt_lengths"])]
        pad = self.encoder.tokenizer.pad_token_id
        return {
            "input_ids": pad_right(ids, pad),
            "attention_mask": pad_right([[1] * len(s) for s in ids], 0),
            "labels": pad_right(labels, -100),
            **audio_model_kwargs(enc["input_features"], enc["feature_attention_mask"], enc["audio_rows"]),
        }


def audio_sft_config(**kwargs: Any) -> SFTConfig:
    kwargs.setdefault("dataset_kwargs", {"skip_prepare_dataset": True})
    kwargs.setdefault("remove_unused_columns", False)
    return SFTConfig(**kwargs)


def audio_sft_trainer(model, processor, train_dataset, args: SFTConfig, prefill_think: bool = True) -> SFTTrainer:
    """A stock `trl.SFTTrainer` whose batches carry the audio."""
    encoder = AudioPromptEncoder(processor.tokenizer, processor.feature_extractor, prefill_think=prefill_think)
    return SFTTrainer(
        model=model,
        args=args,
        train_dataset=train_dataset,
        processing_class=processor.tokenizer,
        data_collator=AudioSFTCollator(encoder, max_length=args.max_length or 1024),
    )


def train_sft(job: TrainJob, ds: Any, section: SFTSection) -> dict[str, Any]:
    """A stage's SFT: the input model on `ds` (shuffled by the stage seed), saved to job.model_out."""
    from audiogym.trainers.model_io import attach, load, save, trainer_args

    model, proc = load(job.model_in, job.freeze_encoder)
    args = audio_sft_config(**trainer_args(job, section.max_steps, section.batch, section.lr))
    trainer = audio_sft_trainer(model, proc, ds.shuffle(seed=job.seed), args)
    attach(trainer, job)
    out = trainer.train()
    save(trainer, proc, job.model_out)
    return {"train_loss": out.training_loss, "train_rows": len(ds), "steps": out.global_step}
