"""Pictures people would rather look at than numbers: spectrograms of tasks."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np

from audiogym.tasks.core import AudioTask


def spectrogram_png(task: AudioTask, path: str | Path) -> Path:
    """Log-mel spectrogram of the task's audio, titled with the question and the answer."""
    import matplotlib

    matplotlib.use("Agg")
    import librosa
    import librosa.display
    import matplotlib.pyplot as plt

    import audiogym.analysis  # noqa: F401  (sets the numba cache before librosa loads)

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(9, 4))
    if len(task.audio):
        mel = librosa.feature.melspectrogram(y=task.audio, sr=task.sample_rate, n_fft=2048, hop_length=256, n_mels=128)
        img = librosa.display.specshow(
            librosa.power_to_db(mel, ref=np.max),
            sr=task.sample_rate,
            hop_length=256,
            x_axis="time",
            y_axis="mel",
            ax=ax,
        )
        fig.colorbar(img, ax=ax, format="%+2.0f dB")
    title = f"{task.id}: {task.question}\nanswer: {task.answer}" + ("  (transcript conflicts)" if task.conflict else "")
    ax.set_title("\n".join(textwrap.wrap(title, 90, replace_whitespace=False)), fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
