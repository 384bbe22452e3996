"""Fetch a run's big File output to local disk, side by side with flyte 2.12.1.

    uv run --all-packages python -m tools.bench.bench_download [--mib 256] [--rounds 5]

One embedded server; a run of ``same(f: File) -> File`` whose output is a ``--mib`` MiB file in
the server's blob folder. Each round, interleaved (which SDK goes first alternates), one fresh
process per SDK fetches that output into an empty folder:

- ours: ``flyte get io RUN -o --download DIR --no-progress`` (the whole command);
- flyte 2.12.1: ``flyte.init(...)``, ``Run.get(RUN).outputs()[0].download_sync(PATH)`` in a
  script (its CLI has no download command; this is its documented way).

Reported per SDK: the process's wall time and its peak RSS (``ru_maxrss`` of that process, from ``wait4``), medians
over the rounds, and the ratio ours / 2.12.1. The bytes are checked against the original.
Rows go to ``tools/bench/results/<UTC time>-download/bench_download.jsonl``.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import shutil
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

from flyte.server.testing import running_server
from tools.bench._rounds import interleaved_rounds, python_of

TASKS = textwrap.dedent(
    """
    from flyte.io import File
    from flyte.runtime import TaskEnvironment

    env = TaskEnvironment("benchdl")

    @env.task
    async def same(f: File) -> File:
        return f
    """
)

PUBLIC_FETCH = textwrap.dedent(
    """
    import sys

    import flyte
    import flyte.io
    import flyte.remote

    flyte.init(endpoint=sys.argv[1], insecure=True, project="flytesnacks", domain="development")
    flyte.remote.Run.get(sys.argv[2]).outputs()[0].download_sync(sys.argv[3])
    """
)


def _timed(command: list[str], log: Path) -> tuple[float, float]:
    """Run ``command`` to completion; its wall time (s) and its own peak RSS (MiB, from wait4)."""
    with log.open("w") as out:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"{command[:3]} failed ({process.returncode}): {log.read_text()[-3000:]}")
    return wall, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mib", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    sdks = ["ours", "public"]
    work = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-download-{os.getpid()}"
    work.mkdir()
    try:
        project = work / "project"
        project.mkdir()
        (project / "benchdl.py").write_text(TASKS)
        big = work / "big.bin"
        with big.open("wb") as f:
            for _ in range(args.mib):
                f.write(os.urandom(1 << 20))
        with running_server(work / "data") as server:
            # "localhost": one label, so both SDKs use the empty org (from an IP address flyte
            # 2.12.1 would take the org "127", and not find runs made by ours).
            endpoint = server.address.replace("127.0.0.1", "localhost")
            flyte = [str(Path(sys.executable).parent / "flyte"), "--endpoint", endpoint, "--insecure"]
            made = subprocess.run(
                [*flyte, "run", "--no-progress", str(project / "benchdl.py"), "same", "--f", str(big)],
                capture_output=True,
                text=True,
                check=True,
                cwd=project,
            )
            run = made.stdout.split()[1]

            def one_round(sdk: str, tmp: Path, round_no: int) -> list[dict[str, Any]]:
                dest = tmp / f"{sdk}-{round_no}"
                if sdk == "ours":
                    command = [*flyte, "get", "io", run, "-o", "--download", str(dest), "--no-progress"]
                    wall, rss = _timed(command, tmp / "log.txt")
                    got = dest / "outputs" / "o0.bin"
                else:
                    dest.mkdir()
                    got = dest / "big.bin"
                    command = [str(python_of(sdk)), "-c", PUBLIC_FETCH, endpoint, run, str(got)]
                    wall, rss = _timed(command, tmp / "log.txt")
                if not filecmp.cmp(got, big, shallow=False):
                    raise RuntimeError(f"{sdk}: {got} differs from the original")
                shutil.rmtree(dest)
                return [{"sdk": sdk, "round": round_no, "mib": args.mib, "seconds": wall, "peak_rss_mib": rss}]

            rows, raw = interleaved_rounds("download", sdks, args.rounds, one_round)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    med = {
        sdk: (
            statistics.median(r["seconds"] for r in rows if r["sdk"] == sdk),
            statistics.median(r["peak_rss_mib"] for r in rows if r["sdk"] == sdk),
        )
        for sdk in sdks
    }
    print(f"| fetch a {args.mib} MiB File output | wall s | peak RSS MiB |")
    print("|---|---:|---:|")
    print(f"| ours (`flyte get io --download`) | {med['ours'][0]:.2f} | {med['ours'][1]:.0f} |")
    print(f"| flyte 2.12.1 (`File.download_sync`) | {med['public'][0]:.2f} | {med['public'][1]:.0f} |")
    print(f"| ours / 2.12.1 | {med['ours'][0] / med['public'][0]:.2f} | {med['ours'][1] / med['public'][1]:.2f} |")
    print(f"raw: {raw}")


if __name__ == "__main__":
    main()
