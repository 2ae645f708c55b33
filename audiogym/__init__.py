"""audiogym: Gymnasium environments and TRL recipes for audio models that reason about what they hear."""

from __future__ import annotations

from audiogym.io import use_numba_cache

use_numba_cache()  # before anything imports librosa: its numba kernels compile once, into a kept cache

from audiogym.data import decode_audio, to_dataset  # noqa: E402
from audiogym.envs import AudioQAEnv, list_envs  # noqa: E402
from audiogym.errors import AudiogymError, ConfigError, ManifestError  # noqa: E402
from audiogym.tasks import AUDIO_FAMILIES, FAMILIES, AudioTask, Mixture, get_family, register, render_prompt  # noqa: E402

__version__ = "0.2.0"
__all__ = [
    "AUDIO_FAMILIES",
    "FAMILIES",
    "AudioQAEnv",
    "AudioTask",
    "AudiogymError",
    "ConfigError",
    "ManifestError",
    "Mixture",
    "decode_audio",
    "get_family",
    "list_envs",
    "register",
    "render_prompt",
    "to_dataset",
]
