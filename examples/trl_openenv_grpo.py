"""GRPO in TRL against an audiogym environment served over OpenEnv (`audiogym serve`).

    audiogym serve --env audiogym/Mixed-v0 --port 8011 &
    python examples/trl_openenv_grpo.py --url http://127.0.0.1:8011 --max-steps 2 --out runs/openenv_grpo

The server owns the tasks and the reward: the prompts and clips come from its `reset`, each
completion is scored by its `step` (the env's reward modules), so a trainer anywhere on the
network trains on audiogym's environment without importing its tasks or rewards. Generation and
the policy-gradient passes are audiogym's `AudioGRPOTrainer` (TRL's GRPOTrainer with the audio in
every pass). TRL's `rollout_func` hook, which TRL's OpenEnv examples use for text environments,
is not used here: in TRL 1.16 its output carries no multimodal fields into the loss, so an audio
model would be trained on prompts whose audio placeholders see no clip.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np


def dataset_from_server(url: str, n: int, seed: int) -> Any:
    """n training rows from the server's resets: the prompt, the clip and the task seed that
    makes the same task again (the reward resets to it)."""
    import datasets

    from audiogym.serve import AudiogymClient, decode_clip

    task_seeds = np.random.default_rng(seed).integers(0, 2**31 - 1, size=n).tolist()
    rows: dict[str, list] = {"prompt": [], "audio": [], "task_id": [], "task_seed": []}
    with AudiogymClient(base_url=url).sync() as env:
        for ts in task_seeds:
            obs = env.reset(task_seed=int(ts)).observation
            audio, sr = decode_clip(obs.audio_wav_b64)
            from audiogym.data import encode_audio

            rows["prompt"].append([{"role": "user", "content": obs.prompt}])
            rows["audio"].append(encode_audio(audio, sr))
            rows["task_id"].append(obs.task_id)
            rows["task_seed"].append(int(ts))
    return datasets.Dataset.from_dict(rows)


def server_reward(url: str):
    """A TRL reward function that scores each completion with the server's env."""
    from audiogym.serve import AudioAction, AudiogymClient

    client = AudiogymClient(base_url=url).sync()
    client.connect()

    def openenv_reward(completions: list, task_seed: list[int], **_: Any) -> list[float]:
        rewards = []
        for completion, ts in zip(completions, task_seed):
            text = completion[-1]["content"] if isinstance(completion, list) else str(completion)
            client.reset(task_seed=int(ts))
            rewards.append(float(client.step(AudioAction(text=text)).reward or 0.0))
        return rewards

    return openenv_reward


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", default="http://127.0.0.1:8011")
    p.add_argument("--out", default="runs/openenv_grpo")
    p.add_argument("--rows", type=int, default=16)
    p.add_argument("--max-steps", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    from audiogym.policies.audio_lm import TinyModelConfig, build_tiny_model
    from audiogym.trainers.grpo import train_grpo
    from audiogym.trainers.job import TrainJob
    from audiogym.trainers.sections import GRPOSection

    out = Path(args.out)
    base = build_tiny_model(out / "base", TinyModelConfig(seed=args.seed))
    job = TrainJob(
        name="openenv_grpo", model_in=base, model_out=out / "model", work_dir=out, seed=args.seed, backend="hf"
    )
    section = GRPOSection(max_steps=args.max_steps, num_generations=4, batch=8, lr=5e-5, max_new_tokens=32)
    metrics = train_grpo(job, dataset_from_server(args.url, args.rows, args.seed), server_reward(args.url), section)
    print(f"{metrics['steps']} GRPO steps; reward per step: {metrics['curve'].get('reward')}")
    return metrics


if __name__ == "__main__":
    main()
