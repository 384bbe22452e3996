"""``python -m flyte.server [--host H] [--port P] [--data-dir D] [--max-concurrency N]``."""

from __future__ import annotations

import argparse
import logging
import os

from flyte.server._config import DEFAULT_HOST, DEFAULT_PORT, default_data_dir
from flyte.server._server import serve


def main(argv: list[str] | None = None) -> None:
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
    parser.add_argument("--executor", default=None, help="how actions are started: warm (default), process or docker")
    args = parser.parse_args(argv)
    settings = {
        name: value
        for name in ("max_concurrency", "max_message_bytes", "max_upload_bytes", "executor")
        if (value := getattr(args, name)) is not None
    }
    logging.basicConfig(
        level=os.environ.get("FLYTE_SERVER_LOG_LEVEL", "INFO"), format="%(levelname)s %(name)s: %(message)s"
    )
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
