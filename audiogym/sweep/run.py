"""`audiogym sweep`: recipe variants over seeds on Ray Tune, each trial an ordinary recipe run.

    runs/<sweep>/<trial>/      one recipe run per trial (its table.json, stages, eval)
    runs/<sweep>/_prefix/seedN the shared first stages of seed N (`share_prefix`), run once
    runs/<sweep>/tune/         Ray Tune's experiment state (what --resume restores)
    runs/<sweep>/results.md, results.json, results.png

Each trial reports after every stage (its table row), so an ASHA scheduler can stop weak trials
early. `--resume` restores the experiment: finished trials are not run again and unfinished ones
continue from their last finished stage (the recipe's own resume). Ray runs in single-node mode with
every listener on 127.0.0.1 unless `--address` / `RAY_ADDRESS` names a cluster.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from audiogym.errors import ConfigError
from audiogym.io import atomic_write_json
from audiogym.sweep.config import TRIAL_FILE, SweepConfig, load_sweep, objective, trial_name

# Ray reads this when it is imported: single-node mode, every listener on 127.0.0.1 (without it the
# runtime-env agent listens on the host's external address). Set before anything imports ray.
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")


def _nested(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, v in values.items():
        node = out
        parts = key.split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = v
    return out


def trial_config(sweep: SweepConfig, values: dict[str, Any], seed: int, run_dir: Path, name: str):
    """The recipe config of one trial: base, fixed overrides, swept values, seed, folder."""
    from audiogym.recipe.config import load_config
    from audiogym.recipe.config_io import apply_mapping

    cfg = load_config(sweep.base_path, sweep.set)
    apply_mapping(cfg, _nested(values), "")
    cfg.recipe.seed, cfg.recipe.name, cfg.recipe.run_dir = int(seed), name, str(run_dir)
    return cfg.validate()


def _shared_prefix(sweep: SweepConfig, sweep_dir: Path, cfg: Any, folder: Path) -> None:
    """Run (once per seed, under a file lock) the first stages every trial of this seed shares, and
    copy them into the trial's folder."""
    from audiogym.recipe.runner import Recipe

    prefix = sweep_dir / "_prefix" / f"seed{cfg.recipe.seed}"
    prefix.parent.mkdir(parents=True, exist_ok=True)
    with open(prefix.parent / f"seed{cfg.recipe.seed}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one trial builds it; the others wait, then copy
        marker = prefix / "prefix_done.json"
        if not marker.exists():
            import copy

            pcfg = copy.deepcopy(cfg)
            pcfg.recipe.name, pcfg.recipe.run_dir = prefix.name, str(prefix.parent)
            Recipe(pcfg, resume=True, report_to="none").run(progress=lambda _: None, stop_after=sweep.share_prefix)
            atomic_write_json(marker, {"stop_after": sweep.share_prefix})
    from audiogym.recipe.stages import cold_start_names

    names = cold_start_names()
    stages = names[: names.index(str(sweep.share_prefix)) + 1]
    folder.mkdir(parents=True, exist_ok=True)
    for name in stages:
        if not (folder / name / "metrics.json").exists():
            shutil.copytree(prefix / name, folder / name, dirs_exist_ok=True)
    if not (folder / "baselines.json").exists():
        shutil.copy2(prefix / "baselines.json", folder / "baselines.json")


def run_trial(config: dict[str, Any]) -> None:
    """Ray Tune's trainable: one recipe run, reporting its table row after each stage."""
    from ray import tune

    from audiogym.recipe.runner import Recipe

    sweep = load_sweep(config["__sweep_file"])
    keys: dict[str, str] = config["__keys"]
    values = {key: config[alias] for alias, key in keys.items()}
    seed = int(config["__seed"])
    sweep_dir = Path(config["__sweep_dir"])
    name = trial_name(values, seed)
    cfg = trial_config(sweep, values, seed, sweep_dir, name)
    folder = cfg.recipe.folder
    if (folder / "table.json").exists():  # finished before a kill Tune did not hear of: nothing to run again
        value = objective(sweep, json.loads((folder / "table.json").read_text()))
        tune.report({"stage_index": 0, "objective": value if value is not None else float("nan"), "done": 1})
        return
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, int(sweep.resources.get("cpu", 1)))))
    import torch

    torch.set_num_threads(max(1, int(sweep.resources.get("cpu", 1))))
    if sweep.share_prefix:
        _shared_prefix(sweep, sweep_dir, cfg, folder)
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_json(folder / TRIAL_FILE, {"name": name, "values": values, "seed": seed})
    column = sweep.metric.get("column", "accuracy_conflict")
    index = {"i": 0}

    def on_stage(stage: str, row: dict[str, Any]) -> None:
        index["i"] += 1
        numbers = {k: v for k, v in row.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
        tune.report({"stage_index": index["i"], f"running_{column}": row.get(column) or 0.0, **numbers})

    Recipe(cfg, resume=True, report_to="none").run(progress=lambda _: None, on_stage=on_stage)
    table = json.loads((folder / "table.json").read_text())
    value = objective(sweep, table)
    tune.report({"stage_index": index["i"] + 1, "objective": value if value is not None else float("nan"), "done": 1})


def _search_space(sweep: SweepConfig) -> tuple[dict[str, Any], dict[str, str]]:
    from ray import tune

    kinds = {
        "grid": tune.grid_search,
        "choice": tune.choice,
        "uniform": lambda v: tune.uniform(*v),
        "loguniform": lambda v: tune.loguniform(*v),
    }
    space: dict[str, Any] = {}
    keys: dict[str, str] = {}
    for i, (key, dim) in enumerate(sweep.space.items()):
        kind, vals = next(iter(dim.items()))
        keys[f"p{i}"] = key
        space[f"p{i}"] = kinds[kind](vals)
    space["__seed"] = tune.grid_search(list(sweep.seeds))
    space["__keys"] = keys
    return space, keys


def _ray_init(address: str | None, sweep_dir: Path, cpus: int | None) -> None:
    import ray

    if ray.is_initialized():
        return
    address = address or os.environ.get("RAY_ADDRESS")
    if address:
        ray.init(address=address, log_to_driver=False)
        return
    # Ray reads RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER once, when it is first imported; if another library
    # imported ray before this module set it (CI's pytest worker did), the local node would listen on
    # the host's external address. The constant is read at start-up, so setting it here always holds.
    from ray._private import ray_constants

    ray_constants.ENABLE_RAY_CLUSTER = False
    # Ray's sockets live under its temp dir: AF_UNIX paths must stay short, so not inside runs/.
    tmp = Path(tempfile.gettempdir()) / f"ag-ray-{hashlib.sha1(str(sweep_dir.resolve()).encode()).hexdigest()[:8]}"
    ray.init(
        num_cpus=cpus or os.cpu_count(),
        include_dashboard=False,
        _temp_dir=str(tmp),
        log_to_driver=False,
        _node_ip_address="127.0.0.1",
    )


def shutdown_ray() -> None:
    import ray

    ray.shutdown()


def run_sweep(
    path: str | Path, resume: bool = False, address: str | None = None, run_dir: str = "runs", cpus: int | None = None
) -> dict[str, Any]:
    """Run (or resume) a sweep; write results.md/json/png; return the results."""
    sweep = load_sweep(path)
    sweep_dir = Path(run_dir) / sweep.name
    if (sweep_dir / "tune").exists() and not resume:
        raise ConfigError(f"{sweep_dir} already holds this sweep; pass --resume to continue it, or rename it")
    if sweep.report_to == "wandb":
        os.environ.setdefault("WANDB_MODE", "offline")  # before ray.init: the callback reads only the variable
        os.environ.setdefault("WANDB_DIR", str(sweep_dir.resolve()))
        os.environ.setdefault("WANDB_SILENT", "true")
    sweep_dir.mkdir(parents=True, exist_ok=True)
    trial_config(sweep, {k: _first(d) for k, d in sweep.space.items()}, sweep.seeds[0], sweep_dir, "check")  # fail fast
    started = time.time()
    _ray_init(address, sweep_dir, cpus)
    from ray import tune

    space, _ = _search_space(sweep)
    space.update({"__sweep_file": str(Path(path).resolve()), "__sweep_dir": str(sweep_dir.resolve())})
    trainable = tune.with_resources(
        run_trial, {"cpu": sweep.resources.get("cpu", 1), "gpu": sweep.resources.get("gpu", 0)}
    )
    callbacks: list[Any] = []
    if sweep.report_to == "wandb":
        from ray.air.integrations.wandb import WandbLoggerCallback

        callbacks.append(
            WandbLoggerCallback(
                project=os.environ.get("WANDB_PROJECT", "audiogym"),
                group=sweep.name,
                mode=os.environ.get("WANDB_MODE", "offline"),
                dir=str(sweep_dir.resolve()),
                excludes=["__keys", "__sweep_file", "__sweep_dir"],
            )
        )
    scheduler = None
    if sweep.scheduler:
        from ray.tune.schedulers import ASHAScheduler

        column = sweep.metric.get("column", "accuracy_conflict")
        scheduler = ASHAScheduler(
            metric=f"running_{column}",
            mode=sweep.mode,
            time_attr="stage_index",
            grace_period=int(sweep.scheduler["asha"].get("grace_period", 3)),
        )
    storage = str((sweep_dir / "tune").resolve().parent)
    exp = Path(storage) / "tune"
    if resume and tune.Tuner.can_restore(str(exp)):
        tuner = tune.Tuner.restore(str(exp), trainable=trainable, resume_unfinished=True, resume_errored=True)
    else:
        tuner = tune.Tuner(
            trainable,
            param_space=space,
            tune_config=tune.TuneConfig(
                max_concurrent_trials=sweep.max_concurrent, num_samples=sweep.samples, scheduler=scheduler
            ),
            run_config=tune.RunConfig(name="tune", storage_path=storage, callbacks=callbacks, verbose=0),
        )
    tuner.fit()
    from audiogym.sweep.report import write_results

    return write_results(sweep, sweep_dir, time.time() - started)


def _first(dim: dict[str, list]) -> Any:
    kind, vals = next(iter(dim.items()))
    return vals[0] if kind in ("grid", "choice") else (vals[0] + vals[1]) / 2
