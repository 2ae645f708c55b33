"""Prompt + audio -> model inputs, shared by generation (AudioLMPolicy) and training (trainers).

A conversation (TRL's format, content as text) gets an audio part in its last user turn when the
row has audio; the chat template renders it as `<|audio_bos|><|AUDIO|><|audio_eos|>`, and the one
`<|AUDIO|>` is expanded to as many tokens as the encoder will produce for that clip. Whisper
features are cached per clip key (task id), since the same clip is encoded for every generation
and every epoch (n_fft 2048 features cost ~10 ms a clip).
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Sequence

import numpy as np
import torch

from audiogym.policies.tokenizer import AUDIO_TOKEN, CHAT_TEMPLATE, THINK_OPEN
from audiogym.tasks.core import SAMPLE_RATE

THINK_PREFILL = f"{THINK_OPEN}\n"


def n_audio_tokens(n_frames: int) -> int:
    """Tokens Qwen2-Audio's encoder + pooler produce for `n_frames` mel frames (100 per second)."""
    return (((n_frames - 1) // 2 + 1) - 2) // 2 + 1


def with_audio_part(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The conversation with an audio part first in its last user turn."""
    msgs = [dict(m) for m in messages]
    for m in reversed(msgs):
        if m.get("role") == "user":
            content = m.get("content")
            parts = content if isinstance(content, list) else [{"type": "text", "text": str(content)}]
            if not any(isinstance(p, dict) and p.get("type") == "audio" for p in parts):
                m["content"] = [{"type": "audio"}] + list(parts)
            break
    return msgs


class AudioPromptEncoder:
    def __init__(self, tokenizer, feature_extractor, prefill_think: bool = True, cache_size: int = 4096):
        self.tokenizer, self.feature_extractor, self.prefill_think = tokenizer, feature_extractor, prefill_think
        self.audio_token_id = tokenizer.convert_tokens_to_ids(AUDIO_TOKEN)
        self._cache: OrderedDict[Any, tuple[torch.Tensor, torch.Tensor]] = OrderedDict()
        self.cache_size = cache_size
        self.cache_hits = self.cache_misses = 0  # features served from the cache / computed (keyed calls)

    @property
    def n_frames(self) -> int:
        return int(self.feature_extractor.nb_max_frames)

    def prompt_text(self, messages: list[dict[str, Any]], has_audio: bool) -> str:
        msgs = with_audio_part(messages) if has_audio else messages
        text = self.tokenizer.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True,
                                                  chat_template=CHAT_TEMPLATE)
        return text + (THINK_PREFILL if self.prefill_think else "")

    def features(self, audio: np.ndarray, key: Any = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(mel features [n_mels, frames], frame mask [frames]) of one clip, cached under `key`."""
        if key is not None and key in self._cache:
            self._cache.move_to_end(key)
            self.cache_hits += 1
            return self._cache[key]
        self.cache_misses += key is not None
        out = self.feature_extractor([np.asarray(audio, np.float32)], sampling_rate=SAMPLE_RATE, return_attention_mask=True,
                                     padding="max_length", return_tensors="pt")
        value = (out["input_features"][0], out["attention_mask"][0])
        if key is not None:
            self._cache[key] = value
            if len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return value

    def encode(self, conversations: Sequence[list[dict[str, Any]]], audios: Sequence[np.ndarray | None],
               keys: Sequence[Any] | None = None, completions: Sequence[str] | None = None) -> dict[str, Any]:
        """Token id lists (prompt, or prompt + completion when given), per-row features with zeros
        for rows without audio, the `audio_rows` mask that says which rows have audio, and the
        prompt texts before the audio placeholder's expansion (what vLLM takes)."""
        keys = keys or [None] * len(audios)
        ids, feats, masks, rows, prompt_lens, texts = [], [], [], [], [], []
        zero_f = torch.zeros(self.feature_extractor.feature_size, self.n_frames)
        zero_m = torch.zeros(self.n_frames, dtype=torch.long)
        for i, (conv, audio) in enumerate(zip(conversations, audios)):
            has_audio = audio is not None and len(audio) > 0
            text = self.prompt_text(conv, has_audio)
            texts.append(text)
            if audio is not None and has_audio:
                f, m = self.features(audio, keys[i])
                text = text.replace(AUDIO_TOKEN, AUDIO_TOKEN * n_audio_tokens(int(m.sum())), 1)
            else:
                f, m = zero_f, zero_m
            p = self.tokenizer(text, add_special_tokens=False)["input_ids"]
            prompt_lens.append(len(p))
            if completions is not None:
                p = p + self.tokenizer(completions[i], add_special_tokens=False)["input_ids"] + [self.tokenizer.eos_token_id]
            ids.append(p)
            feats.append(f)
            masks.append(m)
            rows.append(has_audio)
        return {"input_ids": ids, "prompt_lengths": prompt_lens, "input_features": torch.stack(feats),
                "feature_attention_mask": torch.stack(masks), "audio_rows": torch.tensor(rows, dtype=torch.bool),
                "prompt_texts": texts}


def audio_model_kwargs(input_features: torch.Tensor | None, feature_attention_mask: torch.Tensor | None,
                       audio_rows: torch.Tensor | None) -> dict[str, torch.Tensor]:
    """Keep only the rows that have audio (Qwen2-Audio scatters encoder outputs into the audio
    tokens in order, so it takes features for exactly the rows that contain them)."""
    if input_features is None or feature_attention_mask is None or audio_rows is None or not bool(audio_rows.any()):
        return {}
    return {"input_features": input_features[audio_rows], "feature_attention_mask": feature_attention_mask[audio_rows]}
