"""Prompt + audio -> model inputs, shared by generation (AudioLMPolicy) and training (trainers).

A conversation (TRL's format, content as text) gets an audio part in its last user turn when the
row has audio; the chat template renders it as `<|audio_bos|><|AUDIO|><|audio_eos|>`, and the one
`<|AUDIO|>` is expanded to as many tokens as the encoder will produce for that clip. Whisper
features are cached per clip key (task id), since the same clip is encoded for every generation
and every epoch (n_fft 2048 features cost ~10 ms a clip).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

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
        text = self.tokenizer.apply_chat_template(
            msgs, tokenize=False, add_generation_prompt=True, chat_template=CHAT_TEMPLATE
        )
        return text + (THINK_PREFILL if self.prefill_think else "")

    def features(self, audio: np.ndarray, key: Any = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(mel features [n_mels, frames], frame mask [frames]) of one clip, cached under `key`."""
        if key is not None and key in self._cache:
            self._cache.move_to_end(key)
            self.cache_hits += 1
            return self._cache[key]
        self.cache_misses += key is not None
        out = self.feature_extractor(
            [np.asarray(audio, np.float32)],
            sampling_rate=SAMPLE_RATE,
            return_attention_mask=True,
            padding="max_length",
            return_tensors="pt",
        )
        value = (out["input_features"][0], out["attention_mask"][0])
        if key is not None:
            self._cache[key] = value
            if len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return value

    def encode(
        self,
        conversations: Sequence[list[dict[str, Any]]],
        audios: Sequence[np.ndarray | None],
        keys: Sequence[Any] | None = None,
        completions: Sequence[str] | None = None,
    ) -> dict[str, Any]:
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
                p = (
                    p
                    + self.tokenizer(completions[i], add_special_tokens=False)["input_ids"]
                    + [self.tokenizer.eos_token_id]
                )
            ids.append(p)
            feats.append(f)
            masks.append(m)
            rows.append(has_audio)
        return {
            "input_ids": ids,
            "prompt_lengths": prompt_lens,
            "input_features": torch.stack(feats),
            "feature_attention_mask": torch.stack(masks),
            "audio_rows": torch.tensor(rows, dtype=torch.bool),
            "prompt_texts": texts,
        }


def audio_model_kwargs(
    input_features: torch.Tensor | None, feature_attention_mask: torch.Tensor | None, audio_rows: torch.Tensor | None
) -> dict[str, torch.Tensor]:
    """Keep only the rows that have audio (Qwen2-Audio scatters encoder outputs into the audio
    tokens in order, so it takes features for exactly the rows that contain them)."""
    if input_features is None or feature_attention_mask is None or audio_rows is None or not bool(audio_rows.any()):
        return {}
    return {"input_features": input_features[audio_rows], "feature_attention_mask": feature_attention_mask[audio_rows]}


def audio_tower(model: Any) -> torch.nn.Module | None:
    """The audio encoder of a Qwen2-Audio-style model (`model.audio_tower` or, in transformers 5,
    `model.model.audio_tower`), or None."""
    return getattr(model, "audio_tower", None) or getattr(getattr(model, "model", None), "audio_tower", None)


class FrozenEncoderCache:
    """The outputs of a frozen audio encoder, computed once per distinct clip.

    GRPO sends each clip through the encoder once per sample of its prompt (num_generations rows)
    in generation, and again in every log-prob pass. An encoder with no trainable parameter and
    no dropout gives the same output every time, so each distinct (features, mask) row is encoded
    once and every later row, in this pass or the next, reuses it. Installed as the tower's
    instance `forward` (the module tree and its state dict do not change); `remove()` restores it.
    Rows are told apart by a hash of their bytes, never by position or task id.
    """

    def __init__(self, tower: torch.nn.Module, size: int = 2048):
        self.tower, self.size = tower, size
        self._store: OrderedDict[bytes, torch.Tensor] = OrderedDict()
        self.hits = self.misses = 0  # rows served from the cache / encoded

    @staticmethod
    def applies(tower: torch.nn.Module) -> bool:
        cfg = getattr(tower, "config", None)
        stochastic = any(
            float(getattr(cfg, k, 0.0) or 0.0) > 0
            for k in ("dropout", "layerdrop", "attention_dropout", "activation_dropout")
        )
        return not stochastic and not any(p.requires_grad for p in tower.parameters())

    def install(self) -> FrozenEncoderCache:
        self.tower.forward = self._forward
        return self

    def remove(self) -> None:
        self.tower.__dict__.pop("forward", None)
        self._store.clear()

    @staticmethod
    def _key(features: torch.Tensor, mask: torch.Tensor | None) -> bytes:
        h = hashlib.blake2b(features.detach().cpu().contiguous().numpy().tobytes(), digest_size=16)
        if mask is not None:
            h.update(mask.detach().cpu().contiguous().numpy().tobytes())
        return h.digest()

    def _forward(self, input_features: torch.Tensor, attention_mask: torch.Tensor | None = None, **kwargs: Any):
        forward = type(self.tower).forward
        if kwargs or any(p.requires_grad for p in self.tower.parameters()):  # unfrozen since: no caching
            return forward(self.tower, input_features, attention_mask=attention_mask, **kwargs)
        keys = [
            self._key(input_features[i], None if attention_mask is None else attention_mask[i])
            for i in range(input_features.shape[0])
        ]
        rows, seen = [], set()  # the first row of each clip not encoded yet
        for i, k in enumerate(keys):
            if k not in self._store and k not in seen:
                seen.add(k)
                rows.append(i)
        if rows:
            index = torch.tensor(rows, device=input_features.device)
            mask = None if attention_mask is None else attention_mask.index_select(0, index)
            out = forward(self.tower, input_features.index_select(0, index), attention_mask=mask)
            for i, hidden in zip(rows, out.last_hidden_state.detach()):
                self._store[keys[i]] = hidden
        self.misses += len(rows)
        self.hits += len(keys) - len(rows)
        hidden_states = torch.stack([self._store[k] for k in keys])
        for k in keys:
            self._store.move_to_end(k)
        while len(self._store) > self.size:
            self._store.popitem(last=False)
        from transformers.modeling_outputs import BaseModelOutput

        return BaseModelOutput(last_hidden_state=hidden_states)  # type: ignore[arg-type]
