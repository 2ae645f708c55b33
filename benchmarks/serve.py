"""`audiogym serve` under load, beside in-process stepping measured in the same run.

C clients (16) each run E episodes (100) over OpenEnv WebSocket sessions against a server on
127.0.0.1 (a subprocess): reset(seed) + step(answer) per episode. Reports episodes per second,
p50 and p99 of an episode's round trip (reset + step), errors, and the ratio of served to
in-process episodes per second (the same env, reset + step, in this process, one at a time).

Writes benchmarks/results/serve.json.
    python benchmarks/serve.py [--clients 16] [--episodes 100] [--env audiogym/Tempo-v0]
"""

from __future__ import annotations

import argparse
import json
import platform
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def start(env: str) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)  # noqa: SIM115 - the server writes to it while it runs
    proc = subprocess.Popen(
        [sys.executable, "-m", "audiogym.cli", "serve", "--env", env, "--port", str(port)],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit(f"the server did not start: {Path(log.name).read_text()[-2000:]}")


def in_process(env_id: str, episodes: int) -> float:
    import gymnasium as gym

    import audiogym  # noqa: F401

    env = gym.make(env_id)
    t = time.perf_counter()
    for i in range(episodes):
        obs, _ = env.reset(seed=i)
        env.step(f"The answer is {obs['choices'][i % len(obs['choices'])]}")
    return episodes / (time.perf_counter() - t)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--episodes", type=int, default=100)
    p.add_argument("--env", default="audiogym/Tempo-v0")
    args = p.parse_args()
    from audiogym.serve import AudioAction, AudiogymClient

    proc, url = start(args.env)
    latencies: list[float] = []
    errors: list[str] = []

    def run(k: int) -> None:
        try:
            env = AudiogymClient(base_url=url).sync()
            env.connect()
            for i in range(args.episodes):
                t = time.perf_counter()
                obs = env.reset(seed=100_000 * k + i).observation
                env.step(AudioAction(text=f"The answer is {obs.choices[i % len(obs.choices)]}"))
                latencies.append(time.perf_counter() - t)
            env.close()
        except Exception as e:  # noqa: BLE001 - counted and reported
            errors.append(repr(e)[:300])

    try:
        threads = [threading.Thread(target=run, args=(k,)) for k in range(args.clients)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    served = len(latencies) / wall
    local = in_process(args.env, max(50, args.episodes))
    result = {
        "env": args.env,
        "clients": args.clients,
        "episodes_per_client": args.episodes,
        "episodes": len(latencies),
        "errors": len(errors),
        "first_errors": errors[:3],
        "episodes_per_s": served,
        "p50_ms": 1000 * float(np.percentile(latencies, 50)) if latencies else None,
        "p99_ms": 1000 * float(np.percentile(latencies, 99)) if latencies else None,
        "in_process_episodes_per_s": local,
        "served_to_in_process_ratio": served / local,
        "machine": {"python": platform.python_version(), "cpus": __import__("os").cpu_count()},
        "server_exit_code_after_sigterm": proc.returncode,
    }
    out = ROOT / "benchmarks" / "results" / "serve.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(
        f"{args.clients} clients x {args.episodes} episodes: {served:.1f} episodes/s served "
        f"(p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, {len(errors)} errors); in-process "
        f"{local:.1f} episodes/s; ratio {result['served_to_in_process_ratio']:.2f}. Wrote {out}"
    )


if __name__ == "__main__":
    main()
