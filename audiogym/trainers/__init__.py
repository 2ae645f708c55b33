"""Trainer stages on top of TRL: audio-correct GRPO, SFT and DPO, and the MGRD recipe."""
from __future__ import annotations


def freeze_audio_encoder(model, frozen: bool = True) -> None:
    """Freeze (the report's choice) or unfreeze the audio encoder; the adapter and LM still train."""
    tower = getattr(model, "audio_tower", None) or model.model.audio_tower
    for p in tower.parameters():
        p.requires_grad_(not frozen)
