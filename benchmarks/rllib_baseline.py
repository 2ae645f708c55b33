"""How much of each family is solvable from measured acoustic features: RLlib PPO (new API stack)
on the featurized environments, beside random answers and a logistic-regression classifier on the
same features, per family.

Environment: `AudioFeatureObservation(ChoiceIndexAction(env, options=<the family's answers>),
normalize=True, action_mask=True)` over a seeded task pool (`task_pool`), so episodes reuse measured
tasks instead of synthesizing one per reset. One PPO per family (one-step episodes: a contextual
bandit), evaluated greedily on held-out tasks. A ceiling to set beside the audio LM.
Writes benchmarks/results/rllib_baseline.json and rllib_baseline.png.
    python benchmarks/rllib_baseline.py [--families Meter Timbre ...] [--iterations 12]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # Ray on loopback only, set before it loads

import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402

import audiogym  # noqa: E402, F401  (registers the environments)
from audiogym.envs.wrappers import AudioFeatureObservation, ChoiceIndexAction  # noqa: E402
from audiogym.recipe.config import DEFAULT_FAMILIES  # noqa: E402
from audiogym.tasks import FAMILIES  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
HELD_OUT_START = 1_000_000  # held-out task seeds start here; the training pool is 0..pool-1


def family_options(name: str) -> list[str]:
    """The family's answers in a fixed order (the canonical action space)."""
    seen: dict[str, None] = {}
    for s in range(400):
        for c in FAMILIES[name].make(s).choices:
            seen.setdefault(str(c))
        if len(seen) >= 8:
            break
    return sorted(seen)


class HeldOut(gym.Wrapper):
    """Episodes drawn from held-out task seeds (start, start + n)."""

    def __init__(self, env, start: int, n: int):
        super().__init__(env)
        self.start, self.n = start, n
        self.rng = np.random.default_rng(0)

    def reset(self, *, seed=None, options=None):
        if seed is not None:
            self.rng = np.random.default_rng(seed)
        return self.env.reset(seed=seed, options={"task_seed": self.start + int(self.rng.integers(self.n))})


def make_env(config: dict) -> gym.Env:
    base = gym.make(f"audiogym/{config['family']}-v0", task_pool=config["pool"])
    if config.get("held_out"):
        base = HeldOut(base, HELD_OUT_START, config["held_out"])
    return AudioFeatureObservation(ChoiceIndexAction(base, options=config["options"]), normalize=True, action_mask=True)


def features(family: str, options: list[str], seeds) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[int]]:
    """(features, masks, canonical answer index, number of choices) of the given task seeds."""
    env = make_env({"family": family, "pool": None, "options": options})
    X, M, y, n = [], [], [], []
    for s in seeds:
        obs, _ = env.reset(options={"task_seed": int(s)})
        task = env.unwrapped.task
        X.append(obs["features"])
        M.append(obs["action_mask"])
        y.append(options.index(str(task.answer)))
        n.append(len(task.choices))
    return np.array(X), np.array(M), np.array(y), n


def classifier_accuracy(train, test) -> float:
    from sklearn.linear_model import LogisticRegression

    X, _, y, _ = train
    Xt, Mt, yt, _ = test
    clf = LogisticRegression(max_iter=2000).fit(X, y)
    proba = np.full((len(Xt), Mt.shape[1]), -np.inf)
    proba[:, clf.classes_] = clf.predict_log_proba(Xt)
    proba[Mt == 0] = -np.inf  # only the task's own choices
    return float(np.mean(proba.argmax(1) == yt))


def train_ppo(family: str, options: list[str], pool: int, held_out: int, iterations: int) -> dict:
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.connectors.env_to_module import FlattenObservations
    from ray.tune.registry import register_env

    register_env("audiogym_features", make_env)
    cfg = (
        PPOConfig()
        .environment("audiogym_features", env_config={"family": family, "pool": pool, "options": options})
        .env_runners(num_env_runners=0, env_to_module_connector=lambda *a, **k: FlattenObservations())
        .training(
            lr=1e-3, train_batch_size_per_learner=512, minibatch_size=128, num_epochs=6, gamma=0.0, entropy_coeff=0.01
        )
        .rl_module(model_config={"fcnet_hiddens": [64, 64]})
        .evaluation(
            evaluation_interval=None,
            evaluation_duration=held_out,
            evaluation_duration_unit="episodes",
            evaluation_num_env_runners=0,
            evaluation_config={
                "env_config": {"family": family, "pool": None, "options": options, "held_out": held_out},
                "explore": False,
            },
        )
        .debugging(seed=0)
    )
    algo = cfg.build_algo()
    curve = []
    for _ in range(iterations):
        r = algo.train()
        curve.append(float(r["env_runners"].get("episode_return_mean", float("nan"))))
    ev = algo.evaluate()
    acc = float(ev["env_runners"]["episode_return_mean"])
    algo.stop()
    return {"curve": curve, "ppo_accuracy": acc}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--families", nargs="+", default=DEFAULT_FAMILIES)
    ap.add_argument("--pool", type=int, default=300, help="training tasks per family")
    ap.add_argument("--held-out", type=int, default=150, help="held-out tasks per family")
    ap.add_argument("--iterations", type=int, default=12)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "rllib_baseline.json"))
    args = ap.parse_args()
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    t0 = time.perf_counter()
    results = {}
    print(f"{'family':<16} {'random':>7} {'logreg':>7} {'PPO':>7} {'steps/s':>8}")
    for fam in args.families:
        start = time.perf_counter()
        options = family_options(fam)
        train = features(fam, options, range(args.pool))
        test = features(fam, options, range(HELD_OUT_START, HELD_OUT_START + args.held_out))
        warm = time.perf_counter() - start
        ppo_start = time.perf_counter()
        ppo = train_ppo(fam, options, args.pool, args.held_out, args.iterations)
        steps = args.iterations * 512 / (time.perf_counter() - ppo_start)
        results[fam] = {
            "options": options,
            "random_accuracy": float(np.mean([1 / n for n in test[3]])),
            "classifier_accuracy": classifier_accuracy(train, test),
            **ppo,
            "env_steps_per_s": steps,
            "feature_seconds": warm,
        }
        r = results[fam]
        print(
            f"{fam:<16} {r['random_accuracy']:>7.3f} {r['classifier_accuracy']:>7.3f} {r['ppo_accuracy']:>7.3f} {steps:>8.0f}"
        )
    seconds = time.perf_counter() - t0
    ray.shutdown()
    out = {
        "families": results,
        "seconds": seconds,
        "iterations": args.iterations,
        "pool": args.pool,
        "held_out": args.held_out,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2))
    plot(results, Path(args.out).with_suffix(".png"))
    print(f"{seconds / 60:.1f} min; wrote {args.out} and {Path(args.out).with_suffix('.png')}")


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5))
    for _i, (fam, r) in enumerate(results.items()):
        (line,) = ax.plot(range(1, len(r["curve"]) + 1), r["curve"], marker="o", ms=3, label=fam)
        ax.axhline(r["random_accuracy"], color=line.get_color(), ls=":", lw=1)
    ax.set_xlabel("PPO iteration (512 env steps each)")
    ax.set_ylabel("training accuracy (episode return)")
    ax.set_ylim(0, 1.02)
    ax.set_title("PPO on measured features, per family (dotted: random)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


if __name__ == "__main__":
    main()
