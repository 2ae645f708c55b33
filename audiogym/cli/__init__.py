"""The `audiogym` command: list, show, demo, gallery, eval, select, export, serve, train, sweep, compare.

Each group of commands is a module of this package with its handlers and an `add_commands(sub)`
that declares them. Errors a user can cause print one line and exit with status 2; no traceback.
"""

from __future__ import annotations

import argparse
import errno
import sys

from audiogym.cli import engines, evaluate, recipe, tasks
from audiogym.errors import AudiogymError

# OS errors a user's machine causes (not audiogym's bugs): one line, exit 2.
USER_OS_ERRORS = {errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EDQUOT, errno.EPERM}


def main(argv: list[str] | None = None) -> int:
    import audiogym

    parser = argparse.ArgumentParser(prog="audiogym", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"audiogym {audiogym.__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for group in (tasks, evaluate, engines, recipe):
        group.add_commands(sub)
    args = parser.parse_args(argv)
    try:
        status = args.fn(args)  # a handler may return an exit status (diverge: 1 when the runs differ)
    except AudiogymError as e:
        print(f"audiogym: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        if e.errno not in USER_OS_ERRORS:
            raise
        # a full disk, a read-only folder: what was finished stays, and --resume continues from it
        print(
            f"audiogym: error: cannot write {e.filename or ''}: {e.strerror}".replace("write : ", "write: "),
            file=sys.stderr,
        )
        return 2
    return status if isinstance(status, int) else 0
