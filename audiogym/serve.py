"""audiogym environments over OpenEnv (`openenv-core`): a server (`audiogym serve`) and a client.

The server wraps any audiogym Gymnasium environment in OpenEnv's `Environment` interface and
serves it with OpenEnv's own FastAPI app (WebSocket sessions, one environment per session). A
session's `reset(seed=..., task_seed=..., index=...)` is the env's `reset(seed=..., options=...)`;
`step(AudioAction(text=...))` scores the completion with the env's reward modules. Observations
carry the clip as base64 16-bit PCM WAV (`decode_clip`), the question, choices, transcript and
prompt; a step's observation carries the reward and the env's info.

    audiogym serve --env audiogym/Mixed-v0 --port 8011          # 127.0.0.1 unless --host says otherwise

    from audiogym.serve import AudiogymClient, AudioAction
    with AudiogymClient(base_url="http://127.0.0.1:8011").sync() as env:
        first = env.reset(seed=3)
        result = env.step(AudioAction(text="<think>...</think>The answer is B."))
        result.reward, result.observation.info["correct"]
"""

from __future__ import annotations

import base64
import io
from typing import Any

import numpy as np
from openenv.core.client_types import StepResult
from openenv.core.env_client import EnvClient
from openenv.core.env_server.interfaces import Environment
from openenv.core.env_server.types import Action, Observation, State
from pydantic import Field

MAX_ACTION_CHARS = 100_000  # the env's action space: longer completions are refused, not scored


class AudioAction(Action):
    text: str = Field(..., max_length=MAX_ACTION_CHARS, description="the completion: reasoning and answer")


class AudioObservation(Observation):
    task_id: str = ""
    question: str = ""
    choices: list[str] = Field(default_factory=list)
    transcript: str = ""
    prompt: str = ""
    audio_wav_b64: str = Field("", description="the clip as base64 16-bit PCM mono WAV")
    sample_rate: int = 16000
    info: dict[str, Any] = Field(default_factory=dict, description="the env's info (reset or step)")


def encode_clip(audio: np.ndarray, sample_rate: int) -> str:
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, np.asarray(audio, dtype=np.float32), sample_rate, format="WAV", subtype="PCM_16")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def decode_clip(b64: str) -> tuple[np.ndarray, int]:
    """(float32 mono samples, sample rate) of an observation's clip."""
    import soundfile as sf

    data, sr = sf.read(io.BytesIO(base64.b64decode(b64)), dtype="float32")
    return data, int(sr)


def _plain(value: Any) -> Any:
    """Info values as JSON: arrays to lists, numpy scalars to numbers."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


class AudiogymEnvironment(Environment[AudioAction, AudioObservation, State]):
    """One audiogym env per OpenEnv session."""

    SUPPORTS_CONCURRENT_SESSIONS = True  # each session owns its env; nothing mutable is shared

    def __init__(self, env_id: str = "audiogym/Mixed-v0", **env_kwargs: Any):
        import gymnasium as gym

        import audiogym  # noqa: F401  (registers the envs)

        super().__init__()
        self.env = gym.make(env_id, **env_kwargs)
        self.env_id = env_id
        self._state = State(episode_id=None, step_count=0)

    def reset(self, seed: int | None = None, episode_id: str | None = None, **kwargs: Any) -> AudioObservation:
        options = {}
        for key in ("task_seed", "index"):
            value = kwargs.get(key)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{key} must be an integer >= 0, got {value!r}")
            options[key] = value
        obs, info = self.env.reset(seed=seed, options=options or None)
        self._state = State(episode_id=episode_id or info["task_id"], step_count=0)
        task = getattr(self.env.unwrapped, "task")  # noqa: B009 - AudioQAEnv under gymnasium wrappers
        return AudioObservation(
            task_id=info["task_id"],
            question=obs["question"],
            choices=list(obs["choices"]),
            transcript=obs["transcript"],
            prompt=info["prompt"],
            audio_wav_b64=encode_clip(task.audio, task.sample_rate),
            sample_rate=task.sample_rate,
            info=_plain({k: v for k, v in info.items() if k != "prompt"}),
        )

    def step(self, action: AudioAction, timeout_s: float | None = None, **kwargs: Any) -> AudioObservation:
        _, reward, terminated, truncated, info = self.env.step(action.text)
        self._state.step_count += 1
        return AudioObservation(
            task_id=info["task_id"], done=bool(terminated or truncated), reward=float(reward), info=_plain(info)
        )

    @property
    def state(self) -> State:
        return self._state

    def close(self) -> None:
        self.env.close()


def create_server_app(env_id: str, max_sessions: int = 64, **env_kwargs: Any) -> Any:
    """OpenEnv's FastAPI app serving `env_id`, one env per session (up to `max_sessions`)."""
    import gymnasium as gym

    import audiogym  # noqa: F401
    from audiogym.errors import ConfigError

    if env_id not in gym.registry:
        raise ConfigError(f"unknown environment {env_id!r}; run 'audiogym list' for the ids")
    AudiogymEnvironment(env_id, **env_kwargs).close()  # a bad env or its kwargs fail here, once, not per session
    from openenv.core.env_server.http_server import create_fastapi_app

    return create_fastapi_app(
        lambda: AudiogymEnvironment(env_id, **env_kwargs),
        AudioAction,
        AudioObservation,
        max_concurrent_envs=max_sessions,
    )


class AudiogymClient(EnvClient[AudioAction, AudioObservation, State]):
    """The client a user imports: async by default, `.sync()` for a blocking one (OpenEnv's)."""

    def _step_payload(self, action: AudioAction) -> dict[str, Any]:
        return {"text": action.text}

    def _parse_result(self, payload: dict[str, Any]) -> StepResult[AudioObservation]:
        obs = AudioObservation(**payload.get("observation", {}))
        return StepResult(observation=obs, reward=payload.get("reward"), done=bool(payload.get("done", False)))

    def _parse_state(self, payload: dict[str, Any]) -> State:
        return State(**payload)
