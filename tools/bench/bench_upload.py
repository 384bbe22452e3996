"""Upload one big file to the embedded server: the streaming ``flyte.remote._data`` of this tree vs
the one of a baseline commit (default: the last one that read the whole file into memory).

    uv run --all-packages python -m tools.bench.bench_upload [--mib 256] [--rounds 5] [--baseline REV]

Each (implementation, round) is a fresh process, interleaved: the wall time of ``upload_file_in``
(MD5 + CreateUploadLocation + PUT; the channel is connected before timing) and the growth of the
process's peak RSS. flyte 2.12.1 uploads only to its hosted backend's signed URLs, so there is no
side-by-side run with it here. Prints one JSON line and appends it to
``tools/bench/results/<UTC time>-upload/upload.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from flyte.server.testing import running_server

# The last commit whose upload_file_in read the whole file (path.read_bytes()) before the PUT.
BASELINE = "d9bc312b259086eee88d2ba40fce7a8d070d5914"
DATA_PY = "packages/flyte-remote/src/flyte/remote/_data.py"

_ONE = r"""
import asyncio, importlib.util, resource, sys, time
from pathlib import Path
import flyte.remote
from flyte.remote import current_session
flyte.remote.configure(sys.argv[1], insecure=True, project="flytesnacks", domain="development")
if sys.argv[3] == "baseline":
    spec = importlib.util.spec_from_file_location("baseline_data", sys.argv[4])
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
else:
    from flyte.remote import _data as mod
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
async def go():
    await mod.check_reachable(current_session())
    started = time.perf_counter()
    await mod.upload_file_in(current_session(), Path(sys.argv[2]))
    return time.perf_counter() - started
elapsed = asyncio.run(go())
print(elapsed, (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mib", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--baseline", default=BASELINE)
    args = parser.parse_args()

    results: dict[str, object] = {
        "bench": "upload_file",
        "time_utc": time.strftime("%Y%m%d-%H%M%S", time.gmtime()),
        "size_mib": args.mib,
        "rounds": args.rounds,
        "baseline_rev": args.baseline,
        "loadavg_start": list(os.getloadavg()),
    }
    root = Path(tempfile.mkdtemp())
    try:
        with running_server(root / "data") as server:
            endpoint = server.address
            big = root / "big.bin"
            with big.open("wb") as f:
                for _ in range(args.mib):
                    f.write(os.urandom(1 << 20))
            baseline = root / "baseline_data.py"
            baseline.write_text(
                subprocess.run(
                    ["git", "show", f"{args.baseline}:{DATA_PY}"], capture_output=True, text=True, check=True
                ).stdout
            )
            samples: dict[str, tuple[list[float], list[float]]] = {"baseline": ([], []), "streaming": ([], [])}
            for _ in range(args.rounds):
                for impl, (wall, rss) in samples.items():  # interleaved
                    out = subprocess.run(
                        [sys.executable, "-c", _ONE, endpoint, str(big), impl, str(baseline)],
                        capture_output=True,
                        text=True,
                        check=True,
                    ).stdout.split()
                    wall.append(float(out[0]))
                    rss.append(float(out[1]))
        for impl, (wall, rss) in samples.items():
            results[impl] = {
                "wall_median_s": round(statistics.median(wall), 3),
                "wall_min_s": round(min(wall), 3),
                "peak_rss_growth_median_mib": round(statistics.median(rss), 1),
            }
    finally:
        shutil.rmtree(root, ignore_errors=True)
    results["loadavg_end"] = list(os.getloadavg())
    line = json.dumps(results)
    print(line)
    out_file = Path(__file__).parent / "results" / f"{results['time_utc']}-upload" / "upload.jsonl"
    out_file.parent.mkdir(parents=True, exist_ok=True)
    with out_file.open("a") as f:
        f.write(line + "\n")


if __name__ == "__main__":
    main()
