"""``python -m flyte.server [--host H] [--port P] [--data-dir D] [--max-concurrency N] ...``.

Bad settings, a taken port or an unusable data dir end with one line naming the cause and exit
code 2 (settings) or 1 (start-up); ``FLYTE_SERVER_LOG_LEVEL=DEBUG`` shows the traceback too.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from flyte.server._config import DEFAULT_HOST, DEFAULT_PORT, ServerConfig, default_data_dir
from flyte.server._launchers import EXECUTORS
from flyte.server._server import ServerStartError, serve

_SETTINGS = ("max_concurrency", "max_message_bytes", "max_upload_bytes", "executor", "a0_command", "kill_grace_seconds")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m flyte.server", description="Run the embedded Flyte 2 backend.")
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"address to bind (default {DEFAULT_HOST})")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"TCP port, 0 for any (default {DEFAULT_PORT})")
    parser.add_argument("--data-dir", default=None, help=f"metadata, blobs and logs (default {default_data_dir()})")
    parser.add_argument(
        "--max-concurrency",
        type=int,
        default=None,
        help="actions run at once (default: 4 per CPU for warm, 1 per CPU otherwise)",
    )
    parser.add_argument("--max-message-bytes", type=int, default=None, help="largest RPC request accepted")
    parser.add_argument("--max-upload-bytes", type=int, default=None, help="largest upload a signed URL accepts")
    parser.add_argument("--executor", choices=EXECUTORS, default=None, help="how actions are started (default: warm)")
    parser.add_argument(
        "--a0-command", default=None, help="the program that runs an action (default: the a0 beside this Python)"
    )
    parser.add_argument(
        "--kill-grace-seconds", type=float, default=None, help="time an aborted action gets between SIGTERM and SIGKILL"
    )
    return parser


def main(argv: list[str] | None = None) -> None:
    parser = _parser()
    args = parser.parse_args(argv)
    settings = {name: value for name in _SETTINGS if (value := getattr(args, name)) is not None}
    try:  # every setting checked before anything is created or bound
        ServerConfig(
            host=args.host, port=args.port, **({"data_dir": args.data_dir} if args.data_dir else {}), **settings
        )
    except ValueError as e:
        parser.error(str(e))
    level = os.environ.get("FLYTE_SERVER_LOG_LEVEL", "INFO")
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        _serve(args, settings)
    except ServerStartError as e:
        if level.upper() == "DEBUG":
            raise
        print(f"flyte-server: error: {e}", file=sys.stderr)
        sys.exit(1)


def _serve(args: argparse.Namespace, settings: dict[str, object]) -> None:
    profile = os.environ.get("FLYTE_SERVER_PROFILE")  # a path: write the server's cProfile there on exit
    if not profile:
        serve(args.host, args.port, args.data_dir, **settings)
        return
    import cProfile

    profiler = cProfile.Profile()
    profiler.enable()
    try:
        serve(args.host, args.port, args.data_dir, **settings)
    finally:
        profiler.disable()
        profiler.dump_stats(profile)


if __name__ == "__main__":
    main()
