"""`audiogym serve`: an audiogym env over OpenEnv, tested for real over HTTP/WebSocket on loopback."""

import json
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import psutil
import pytest

from audiogym.serve import AudioAction, AudiogymClient, decode_clip

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(env: str = "audiogym/Tempo-v0", *extra: str) -> tuple[subprocess.Popen, str]:
    """The server in a subprocess; its output goes to a file (a pipe nobody reads would fill up
    and stall it)."""
    import tempfile

    port = free_port()
    log = tempfile.NamedTemporaryFile("w+", prefix="audiogym-serve-", suffix=".log", delete=False)  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "audiogym.cli", "serve", "--env", env, "--port", str(port), *extra],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(Path(log.name).read_text()) from None
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("server did not start")


@pytest.fixture(scope="module")
def server():
    proc, url = start_server()
    yield proc, url
    if proc.poll() is None:
        proc.kill()


def client(url: str):
    env = AudiogymClient(base_url=url).sync()
    env.connect()
    return env


def test_the_server_listens_on_loopback_only(server):
    proc, _ = server
    conns = [
        c
        for p in [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
        for c in p.net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN
    ]
    assert conns and all(c.laddr.ip == "127.0.0.1" for c in conns), conns


def test_episodes_are_reproducible_by_seed_and_carry_clip_and_reward(server):
    _, url = server
    a, b = client(url), client(url)
    first, again = a.reset(seed=5).observation, b.reset(seed=5).observation
    assert first.task_id == again.task_id and first.audio_wav_b64 == again.audio_wav_b64
    audio, sr = decode_clip(first.audio_wav_b64)
    assert sr == 16000 and audio.ndim == 1 and np.abs(audio).max() > 0.01
    assert first.question and len(first.choices) >= 2 and first.prompt

    r1, r2 = (
        a.step(AudioAction(text="The answer is " + first.choices[0])),
        b.step(AudioAction(text="The answer is " + first.choices[0])),
    )
    assert r1.done and r1.reward == r2.reward and r1.observation.info["task_id"] == first.task_id
    assert "correct" in r1.observation.info
    assert a.reset(task_seed=77).observation.task_id == b.reset(task_seed=77).observation.task_id
    a.close(), b.close()


def test_bad_actions_and_seeds_are_clear_errors_and_the_session_keeps_serving(server):
    _, url = server
    env = client(url)
    for call, message in [
        (lambda: env.step(AudioAction(text="x")), "before calling env.reset"),
        (lambda: env.reset(seed=-1), "greater or equal to zero"),
        (lambda: env.reset(task_seed="abc"), "task_seed must be an integer"),
    ]:
        with pytest.raises(RuntimeError, match=message):
            call()
    env.reset(seed=1)
    env.step(AudioAction(text="x"))
    with pytest.raises(RuntimeError, match="episode is over"):
        env.step(AudioAction(text="y"))
    assert env.reset(seed=2).observation.task_id  # still serving this session
    env.close()


def test_an_oversize_message_is_refused_and_others_are_still_served(server):
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    _, url = server
    with connect(url.replace("http", "ws") + "/ws", max_size=None) as ws:
        ws.send(json.dumps({"type": "reset", "data": {"seed": 1}}))
        ws.recv(timeout=30)
        with pytest.raises(ConnectionClosed) as closed:
            ws.send(json.dumps({"type": "step", "data": {"text": "a" * 2_000_000}}))
            ws.recv(timeout=30)
        assert closed.value.rcvd is None or closed.value.rcvd.code == 1009  # message too big
    assert client(url).reset(seed=3).observation.task_id


def test_concurrent_clients_complete_every_episode(server):
    _, url = server
    errors, done = [], []

    def run(k: int) -> None:
        try:
            env = client(url)
            for i in range(10):
                obs = env.reset(seed=1000 * k + i).observation
                r = env.step(AudioAction(text="The answer is " + obs.choices[i % len(obs.choices)]))
                assert r.done and r.reward is not None
                done.append(1)
            env.close()
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=run, args=(k,)) for k in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors and len(done) == 160, errors[:3]


def test_sigterm_stops_the_server_cleanly():
    proc, url = start_server()
    client(url).reset(seed=1)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=1).close()


def test_an_unknown_env_or_port_is_one_line_and_exit_2():
    for argv in (["serve", "--env", "audiogym/Nope-v0"], ["serve", "--port", "70000"]):
        r = subprocess.run(
            [sys.executable, "-m", "audiogym.cli", *argv], cwd=ROOT, capture_output=True, text=True, timeout=120
        )
        assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr


@pytest.mark.slow
def test_the_trl_example_runs_two_grpo_steps_against_the_server(server, tmp_path):
    sys.path.insert(0, str(ROOT / "examples"))
    import trl_openenv_grpo as example

    _, url = server
    metrics = example.main(["--url", url, "--out", str(tmp_path), "--max-steps", "2", "--rows", "8"])
    assert metrics["steps"] == 2 and len(metrics["curve"]["reward"]) == 2
    # the reward is the server's: a right answer scores what the env pays for it
    ds = example.dataset_from_server(url, 2, seed=9)
    env = client(url)
    obs = env.reset(task_seed=ds[0]["task_seed"]).observation
    answer = obs.choices[0]
    expected = env.step(AudioAction(text=f"The answer is {answer}.")).reward
    reward = example.server_reward(url)(
        [[{"role": "assistant", "content": f"The answer is {answer}."}]], [ds[0]["task_seed"]]
    )
    assert reward == [expected]
