"""`audiogym export | serve`: audiogym's tasks for other engines (verl, NeMo-RL) and over OpenEnv."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from audiogym.errors import AudiogymError


def cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn

    from audiogym.serve import create_server_app

    if not 0 < args.port < 65536:
        raise AudiogymError(f"--port {args.port}: expected 1..65535")
    app = create_server_app(args.env, max_sessions=args.max_sessions)
    print(
        f"serving {args.env} over OpenEnv on http://{args.host}:{args.port} (ws /ws; Ctrl-C or SIGTERM stops)",
        flush=True,
    )
    import signal

    # uvicorn shuts down gracefully on SIGTERM, then raises the signal again for the handler it
    # found: this one makes that a clean exit (status 0) instead of death by signal.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning", ws_max_size=args.max_message_bytes)
    finally:
        print("server stopped", flush=True)


def cmd_export(args: argparse.Namespace) -> None:
    if min(args.n, args.n_test) < 1:
        raise AudiogymError(f"--n {args.n} --n-test {args.n_test}: expected positive numbers of rows")
    if (Path(args.out)).exists() and any(Path(args.out).iterdir()) and not args.force:
        raise AudiogymError(f"{args.out} is not empty; pass --force to write into it, or another --out")
    if args.format == "verl":
        from audiogym.integrations.verl import export_verl

        files = export_verl(args.env, args.n, args.n_test, args.seed, args.out)
    else:
        from audiogym.integrations.nemo_rl import export_nemo_rl

        files = export_nemo_rl(args.env, args.n, args.seed, args.out)
    print("wrote " + ", ".join(str(f) for f in files))


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="tasks as another engine's training data (verl parquet, NeMo-RL manifest)")
    p.add_argument("--format", choices=["verl", "nemo-rl"], required=True)
    p.add_argument("--env", default="audiogym/Mixed-v0", help="environment id")
    p.add_argument("--n", type=int, default=1000, help="training rows")
    p.add_argument("--n-test", type=int, default=200, help="test rows (verl's test.parquet)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs/export")
    p.add_argument("--force", action="store_true", help="write into a folder that is not empty")
    p.set_defaults(fn=cmd_export)
    p = sub.add_parser("serve", help="serve an environment over OpenEnv (HTTP + WebSocket sessions)")
    p.add_argument("--env", default="audiogym/Mixed-v0", help="environment id")
    p.add_argument("--host", default="127.0.0.1", help="the address to listen on (loopback unless you say otherwise)")
    p.add_argument("--port", type=int, default=8011)
    p.add_argument("--max-sessions", type=int, default=64, help="concurrent sessions (one env each)")
    p.add_argument("--max-message-bytes", type=int, default=1 << 20, help="larger WebSocket messages are refused")
    p.set_defaults(fn=cmd_serve)
