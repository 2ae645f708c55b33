"""audiogym: Gymnasium environments and TRL recipes for audio models that reason about what they hear."""
from __future__ import annotations

import os

# librosa's numba kernels compile on first import (~20 s); a persistent cache makes later runs fast.
os.environ.setdefault("NUMBA_CACHE_DIR", os.path.join(os.path.expanduser("~"), ".cache", "audiogym", "numba"))

from audiogym.data import decode_audio, to_dataset  # noqa: E402
from audiogym.envs import AudioQAEnv, list_envs  # noqa: E402
from audiogym.errors import AudiogymError, ConfigError, ManifestError  # noqa: E402
from audiogym.tasks import AUDIO_FAMILIES, FAMILIES, AudioTask, Mixture, get_family, render_prompt  # noqa: E402

__version__ = "0.1.0"
__all__ = ["AUDIO_FAMILIES", "FAMILIES", "AudioQAEnv", "AudioTask", "AudiogymError", "ConfigError",
           "ManifestError", "Mixture", "decode_audio", "get_family", "list_envs", "render_prompt", "to_dataset"]
