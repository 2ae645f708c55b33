"""Audio language models as policies: the tiny embedded default and real checkpoints.

`build_tiny_model(folder, TinyModelConfig())` writes a small `Qwen2AudioForConditionalGeneration`
(random init, a tokenizer trained locally, a `Qwen2AudioProcessor` whose Whisper feature window
fits the clips) that loads with `from_pretrained(folder)` like any checkpoint.
`AudioLMPolicy(folder)` generates batched completions for tasks from any local Qwen2-Audio or
Qwen2.5-Omni (thinker) folder, with the report's `<think>\\n` pre-fill.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import torch

from audiogym.errors import ConfigError
from audiogym.policies.base import Generation
from audiogym.policies.encoding import THINK_PREFILL, AudioPromptEncoder
from audiogym.policies.tokenizer import AUDIO_TOKEN, CHAT_TEMPLATE
from audiogym.tasks.core import SAMPLE_RATE, AudioTask, render_prompt


@dataclass
class TinyModelConfig:
    encoder_layers: int = 2
    encoder_d_model: int = 128
    encoder_heads: int = 4
    encoder_ffn_dim: int = 256
    max_seconds: int = 4
    n_fft: int = 2048
    num_mel_bins: int = 128
    decoder_layers: int = 2
    hidden_size: int = 128
    attention_heads: int = 4
    kv_heads: int = 2
    intermediate_size: int = 256
    vocab_size: int = 2000
    init_std: float = 0.05
    tokenizer_corpus_per_family: int = 40
    seed: int | None = None  # the weights' initialisation; None: the run's seed (recipe.seed)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TinyModelConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ConfigError(f"model: unknown keys {sorted(unknown)}; known: {sorted(known)}")
        return cls(**d).validate()

    def validate(self) -> TinyModelConfig:
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name == "seed" and v is None:
                continue
            if not isinstance(v, (int, float)) or v < 0 or (v == 0 and f.name != "seed"):
                raise ConfigError(f"model.{f.name}={v!r}: expected a positive number")
        from audiogym.policies.tokenizer import MIN_VOCAB

        if self.vocab_size < MIN_VOCAB:
            raise ConfigError(
                f"model.vocab_size={self.vocab_size}: expected at least {MIN_VOCAB} (256 byte tokens and "
                f"{MIN_VOCAB - 256} special and think tokens)"
            )
        if self.encoder_d_model % self.encoder_heads or self.hidden_size % self.attention_heads:
            raise ConfigError("model: widths must be divisible by their head counts")
        if self.attention_heads % self.kv_heads:
            raise ConfigError("model.attention_heads must be a multiple of model.kv_heads")
        return self


def feature_extractor(max_seconds: int, n_fft: int = 2048, num_mel_bins: int = 128):
    from transformers import WhisperFeatureExtractor

    return WhisperFeatureExtractor(
        feature_size=num_mel_bins, sampling_rate=SAMPLE_RATE, hop_length=160, chunk_length=int(max_seconds), n_fft=n_fft
    )


def _reinit(model: torch.nn.Module, std: float) -> None:
    """N(0, std) for every Linear/Conv/Embedding weight, zero biases (docs/design.md says why 0.05)."""
    for mod in model.modules():
        if isinstance(mod, (torch.nn.Linear, torch.nn.Conv1d, torch.nn.Embedding)):
            torch.nn.init.normal_(mod.weight, 0.0, std)
            bias = getattr(mod, "bias", None)
            if isinstance(bias, torch.Tensor):
                torch.nn.init.zeros_(bias)


def build_tiny_model(folder: str | Path, cfg: TinyModelConfig | None = None, tokenizer=None) -> Path:
    """Write the tiny Qwen2-Audio checkpoint (model, tokenizer, processor) into `folder`."""
    from transformers import (
        Qwen2AudioConfig,
        Qwen2AudioEncoderConfig,
        Qwen2AudioForConditionalGeneration,
        Qwen2AudioProcessor,
        Qwen2Config,
    )

    from audiogym.policies.tokenizer import corpus_texts, train_tokenizer

    cfg = (cfg or TinyModelConfig()).validate()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tok = tokenizer or train_tokenizer(corpus_texts(cfg.tokenizer_corpus_per_family), cfg.vocab_size)
    audio_cfg = Qwen2AudioEncoderConfig(
        num_mel_bins=cfg.num_mel_bins,
        encoder_layers=cfg.encoder_layers,
        encoder_attention_heads=cfg.encoder_heads,
        encoder_ffn_dim=cfg.encoder_ffn_dim,
        d_model=cfg.encoder_d_model,
        max_source_positions=50 * cfg.max_seconds,
    )
    text_cfg = Qwen2Config(
        vocab_size=len(tok),
        hidden_size=cfg.hidden_size,
        intermediate_size=cfg.intermediate_size,
        num_hidden_layers=cfg.decoder_layers,
        num_attention_heads=cfg.attention_heads,
        num_key_value_heads=cfg.kv_heads,
        # untied, as the weights are (transformers builds this model untied whatever the flag says;
        # an engine that honours a True flag, vLLM included, would run another model)
        max_position_embeddings=2048,
        tie_word_embeddings=False,
        pad_token_id=tok.pad_token_id,
        eos_token_id=tok.eos_token_id,
        bos_token_id=None,
    )
    config = Qwen2AudioConfig(
        audio_config=audio_cfg, text_config=text_cfg, audio_token_index=tok.convert_tokens_to_ids(AUDIO_TOKEN)
    )
    config.pad_token_id, config.eos_token_id = tok.pad_token_id, tok.eos_token_id
    torch.manual_seed(cfg.seed or 0)
    model = Qwen2AudioForConditionalGeneration(config)
    _reinit(model, cfg.init_std)
    model.generation_config.pad_token_id = tok.pad_token_id
    model.generation_config.eos_token_id = tok.eos_token_id
    model.save_pretrained(folder)
    processor = Qwen2AudioProcessor(
        feature_extractor=feature_extractor(cfg.max_seconds, cfg.n_fft, cfg.num_mel_bins),
        tokenizer=tok,
        chat_template=CHAT_TEMPLATE,
    )
    processor.save_pretrained(folder)
    (folder / "audiogym_model.json").write_text(__import__("json").dumps(asdict(cfg), indent=2))
    return folder


# The sampling stages' top-k: transformers' generate cuts to the 50 likeliest tokens unless told
# otherwise, and the recipe's tables were made with that; vLLM does not cut unless told, so the
# policy says it to both (without it the vLLM backend sampled the whole vocabulary and kept fewer
# grounded chains). GRPO rollouts take TRL's `top_k` (0: no cut) on both backends.
SAMPLING_TOP_K = 50


class AudioLMPolicy:
    """Generates completions for tasks with a local Qwen2-Audio or Qwen2.5-Omni (thinker) folder.

    `generate(tasks, num_samples, temperature, top_p, max_new_tokens)` returns, per task, a list of
    `Generation(text, tokens)`. The prompt ends with `<think>\\n` (as in the report) unless
    `prefill_think=False`; returned texts include that pre-fill so they parse on their own.
    `freeze_encoder=True` (the report's choice) stops gradients into the audio encoder.
    `backend="vllm"` generates with the process's vLLM engine (audiogym.policies.vllm_engine),
    given this model's weights; "auto" picks it where vLLM is installed (Qwen2-Audio only).
    """

    def __init__(
        self,
        path: str | Path,
        device: str | None = None,
        dtype: torch.dtype | str | None = None,
        prefill_think: bool = True,
        freeze_encoder: bool = True,
        show_transcript: bool = True,
        backend: str = "hf",
    ):
        from transformers import AutoConfig

        path = Path(path)
        if not (path / "config.json").is_file():
            raise ConfigError(f"{path}: not a model folder (no config.json)")
        self.path = path
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.dtype: torch.dtype = (getattr(torch, dtype) if isinstance(dtype, str) else dtype) or torch.float32
        self.prefill_think = prefill_think
        self.show_transcript = show_transcript
        config = AutoConfig.from_pretrained(path)
        self.kind = config.model_type
        self.model, self.tokenizer, self.features = self._load(path, config)
        self.encoder = AudioPromptEncoder(self.tokenizer, self.features, prefill_think=prefill_think)
        self.model.to(self.device).eval()
        if freeze_encoder:
            for p in self.audio_encoder.parameters():
                p.requires_grad_(False)
        self.name = path.name
        self.engine: Any = None
        from audiogym.policies.vllm_engine import VLLMEngine, model_head_size, resolve_backend

        self.backend = resolve_backend(backend, model_head_size(path))
        if self.backend == "vllm" and self.kind != "qwen2_audio":
            # Qwen2.5-Omni through vLLM needs its processors, which import torchvision: not on CPU here
            if backend != "auto":
                raise ConfigError(
                    f"{path}: the vLLM backend runs Qwen2-Audio only (this is {self.kind}); use backend hf"
                )
            self.backend = "hf"
        if self.backend == "vllm":
            self.engine = VLLMEngine.get(path, dtype=str(self.dtype).removeprefix("torch."))
            self.engine.load_weights(self.model, tag=self)

    def _load(self, path: Path, config):
        from transformers import AutoTokenizer, WhisperFeatureExtractor

        Model: Any
        if self.kind == "qwen2_audio":
            from transformers import Qwen2AudioForConditionalGeneration as Model
        elif self.kind in ("qwen2_5_omni_thinker", "qwen2_5_omni"):
            from transformers import Qwen2_5OmniThinkerForConditionalGeneration as Model
        else:
            raise ConfigError(
                f"{path}: model type {self.kind!r} is not an audio LM audiogym knows "
                "(qwen2_audio, qwen2_5_omni_thinker)"
            )
        model = Model.from_pretrained(path, dtype=self.dtype)
        tok = AutoTokenizer.from_pretrained(path)
        tok.padding_side = "left"
        # Built from the feature extractor + tokenizer directly: Qwen2.5-Omni's processor imports
        # torchvision, which has no CPU build here.
        features = WhisperFeatureExtractor.from_pretrained(path)
        return model, tok, features

    @property
    def audio_encoder(self) -> torch.nn.Module:
        m = self.model
        return getattr(m, "audio_tower", None) or m.model.audio_tower

    # -- inputs -------------------------------------------------------------------------------

    def prompt_text(self, task: AudioTask) -> str:
        conv = [{"role": "user", "content": render_prompt(task, show_transcript=self.show_transcript)}]
        return self.encoder.prompt_text(conv, has_audio=bool(len(task.audio)))

    def inputs(self, tasks: list[AudioTask]) -> dict[str, torch.Tensor]:
        """Left-padded token ids with each audio placeholder expanded, plus Whisper features."""
        from audiogym.policies.encoding import audio_model_kwargs

        convs = [[{"role": "user", "content": render_prompt(t, show_transcript=self.show_transcript)}] for t in tasks]
        enc = self.encoder.encode(convs, [t.audio if len(t.audio) else None for t in tasks], [t.id for t in tasks])
        n = max(map(len, enc["input_ids"]))
        pad = self.tokenizer.pad_token_id
        ids = torch.tensor([[pad] * (n - len(s)) + s for s in enc["input_ids"]])
        mask = torch.tensor([[0] * (n - len(s)) + [1] * len(s) for s in enc["input_ids"]])
        out = {"input_ids": ids.to(self.device), "attention_mask": mask.to(self.device)}
        extra = audio_model_kwargs(enc["input_features"], enc["feature_attention_mask"], enc["audio_rows"])
        if extra:
            out["input_features"] = extra["input_features"].to(self.device, self.dtype)
            out["feature_attention_mask"] = extra["feature_attention_mask"].to(self.device)
        return out

    # -- generation ---------------------------------------------------------------------------

    @torch.no_grad()
    def generate(
        self,
        tasks: list[AudioTask],
        num_samples: int = 1,
        temperature: float = 1.0,
        top_p: float = 1.0,
        max_new_tokens: int = 64,
        batch_size: int = 32,
        seed: int | None = None,
        top_k: int = SAMPLING_TOP_K,
        **generate_kwargs: Any,
    ) -> list[list[Generation]]:
        """Per task, `num_samples` completions. Both backends sample from the same distribution
        (temperature, top_p and top_k, 0 = no top-k cut). Extra keyword arguments go to
        `model.generate` (the vLLM backend takes `min_new_tokens` only)."""
        if self.engine is not None:
            return self._generate_vllm(
                tasks, num_samples, temperature, top_p, max_new_tokens, seed, top_k, **generate_kwargs
            )
        if seed is not None:
            torch.manual_seed(seed)
        results: list[list[Generation]] = [[] for _ in tasks]
        flat = [(i, t) for i, t in enumerate(tasks) for _ in range(num_samples)]
        for start in range(0, len(flat), batch_size):
            chunk = flat[start : start + batch_size]
            # Text-only and audio prompts go in separate batches (the model takes features for all or none).
            for has_audio in (True, False):
                part = [(i, t) for i, t in chunk if bool(len(t.audio)) == has_audio]
                if not part:
                    continue
                enc = self.inputs([t for _, t in part])
                out = self.model.generate(
                    **enc,
                    max_new_tokens=max_new_tokens,
                    do_sample=temperature > 0,
                    temperature=temperature if temperature > 0 else None,
                    top_p=top_p if temperature > 0 else None,
                    top_k=top_k if temperature > 0 else None,
                    pad_token_id=self.tokenizer.pad_token_id,
                    eos_token_id=self.tokenizer.eos_token_id,
                    **generate_kwargs,
                )
                new = out[:, enc["input_ids"].shape[1] :]
                for (i, _), ids in zip(part, new):
                    results[i].append(self._generation(ids[ids != self.tokenizer.pad_token_id].tolist()))
        return results

    def _generate_vllm(
        self,
        tasks: list[AudioTask],
        num_samples: int,
        temperature: float,
        top_p: float,
        max_new_tokens: int,
        seed: int | None,
        top_k: int,
        min_new_tokens: int = 0,
        **unsupported: Any,
    ) -> list[list[Generation]]:
        if unsupported:
            raise TypeError(f"the vLLM backend does not take {', '.join(unsupported)}")
        if self.engine.loaded is not self:  # another policy's weights are in the process's engine
            self.engine.load_weights(self.model, tag=self)
        ids = self.engine.generate(
            [self.prompt_text(t) for t in tasks],
            [t.audio for t in tasks],
            n=num_samples,
            temperature=temperature,
            top_p=top_p,
            top_k=top_k,
            max_tokens=max_new_tokens,
            min_tokens=min_new_tokens,
            seed=seed,
            stop_token_ids=[self.tokenizer.eos_token_id],
        )
        return [[self._generation(c) for c in per_task] for per_task in ids]

    def _generation(self, ids: list[int]) -> Generation:
        """New token ids (the end token included where one was produced) -> text with the pre-fill."""
        text = self.tokenizer.decode(ids, skip_special_tokens=False).replace(self.tokenizer.eos_token, "")
        return Generation((THINK_PREFILL if self.prefill_think else "") + text, len(ids))

    def act(self, task: AudioTask) -> str:
        return self.generate([task], temperature=0.0)[0][0].text
