"""Loading a stage's input model, saving its output atomically, and the TRL arguments they share."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from transformers import TrainerCallback

from audiogym.policies.encoding import audio_tower
from audiogym.trainers import dist

if TYPE_CHECKING:
    from audiogym.policies.audio_lm import AudioLMPolicy
    from audiogym.trainers.job import TrainJob


def freeze_audio_encoder(model: Any, frozen: bool = True) -> None:
    """Freeze (the report's choice) or unfreeze the audio encoder; the adapter and LM still train."""
    tower = audio_tower(model)
    assert tower is not None, "not an audio model: no audio_tower"
    for p in tower.parameters():
        p.requires_grad_(not frozen)


def load(model_dir: Path, freeze_encoder: bool) -> tuple[Any, Any]:
    from transformers import AutoProcessor, Qwen2AudioForConditionalGeneration

    model = Qwen2AudioForConditionalGeneration.from_pretrained(model_dir)
    freeze_audio_encoder(model, freeze_encoder)
    return model, AutoProcessor.from_pretrained(model_dir)


def save(trainer: Any, processor: Any, out: Path) -> Path:
    """Save to a temporary folder, then rename: a killed save leaves no half-written model.
    Every rank calls it (DeepSpeed ZeRO-3 gathers the weights); the main process writes."""
    tmp = out.with_name(out.name + ".tmp")
    if dist.is_main():
        shutil.rmtree(tmp, ignore_errors=True)
    dist.barrier()
    try:
        trainer.save_model(str(tmp))
        if dist.is_main():
            processor.save_pretrained(tmp)
            shutil.rmtree(out, ignore_errors=True)
            os.replace(tmp, out)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)  # a full disk leaves no half-written model.tmp behind
        raise
    dist.barrier()
    return out


def policy(model_dir: Path, backend: str = "hf") -> AudioLMPolicy:
    from audiogym.policies.audio_lm import AudioLMPolicy

    return AudioLMPolicy(model_dir, device=dist.device(), backend=backend)


def trainer_args(job: TrainJob, max_steps: int, batch: int, lr: float) -> dict[str, Any]:
    """TrainingArguments every stage's TRL trainer shares (bf16 where the GPU has it, else fp32 on CPU)."""
    import torch

    cuda = torch.cuda.is_available()
    return dict(
        output_dir=str(job.work_dir / "trainer"),
        max_steps=int(max_steps),
        per_device_train_batch_size=int(batch),
        learning_rate=float(lr),
        logging_steps=1,
        save_strategy="no",
        seed=job.seed,
        report_to=[],  # the run's tracker logs each stage's trainer as <stage>/* (job.callbacks)
        use_cpu=not cuda,
        bf16=cuda and torch.cuda.is_bf16_supported(),
        dataloader_num_workers=0,
        disable_tqdm=not job.verbose,
        run_name=job.name,
        gradient_checkpointing=bool(job.gradient_checkpointing),
    )


def attach(trainer: Any, job: TrainJob) -> None:
    """The job's callbacks, and the console it gets: one progress bar of steps (rate, ETA) with the
    per-step log dicts written to `work_dir/trainer_log.jsonl` instead of the terminal (TRL's own
    bar and log printing with `job.verbose`)."""
    from transformers.trainer_callback import PrinterCallback

    for callback in job.callbacks:
        trainer.add_callback(callback)
    if not job.verbose:
        trainer.remove_callback(PrinterCallback)  # what transformers prints logs with when its bar is off
        trainer.add_callback(StepProgress(job.name, job.work_dir / "trainer_log.jsonl"))


class StepProgress(TrainerCallback):
    """A tqdm bar over the training steps; each log dict appended to a JSON-lines file."""

    def __init__(self, name: str, log_path: Path):
        self.name, self.log_path, self.bar = name, log_path, None

    def on_train_begin(self, args, state, control, **kwargs):
        from tqdm.auto import tqdm

        if state.is_world_process_zero:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self.log_path.write_text("")
            self.bar = tqdm(total=state.max_steps, desc=f"{self.name}: training", unit="step", leave=False)

    def on_step_end(self, args, state, control, **kwargs):
        if self.bar is not None:
            self.bar.update(state.global_step - self.bar.n)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if state.is_world_process_zero and logs:
            with open(self.log_path, "a", encoding="utf-8") as f:
                f.write(json.dumps({"step": state.global_step, **logs}, default=float) + "\n")

    def on_train_end(self, args, state, control, **kwargs):
        if self.bar is not None:
            self.bar.close()
            self.bar = None
